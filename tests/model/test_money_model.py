"""A Hypothesis stateful model of the money flow, under the gateway's faults (issue #10, point 1).

``MoneyModel`` drives the real services (registration, coupons, payments, billing,
the reconciler and the other jobs, webhooks) through the real braintree SDK against
the offline sandbox over HTTP, on SQLite and on PostgreSQL (the ``app`` fixture).
Its rules: create sessions (capacity 1-4) and coupons (1-3 uses); register guests
(or put them on the waiting list); apply and remove coupons; pay with approving or
declining nonces, at fees where a coupon can land on a declining test amount;
cancel with a full refund; settle and refund partly; let holds run out; offer freed
seats; deliver dispute and settlement webhooks duplicated and out of order; pay for
a session per use; run the jobs. Payments, refunds and voids may meet a fault armed
in the sandbox just before the call: an answer slower than the SDK's timeout, a 500
or 503, a 429, a dropped connection, or the charge recorded with its answer lost
(``times=2`` loses the follow-up lookup too).

After every step (``@invariant``, from the database alone):
- confirmed registrations never exceed capacity, and ``seats_taken`` is exactly the
  held plus confirmed seats;
- a coupon's ``uses`` never exceeds its maximum and equals its live redemptions, each
  of which belongs to a registration holding a seat (committed ones: confirmed);
- no registration is confirmed without a paid payment of exactly what is due, or a
  coupon (committed) covering the whole fee;
- a pay-per-use session is published only once paid;
- a payment is ``disputed`` only while its dispute is open.
At the end of every example, and whenever the ``audit`` rule is drawn, faults are
cleared, the reconciler runs two hours later (settling every unknown outcome), the
refunds the portal knows it still owes are retried (the administrator's "failed
refunds" list), and then against the sandbox's own transactions:
- every sale the sandbox kept belongs to a confirmed registration (or a paid
  session's charge) whose payment is that very sale; any other sale was voided or
  wholly refunded;
- the ledger's net (``ledger.totals``) equals the money the sandbox moved, to the cent.

Size: ``PORTAL_MODEL_EXAMPLES`` examples (default 200) of ``PORTAL_MODEL_STEPS`` steps
(default 10, the first two creating a session and a coupon) per database: measured on 2
cores, 30-40 s on SQLite and 55-90 s on PostgreSQL. The longer run (roughly half an
hour per database):

    PORTAL_MODEL_EXAMPLES=2000 PORTAL_MODEL_STEPS=25 .venv/bin/python -m pytest -q \\
        -p no:cacheprovider tests/model -k test_money_model_holds

Broken variants: ``test_model_catches_*`` run the same model against one portal
function replaced by a deliberately broken version (the one place where patching our
own code is right: it proves the model sees the bug) and expect it to fail.
"""

import os
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
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
from portal.payments.gateway import Mode, PaymentGateway
from portal.payments.models import CHARGED_BACK, Payment, Purpose, Refund, RefundStatus
from portal.payments.sandbox import sandbox_gateway
from portal.payments.status import PAID
from portal.registration import services as registration
from portal.registration.models import Registration, RegistrationStatus
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus
from tests.conftest import PASSWORD, SANDBOX_KEYS, reset_database
from tests.factories import enable_ecommerce, make_training
from tests.reports.history import ALL, pay_per_use_session

R = RegistrationStatus
EXAMPLES = int(os.environ.get("PORTAL_MODEL_EXAMPLES", "200"))
STEPS = int(os.environ.get("PORTAL_MODEL_STEPS", "10"))
# The broken variants stop at their first failure (longer examples get there sooner); a ceiling.
BROKEN_EXAMPLES, BROKEN_STEPS = 200, 20
# The SDK's timeout in the model (seconds); "slow" answers come after it.
TIMEOUT = 0.5

NONCES = [
    "fake-valid-visa-nonce",
    "fake-valid-debit-nonce",
    "fake-paypal-one-time-nonce",
    "fake-processor-declined-visa-nonce",
]
# 49.00 and 15.00: a 50% coupon on 49.00 lands on 24.50, a declining test amount (2000-2999.99).
FEES = [4900, 1500]
FAULTS = {
    "slow": {"latency_ms": int(TIMEOUT * 1000) + 150},  # processed; the answer comes after the SDK gave up
    "500": {"status": 500},  # answered without processing, outcome unknown to the SDK
    "503": {"status": 503},
    "429": {"status": 429},  # refused before processing: nothing happened
    "drop": {"drop_connection": True},  # reset before processing
    "lose": {"lose_response": True},  # processed and recorded, the answer lost
}
# A fault armed just before a call (kind, how many requests it hits), or none.
faults = st.none() | st.sampled_from(
    [("lose", 1), ("lose", 2), ("slow", 1), ("slow", 2), ("500", 1), ("500", 2)]
    + [("503", 1), ("429", 1), ("drop", 1), ("drop", 2)]
)
SALE_CALLS = ["sale", "search"]
REFUND_CALLS = ["refund", "void", "find"]
# Sandbox statuses of a transaction that moved money.
MOVED = {"authorized", "submitted_for_settlement", "settling", "settlement_pending", "settled"}
PAID_SQL = sorted(str(status) for status in PAID)
_HASH = {}


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


class MoneyModel(RuleBasedStateMachine):
    """Set ``app`` and ``sandbox`` on a subclass (see ``run_model``)."""

    app = None
    sandbox = None

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

    @contextmanager
    def step(self, fault=None, calls=None):
        """One request (or job run): its own app context; a refusal is an answer, not a bug."""
        self.healthy = False
        if fault is not None:
            kind, times = fault
            self.sandbox.set_faults(times=times, only=calls, **FAULTS[kind])
        with self.app.app_context():
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

    @initialize(target=sessions, capacity=st.integers(1, 4), fee=st.sampled_from(FEES))
    def first_session(self, capacity, fee):
        return self.new_session(capacity, fee)

    @initialize(target=codes, kind=st.sampled_from(["percent", "fixed", "free"]), max_uses=st.integers(1, 3))
    def first_coupon(self, kind, max_uses):
        return self.new_coupon(kind, max_uses)

    @precondition(lambda self: self.session_count < 3)
    @rule(target=sessions, capacity=st.integers(1, 4), fee=st.sampled_from(FEES))
    def new_session(self, capacity, fee):
        self.session_count += 1
        with self.app.app_context():
            organizer = db.session.get(User, self.organizer_id)
            training = make_training(organizer, capacity=capacity, expected_attendees=capacity, fee_cents=fee)
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

    @rule(
        target=guests,
        training_id=sessions,
        waitlist=st.booleans(),
        code=st.none() | codes,
        nonce=st.none() | st.sampled_from(NONCES),
        fault=faults,
    )
    def register(self, training_id, waitlist, code, nonce, fault):
        """A guest registers (or joins the waiting list), may apply a coupon, and may pay at once."""
        registration_id = None
        with self.step():
            training = db.session.get(TrainingSession, training_id)
            details = registration.GuestDetails("Guest", self.next_email())
            registration_id = registration.register(training, details, waitlist=waitlist).id
            if code is not None:
                registration.apply_coupon(registration.get_registration(registration_id), code)
        if registration_id and nonce is not None:
            self.pay(registration_id, nonce, fault)
        return multiple(registration_id) if registration_id else multiple()  # nothing when full

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

    @rule(guest=guests, nonce=st.sampled_from(NONCES), fault=faults)
    def pay(self, guest, nonce, fault):
        with self.step(fault, SALE_CALLS):
            registration.pay(guest, nonce, ALL)

    @rule(pick=st.integers(0, 50), fault=faults)
    def cancel_with_refund(self, pick, fault):
        """A guest cancels (a paid one, mostly: that is where the money is)."""
        with self.step():
            paid = (Registration.status == R.CONFIRMED) & Registration.payment_id.is_not(None)
            guest = (
                pick_one(Registration.id, paid, pick)
                or pick_one(Registration.id, Registration.status == R.CONFIRMED, pick)
                or pick_one(Registration.id, Registration.status.in_([R.PENDING_PAYMENT, R.WAITLISTED]), pick)
            )
        if guest is None:
            return
        with self.step(fault, REFUND_CALLS):
            registration.cancel(guest, refund_cents=None)

    @rule(pick=st.integers(0, 50), cents=st.integers(1, 4900), fault=faults)
    def settle_and_refund_partly(self, pick, cents, fault):
        with self.step():
            payment_id = pick_one(Payment.id, Payment.status.in_(PAID_SQL), pick)
            if payment_id and settle_in_sandbox(payment_id):
                payments.refresh_payment(payment_id)
        if not payment_id:
            return
        with self.step(fault, REFUND_CALLS):
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

    # -- the gateway's side -----------------------------------------------------------------

    @rule(
        pick=st.integers(0, 50),
        via_webhook=st.booleans(),
        disputes=st.lists(
            st.sampled_from(["dispute_opened", "dispute_under_review", "dispute_won"]), max_size=3
        ),
        order=st.randoms(use_true_random=False),
        replays=st.integers(0, 2),
    )
    def gateway_news(self, pick, via_webhook, disputes, order, replays):
        """The sale settles (told by webhook or found by polling); disputes come, replayed, out of order."""
        with self.step():
            payment_id = pick_one(Payment.id, Payment.status.in_(PAID_SQL), pick)
            if payment_id is None:
                return
            payment = db.session.get(Payment, payment_id)
            txn = payment.gateway_transaction_id
            notes = []
            if settle_in_sandbox(payment_id):
                if via_webhook:
                    notes.append(self.sandbox.sign_notification("transaction_settled", txn))
                else:
                    payments.refresh_payment(payment_id)
            if payments.gateway().find(txn).status == "settled":  # chargebacks come after settlement
                notes += [self.sandbox.sign_notification(kind, txn) for kind in disputes]
            notes += [notes[order.randrange(len(notes))] for _ in range(replays if notes else 0)]
            order.shuffle(notes)
            for note in notes:
                payments.handle_webhook(note["bt_signature"], note["bt_payload"])

    @precondition(lambda self: len(self.per_use) < 3)
    @rule(duration=st.sampled_from([15, 60]), fault=faults)
    def pay_per_use(self, duration, fault):
        with self.step(fault, SALE_CALLS):
            training = pay_per_use_session("sales@example.com", duration=duration, must_pay=False)
            self.per_use.append(training.id)

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
        with self.app.app_context():
            later = utcnow() + timedelta(hours=2)
            payments.reconcile(now=later)  # every unknown outcome settled, or given up
            retry_owed_refunds()
            payments.reconcile(now=later)
            check_books(self.per_use)
            check_gateway(self.sandbox)


def pick_one(column, condition, pick: int):
    """The ``pick``-th (modulo) of the rows meeting ``condition``, or None."""
    ids = db.session.scalars(select(column).where(condition).order_by(column)).all()
    return ids[pick % len(ids)] if ids else None


def settle_in_sandbox(payment_id: int) -> bool:
    """The sandbox settles the payment's sale if it is still waiting to (True when it did)."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status != "submitted_for_settlement":
        return False
    sale = payments.gateway().find(payment.gateway_transaction_id)
    if sale is None or sale.status != "submitted_for_settlement":
        return False  # e.g. a void whose answer was lost: the reconciler will tell
    payments.gateway().settle(sale.id)
    return True


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
    for training in db.session.scalars(select(TrainingSession)).all():
        counts = dict(
            db.session.execute(
                select(Registration.status, func.count())
                .where(Registration.training_session_id == training.id)
                .group_by(Registration.status)
            ).all()
        )
        confirmed, held = counts.get(R.CONFIRMED, 0), counts.get(R.PENDING_PAYMENT, 0)
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
        if training.status != SessionStatus.DRAFT:
            ensure(
                training.paid_cents >= training.estimate_cents,
                "unpaid session published",
                (training.id, training.paid_cents, training.estimate_cents),
            )


def check_gateway(sandbox) -> None:
    """After the reconciler: every sale the sandbox kept is one we sold something for; the ledger agrees."""
    ours = {p.order_id: p for p in db.session.scalars(select(Payment)).all()}
    transactions = sandbox.transactions()
    by_id = {t["id"]: t for t in transactions}
    moved_cents = 0
    for t in transactions:
        sale = t if t["type"] == "sale" else by_id[t["refunded_transaction_id"]]
        payment = ours.get(sale["order_id"])
        if payment is None:  # the sandbox outlives each example's database: earlier money
            continue
        if t["status"] in MOVED:
            cents = int(t["amount"] * 100)
            moved_cents += cents if t["type"] == "sale" else -cents
        if t["type"] != "sale" or t["status"] not in MOVED:
            continue
        credited = sum(int(by_id[c]["amount"] * 100) for c in t["refund_ids"] if by_id[c]["status"] in MOVED)
        if credited >= int(t["amount"] * 100):
            continue  # given back in full
        kept = payment.gateway_transaction_id == t["id"] and payment.status in PAID
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
            f"sale {t['id']} ({t['amount']}, {t['status']}) of payment {payment.id} "
            f"({payment.status}, keeps {payment.gateway_transaction_id}) for {what}",
        )
    ledger_net = sum(t.net_cents for t in ledger.totals(ledger.LedgerFilter()))
    ensure(
        ledger_net == moved_cents,
        "ledger vs gateway",
        f"ledger net {ledger_net}, sandbox moved {moved_cents}",
    )


# -- running it --------------------------------------------------------------------------------


@pytest.fixture
def model_app(app, payments_sandbox):
    """The ``app`` fixture (SQLite, PostgreSQL); its gateway built with a short timeout for "slow" faults."""
    sdk = sandbox_gateway(payments_sandbox.url, **SANDBOX_KEYS, timeout=TIMEOUT)
    app.extensions["payments"] = PaymentGateway(sdk, Mode.OFFLINE, {}, "USD")
    return app


def run_model(app, sandbox, examples: int, steps: int, shrink: bool = True) -> None:
    machine = type("Model", (MoneyModel,), {"app": app, "sandbox": sandbox})
    options = {}
    if not shrink:  # the broken variants: report the first failure as found, remember nothing
        options = {"phases": [Phase.explicit, Phase.generate], "database": None}
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            **options,
        ),
    )


def test_money_model_holds(model_app, payments_sandbox):
    run_model(model_app, payments_sandbox, EXAMPLES, STEPS)


# -- broken variants: the model must see each bug ----------------------------------------------------
# Each replaces ONE portal function (never the SDK or the gateway layer) and runs a modest model
# without shrinking; the failure must be the invariant the bug breaks. Two more variants (hold
# expiry keeping the coupon use; a cancellation that keeps the money) were not caught on every
# run at this size, so they are not here: the rules need to reach them more often first.


def unknown_outcome_taken_for_a_failure(original):
    """A read timeout or lost answer, still unanswered by the lookup, is recorded as a failed payment."""

    def resolve(payment):
        payment, asked = original(payment)
        if payment.status in ("unknown", "processing"):
            payments._set_status(payment, payments.S.FAILED, failure_code="timeout")
            db.session.commit()
        return payment, asked

    return resolve


def confirm_without_payment_check(original):
    """The gateway answered, so the guest is confirmed, whatever it answered."""

    def pay(registration_id, nonce, allowed):
        result = original(registration_id, nonce, allowed)
        db.session.execute(
            update(Registration)
            .where(Registration.id == registration_id, Registration.status == R.PENDING_PAYMENT)
            .values(status=R.CONFIRMED, hold_expires_at=None, confirmed_at=utcnow())
        )
        db.session.commit()
        return result

    return pay


def failure_text(error: BaseException) -> str:
    parts = [str(error)]
    for inner in getattr(error, "exceptions", ()):
        parts.append(failure_text(inner))
    return "\n".join(parts)


def expect_caught(app, sandbox, monkeypatch, module, name, breaker, *tags):
    """The model fails on the broken variant, with one of ``tags`` (the invariants the bug breaks)."""
    monkeypatch.setattr(module, name, breaker(getattr(module, name)))
    with pytest.raises(BaseException) as caught:  # an AssertionError (or Hypothesis' group of them)
        run_model(app, sandbox, examples=BROKEN_EXAMPLES, steps=BROKEN_STEPS, shrink=False)
    assert caught.type is not KeyboardInterrupt
    text = failure_text(caught.value)
    assert any(f"[{tag}]" in text for tag in tags), text


def test_model_catches_an_unknown_outcome_taken_for_a_failure(model_app, payments_sandbox, monkeypatch):
    expect_caught(
        model_app, payments_sandbox, monkeypatch, payments, "_resolve_unknown",
        unknown_outcome_taken_for_a_failure, "orphaned sale",
    )  # fmt: skip


def test_model_catches_a_confirmation_without_payment(model_app, payments_sandbox, monkeypatch):
    expect_caught(
        model_app, payments_sandbox, monkeypatch, registration, "pay",
        confirm_without_payment_check, "confirmed without payment", "coupon use leaked",
    )  # fmt: skip
