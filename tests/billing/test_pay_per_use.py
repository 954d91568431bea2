"""Pay-per-use: an organizer pays the estimated cost before a session is scheduled or started."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portal.accounts.models import User
from portal.billing import services as billing
from portal.billing.models import DepartmentBudget, SessionCharge
from portal.extensions import db
from portal.payments import services as payments
from portal.payments.models import Payment
from portal.trainings.models import TrainingSession
from tests.conftest import csrf_from, login, row_lock_free
from tests.factories import enable_ecommerce, make_user, set_settings

START = (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT10:00")
FORM = {
    "title": "Quarterly sales training",
    "description": "",
    "start": START,
    "timezone": "UTC",
    "duration_minutes": "60",
    "capacity": "20",
    "expected_attendees": "10",
    "audio": "toll",
    "teleconference_participants": "4",
    "session_fee": "0",
    "ask_company": "off",
    "ask_phone": "off",
    "meeting_url": "",
}


@pytest.fixture
def organizer(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    return client


def submit(client, url="/sessions/new", intent="schedule", **changes):
    token = csrf_from(client.get(url).text)
    return client.post(url, data={**FORM, **changes, "intent": intent, "csrf_token": token})


def session(app) -> TrainingSession:
    with app.app_context():
        training = db.session.scalar(db.select(TrainingSession))
        db.session.expunge(training)
        return training


def continue_and_pay(client, session_id, nonce="fake-valid-visa-nonce"):
    estimate = client.get(f"/sessions/{session_id}/estimate")
    checkout = client.post(f"/sessions/{session_id}/checkout", data={"csrf_token": csrf_from(estimate.text)})
    assert checkout.status_code == 303, checkout.text
    pay_url = checkout.headers["Location"]
    page = client.get(pay_url)
    return client.post(
        pay_url, data={"payment_method_nonce": nonce, "csrf_token": csrf_from(page.text)}
    ), page


def test_schedule_shows_the_estimated_cost_page_with_the_live_estimates_numbers(app, organizer):
    live = organizer.post(
        "/sessions/new",
        data={**FORM, "intent": "estimate", "csrf_token": csrf_from(organizer.get("/sessions/new").text)},
        headers={"HX-Request": "true"},
    )
    response = submit(organizer)
    training = session(app)
    assert response.headers["Location"] == f"/sessions/{training.id}/estimate"
    assert training.status == "draft" and training.pending_intent == "schedule"
    page = organizer.get(response.headers["Location"]).text
    # 60 x 11 x 0.0125 = 8.25, 60 x 4 x 0.09 = 21.60: 29.85 on both
    for text in (live.text, page):
        assert 'data-total="29.85" data-person-minutes="660" data-teleconference-minutes="240"' in text
    assert ">Change</a>" in page and ">Continue</button>" in page
    # An unpaid draft is not published.
    assert organizer.get(f"/s/{training.public_token}").status_code == 404


def test_change_keeps_every_value_and_a_new_duration_gives_a_new_total(app, organizer):
    submit(organizer)
    training = session(app)
    edit = organizer.get(f"/sessions/{training.id}/edit").text
    assert (
        'value="Quarterly sales training"' in edit and 'value="60"' in edit and ">Schedule</button>" in edit
    )
    response = submit(organizer, f"/sessions/{training.id}/edit", duration_minutes="120")
    assert response.headers["Location"] == f"/sessions/{training.id}/estimate"
    assert 'data-total="59.70"' in organizer.get(response.headers["Location"]).text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(TrainingSession)) == 1


def test_paying_schedules_the_session_and_keeps_what_it_paid_for(app, organizer):
    submit(organizer)
    training = session(app)
    response, pay_page = continue_and_pay(organizer, training.id)
    assert 'id="amount-due" data-amount="29.85"' in pay_page.text and "Sales" in pay_page.text
    assert response.headers["Location"] == f"/sessions/{training.id}"
    assert 'data-status="scheduled"' in organizer.get(f"/sessions/{training.id}").text
    assert organizer.get(f"/s/{training.public_token}").status_code == 200
    with app.app_context():
        (charge,) = db.session.scalars(db.select(SessionCharge)).all()
        assert (charge.kind, charge.amount_cents, charge.department.name) == ("charge", 2985, "Sales")
        assert charge.snapshot["rates"]["person_minute"] == "0.0125"
        assert charge.snapshot["usage"] == {
            "duration_minutes": 60,
            "expected_attendees": 10,
            "audio": "toll",
            "teleconference_participants": 4,
        }
        set_settings(person_minute_rate=Decimal("1"))  # a later rate change rewrites nothing
        assert db.session.get(SessionCharge, charge.id).snapshot["total_cents"] == 2985
        assert db.session.get(TrainingSession, training.id).paid_cents == 2985


def test_recording_a_charge_again_changes_nothing_and_leaves_the_session_unlocked(app, organizer):
    """The payer's request and the reconciler may both record the charge: the second finds it and
    lets go of the session's row (kept locked, it could deadlock against the other's work)."""
    submit(organizer)
    training = session(app)
    continue_and_pay(organizer, training.id)
    with app.app_context():
        payment = db.session.scalar(db.select(Payment).where(Payment.status == "submitted_for_settlement"))
        billing.record_charge(payment)
        assert row_lock_free("training_sessions", training.id)
        charges = db.session.scalars(db.select(SessionCharge.amount_cents)).all()
        assert charges == [2985] and db.session.get(TrainingSession, training.id).paid_cents == 2985


def test_a_decline_goes_back_to_a_payment_form_and_the_draft_waits(app, organizer):
    submit(organizer)
    training = session(app)
    response, _ = continue_and_pay(organizer, training.id, "fake-processor-declined-visa-nonce")
    again_url = response.headers["Location"]
    assert again_url.startswith(f"/sessions/{training.id}/pay/")  # a new attempt, not the declined one
    again = organizer.get(again_url).text
    assert "Your card was declined by the bank." in again and 'data-amount="29.85"' in again
    detail = organizer.get(f"/sessions/{training.id}").text
    assert 'data-status="draft"' in detail and ">Pay now</a>" in detail
    paid = organizer.post(
        again_url, data={"payment_method_nonce": "fake-valid-visa-nonce", "csrf_token": csrf_from(again)}
    )
    assert paid.headers["Location"] == f"/sessions/{training.id}"
    assert session(app).status == "scheduled"


def test_start_now_starts_once_paid(app, organizer):
    submit(organizer, intent="start", start="")
    training = session(app)
    assert training.status == "draft" and training.pending_intent == "start"
    continue_and_pay(organizer, training.id)
    assert session(app).status == "started"


def test_no_unpaid_session_can_start(app, organizer):
    submit(organizer)
    training = session(app)
    start = organizer.post(
        f"/sessions/{training.id}/start",
        data={"csrf_token": csrf_from(organizer.get(f"/sessions/{training.id}").text)},
    )
    assert start.status_code == 303 and session(app).status == "draft"


def test_a_higher_estimate_must_be_paid_before_the_session_starts(app, organizer, payments_sandbox):
    submit(organizer)
    training = session(app)
    continue_and_pay(organizer, training.id)
    update = submit(organizer, f"/sessions/{training.id}/edit", intent="save", duration_minutes="120")
    assert update.status_code == 303
    detail = organizer.get(f"/sessions/{training.id}").text
    assert "pay the difference ($29.85)" in detail
    token = csrf_from(detail)
    organizer.post(f"/sessions/{training.id}/start", data={"csrf_token": token})
    assert session(app).status == "scheduled"
    response, pay_page = continue_and_pay(organizer, training.id)
    assert 'data-amount="29.85"' in pay_page.text
    organizer.post(
        f"/sessions/{training.id}/start",
        data={"csrf_token": csrf_from(organizer.get(f"/sessions/{training.id}").text)},
    )
    assert session(app).status == "started"
    with app.app_context():
        charges = db.session.scalars(db.select(SessionCharge.amount_cents).order_by(SessionCharge.id)).all()
        assert charges == [2985, 2985] and db.session.get(TrainingSession, training.id).paid_cents == 5970


def test_a_lower_estimate_refunds_the_difference_once_the_payment_settles(app, organizer, payments_sandbox):
    submit(organizer, duration_minutes="120")
    training = session(app)
    continue_and_pay(organizer, training.id)  # 59.70
    submit(organizer, f"/sessions/{training.id}/edit", intent="save", duration_minutes="60")  # now 29.85
    assert (
        "A refund of $29.85 is sent once the payment settles."
        in organizer.get(f"/sessions/{training.id}").text
    )
    with app.app_context():
        sale_id = db.session.scalar(db.select(Payment)).gateway_transaction_id
        payments.gateway().settle(sale_id)
        assert billing.settle_owed_refunds() == 2985
        training_row = db.session.get(TrainingSession, training.id)
        assert (training_row.paid_cents, training_row.refund_owed_cents) == (2985, 0)
        refunds = db.session.scalars(db.select(SessionCharge).where(SessionCharge.kind == "refund")).all()
        assert [r.amount_cents for r in refunds] == [2985]
    credits = [t for t in payments_sandbox.transactions() if t.get("refunded_transaction_id") == sale_id]
    assert [str(c["amount"]) for c in credits] == ["29.85"]


@pytest.mark.parametrize("refundable, status", [(True, "voided"), (False, "submitted_for_settlement")])
def test_cancelling_a_paid_session_before_it_starts_follows_the_policy(app, organizer, refundable, status):
    with app.app_context():
        set_settings(pay_per_use_refundable=refundable)
    submit(organizer)
    training = session(app)
    continue_and_pay(organizer, training.id)
    preview = organizer.get(f"/sessions/{training.id}/cancel")
    # The preview says what happens to the organizer's own payment.
    said = (
        "What you paid for this session's estimated cost is refunded: $29.85."
        if refundable
        else "What you paid for this session's estimated cost ($29.85) is not refunded under the site's "
        "policy."
    )
    assert said in preview.text
    amount = "29.85" if refundable else "0.00"
    assert f'id="pay-per-use-refund" data-amount="{amount}"' in preview.text
    organizer.post(f"/sessions/{training.id}/cancel", data={"csrf_token": csrf_from(preview.text)})
    with app.app_context():
        assert db.session.scalar(db.select(Payment)).status == status


def test_with_pay_per_use_off_sessions_schedule_directly(app, organizer):
    with app.app_context():
        set_settings(pay_per_use_enabled=False)
    response = submit(organizer)
    training = session(app)
    assert training.status == "scheduled" and response.headers["Location"] == f"/sessions/{training.id}"
    assert organizer.get(f"/sessions/{training.id}/estimate").status_code == 404


def give_sales_a_budget(app, cents: int) -> None:
    """This month's budget of the organizer's department (Sales)."""
    with app.app_context():
        sales = db.session.scalar(db.select(User).where(User.email == "organizer@example.com")).department
        db.session.add(
            DepartmentBudget(
                department_id=sales.id,
                period=billing.period_of(datetime.now(UTC)),
                amount_cents=cents,
                currency="USD",
            )
        )
        db.session.commit()


def test_a_department_budget_is_shown_and_enforced(app, organizer):
    give_sales_a_budget(app, 2000)
    submit(organizer)
    training = session(app)
    estimate = organizer.get(f"/sessions/{training.id}/estimate").text
    assert 'id="budget-left" data-budget-left="20.00"' in estimate
    refused = organizer.post(
        f"/sessions/{training.id}/checkout", data={"csrf_token": csrf_from(estimate)}, follow_redirects=True
    )
    assert "more than what is left of your department" in refused.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 0
        set_settings(allow_budget_overrun=True)
    continue_and_pay(organizer, training.id)
    assert session(app).status == "scheduled"


def test_another_organizers_session_answers_404_on_every_pay_per_use_route(app, organizer):
    submit(organizer)
    training = session(app)
    with app.app_context():
        make_user("organizer2@example.com", department="Engineering")
    other = app.test_client()
    login(other, "organizer2@example.com")
    token = csrf_from(other.get("/sessions/").text)
    assert other.get(f"/sessions/{training.id}/estimate").status_code == 404
    assert other.post(f"/sessions/{training.id}/checkout", data={"csrf_token": token}).status_code == 404
    assert other.post(f"/sessions/{training.id}/start", data={"csrf_token": token}).status_code == 404


def live_estimate(client, url, **changes) -> str:
    token = csrf_from(client.get(url).text)
    return client.post(
        url,
        data={**FORM, **changes, "intent": "estimate", "csrf_token": token},
        headers={"HX-Request": "true"},
    ).text


def test_a_session_keeps_its_currency_and_rates_when_the_site_changes_currency(app, organizer):
    submit(organizer)
    training = session(app)
    continue_and_pay(organizer, training.id)  # $29.85
    with app.app_context():
        set_settings(currency="EUR", person_minute_rate=Decimal("1"), toll_rate=Decimal("2"))
    # Saved unchanged: nothing to pay and nothing to give back, still in dollars.
    assert submit(organizer, f"/sessions/{training.id}/edit", intent="save").status_code == 303
    with app.app_context():
        row = db.session.get(TrainingSession, training.id)
        assert (row.currency, row.estimate_cents, row.paid_cents, row.refund_owed_cents) == (
            "USD",
            2985,
            2985,
            0,
        )
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 1
    # Its edit page prices it in dollars, at the rates it was paid at; a new session takes the
    # site's new currency and rates: 60 x 11 x 1 + 60 x 4 x 2 = 1,140.00.
    edited = live_estimate(organizer, f"/sessions/{training.id}/edit", duration_minutes="120")
    assert 'data-total="59.70"' in edited and "$59.70" in edited
    fresh = live_estimate(organizer, "/sessions/new")
    assert 'data-total="1140.00"' in fresh and "€1,140.00" in fresh
    # A longer session costs the difference at those same dollar rates.
    submit(organizer, f"/sessions/{training.id}/edit", intent="save", duration_minutes="120")
    assert billing_balance_of(app, training.id) == 2985


def billing_balance_of(app, session_id: int) -> int:
    with app.app_context():
        return billing.balance_cents(db.session.get(TrainingSession, session_id))


def test_an_older_payment_page_cannot_pay_for_an_estimate_that_changed(app, organizer, payments_sandbox):
    submit(organizer)
    training = session(app)
    estimate = organizer.get(f"/sessions/{training.id}/estimate")
    checkout = organizer.post(
        f"/sessions/{training.id}/checkout", data={"csrf_token": csrf_from(estimate.text)}
    )
    old_page_url = checkout.headers["Location"]
    old_page = organizer.get(old_page_url)
    assert 'data-amount="29.85"' in old_page.text
    # Another tab: the draft is changed (and scheduled again) before the old page is paid.
    submit(organizer, f"/sessions/{training.id}/edit", duration_minutes="120")  # now 59.70
    sent_before = len(payments_sandbox.transactions())
    stale = organizer.post(
        old_page_url,
        data={"payment_method_nonce": "fake-valid-visa-nonce", "csrf_token": csrf_from(old_page.text)},
    )
    assert stale.headers["Location"] == f"/sessions/{training.id}/estimate"
    assert "estimated cost changed" in organizer.get(stale.headers["Location"]).text
    assert len(payments_sandbox.transactions()) == sent_before  # nothing was sent
    assert session(app).status == "draft"
    response, pay_page = continue_and_pay(organizer, training.id)
    assert 'data-amount="59.70"' in pay_page.text
    assert session(app).status == "scheduled"
    with app.app_context():
        assert db.session.scalars(db.select(SessionCharge.amount_cents)).all() == [5970]


def test_a_draft_is_published_only_once_paid_in_full(app, organizer):
    """However a payment for an older, lower estimate gets through (the gateway's own page, the
    reconciler), it counts, and the draft waits for the rest."""
    submit(organizer)
    training = session(app)
    estimate = organizer.get(f"/sessions/{training.id}/estimate")
    organizer.post(f"/sessions/{training.id}/checkout", data={"csrf_token": csrf_from(estimate.text)})
    submit(organizer, f"/sessions/{training.id}/edit", duration_minutes="120")  # now 59.70
    with app.app_context():
        attempt = db.session.scalar(db.select(Payment))
        paid = payments.pay(attempt.id, "fake-valid-visa-nonce", payments.AllowedMethods(True, True, True))
        assert paid.is_paid and paid.amount_cents == 2985
        billing.on_pay_per_use_payment(paid)
        row = db.session.get(TrainingSession, training.id)
        assert (row.status, row.paid_cents, billing.balance_cents(row)) == ("draft", 2985, 2985)
    assert organizer.get(f"/s/{training.public_token}").status_code == 404
    continue_and_pay(organizer, training.id)
    assert session(app).status == "scheduled"


def test_the_budget_is_checked_again_when_paying(app, organizer):
    give_sales_a_budget(app, 5000)
    pages = []
    for title in ("First", "Second"):  # 29.85 each: each fits what is left when opened, not both
        submit(organizer, title=title)
        with app.app_context():
            training_id = db.session.scalar(
                db.select(TrainingSession.id).where(TrainingSession.title == title)
            )
        estimate = organizer.get(f"/sessions/{training_id}/estimate")
        checkout = organizer.post(
            f"/sessions/{training_id}/checkout", data={"csrf_token": csrf_from(estimate.text)}
        )
        pages.append((training_id, checkout.headers["Location"]))
    outcomes = []
    for _training_id, url in pages:
        page = organizer.get(url)
        response = organizer.post(
            url, data={"payment_method_nonce": "fake-valid-visa-nonce", "csrf_token": csrf_from(page.text)}
        )
        outcomes.append(response.status_code)
    assert outcomes == [303, 422]
    assert "more than what is left of your department" in response.text
    with app.app_context():
        assert db.session.scalars(db.select(SessionCharge.amount_cents)).all() == [2985]


def test_a_zero_estimate_is_scheduled_without_a_payment(app, organizer):
    with app.app_context():
        set_settings(person_minute_rate=Decimal("0"))
    submit(organizer, audio="internet", teleconference_participants="0")
    training = session(app)
    estimate = organizer.get(f"/sessions/{training.id}/estimate").text
    assert 'data-total="0.00"' in estimate and ">Continue</button>" in estimate
    done = organizer.post(f"/sessions/{training.id}/checkout", data={"csrf_token": csrf_from(estimate)})
    assert done.headers["Location"] == f"/sessions/{training.id}"
    assert "Session scheduled." in organizer.get(done.headers["Location"]).text
    assert session(app).status == "scheduled"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Payment)) == 0


def test_a_draft_left_unpaid_is_scheduled_once_pay_per_use_is_off(app, organizer):
    submit(organizer)
    training = session(app)
    with app.app_context():
        set_settings(pay_per_use_enabled=False)
    response = submit(organizer, f"/sessions/{training.id}/edit")
    assert response.headers["Location"] == f"/sessions/{training.id}"
    assert session(app).status == "scheduled"
    assert organizer.get(f"/s/{training.public_token}").status_code == 200


def test_a_session_scheduled_before_pay_per_use_asks_for_its_cost_not_a_difference(app, organizer):
    with app.app_context():
        set_settings(pay_per_use_enabled=False)
    submit(organizer)
    training = session(app)
    with app.app_context():
        set_settings(pay_per_use_enabled=True)
    detail = organizer.get(f"/sessions/{training.id}").text
    assert "Pay the session's estimated cost ($29.85) before it can start." in detail
    assert "rose after it was paid" not in detail
    organizer.post(f"/sessions/{training.id}/start", data={"csrf_token": csrf_from(detail)})
    assert session(app).status == "scheduled"  # not before it is paid
    continue_and_pay(organizer, training.id)
    organizer.post(
        f"/sessions/{training.id}/start",
        data={"csrf_token": csrf_from(organizer.get(f"/sessions/{training.id}").text)},
    )
    assert session(app).status == "started"


def test_an_organizer_paying_in_a_currency_not_set_up_is_told_to_ask_an_administrator(app, organizer):
    with app.app_context():
        set_settings(currency="EUR")  # the test gateway has a merchant account for USD only
    submit(organizer)
    training = session(app)
    response, _ = continue_and_pay(organizer, training.id)
    assert response.status_code == 422
    assert "Nothing was charged; ask a site administrator to set them up." in response.text
    assert "tell the organizer" not in response.text


def test_a_payment_for_more_than_the_lowered_estimate_gives_the_rest_back(app, organizer, payments_sandbox):
    submit(organizer, duration_minutes="120")  # 59.70
    training = session(app)
    estimate = organizer.get(f"/sessions/{training.id}/estimate")
    organizer.post(f"/sessions/{training.id}/checkout", data={"csrf_token": csrf_from(estimate.text)})
    submit(organizer, f"/sessions/{training.id}/edit", duration_minutes="60")  # lowered to 29.85
    with app.app_context():
        # The payment for 59.70 still gets through (from the gateway's own page, or the reconciler).
        attempt = db.session.scalar(db.select(Payment))
        paid = payments.pay(attempt.id, "fake-valid-visa-nonce", payments.AllowedMethods(True, True, True))
        billing.on_pay_per_use_payment(paid)
        sale_id = paid.gateway_transaction_id
    row = session(app)
    # Paid in full: published. The sale is not settled yet, so the 29.85 too much waits, owed.
    assert (row.status, row.paid_cents, row.refund_owed_cents) == ("scheduled", 5970, 2985)
    with app.app_context():
        payments.gateway().settle(sale_id)
        assert billing.settle_owed_refunds() == 2985
        row = db.session.get(TrainingSession, training.id)
        assert (row.paid_cents, row.refund_owed_cents) == (2985, 0)


def test_a_rate_change_after_paying_neither_bills_nor_refunds_the_session(app, organizer):
    """A session keeps the rates it was paid at: the administrator's new rates price new sessions,
    not this one, and an edit of it is priced at its own rates too."""
    submit(organizer)
    training = session(app)
    continue_and_pay(organizer, training.id)  # $29.85
    with app.app_context():
        set_settings(person_minute_rate=Decimal("0.0135"), tax_percent=Decimal("8.3333"))
    page = organizer.get(f"/sessions/{training.id}").text
    assert 'data-status="scheduled"' in page and "pay the difference" not in page
    assert billing_balance_of(app, training.id) == 0
    assert 'data-total="29.85"' in organizer.get(f"/sessions/{training.id}/edit").text
    fresh = live_estimate(organizer, "/sessions/new")
    assert 'data-total="33.05"' in fresh  # (60 x 11 x 0.0135 + 60 x 4 x 0.09) x 1.083333 = 33.0525
    # Twice as long: twice the price at the rates it was paid at, the difference to pay.
    edited = live_estimate(organizer, f"/sessions/{training.id}/edit", duration_minutes="120")
    assert 'data-total="59.70"' in edited
    submit(organizer, f"/sessions/{training.id}/edit", intent="save", duration_minutes="120")
    assert billing_balance_of(app, training.id) == 2985
