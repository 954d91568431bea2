"""Seats, coupons and payments stay consistent through races, expiries and give-backs."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from portal.accounts.models import Role
from portal.coupons import services as coupons
from portal.coupons.models import Coupon
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from portal.payments import services as payments
from portal.payments.models import Payment, Purpose
from portal.registration import services
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from tests.conftest import csrf_from
from tests.factories import enable_ecommerce, make_training, make_user
from tests.registration.helpers import manage_path, register, status_of

ALL = payments.AllowedMethods(True, True, True)


@pytest.fixture
def shop(app, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, fee_cents=4900, capacity=2, expected_attendees=2)
        coupons.create_coupon(CouponInput(kind="free", code="PREPAID1", max_uses=1), admin)
        return {"id": training.id, "token": training.public_token}


def guest(app, shop, email):
    training = db.session.get(TrainingSession, shop["id"])
    return services.register(training, services.GuestDetails(email.split("@")[0], email))


def seat_count_matches(app, shop):
    with app.app_context():
        taken = db.session.get(TrainingSession, shop["id"]).seats_taken
        holding = db.session.scalar(
            db.select(db.func.count())
            .select_from(Registration)
            .where(
                Registration.training_session_id == shop["id"],
                Registration.status.in_(["confirmed", "pending_payment"]),
            )
        )
        return taken == holding


def test_an_attempt_opened_before_a_covering_coupon_is_never_charged(app, shop, payments_sandbox):
    with app.app_context():
        registration = guest(app, shop, "race@example.com")
        attempt = payments.open_attempt(Purpose.GUEST_FEE, registration.reference, 4900, "USD")
        registration.payment_id = attempt.id
        db.session.commit()
        # Meanwhile a covering coupon is applied and confirms the seat for free ...
        services.apply_coupon(services.get_registration(registration.id), "PREPAID1")
        services.pay(registration.id, "", ALL)
        # ... and then the first tab submits its card for 49.00: nothing is charged.
        paid = payments.pay(attempt.id, "fake-valid-visa-nonce", ALL)
        registration = services.get_registration(registration.id)
        assert registration.status == "confirmed" and registration.due_cents == 0
        assert db.session.get(Payment, paid.id).status == "failed"
        assert [t for t in payments_sandbox.transactions() if t["order_id"] == paid.order_id] == []
    assert seat_count_matches(app, shop)


def test_a_coupon_applied_after_the_sale_went_through_is_refused(app, shop, payments_sandbox):
    """Once the sale is recorded, and before its seat is confirmed (the two requests of a guest
    pressing Pay and Apply at once; or a crash in between), the price must not change: the coupon
    is refused, and the sale confirms the seat it paid for, with nothing given back."""
    with app.app_context():
        admin = make_user("admin2@example.com", role=Role.ADMIN, department=None)
        coupons.create_coupon(CouponInput(kind="percent", percent=Decimal("10"), code="TENOFF"), admin)
        registration = guest(app, shop, "between@example.com")
        hold_ends = registration.hold_expires_at
        services.pay(registration.id, "fake-valid-visa-nonce", ALL)
        payment_id = services.get_registration(registration.id).payment_id
        # The state between the two: the sale recorded, the seat's confirmation not yet committed.
        db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id)
            .values(status="pending_payment", confirmed_at=None, hold_expires_at=hold_ends)
        )
        db.session.commit()

        with pytest.raises(services.RegistrationError) as refused:
            services.apply_coupon(services.get_registration(registration.id), "TENOFF")
        assert refused.value.code == "payment_in_progress"
        assert services.get_registration(registration.id).discount_cents == 0
        assert db.session.scalar(db.select(Coupon.uses).where(Coupon.code == "TENOFF")) == 0

        assert services.settle_paid(registration.id, payment_id).status == "confirmed"
        payment = db.session.get(Payment, payment_id)
        assert (payment.amount_cents, payment.refunded_cents, payment.status) == (
            4900,
            0,
            "submitted_for_settlement",
        )
    assert seat_count_matches(app, shop)


def test_a_hold_taken_again_after_it_ran_out_pays_the_fee_of_now(app, shop, payments_sandbox):
    with app.app_context():
        registration = guest(app, shop, "again@example.com")
        db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id)
            .values(hold_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        services.expire_holds()
        db.session.get(TrainingSession, shop["id"]).fee_cents = 2900  # the organizer lowered it since
        db.session.commit()
        paid = services.pay(registration.id, "fake-valid-visa-nonce", ALL)
        assert (paid.status, paid.price_cents, paid.payment.amount_cents) == ("confirmed", 2900, 2900)
    assert seat_count_matches(app, shop)


def test_settling_twice_confirms_once_and_keeps_the_money(app, shop, payments_sandbox):
    with app.app_context():
        registration = guest(app, shop, "twice@example.com")
        services.pay(registration.id, "fake-valid-visa-nonce", ALL)
        payment_id = services.get_registration(registration.id).payment_id
        services.settle_paid(registration.id, payment_id)
        services.settle_paid(registration.id, payment_id)
        assert services.get_registration(registration.id).status == "confirmed"
        assert db.session.get(Payment, payment_id).status == "submitted_for_settlement"
    assert seat_count_matches(app, shop)


def test_a_guest_payment_voided_from_the_ledger_takes_the_seat_back(app, shop, payments_sandbox):
    with app.app_context():
        registration = guest(app, shop, "voided@example.com")
        services.pay(registration.id, "fake-valid-visa-nonce", ALL)
        payments.void(services.get_registration(registration.id).payment_id)
        registration = services.get_registration(registration.id)
        assert registration.status == "refunded"
        assert db.session.get(TrainingSession, shop["id"]).seats_taken == 0


def test_cancelling_gives_a_prepaid_coupon_back(app, shop, payments_sandbox):
    with app.app_context():
        registration = guest(app, shop, "prepaid@example.com")
        services.apply_coupon(registration, "PREPAID1")
        services.pay(registration.id, "", ALL)
        assert services.get_registration(registration.id).status == "confirmed"
        services.cancel(registration.id, refund_cents=None)
        assert db.session.scalar(db.select(Coupon.uses).where(Coupon.code == "PREPAID1")) == 0


def test_a_newcomer_never_jumps_the_waiting_list(app, shop, payments_sandbox):
    with app.app_context():
        holders = [guest(app, shop, f"h{n}@example.com").id for n in range(2)]
        waiting = services.register(
            db.session.get(TrainingSession, shop["id"]),
            services.GuestDetails("W", "w@example.com"),
            waitlist=True,
        )
        db.session.execute(
            update(Registration)
            .where(Registration.id == holders[0])
            .values(hold_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        with pytest.raises(services.RegistrationError, match="full"):
            guest(app, shop, "newcomer@example.com")
        assert services.get_registration(waiting.id).status == "pending_payment"  # offered the freed seat
    assert seat_count_matches(app, shop)


def test_seats_left_counts_a_run_out_hold_whose_payment_is_in_flight(app, shop, payments_sandbox):
    with app.app_context():
        first = guest(app, shop, "a@example.com")
        guest(app, shop, "b@example.com")
        attempt = payments.open_attempt(Purpose.GUEST_FEE, first.reference, 4900, "USD")
        db.session.execute(update(Payment).where(Payment.id == attempt.id).values(status="unknown"))
        db.session.execute(
            update(Registration)
            .where(Registration.id == first.id)
            .values(payment_id=attempt.id, hold_expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
        assert services.seats_left(db.session.get(TrainingSession, shop["id"])) == 0


def test_cancelling_a_session_refunds_and_emails_every_guest(app, client, shop, payments_sandbox, tmp_path):
    with app.app_context():
        for n in range(2):
            services.pay(guest(app, shop, f"g{n}@example.com").id, "fake-valid-visa-nonce", ALL)
        make_user("organizer2@example.com", department="Other")
    from tests.conftest import login

    login(client, "organizer@example.com")
    preview = client.get(f"/sessions/{shop['id']}/cancel")
    assert "$98.00" in preview.text
    client.post(f"/sessions/{shop['id']}/cancel", data={"csrf_token": csrf_from(preview.text)})
    with app.app_context():
        statuses = db.session.scalars(db.select(Registration.status)).all()
        assert statuses == ["refunded", "refunded"]
        from portal.mail.services import deliver_pending

        deliver_pending()
    import email
    from email import policy

    bodies = [
        email.message_from_bytes(m.read_bytes(), policy=policy.default).get_body(("plain",)).get_content()
        for m in sorted((tmp_path / "outbox").glob("*.eml"))
    ]
    said = "The organizer cancelled the session Negotiation basics, so your registration is cancelled."
    assert sum(said in body and "$49.00 is refunded" in body for body in bodies) == 2


def test_nul_bytes_are_refused_not_a_server_error(client, shop):
    page = client.get(f"/s/{shop['token']}")
    response = client.post(
        f"/s/{shop['token']}/register",
        data={"name": "Ann\x00", "email": "ann@example.com", "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 400
    assert client.get("/coupons/?q=a%00b").status_code in (302, 400)


def test_csv_exports_never_carry_formulas(app, shop):
    with app.app_context():
        from portal.accounts.models import User

        admin = db.session.scalar(db.select(User).where(User.email == "admin@example.com"))
        coupons.create_coupon(
            CouponInput(
                kind="percent", percent=Decimal("10"), code="SAFECSV1", batch='=HYPERLINK("http://x")'
            ),
            admin,
        )
        exported = coupons.export_csv(
            list(db.session.scalars(db.select(Coupon).where(Coupon.code == "SAFECSV1")))
        )
        assert "'=HYPERLINK" in exported and ",=HYPERLINK" not in exported


def test_a_free_sessions_waiting_list_offer_reads_as_free(app, client, shop):
    with app.app_context():
        db.session.execute(update(TrainingSession).values(fee_cents=0))
        db.session.commit()
    others = [app.test_client() for _ in range(2)]
    first = [manage_path(register(o, shop["token"], email=f"o{n}@example.com")) for n, o in enumerate(others)]
    waiting = manage_path(register(client, shop["token"], email="w@example.com", waitlist=True))
    page = others[0].get(first[0]).text
    others[0].post(first[0] + "/cancel", data={"csrf_token": csrf_from(page)})
    assert status_of(client, waiting) == "pending_payment"
    offer_page = client.get(waiting + "/pay").text
    assert "This session is free: confirm your seat." in offer_page
    client.post(waiting + "/pay", data={"csrf_token": csrf_from(offer_page)})
    assert status_of(client, waiting) == "confirmed"


def test_a_paid_charge_that_no_longer_matches_the_price_is_given_back(app, shop, payments_sandbox):
    with app.app_context():
        registration = guest(app, shop, "late-coupon@example.com")
        attempt = payments.open_attempt(Purpose.GUEST_FEE, registration.reference, 4900, "USD")
        registration.payment_id = attempt.id
        db.session.commit()
        paid = payments.pay(attempt.id, "fake-valid-visa-nonce", payments.AllowedMethods(True, True, True))
        # Pretend the coupon landed between the charge and its settlement (the race's last step).
        db.session.execute(
            update(Registration)
            .where(Registration.id == registration.id)
            .values(status="pending_payment", discount_cents=4900)
        )
        db.session.commit()
        services.settle_paid(registration.id, paid.id)
        assert db.session.get(Payment, paid.id).status == "voided"
