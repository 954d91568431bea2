"""What the money models share, whichever gateway takes the money (issue #10, point 1; issue #11).

``money_machine`` builds the base of a model: its plumbing (one app context per request or job, a
fault armed in the gateway's sandbox just before a call), the rules that do not depend on the
gateway (sessions and coupons, registering, applying and removing coupons, cancelling with a full
refund, settling and refunding partly, holds running out, offering freed seats, the jobs, the
``audit``) and its checks: the database invariants after every step (``check_books``) and, at the
end of every example, the gateway's own transactions against our payments and the ledger
(``check_sales``). Each model adds its gateway's rules and three hooks: ``settle_sale`` (the sandbox
settles a payment's sale), ``lapse_checkouts`` (before the final audit: no payer can pay any more)
and ``check_gateway`` (the sandbox's transactions as ``GatewaySale`` rows, for ``check_sales``).

``run_model`` runs a model under Hypothesis; ``run_script`` runs one example whose steps are chosen
by hand (a broken variant that must be caught on every run); ``expect_caught`` runs either against a
deliberately broken portal function.

tests/model/test_money_model.py is the Braintree model, tests/model/test_payflow_model.py the
Payflow Pro one.
"""

import inspect
import os
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    INVARIANT_MARKER,
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, update

from portal.accounts.models import Role, User
from portal.accounts.passwords import hash_password
from portal.accounts.services import get_or_create_department
from portal.billing import services as billing
from portal.billing.models import ChargeKind, SessionCharge
from portal.coupons import services as coupons
from portal.coupons.models import Coupon, CouponRedemption, RedemptionStatus
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from portal.payments import ledger
from portal.payments import services as payments
from portal.payments.models import CHARGED_BACK, Payment, Purpose, Refund, RefundStatus
from portal.payments.status import PAID
from portal.registration import services as registration
from portal.registration.models import Registration, RegistrationStatus
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus
from tests.conftest import PASSWORD, reset_database
from tests.factories import enable_ecommerce, make_training
from tests.reports.history import pay_per_use_session

R = RegistrationStatus
PAID_SQL = sorted(str(status) for status in PAID)
_HASH = {}


def model_size(prefix: str, examples: int, steps: int) -> tuple[int, int]:
    """How many examples of how many steps: ``{prefix}_EXAMPLES`` and ``{prefix}_STEPS``, or these."""
    return int(os.environ.get(f"{prefix}_EXAMPLES", examples)), int(os.environ.get(f"{prefix}_STEPS", steps))


def password_hash() -> str:
    """Hashed once per run: argon2 costs more than a whole example's other setup."""
    if "value" not in _HASH:
        _HASH["value"] = hash_password(PASSWORD)
    return _HASH["value"]


def add_user(email: str, role: Role, department: str | None) -> User:
    user = User(
        email=email,
        name=email.split("@")[0],
        password_hash=password_hash(),
        role=role,
        department=get_or_create_department(department) if department else None,
        timezone="UTC",
    )
    db.session.add(user)
    db.session.commit()
    return user


def ensure(condition: bool, rule_name: str, detail) -> None:
    """An invariant's assertion; ``rule_name`` is what the broken-variant tests look for."""
    assert condition, f"[{rule_name}] {detail}"


def cents(amount) -> int:
    """A gateway's amount ("12.50", or a Decimal) in cents."""
    return int(Decimal(str(amount)) * 100)


def money_machine(fees: list[int], faults, refund_calls: list[str], sale_calls: list[str], methods):
    """The base class of a money model, for one gateway.

    ``fees``: the sessions' fees; ``faults`` draws ``None`` or ``(kind, times)``, ``kind`` a key of
    the subclass's ``FAULTS`` (the sandbox's ``set_faults`` arguments); ``refund_calls`` and
    ``sale_calls``: the sandbox operations a refund (or void) and a payment reach; ``methods`` draws
    how a payer pays (handed to ``pay_with``). Set ``app`` and ``sandbox`` on a subclass (see
    ``run_model``).
    """

    class MoneyMachine(RuleBasedStateMachine):
        app = None
        sandbox = None
        FAULTS: dict = {}

        sessions = Bundle("sessions")
        guests = Bundle("guests")
        codes = Bundle("codes")

        def __init__(self):
            super().__init__()
            self.sandbox.clear_faults()
            self.answers: Counter = Counter()  # the services' refusals, by code (for debugging)
            self.counter = 0
            self.session_count = 0
            self.coupon_count = 0
            self.per_use: list[int] = []
            self.healthy = True
            with self.app.app_context():
                reset_database()
                enable_ecommerce(tax_percent=None)
                self.admin_id = add_user("admin@example.com", Role.ADMIN, None).id
                self.organizer_id = add_user("sales@example.com", Role.ORGANIZER, "Sales").id

        # -- plumbing ------------------------------------------------------------------

        def context(self):
            """Where a request or a job runs (a request context where services build URLs)."""
            return self.app.app_context()

        @contextmanager
        def step(self, fault=None, calls=None):
            """One request (or job run): its own context; a refusal is an answer, not a bug."""
            self.healthy = False
            if fault is not None:
                kind, times = fault
                self.sandbox.set_faults(times=times, only=calls, **self.FAULTS[kind])
            with self.context():
                try:
                    yield
                except (registration.RegistrationError, payments.PaymentError, billing.BillingError) as exc:
                    db.session.rollback()
                    self.answers[exc.code] += 1
                finally:
                    self.sandbox.clear_faults()
            self.healthy = True

        def next_email(self) -> str:
            self.counter += 1
            return f"guest{self.counter}@example.com"

        # -- sessions and coupons ------------------------------------------------------------

        @initialize(target=sessions, capacity=st.integers(1, 4), fee=st.sampled_from(fees))
        def first_session(self, capacity, fee):
            return self.new_session(capacity, fee)

        @initialize(
            target=codes, kind=st.sampled_from(["percent", "fixed", "free"]), max_uses=st.integers(1, 3)
        )
        def first_coupon(self, kind, max_uses):
            return self.new_coupon(kind, max_uses)

        @precondition(lambda self: self.session_count < 3)
        @rule(target=sessions, capacity=st.integers(1, 4), fee=st.sampled_from(fees))
        def new_session(self, capacity, fee):
            self.session_count += 1
            with self.app.app_context():
                organizer = db.session.get(User, self.organizer_id)
                training = make_training(
                    organizer, capacity=capacity, expected_attendees=capacity, fee_cents=fee
                )
                return training.id

        @precondition(lambda self: self.coupon_count < 3)
        @rule(
            target=codes,
            kind=st.sampled_from(["percent", "fixed", "free"]),
            max_uses=st.integers(1, 3),
        )
        def new_coupon(self, kind, max_uses):
            self.coupon_count += 1
            self.counter += 1
            code = f"MODEL{self.counter}"
            values = {
                "percent": {"percent": Decimal("50")},
                "fixed": {"amount_cents": 500, "currency": "USD"},
                "free": {},
            }[kind]
            with self.step():
                admin = db.session.get(User, self.admin_id)
                coupons.create_coupon(CouponInput(kind=kind, code=code, max_uses=max_uses, **values), admin)
            return code

        # -- guests ---------------------------------------------------------------------------

        def register_guest(self, training_id, waitlist, code) -> int | None:
            """A guest registers (or joins the waiting list) and may apply a coupon; None when full."""
            registration_id = None
            with self.step():
                training = db.session.get(TrainingSession, training_id)
                details = registration.GuestDetails("Guest", self.next_email())
                registration_id = registration.register(training, details, waitlist=waitlist).id
                if code is not None:
                    registration.apply_coupon(registration.get_registration(registration_id), code)
            return registration_id

        @rule(
            target=guests,
            training_id=sessions,
            waitlist=st.booleans(),
            code=st.none() | codes,
            method=st.none() | methods,
            fault=faults,
        )
        def register(self, training_id, waitlist, code, method, fault):
            """A guest registers (or joins the waiting list), may apply a coupon, and may pay at once."""
            registration_id = self.register_guest(training_id, waitlist, code)
            if registration_id and method is not None:
                self.pay(registration_id, method, fault)
            return multiple(registration_id) if registration_id else multiple()  # nothing when full

        @rule(guest=guests, method=methods, fault=faults)
        def pay(self, guest, method, fault):
            with self.step(fault, sale_calls):
                self.pay_with(guest, method)
            self.after_pay(method)

        @rule(pick=st.integers(0, 50), code=codes)
        def apply_coupon(self, pick, code):
            """A guest with a held seat applies a code (or another one)."""
            with self.step():
                guest = pick_one(Registration.id, Registration.status == R.PENDING_PAYMENT, pick)
                if guest is not None:
                    registration.apply_coupon(registration.get_registration(guest), code)

        @rule(guest=guests)
        def remove_coupon(self, guest):
            with self.step():
                registration.remove_coupon(registration.get_registration(guest))

        @rule(pick=st.integers(0, 50), fault=faults)
        def cancel_with_refund(self, pick, fault):
            """A guest cancels (a paid one, mostly: that is where the money is)."""
            with self.step():
                paid = (Registration.status == R.CONFIRMED) & Registration.payment_id.is_not(None)
                guest = (
                    pick_one(Registration.id, paid, pick)
                    or pick_one(Registration.id, Registration.status == R.CONFIRMED, pick)
                    or pick_one(
                        Registration.id, Registration.status.in_([R.PENDING_PAYMENT, R.WAITLISTED]), pick
                    )
                )
            if guest is None:
                return
            with self.step(fault, refund_calls):
                registration.cancel(guest, refund_cents=None)

        @rule(pick=st.integers(0, 50), cents=st.integers(1, 4900), fault=faults)
        def settle_and_refund_partly(self, pick, cents, fault):
            with self.step():
                payment_id = pick_one(Payment.id, Payment.status.in_(PAID_SQL), pick)
                if payment_id and self.settle_sale(payment_id):
                    payments.refresh_payment(payment_id)
            if not payment_id:
                return
            with self.step(fault, refund_calls):
                payment = db.session.get(Payment, payment_id)
                if payment.refundable_cents:
                    payments.refund(payment_id, min(cents, payment.refundable_cents), reason="goodwill")

        @rule()
        def holds_run_out(self):
            """Time passes: every hold (and waiting-list offer) is now past its expiry, and the job runs."""
            with self.step():
                db.session.execute(
                    update(Registration)
                    .where(Registration.status == R.PENDING_PAYMENT)
                    .values(hold_expires_at=utcnow() - timedelta(seconds=1))
                )
                db.session.commit()
                registration.expire_holds()

        @rule(training_id=sessions)
        def offer_freed_seats(self, training_id):
            with self.step():
                registration.offer_freed_seats(training_id)

        @precondition(lambda self: len(self.per_use) < 3)
        @rule(duration=st.sampled_from([15, 60]), fault=faults)
        def pay_per_use(self, duration, fault):
            """An organizer drafts a session and pays its estimate (on the gateway's page if it has one)."""
            with self.step(fault, sale_calls):
                try:
                    training_id = pay_per_use_session(
                        "sales@example.com", duration=duration, must_pay=False
                    ).id
                except payments.GoToGateway as sent:
                    training_id = sent.payment.training_session_id
                    self.sent_to_gateway(sent.url)
                self.per_use.append(training_id)

        @rule()
        def run_jobs(self):
            """The periodic jobs, a minute later (unknown outcomes older than 30 s get looked up)."""
            with self.step():
                payments.reconcile(now=utcnow() + timedelta(minutes=1))
                registration.expire_holds()
                billing.settle_owed_refunds()

        @rule()
        def audit(self):
            self.settle_and_check_the_gateway()

        # -- invariants ----------------------------------------------------------------------------

        @invariant()
        def books_balance(self):
            self.healthy = False
            with self.app.app_context():
                check_books(self.per_use)
            self.healthy = True

        def teardown(self):
            if self.healthy:  # not after a failure: that one is the report
                self.settle_and_check_the_gateway()

        def settle_and_check_the_gateway(self):
            self.sandbox.clear_faults()
            self.lapse_checkouts()
            with self.app.app_context():
                later = utcnow() + timedelta(hours=2)
                payments.reconcile(now=later)  # every unknown outcome settled, or given up
                retry_owed_refunds()
                payments.reconcile(now=later)
                check_books(self.per_use)
                check_sales(self.check_gateway())

        # -- the gateway's part ---------------------------------------------------------------------

        def pay_with(self, guest: int, method) -> None:
            """The guest pays what is due, the way ``method`` says (in a step)."""
            raise NotImplementedError

        def after_pay(self, method) -> None:
            """What the payer does next, out of that request (on a gateway's page, say)."""

        def sent_to_gateway(self, url: str) -> None:
            """A payer was sent to the gateway's own payment page (a hosted checkout)."""
            raise AssertionError(f"this gateway has no payment page of its own: {url}")

        def settle_sale(self, payment_id: int) -> bool:
            """The sandbox settles the payment's sale if it is still waiting to (True when it did)."""
            raise NotImplementedError

        def lapse_checkouts(self) -> None:
            """Before the final audit: no payer can still pay on a gateway's page."""

        def check_gateway(self) -> list["GatewaySale"]:
            """The sandbox's sales (``GatewaySale``), for ``check_sales``."""
            raise NotImplementedError

    return MoneyMachine


def pick_one(column, condition, pick: int):
    """The ``pick``-th (modulo) of the rows meeting ``condition``, or None."""
    ids = db.session.scalars(select(column).where(condition).order_by(column)).all()
    return ids[pick % len(ids)] if ids else None


def retry_owed_refunds() -> None:
    """What the administrator does with the "failed refunds" list: retry each one."""
    owed = db.session.scalars(
        select(Payment.id)
        .join(Refund, Refund.payment_id == Payment.id)
        .where(
            Refund.status == RefundStatus.FAILED, Refund.duplicate.is_(False), Payment.status.in_(PAID_SQL)
        )
        .distinct()
    ).all()
    for payment_id in owed:
        payment = db.session.get(Payment, payment_id)
        if payment.purpose != Purpose.GUEST_FEE or not payment.refundable_cents:
            continue
        owner = db.session.scalar(select(Registration).where(Registration.payment_id == payment_id))
        if owner is not None and owner.status == R.CONFIRMED:
            continue  # a partial refund that failed: the guest keeps the seat
        try:
            payments.refund(payment_id, None, reason="retried by the administrator")
        except payments.PaymentError:
            db.session.rollback()  # e.g. a void the gateway refuses once settled: learn it, refund
            payment = payments.refresh_payment(payment_id)
            if payment.refundable_cents:
                payments.refund(payment_id, None, reason="retried by the administrator")


def check_books(per_use: list[int]) -> None:
    """The invariants the database alone must keep after every step."""
    per_session = Registration.training_session_id, Registration.status
    rows = db.session.execute(select(*per_session, func.count()).group_by(*per_session))
    counts = {(training_id, status): n for training_id, status, n in rows}
    for training in db.session.scalars(select(TrainingSession)).all():
        confirmed = counts.get((training.id, R.CONFIRMED), 0)
        held = counts.get((training.id, R.PENDING_PAYMENT), 0)
        ensure(confirmed <= training.capacity, "oversold", (training.id, confirmed, training.capacity))
        ensure(
            training.seats_taken == confirmed + held,
            "seat count",
            f"session {training.id}: seats_taken {training.seats_taken}, {confirmed} confirmed + {held} held",
        )
    registrations = {r.id: r for r in db.session.scalars(select(Registration)).all()}
    for coupon in db.session.scalars(select(Coupon)).all():
        live = db.session.scalars(
            select(CouponRedemption).where(
                CouponRedemption.coupon_id == coupon.id,
                CouponRedemption.status.in_([RedemptionStatus.RESERVED, RedemptionStatus.COMMITTED]),
            )
        ).all()
        ensure(coupon.uses <= coupon.max_uses, "coupon over-redeemed", (coupon.code, coupon.uses))
        ensure(coupon.uses == len(live), "coupon use count", (coupon.code, coupon.uses, len(live)))
        for redemption in live:
            owner = registrations[int(redemption.reference.split(":")[1])]
            holding = (
                (R.CONFIRMED,) if redemption.status == RedemptionStatus.COMMITTED else (R.PENDING_PAYMENT,)
            )
            ensure(
                owner.status in holding,
                "coupon use leaked",
                f"{coupon.code}: {redemption.status} use of registration {owner.id}, which is {owner.status}",
            )
    for r in registrations.values():
        if r.status != R.CONFIRMED:
            continue
        if r.due_cents == 0:
            committed = db.session.scalar(
                select(CouponRedemption).where(
                    CouponRedemption.reference == r.reference,
                    CouponRedemption.status == RedemptionStatus.COMMITTED,
                )
            )
            ensure(
                r.price_cents == 0 or (committed is not None and committed.discount_cents == r.price_cents),
                "confirmed without payment",
                f"registration {r.id} is free without a covering coupon",
            )
            continue
        payment = r.payment
        ensure(
            payment is not None and payment.status in PAID and payment.amount_cents == r.due_cents,
            "confirmed without payment",
            f"registration {r.id} due {r.due_cents}: {payment and (payment.status, payment.amount_cents)}",
        )
    for payment in db.session.scalars(select(Payment).where(Payment.dispute_status.is_not(None))).all():
        open_dispute = payment.dispute_status not in ("won", "expired", *CHARGED_BACK)
        ensure(
            payment.status != "disputed" or open_dispute,
            "dispute status",
            f"payment {payment.id} is {payment.status} with its dispute {payment.dispute_status}",
        )
    for training_id in per_use:
        training = db.session.get(TrainingSession, training_id)
        rows = billing.training_charges(training)
        charged = sum(c.amount_cents for c in rows if c.kind == ChargeKind.CHARGE)
        given_back = sum(c.amount_cents for c in rows if c.kind == ChargeKind.REFUND)
        ensure(
            training.paid_cents == charged - given_back,
            "session books",
            (training.id, training.paid_cents, charged, given_back),
        )
        # What its payments still hold: refunds counted (or reserved) are out. An administrator's
        # refund whose answer is still unknown is counted by the session once it is known.
        kept = sum(
            c.payment.amount_cents - c.payment.refunded_cents for c in rows if c.kind == ChargeKind.CHARGE
        )
        ensure(training.paid_cents >= kept, "session counts money it gave back twice", (training.id, kept))
        if training.status != SessionStatus.DRAFT:
            # Published only once paid in full (money given back since, e.g. from the ledger, is owed).
            ensure(
                charged >= training.estimate_cents,
                "unpaid session published",
                (training.id, charged, training.estimate_cents),
            )


@dataclass(frozen=True)
class GatewaySale:
    """One sale in a gateway's sandbox: what it moved and what was given back of it (cents)."""

    id: str
    order_id: str | None
    moved_cents: int  # 0 unless the money moved (approved, not voided)
    credited_cents: int  # refunds or credits of it that moved money
    status: str  # the sandbox's words, for the report


def check_sales(sales: list[GatewaySale]) -> None:
    """After the reconciler: every sale the sandbox kept is one we sold something for; the ledger agrees."""
    ours = {p.order_id: p for p in db.session.scalars(select(Payment)).all()}
    moved_cents = 0
    for sale in sales:
        payment = ours.get(sale.order_id)
        if payment is None:  # the sandbox outlives each example's database: earlier money
            continue
        moved_cents += sale.moved_cents - sale.credited_cents
        if not sale.moved_cents or sale.credited_cents >= sale.moved_cents:
            continue  # never taken, or given back in full
        kept = payment.gateway_transaction_id == sale.id and payment.status in PAID
        if payment.purpose == Purpose.GUEST_FEE:
            owner = db.session.scalar(select(Registration).where(Registration.payment_id == payment.id))
            ok = kept and owner is not None and owner.status == R.CONFIRMED
            what = owner and (owner.id, owner.status)
        elif payment.purpose == Purpose.PAY_PER_USE:
            charge = db.session.scalar(
                select(SessionCharge).where(
                    SessionCharge.payment_id == payment.id, SessionCharge.kind == ChargeKind.CHARGE
                )
            )
            ok = kept and charge is not None
            what = charge and charge.training_session_id
        else:
            ok, what = kept, payment.purpose
        ensure(
            ok,
            "orphaned sale",
            f"sale {sale.id} ({sale.moved_cents}, {sale.status}) of payment {payment.id} "
            f"({payment.status}, keeps {payment.gateway_transaction_id}) for {what}",
        )
    ledger_net = sum(t.net_cents for t in ledger.totals(ledger.LedgerFilter()))
    ensure(
        ledger_net == moved_cents,
        "ledger vs gateway",
        f"ledger net {ledger_net}, sandbox moved {moved_cents}",
    )


# -- running a model ------------------------------------------------------------------------------


def bound(model, app, sandbox) -> type:
    """``model`` with its ``app`` and ``sandbox`` set; named after it (Hypothesis keys its example
    database by the name: the source is not found)."""
    return type(model.__name__, (model,), {"app": app, "sandbox": sandbox})


def run_model(model, app, sandbox, examples: int, steps: int, shrink: bool = True) -> None:
    options = {}
    if not shrink:
        # The broken variants: report the first failure as found, remember nothing, and draw the
        # same examples on every run, so a variant caught once is caught every time.
        options = {"phases": [Phase.explicit, Phase.generate], "database": None, "derandomize": True}
    run_state_machine_as_test(
        bound(model, app, sandbox),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            **options,
        ),
    )


class Script:
    """A model's rules called by hand, with keyword arguments: each call is one step, after which the
    model's invariants run, as under Hypothesis. A rule's result comes back unwrapped from
    ``multiple`` (its one value, or None)."""

    def __init__(self, machine: RuleBasedStateMachine):
        self.machine = machine
        members = inspect.getmembers(type(machine))
        self.invariants = [f for _, f in members if getattr(f, INVARIANT_MARKER, None)]

    def __getattr__(self, name: str):
        rule_function = getattr(self.machine, name)

        def step(**arguments):
            result = rule_function(**arguments)
            for check in self.invariants:
                check(self.machine)
            if isinstance(result, MultipleResults):
                return next(iter(result), None)
            return result

        return step


def run_script(model, app, sandbox, script) -> None:
    """One example of ``model`` whose steps are chosen, not drawn: ``script(Script(machine))``, then
    the model's teardown (the final audit), as Hypothesis runs an example. Deterministic: for a broken
    variant that must be caught on every run, whatever the random examples would have reached."""
    machine = bound(model, app, sandbox)()
    try:
        script(Script(machine))
    finally:
        machine.teardown()


def failure_text(error: BaseException) -> str:
    parts = [str(error)]
    for inner in getattr(error, "exceptions", ()):
        parts.append(failure_text(inner))
    return "\n".join(parts)


def expect_caught(run, monkeypatch, module, name, breaker, *tags) -> None:
    """``run()`` (a model's run: ``run_model`` or ``run_script``) fails once ``module.name`` is replaced
    by ``breaker(module.name)``, with one of ``tags`` (the invariants the bug breaks)."""
    monkeypatch.setattr(module, name, breaker(getattr(module, name)))
    with pytest.raises(BaseException) as caught:  # an AssertionError (or Hypothesis' group of them)
        run()
    assert caught.type is not KeyboardInterrupt
    text = failure_text(caught.value)
    assert any(f"[{tag}]" in text for tag in tags), text
