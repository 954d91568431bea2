"""Every report agrees with the payments ledger to the cent, and the ledger with the gateway, for any history.

Hypothesis draws histories of guest payments (with and without coupons), declines,
cancellations with refunds (voids before settlement), partial refunds after
settlement, cancelled sessions, pay-per-use charges and refunds, test charges, and
faults: sales and refunds whose answer is lost (processed, or never processed) and
sales voided at the gateway behind the portal's back. All of it runs through the
real services and the sandbox; then the reconciler runs, and:
- the ledger's net, per purpose, equals the money the sandbox moved (its sales
  minus its voids and credits), the independent truth;
- the ledger's guest-fee totals equal the per-session report's totals and the sum of
  its rows, session by session too, and the per-organizer report sums to the same;
- the ledger's pay-per-use totals equal the department (reimbursement) report's.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.accounts.models import Role
from portal.billing import reports as department_reports
from portal.billing import services as billing
from portal.coupons import services as coupons
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from portal.payments import ledger
from portal.payments import services as payments
from portal.payments.models import Payment, Purpose
from portal.registration import services as registration
from portal.registration.models import Registration
from portal.reports import revenue
from portal.trainings.models import TrainingSession
from portal.trainings.services import cancel_session
from tests.conftest import reset_database
from tests.factories import enable_ecommerce, make_training, make_user
from tests.reports.history import ALL, DECLINED, pay_per_use_session, settle_payment, user

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
    # Faults: the next sale's or refund's answer is lost, after or before the gateway acts.
    st.builds(Step, st.just("lose_next_sale"), st.integers(0, 1)),
    st.builds(Step, st.just("lose_next_refund"), st.integers(0, 1)),
    st.builds(Step, st.just("void_at_gateway"), st.integers(0, 20)),
    st.builds(Step, st.just("test_charge"), st.integers(0, 1), st.integers(100, 5000)),
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


@dataclass
class World:
    sandbox: object
    sessions: list[int]
    guests: list[int] = field(default_factory=list)
    per_use: list[int] = field(default_factory=list)
    counter: int = 0
    # A fault armed for the portal's next sale or refund: (calls, lose_response?).
    pending: dict[str, tuple[list[str], bool]] = field(default_factory=dict)

    @contextmanager
    def portal_call(self, kind: str):
        """Run the portal's own call with the pending fault (if any); its refusals are answers, not bugs."""
        calls, lose = self.pending.pop(kind, (None, False))
        if calls:
            if lose:  # the gateway acts, the answer is lost, and so is the first lookup
                self.sandbox.set_faults(lose_response=True, times=2, only=calls)
            else:  # the request never arrives
                self.sandbox.set_faults(drop_connection=True, times=2, only=calls)
        try:
            yield
        except (payments.PaymentError, registration.RegistrationError, billing.BillingError):
            pass
        finally:
            self.sandbox.clear_faults()


SALE_CALLS = ["sale", "search"]
REFUND_CALLS = ["refund", "void", "find"]


def run(step: Step, world: World) -> None:
    world.counter += 1
    email = f"guest{world.counter}@example.com"
    training = db.session.get(TrainingSession, pick(world.sessions, step.target))
    if step.action in ("pay", "pay_with_coupon", "decline"):
        if training.status == "cancelled" or training.seats_taken >= training.capacity:
            return
        nonce = DECLINED if step.action == "decline" else "fake-valid-visa-nonce"
        coupon = "SAVE15" if step.action == "pay_with_coupon" else None
        with world.portal_call("sale"):
            held = registration.register(training, registration.GuestDetails("Guest", email))
            world.guests.append(held.id)
            if coupon:
                registration.apply_coupon(registration.get_registration(held.id), coupon)
            registration.pay(held.id, nonce, ALL)
    elif step.action == "cancel_with_refund":
        chosen = pick(world.guests, step.target)
        if chosen and registration.get_registration(chosen).status in ("confirmed", "pending_payment"):
            with world.portal_call("refund"):
                registration.cancel(chosen, refund_cents=None)
    elif step.action == "settle_and_refund":
        chosen = pick(world.guests, step.target)
        payment_id = chosen and registration.get_registration(chosen).payment_id
        if payment_id:
            payment = settle_payment(payment_id)
            if payment.refundable_cents and payment.status != "submitted_for_settlement":
                with world.portal_call("refund"):
                    payments.refund(payment.id, min(step.amount, payment.refundable_cents), reason="goodwill")
    elif step.action == "cancel_session":
        if training.status != "cancelled":
            with world.portal_call("refund"):
                registration.cancel_session_registrations(training)  # a failed refund is retried later
            cancel_session(db.session.get(TrainingSession, training.id))
    elif step.action == "pay_per_use":
        with world.portal_call("sale"):
            organizer = pick(ORGANIZERS, step.target)
            world.per_use.append(pay_per_use_session(organizer, duration=step.amount, must_pay=False).id)
    elif step.action in ("lose_next_sale", "lose_next_refund"):
        kind, calls = ("sale", SALE_CALLS) if step.action == "lose_next_sale" else ("refund", REFUND_CALLS)
        world.pending[kind] = (calls, bool(step.target))
    elif step.action == "void_at_gateway":
        chosen = pick(world.guests, step.target)
        payment_id = chosen and registration.get_registration(chosen).payment_id
        payment = payment_id and db.session.get(Payment, payment_id)
        if payment and payment.status == "submitted_for_settlement":
            payments.gateway().void(payment.gateway_transaction_id)
            payments.refresh_payment(payment.id)
    elif step.action == "test_charge":
        with world.portal_call("sale"):
            attempt = payments.open_attempt(Purpose.TEST, f"test:{world.counter}", step.amount, "USD")
            payments.pay(attempt.id, "fake-valid-visa-nonce", ALL)
    elif step.action == "pay_per_use_refund":
        chosen = pick(world.per_use, step.target)
        if chosen:
            training = db.session.get(TrainingSession, chosen)
            for charge in billing.training_charges(training):
                settle_payment(charge.payment_id)
            left = db.session.get(TrainingSession, chosen).paid_cents
            if left > 0:
                with world.portal_call("refund"):
                    billing.refund(db.session.get(TrainingSession, chosen), min(step.amount, left), "test")


MOVED = {"authorized", "submitted_for_settlement", "settling", "settlement_pending", "settled"}


def gateway_net(sandbox) -> dict[str, int]:
    """Per purpose, the money the sandbox moved for this database's payments: sales minus credits."""
    purposes = dict(db.session.execute(select(Payment.order_id, Payment.purpose)).all())
    transactions = sandbox.transactions()
    by_id = {t["id"]: t for t in transactions}
    net: dict[str, int] = {}
    for t in transactions:
        if t["status"] not in MOVED:
            continue
        sale = t if t["type"] == "sale" else by_id[t["refunded_transaction_id"]]
        purpose = purposes.get(sale["order_id"])
        if purpose is None:  # the sandbox outlives each test's database: another test's money
            continue
        cents = int(t["amount"] * 100)
        net[purpose] = net.get(purpose, 0) + (cents if t["type"] == "sale" else -cents)
    return net


def moved(totals: list[ledger.LedgerTotal]) -> tuple[int, int]:
    """(charged, refunded) of the ledger's totals; one currency here, so at most one line."""
    assert len(totals) <= 1
    return sum(t.charged_cents for t in totals), sum(t.refunded_cents for t in totals)


def net(totals: list[ledger.LedgerTotal]) -> int:
    charged, refunded = moved(totals)
    return charged - refunded


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=st.lists(steps, min_size=1, max_size=10))
def test_every_report_agrees_with_the_ledger_for_any_history(app, payments_sandbox, history):
    with app.app_context():
        reset_database()
        payments_sandbox.clear_faults()
        world = World(payments_sandbox, setup_site())
        try:
            for step in history:
                run(step, world)
        finally:
            payments_sandbox.clear_faults()
        # The reconciler settles every lost answer (giving up on what the gateway never did).
        payments.reconcile(now=utcnow() + timedelta(hours=2))

        # The ledger against the gateway: the money that really moved, per purpose.
        truth = gateway_net(payments_sandbox)
        for purpose in ("guest_fee", "pay_per_use", "test"):
            assert net(ledger.totals(ledger.LedgerFilter(purpose=purpose))) == truth.get(purpose, 0), purpose

        # Guest fees: the ledger and the per-session report (totals, rows).
        taken, given_back = moved(ledger.totals(ledger.LedgerFilter(purpose="guest_fee")))
        [report] = revenue.totals(revenue.RevenueFilter())  # both fee sessions are always in it
        assert (report.figures.gross_cents, report.figures.refunded_cents) == (taken, given_back)
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

        # Pay-per-use: the ledger and the department report.
        taken, given_back = moved(ledger.totals(ledger.LedgerFilter(purpose="pay_per_use")))
        department_totals = department_reports.pay_per_use_report().totals
        assert [(t.paid_cents, t.refunded_cents) for t in department_totals] == (
            [(taken, given_back)] if taken else []
        )

        # Everything: the ledger's grand total is the purposes together.
        assert net(ledger.totals(ledger.LedgerFilter())) == sum(truth.values())
