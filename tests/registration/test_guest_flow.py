import email
from datetime import timedelta
from decimal import Decimal
from email import policy

import icalendar
import pytest
from sqlalchemy import update

from portal.accounts.models import Role
from portal.coupons import services as coupons
from portal.coupons.models import Coupon
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from portal.mail.services import deliver_pending
from portal.payments.models import Payment
from portal.registration import services
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from tests.factories import enable_ecommerce, make_training, make_user, set_settings
from tests.registration.helpers import apply_coupon, manage_path, pay, register, seats_taken, status_of


@pytest.fixture
def paid_session(app, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        training = make_training(
            organizer,
            fee_cents=4900,
            capacity=3,
            expected_attendees=3,
            meeting_url="https://meet.example.com/negotiation",
        )
        coupons.create_coupon(
            CouponInput(kind="percent", code="SAVE25XY", percent=Decimal("25"), max_uses=5), admin
        )
        coupons.create_coupon(CouponInput(kind="free", code="FREEPASS", max_uses=5), admin)
        return {"token": training.public_token, "id": training.id, "admin": admin.id}


def mails(tmp_path):
    found = {}
    for path in sorted((tmp_path / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        found.setdefault(message["To"], []).append(message)
    return found


def test_register_then_pay_confirms_and_emails_a_receipt_with_an_invitation(
    app, client, paid_session, tmp_path
):
    response = register(client, paid_session["token"], company="ignored")
    assert response.status_code == 303 and "/r/" in response.headers["Location"]
    manage = manage_path(response)
    page = client.get(f"{manage}/pay").text
    assert 'id="amount-due" data-amount="49.00"' in page
    assert '<label for="code">Coupon code</label>' in page and ">Apply</button>" in page
    assert "Test payment method" in page and 'id="registration-status" data-status="pending_payment"' in page
    with app.app_context():
        assert seats_taken(paid_session["id"]) == 1
    assert pay(client, manage).status_code == 303
    assert status_of(client, manage) == "confirmed"
    confirmed_page = client.get(manage).text
    assert 'id="meeting-link" href="https://meet.example.com/negotiation"' in confirmed_page
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        payment = registration.payment
        assert (payment.amount_cents, payment.status, payment.purpose) == (
            4900,
            "submitted_for_settlement",
            "guest_fee",
        )
    (message,) = mails(tmp_path)["Gina Guest <guest@example.com>"]
    assert message["Subject"] == "Registration confirmed: Negotiation basics"
    body = message.get_body(("plain",)).get_content()
    for expected in (
        "Session fee: $49.00",
        "Paid: $49.00",
        "Visa credit card ···· ",
        payment.gateway_transaction_id,
        "https://meet.example.com/negotiation",
        "http://localhost/r/",
    ):
        assert expected in body, expected
    (attachment,) = list(message.iter_attachments())
    calendar = icalendar.Calendar.from_ical(attachment.get_content())
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == "Negotiation basics"
    assert event.decoded("dtstart") == registration.training.start_at
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=60)
    assert str(event["organizer"]) == "mailto:organizer@example.com"


def test_submitting_again_returns_the_same_registration(app, client, paid_session):
    first = register(client, paid_session["token"], email="Guest@Example.com")
    second = register(client, paid_session["token"], email="guest@EXAMPLE.com")
    assert manage_path(first) == manage_path(second)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 1
        assert seats_taken(paid_session["id"]) == 1


def test_coupon_applied_live_changes_the_amount_and_the_charge(app, client, paid_session):
    manage = manage_path(register(client, paid_session["token"]))
    fragment = apply_coupon(client, manage, "save25xy", htmx=True)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    assert 'data-amount="36.75"' in fragment.text and "Coupon SAVE25XY" in fragment.text
    # A tampered amount in the form changes nothing: the server charges 36.75.
    pay(client, manage, amount="0.01", amount_cents="1")
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.payment.amount_cents == 3675 and registration.status == "confirmed"
        assert db.session.scalar(db.select(Coupon.uses).where(Coupon.code == "SAVE25XY")) == 1


def test_coupon_reasons_and_unknown_equals_inactive(app, client, paid_session):
    manage = manage_path(register(client, paid_session["token"]))
    with app.app_context():
        db.session.execute(update(Coupon).where(Coupon.code == "FREEPASS").values(active=False))
        db.session.commit()
    unknown = apply_coupon(client, manage, "NOPE2345", htmx=True)
    inactive = apply_coupon(client, manage, "freepass", htmx=True)
    assert unknown.status_code == inactive.status_code == 422
    assert (
        "This coupon code is not valid." in unknown.text and "This coupon code is not valid." in inactive.text
    )
    without_js = apply_coupon(client, manage, "NOPE2345")
    assert without_js.status_code == 422 and "<html" in without_js.text
    assert 'data-amount="49.00"' in without_js.text


def test_coupon_guessing_is_rate_limited(app, client, paid_session):
    manage = manage_path(register(client, paid_session["token"]))
    statuses = [apply_coupon(client, manage, f"GUESS{n:03d}", htmx=True).status_code for n in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429
    limited = apply_coupon(client, manage, "SAVE25XY", htmx=True)
    assert limited.status_code == 429 and "Wait a minute" in limited.text and "<html" not in limited.text


def test_a_covering_coupon_confirms_without_payment(app, client, paid_session, payments_sandbox):
    manage = manage_path(register(client, paid_session["token"]))
    apply_coupon(client, manage, "FREEPASS")
    page = client.get(f"{manage}/pay").text
    assert (
        'data-amount="0.00"' in page
        and ">Confirm registration</button>" in page
        and "Test payment method" not in page
    )
    assert pay(client, manage, nonce="").status_code == 303
    assert status_of(client, manage) == "confirmed"
    # Its receipt: the fee, the coupon that covered it, nothing paid.
    receipt = client.get(manage).text.split('id="receipt"')[1].split("</dl>")[0]
    assert "$49.00" in receipt and "Coupon FREEPASS" in receipt and "−$49.00" in receipt
    assert "<dt>Paid</dt><dd>$0.00</dd>" in receipt and "Transaction" not in receipt
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.payment_id is None
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 0


def test_a_decline_keeps_the_seat_and_another_method_works(app, client, paid_session):
    manage = manage_path(register(client, paid_session["token"]))
    declined = pay(client, manage, nonce="fake-processor-declined-visa-nonce")
    assert declined.status_code == 422 and "Your card was declined by the bank." in declined.text
    assert status_of(client, manage) == "pending_payment"
    pay(client, manage, nonce="fake-paypal-one-time-nonce")
    assert status_of(client, manage) == "confirmed"
    with app.app_context():
        assert (
            db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 2
        )  # two attempts, one sale
        assert seats_taken(paid_session["id"]) == 1


def test_free_sessions_and_fee_based_training_off_confirm_at_once(app, client, paid_session):
    with app.app_context():
        set_settings(fee_based_enabled=False)
    response = register(client, paid_session["token"])
    assert status_of(client, manage_path(response)) == "confirmed"


def test_an_expired_hold_frees_its_seat_and_its_coupon(app, client, paid_session):
    manage = manage_path(register(client, paid_session["token"]))
    apply_coupon(client, manage, "SAVE25XY")
    with app.app_context():
        db.session.execute(update(Registration).values(hold_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert services.seats_left(db.session.scalar(db.select(Registration)).training) == 3
        assert services.expire_holds() == 1
        assert seats_taken(paid_session["id"]) == 0
        assert db.session.scalar(db.select(Coupon.uses).where(Coupon.code == "SAVE25XY")) == 0
    # Paying after the hold expired takes a free seat again, but shows the new price before charging.
    response = pay(client, manage)
    assert response.status_code == 409 and "the coupon was released" in response.text
    assert 'data-amount="49.00"' in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 0
        assert seats_taken(paid_session["id"]) == 1
    apply_coupon(client, manage, "SAVE25XY")
    pay(client, manage)
    assert status_of(client, manage) == "confirmed"
    with app.app_context():
        assert db.session.scalar(db.select(Registration)).payment.amount_cents == 3675
        assert db.session.scalar(db.select(Coupon.uses).where(Coupon.code == "SAVE25XY")) == 1


def test_paying_after_the_hold_expired_with_no_seat_left_is_refused_plainly(app, client, paid_session):
    late = manage_path(register(client, paid_session["token"], email="late@example.com"))
    with app.app_context():
        db.session.execute(update(Registration).values(hold_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    others = [app.test_client() for _ in range(3)]
    for n, other in enumerate(others):
        register(other, paid_session["token"], email=f"other{n}@example.com")
    response = pay(client, late)
    assert response.status_code == 409 and "This session is full" in response.text
    with app.app_context():
        assert seats_taken(paid_session["id"]) == 3
        late_registration = db.session.scalar(
            db.select(Registration).where(Registration.email == "late@example.com")
        )
        assert late_registration.status == "expired" and late_registration.payment_id is None


def test_full_session_offers_the_waiting_list_and_a_freed_seat_goes_to_the_first_in_line(
    app, client, paid_session, tmp_path
):
    guests = [app.test_client() for _ in range(3)]
    holders = [
        manage_path(register(g, paid_session["token"], email=f"g{n}@example.com"))
        for n, g in enumerate(guests)
    ]
    full = register(client, paid_session["token"], email="late@example.com")
    assert full.status_code == 409 and "Join the waiting list" in full.text
    first = manage_path(register(client, paid_session["token"], email="first@example.com", waitlist=True))
    second_client = app.test_client()
    second = manage_path(
        register(second_client, paid_session["token"], email="second@example.com", waitlist=True)
    )
    assert status_of(client, first) == "waitlisted"
    with app.app_context():  # the organizer lowers the fee while they wait
        db.session.get(TrainingSession, paid_session["id"]).fee_cents = 3900
        db.session.commit()
    # A holder cancels: the first in line is offered the seat (held for them) by email.
    page = guests[0].get(holders[0] + "/pay").text
    from tests.conftest import csrf_from

    guests[0].post(holders[0] + "/cancel", data={"csrf_token": csrf_from(page)})
    assert status_of(client, first) == "pending_payment"
    assert 'data-amount="39.00"' in client.get(f"{first}/pay").text  # the fee of now, not 49.00
    assert status_of(second_client, second) == "waitlisted"
    with app.app_context():
        deliver_pending()
    (offer,) = mails(tmp_path)["Gina Guest <first@example.com>"]
    assert offer["Subject"] == "A seat is free for you: Negotiation basics"
    assert first.split("/r/")[1] in offer.get_body(("plain",)).get_content()
    # The offer runs out unclaimed: it passes to the next guest.
    with app.app_context():
        db.session.execute(
            update(Registration)
            .where(Registration.email == "first@example.com")
            .values(hold_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        services.expire_holds()
    assert status_of(client, first) == "expired"
    assert status_of(second_client, second) == "pending_payment"


def test_guest_cancels_before_the_start_and_is_refunded_by_the_policy(
    app, client, paid_session, payments_sandbox
):
    manage = manage_path(register(client, paid_session["token"]))
    pay(client, manage)
    page = client.get(manage).text
    assert "If you cancel now, $49.00 is refunded." in page
    from tests.conftest import csrf_from

    client.post(f"{manage}/cancel", data={"csrf_token": csrf_from(page)})
    assert status_of(client, manage) == "refunded"
    assert 'id="meeting-link"' not in client.get(manage).text
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert registration.payment.status == "voided"  # unsettled: voided in full
        assert seats_taken(paid_session["id"]) == 0


def test_no_refund_past_the_policy_deadline(app, client, paid_session):
    with app.app_context():
        set_settings(refund_until_hours=24 * 30)  # the session starts in 3 days
    manage = manage_path(register(client, paid_session["token"]))
    pay(client, manage)
    page = client.get(manage).text
    assert "Cancelling now gives no refund" in page
    from tests.conftest import csrf_from

    client.post(f"{manage}/cancel", data={"csrf_token": csrf_from(page)})
    assert status_of(client, manage) == "cancelled"
    with app.app_context():
        assert db.session.scalar(db.select(Registration)).payment.status == "submitted_for_settlement"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "", "email": "a@example.com"}, "Enter your name."),
        ({"name": "Ann", "email": "not-an-email"}, "Enter a valid email address"),
        ({"name": "x" * 201, "email": "a@example.com"}, "Field cannot be longer than 200 characters."),
    ],
)
def test_bad_registration_input_gets_a_clear_message_and_writes_nothing(
    app, client, paid_session, data, message
):
    from tests.conftest import csrf_from

    page = client.get(f"/s/{paid_session['token']}")
    response = client.post(
        f"/s/{paid_session['token']}/register", data={**data, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 422 and message in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0
        assert seats_taken(paid_session["id"]) == 0


def test_markup_is_escaped_on_pages_and_plain_in_email(app, client, paid_session, tmp_path):
    manage = manage_path(register(client, paid_session["token"], name="<script>alert(1)</script>"))
    pay(client, manage)
    page = client.get(manage).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    body = (
        mails(tmp_path)['"<script>alert(1)</script>" <guest@example.com>'][0]
        .get_body(("plain",))
        .get_content()
    )
    assert "Hello <script>alert(1)</script>," in body  # a text/plain mail shows the name as typed


def test_a_forged_or_foreign_manage_link_answers_404(client, paid_session):
    manage = manage_path(register(client, paid_session["token"]))
    assert client.get(manage[:-3] + "abc").status_code == 404
    assert client.get("/r/not-a-token").status_code == 404
    assert client.get("/s/not-a-token").status_code == 404


def test_cancelled_or_draft_sessions_take_no_registrations(app, client, paid_session):
    from tests.conftest import csrf_from

    token = csrf_from(client.get(f"/s/{paid_session['token']}").text)
    with app.app_context():
        from portal.trainings.models import TrainingSession

        db.session.execute(update(TrainingSession).values(status="cancelled"))
        db.session.commit()
    data = {"name": "Ann", "email": "ann@example.com", "csrf_token": token}
    assert client.post(f"/s/{paid_session['token']}/register", data=data).status_code == 410
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Registration)) == 0


def test_the_email_shows_the_start_in_the_guests_time_zone(app, client, paid_session, tmp_path):
    client.set_cookie("portal_tz", "Asia/Tokyo")
    manage = manage_path(register(client, paid_session["token"]))
    pay(client, manage)
    body = mails(tmp_path)["Gina Guest <guest@example.com>"][0].get_body(("plain",)).get_content()
    assert "(Japan Time)" in body


def test_paying_again_after_confirmation_charges_nothing_more(app, client, paid_session, payments_sandbox):
    manage = manage_path(register(client, paid_session["token"]))
    pay(client, manage)
    from tests.conftest import csrf_from

    token = csrf_from(client.get(manage).text)  # a reused, older payment form posted again
    again = client.post(
        f"{manage}/pay", data={"payment_method_nonce": "fake-valid-mastercard-nonce", "csrf_token": token}
    )
    assert again.status_code == 303
    with app.app_context():
        order_id = db.session.scalar(db.select(Registration)).payment.order_id
    assert len([t for t in payments_sandbox.transactions() if t["order_id"] == order_id]) == 1
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 1


def test_organizers_can_require_company_and_phone(app, client, paid_session):
    from portal.trainings.models import TrainingSession

    with app.app_context():
        db.session.execute(update(TrainingSession).values(ask_company="required", ask_phone="optional"))
        db.session.commit()
    page = client.get(f"/s/{paid_session['token']}").text
    assert '<label for="company">Company</label>' in page and '<label for="phone">Phone</label>' in page
    missing = register(client, paid_session["token"])
    assert missing.status_code == 422 and "This field is required." in missing.text
    response = register(client, paid_session["token"], company="Acme", phone="+33 1 23 45 67 89")
    assert response.status_code == 303
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        assert (registration.company, registration.phone) == ("Acme", "+33 1 23 45 67 89")


def test_a_run_out_hold_shows_the_full_fee_then_holds_the_seat_again(app, client, paid_session):
    """The coupon's use went back with the hold: the page says the fee it would charge now."""
    manage = manage_path(register(client, paid_session["token"]))
    apply_coupon(client, manage, "SAVE25XY")
    assert 'data-amount="36.75"' in client.get(f"{manage}/pay").text
    with app.app_context():
        db.session.execute(update(Registration).values(hold_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert services.expire_holds() == 1
        assert (
            db.session.get(
                Coupon, db.session.scalar(db.select(Coupon.id).where(Coupon.code == "SAVE25XY"))
            ).uses
            == 0
        )
    page = client.get(f"{manage}/pay").text
    assert 'id="amount-due" data-amount="49.00"' in page and 'id="discount-line"' not in page
    # Pay takes a seat again and says the coupon went: nothing is charged at a price not shown.
    again = pay(client, manage)
    assert again.status_code == 409
    assert "the coupon was released" in again.text and 'data-amount="49.00"' in again.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 0
    assert status_of(client, manage) == "pending_payment"


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_coupon_from_a_stale_tab_after_paying_goes_to_the_registration(app, client, paid_session, htmx):
    manage = manage_path(register(client, paid_session["token"]))
    stale = client.get(f"{manage}/pay").text  # the tab left open
    pay(client, manage)
    from tests.conftest import csrf_from

    response = client.post(
        f"{manage}/coupon",
        data={"code": "SAVE25XY", "csrf_token": csrf_from(stale)},
        headers={"HX-Request": "true"} if htmx else {},
    )
    if htmx:
        assert response.status_code == 200 and response.headers["HX-Redirect"] == manage
    else:
        assert response.status_code == 303 and response.headers["Location"] == manage
    assert "HX-Request" in response.headers["Vary"]  # one URL, two answers: caches must keep both
    page = client.get(manage).text
    assert "This registration is not waiting for a payment." in page
    assert 'data-status="confirmed"' in page


@pytest.mark.parametrize("switch", ["fee_based_enabled", "ecommerce_enabled"])
def test_guests_holding_a_seat_confirm_it_free_once_guest_fees_are_turned_off(
    app, client, paid_session, payments_sandbox, switch
):
    """Fees off means no guest is charged: a seat held at a price (with a coupon or without) is
    free from then on, as it is for a guest registering now, and its coupon use goes back."""
    from tests.conftest import csrf_from, login
    from tests.web.test_settings import VALID

    with_coupon = manage_path(register(client, paid_session["token"], email="coupon@example.com"))
    apply_coupon(client, with_coupon, "SAVE25XY")
    assert 'data-amount="36.75"' in client.get(f"{with_coupon}/pay").text
    other = app.test_client()
    full_price = manage_path(register(other, paid_session["token"], email="full@example.com"))
    stale_page = other.get(f"{full_price}/pay").text
    assert 'data-amount="49.00"' in stale_page

    admin = app.test_client()
    login(admin, "admin@example.com")
    settings_page = admin.get("/admin/settings").text
    data = {**VALID, "currency": "usd", switch: None, "csrf_token": csrf_from(settings_page)}
    saved = admin.post("/admin/settings", data={k: v for k, v in data.items() if v}, follow_redirects=True)
    assert "2 guests holding a seat no longer pay a fee and can confirm them for free." in saved.text

    page = client.get(f"{with_coupon}/pay").text
    assert 'data-amount="0.00"' in page
    assert "This session is free: confirm your seat." in page
    assert "Test payment method" not in page
    client.post(f"{with_coupon}/pay", data={"csrf_token": csrf_from(page)})
    assert status_of(client, with_coupon) == "confirmed"
    # The stale page's card form, sent anyway: nothing is charged, the seat is confirmed.
    other.post(
        f"{full_price}/pay",
        data={"payment_method_nonce": "fake-valid-visa-nonce", "csrf_token": csrf_from(stale_page)},
    )
    assert status_of(other, full_price) == "confirmed"
    with app.app_context():
        guests = db.session.scalars(
            db.select(Registration).where(Registration.email.in_(["coupon@example.com", "full@example.com"]))
        ).all()
        assert [(g.price_cents, g.discount_cents, g.due_cents) for g in guests] == [(0, 0, 0), (0, 0, 0)]
        assert db.session.scalar(db.select(Coupon.uses).where(Coupon.code == "SAVE25XY")) == 0
        orders = set(db.session.scalars(db.select(Payment.order_id)))
    assert [sale for sale in payments_sandbox.transactions() if sale["order_id"] in orders] == []


def test_the_registration_page_during_a_card_payment_says_it_is_being_processed(app, client, paid_session):
    """Reloaded while the card is being charged (another tab, a slow gateway): no Pay, no Cancel,
    the reason why, and the page reloads itself until the outcome is in."""
    manage = manage_path(register(client, paid_session["token"]))
    with app.app_context():
        registration = db.session.scalar(db.select(Registration))
        attempt = services.payments.open_attempt(
            "guest_fee", registration.reference, registration.due_cents, registration.currency
        )
        registration.payment_id = attempt.id
        attempt.status = "processing"
        db.session.commit()
    page = client.get(manage)
    assert page.status_code == 200 and 'data-status="pending_payment"' in page.text
    assert "Your payment is being processed. Do not pay again: this page updates by itself." in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text
    assert f'action="{manage}/cancel"' not in page.text and f'action="{manage}/pay"' not in page.text


def test_moving_a_session_tells_its_confirmed_guests_with_an_invitation_that_replaces_theirs(
    app, client, paid_session, payments_sandbox, tmp_path
):
    from datetime import UTC, datetime

    from tests.conftest import csrf_from, login

    manage = manage_path(register(client, paid_session["token"], email="moved@example.com"))
    pay(client, manage)
    register(app.test_client(), paid_session["token"], email="holding@example.com")  # not confirmed
    organizer = app.test_client()
    login(organizer, "organizer@example.com")
    url = f"/sessions/{paid_session['id']}/edit"

    def edit(**changes):
        form = {
            "intent": "save",
            "title": "Negotiation basics",
            "start": f"{datetime.now(UTC).year + 1}-05-01T09:00",
            "timezone": "Europe/Paris",
            "duration_minutes": "90",
            "capacity": "3",
            "expected_attendees": "3",
            "audio": "internet",
            "teleconference_participants": "0",
            "session_fee": "49.00",
            "meeting_url": "https://meet.example.com/negotiation",
            **changes,
        }
        page = organizer.get(url).text
        assert organizer.post(url, data={**form, "csrf_token": csrf_from(page)}).status_code == 303

    edit()  # moved to 1 May, 90 minutes
    with app.app_context():
        deliver_pending()
    sent = mails(tmp_path)
    (confirmation, changed) = sent["Gina Guest <moved@example.com>"]
    assert changed["Subject"] == "Session changed: Negotiation basics"
    assert "holding@example.com" not in " ".join(sent)  # only confirmed guests are told
    body = changed.get_body(("plain",)).get_content()
    assert "The organizer changed the session you are registered for. Your seat is kept." in body
    assert "90 minutes" in body
    (first,) = [part for part in confirmation.iter_attachments() if part.get_filename() == "invitation.ics"]
    (second,) = [part for part in changed.iter_attachments() if part.get_filename() == "invitation.ics"]
    old_event = icalendar.Calendar.from_ical(first.get_content()).walk("VEVENT")[0]
    new_event = icalendar.Calendar.from_ical(second.get_content()).walk("VEVENT")[0]
    assert new_event["UID"] == old_event["UID"]
    assert int(new_event["SEQUENCE"]) > int(old_event["SEQUENCE"]) == 0
    assert new_event.decoded("DTSTART").astimezone(UTC) == datetime(
        datetime.now(UTC).year + 1, 5, 1, 7, 0, tzinfo=UTC
    )
    assert new_event.decoded("DTEND") - new_event.decoded("DTSTART") == timedelta(minutes=90)

    edit(capacity="4")  # nothing a calendar holds: nobody is emailed
    with app.app_context():
        deliver_pending()
    assert len(mails(tmp_path)["Gina Guest <moved@example.com>"]) == 2
