"""Every report agrees with the payments ledger to the cent, for any history.

Hypothesis draws histories of guest payments (with and without coupons), declines,
cancellations with refunds (voids before settlement), partial refunds after
settlement, cancelled sessions and pay-per-use charges and refunds; all of it runs
through the real services and the sandbox. Then:
- the ledger's guest-fee totals equal the per-session report's totals and the sum of
  its rows, session by session too, and the per-organizer report sums to the same;
- the ledger's pay-per-use totals equal the department (reimbursement) report's;
- the ledger equals the payment and refund tables summed independently here.
"""

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.accounts.models import Role
from portal.billing import reports as department_reports
from portal.billing import services as billing
from portal.coupons import services as coupons
from portal.coupons.services import CouponInput
from portal.extensions import db
from portal.payments import ledger
from portal.payments import services as payments
from portal.payments.models import Payment, Refund
from portal.registration import services as registration
from portal.registration.models import Registration
from portal.reports import revenue
from portal.trainings.models import TrainingSession
from portal.trainings.services import cancel_session
from tests.conftest import reset_database
from tests.factories import enable_ecommerce, make_training, make_user
from tests.reports.history import DECLINED, guest_pays, pay_per_use_session, settle_payment, user

ORGANIZERS = ["sales@example.com", "eng@example.com"]


@dataclass(frozen=True)
class Step:
    action: str
    target: int  # which session (or which registration / pay-per-use session), modulo how many exist
    amount: int = 0


steps = st.one_of(
    st.builds(Step, st.just("pay"), st.integers(0, 1)),
    st.builds(Step, st.just("pay_with_coupon"), st.integers(0, 1)),
    st.builds(Step, st.just("decline"), st.integers(0, 1)),
    st.builds(Step, st.just("cancel_with_refund"), st.integers(0, 20)),
    st.builds(Step, st.just("settle_and_refund"), st.integers(0, 20), st.integers(1, 3000)),
    st.builds(Step, st.just("cancel_session"), st.integers(0, 1)),
    st.builds(Step, st.just("pay_per_use"), st.integers(0, 1), st.sampled_from([15, 30, 60])),
    st.builds(Step, st.just("pay_per_use_refund"), st.integers(0, 20), st.integers(1, 900)),
)


def setup_site() -> list[int]:
    enable_ecommerce()
    admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
    make_user("sales@example.com", department="Sales")
    make_user("eng@example.com", department="Engineering")
    coupons.create_coupon(
        CouponInput(kind="percent", code="SAVE15", percent=Decimal("15"), max_uses=100), admin
    )
    return [
        make_training(user(email), title=f"Fees {email}", fee_cents=fee, capacity=4, expected_attendees=4).id
        for email, fee in (("sales@example.com", 4999), ("eng@example.com", 1250))
    ]


def pick(items: list, index: int):
    return items[index % len(items)] if items else None


def run(step: Step, sessions: list[int], guests: list[int], per_use: list[int], counter: list[int]) -> None:
    counter[0] += 1
    email = f"guest{counter[0]}@example.com"
    training = db.session.get(TrainingSession, pick(sessions, step.target))
    if step.action in ("pay", "pay_with_coupon", "decline"):
        if training.status == "cancelled" or training.seats_taken >= training.capacity:
            return
        nonce = DECLINED if step.action == "decline" else "fake-valid-visa-nonce"
        coupon = "SAVE15" if step.action == "pay_with_coupon" else None
        guests.append(guest_pays(training, email, nonce=nonce, coupon=coupon).id)
    elif step.action == "cancel_with_refund":
        chosen = pick(guests, step.target)
        if chosen and registration.get_registration(chosen).status in ("confirmed", "pending_payment"):
            registration.cancel(chosen, refund_cents=None)
    elif step.action == "settle_and_refund":
        chosen = pick(guests, step.target)
        payment_id = chosen and registration.get_registration(chosen).payment_id
        if payment_id:
            payment = settle_payment(payment_id)
            if payment.refundable_cents and payment.status != "submitted_for_settlement":
                payments.refund(payment.id, min(step.amount, payment.refundable_cents), reason="goodwill")
    elif step.action == "cancel_session":
        if training.status != "cancelled":
            assert registration.cancel_session_registrations(training) == []
            cancel_session(db.session.get(TrainingSession, training.id))
    elif step.action == "pay_per_use":
        per_use.append(pay_per_use_session(pick(ORGANIZERS, step.target), duration=step.amount).id)
    elif step.action == "pay_per_use_refund":
        chosen = pick(per_use, step.target)
        if chosen:
            training = db.session.get(TrainingSession, chosen)
            for charge in billing.training_charges(training):
                settle_payment(charge.payment_id)
            left = db.session.get(TrainingSession, chosen).paid_cents
            if left > 0:
                billing.refund(db.session.get(TrainingSession, chosen), min(step.amount, left), "test")


def independent_ledger(purpose: str) -> tuple[int, int]:
    """Money taken and given back for ``purpose``, summed here from the rows, not by the ledger."""
    taken = given_back = 0
    for payment in db.session.scalars(select(Payment).where(Payment.purpose == purpose)):
        if payment.status in ledger.TAKEN:
            taken += payment.amount_cents
    for refund in db.session.scalars(select(Refund).join(Payment).where(Payment.purpose == purpose)):
        if not refund.duplicate and refund.status in ledger.GIVEN_BACK:
            given_back += refund.amount_cents
    return taken, given_back


def moved(totals: list[ledger.LedgerTotal]) -> tuple[int, int]:
    """(charged, refunded) of the ledger's totals; one currency here, so at most one line."""
    assert len(totals) <= 1
    return sum(t.charged_cents for t in totals), sum(t.refunded_cents for t in totals)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(steps, min_size=1, max_size=10))
def test_every_report_agrees_with_the_ledger_for_any_history(app, history):
    with app.app_context():
        reset_database()
        sessions = setup_site()
        guests: list[int] = []
        per_use: list[int] = []
        counter = [0]
        for step in history:
            run(step, sessions, guests, per_use, counter)

        # Guest fees: the ledger, the per-session report (totals, rows) and the tables.
        taken, given_back = independent_ledger("guest_fee")
        ledger_total = ledger.totals(ledger.LedgerFilter(purpose="guest_fee"))
        report_total = revenue.totals(revenue.RevenueFilter())
        assert moved(ledger_total) == (taken, given_back)
        [report] = report_total  # both fee sessions are always in the report
        assert (report.figures.gross_cents, report.figures.refunded_cents) == (taken, given_back)
        assert report.figures.net_cents == taken - given_back
        rows = list(revenue.session_rows_for_csv(revenue.RevenueFilter()))
        assert sum(r.figures.gross_cents for r in rows) == taken
        assert sum(r.figures.refunded_cents for r in rows) == given_back
        for row in rows:
            per_session = ledger.totals(ledger.LedgerFilter(purpose="guest_fee", training_session_id=row.id))
            assert (row.figures.gross_cents, row.figures.refunded_cents) == moved(per_session)
            confirmed = db.session.scalars(
                select(Registration).where(
                    Registration.training_session_id == row.id, Registration.status == "confirmed"
                )
            ).all()
            assert row.figures.registrations == len(confirmed)
            assert row.figures.discount_cents == sum(r.discount_cents for r in confirmed)
        with app.test_request_context("/?page=1"):
            organizers = revenue.organizers_page(revenue.RevenueFilter()).items
        assert sum(o.figures.net_cents for o in organizers) == taken - given_back
        assert sum(o.sessions for o in organizers) == len(rows)

        # Pay-per-use: the ledger, the department report and the tables.
        taken, given_back = independent_ledger("pay_per_use")
        ledger_total = ledger.totals(ledger.LedgerFilter(purpose="pay_per_use"))
        department_totals = department_reports.pay_per_use_report().totals
        assert moved(ledger_total) == (taken, given_back)
        assert [(t.paid_cents, t.refunded_cents) for t in department_totals] == (
            [(taken, given_back)] if taken else []
        )

        # Everything: the ledger's grand total is the two purposes together.
        everything = ledger.totals(ledger.LedgerFilter())
        guest, per_use_money = independent_ledger("guest_fee"), independent_ledger("pay_per_use")
        expected = (guest[0] + per_use_money[0], guest[1] + per_use_money[1])
        assert moved(everything) == expected
