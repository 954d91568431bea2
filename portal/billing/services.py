"""Pay-per-use: an organizer pays a session's estimated cost before it is scheduled or started.

The amount always comes from ``pricing.estimate`` with the rates in force when
the organizer pays; each payment keeps that snapshot (``SessionCharge``), and
is attributed to the organizer's department at that moment.
"""

import logging
from datetime import datetime

from flask import url_for
from sqlalchemy import func, select, update

from portal.admin import audit
from portal.admin.services import get_settings
from portal.billing.models import ChargeKind, DepartmentBudget, SessionCharge
from portal.billing.pricing import AudioType, Quote, Rates, Usage, estimate, rates_for
from portal.database import locked_row, utcnow
from portal.extensions import db
from portal.payments import services as payments
from portal.payments.models import Payment, Purpose, Refund
from portal.payments.status import PaymentStatus
from portal.trainings import services as trainings
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus, transition

log = logging.getLogger(__name__)


class BillingError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def quote_for(training: TrainingSession) -> Quote:
    """The session's estimate now, from the one pricing function and the rates in force for it."""
    usage = Usage(
        duration_minutes=training.duration_minutes,
        expected_attendees=training.expected_attendees,
        audio=AudioType(training.audio),
        teleconference_participants=training.teleconference_participants,
    )
    return estimate(usage, session_rates(training))


def session_rates(training: TrainingSession) -> Rates:
    """The rates the session is priced with: those it was paid at, or the site's, in the session's
    own currency (see ``pricing.rates_for``)."""
    return rates_for(
        training.currency, training.estimate_snapshot, get_settings().rates(), paid=bool(training.paid_cents)
    )


def balance_cents(training: TrainingSession, quote: Quote | None = None) -> int:
    """What is still to pay (positive) or to give back (negative) for the current estimate."""
    quote = quote or quote_for(training)
    return quote.total_cents - training.paid_cents


def period_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


def department_spend(department_id: int, period: str, currency: str) -> int:
    """Net pay-per-use spend of a department in a month: charges minus refunds."""
    start = datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=utcnow().tzinfo)
    year, month = start.year + (start.month // 12), start.month % 12 + 1
    end = start.replace(year=year, month=month)
    signed = func.sum(
        db.case(
            (SessionCharge.kind == ChargeKind.REFUND, -SessionCharge.amount_cents),
            else_=SessionCharge.amount_cents,
        )
    )
    return int(
        db.session.scalar(
            select(func.coalesce(signed, 0)).where(
                SessionCharge.department_id == department_id,
                SessionCharge.currency == currency,
                SessionCharge.created_at >= start,
                SessionCharge.created_at < end,
            )
        )
    )


def budget_remaining(training: TrainingSession, moment: datetime | None = None) -> int | None:
    """The organizer's department budget left this month; None when no budget is set."""
    department_id = training.organizer.department_id
    if department_id is None:
        return None
    period = period_of(moment or utcnow())
    budget = db.session.scalar(
        select(DepartmentBudget).where(
            DepartmentBudget.department_id == department_id, DepartmentBudget.period == period
        )
    )
    if budget is None or budget.currency != training.currency:
        return None
    return budget.amount_cents - department_spend(department_id, period, budget.currency)


def _reference(training: TrainingSession) -> str:
    # One purchase per charge: the first payment, then each difference after an edit.
    count = db.session.scalar(
        select(func.count())
        .select_from(SessionCharge)
        .where(SessionCharge.training_session_id == training.id, SessionCharge.kind == ChargeKind.CHARGE)
    )
    return f"training:{training.id}:{count + 1}"


def checkout(training: TrainingSession) -> Payment | None:
    """Open (or reuse) the payment attempt for what the session's estimate still needs.

    A draft with nothing to pay (a zero estimate, or already paid in full) is scheduled or
    started at once: None.
    """
    quote = quote_for(training)
    due = balance_cents(training, quote)
    if due <= 0:
        if training.status == SessionStatus.DRAFT and training.pending_intent:
            locked_row(TrainingSession, training.id)
            if training.status == SessionStatus.DRAFT and training.pending_intent:
                intent = training.pending_intent
                _publish(training)
                audit.record("pay_per_use.nothing_to_pay", training, intent=intent)
            db.session.commit()
            if due < 0:
                # Paid for a higher estimate, then lowered before it was published: the rest goes back.
                refund(training, -due, "estimate lowered")
            return None
        raise BillingError("nothing_to_pay")
    _check_budget(training, due)
    training.estimate_cents = quote.total_cents
    training.estimate_snapshot = quote.snapshot()
    db.session.commit()
    return payments.open_attempt(
        Purpose.PAY_PER_USE,
        _reference(training),
        due,
        quote.currency,
        training_session_id=training.id,
        organizer_id=training.organizer_id,
    )


def _check_budget(training: TrainingSession, amount_cents: int) -> None:
    remaining = budget_remaining(training)
    if remaining is not None and amount_cents > remaining and not get_settings().allow_budget_overrun:
        raise BillingError("over_budget")


def pay(training_id: int, payment_id: int, nonce: str, allowed: payments.AllowedMethods) -> Payment:
    payment = payments.get_payment(payment_id)
    if (
        payment is None
        or payment.purpose != Purpose.PAY_PER_USE
        or not payment.reference.startswith(f"training:{training_id}:")
    ):
        raise BillingError("not_found")
    if payment.status == PaymentStatus.PENDING:
        # The page may be older than the session's last change (another tab, an edit since):
        # the sale pays exactly what is due now and fits the budget as it is now, or is not sent.
        training = db.session.get(TrainingSession, training_id)
        if payment.amount_cents != balance_cents(training):
            raise BillingError("estimate_changed")
        _check_budget(training, payment.amount_cents)
    payment = payments.pay(payment_id, nonce, allowed)
    if payment.is_paid:
        record_charge(payment)
    return payments.get_payment(payment_id)


def session_page_of(payment: Payment) -> str:
    """Where the organizer lands back from the gateway's payment page: it says how it went, then
    shows the session."""
    return url_for("billing.pay", session_id=payment.training_session_id, payment_id=payment.id)


def _training_id_of(payment: Payment) -> int:
    _, training_id, _ = payment.reference.split(":")
    return int(training_id)


def record_charge(payment: Payment) -> None:
    """A pay-per-use payment went through: record what it paid for, then schedule or start a draft.

    Idempotent: the payer's request and the reconciler may both get here. The session's row is
    locked before the check, so two of them never both find the charge missing.
    """
    training = locked_row(TrainingSession, _training_id_of(payment))
    if training is None or db.session.scalar(
        select(SessionCharge.id).where(
            SessionCharge.payment_id == payment.id, SessionCharge.kind == ChargeKind.CHARGE
        )
    ):
        db.session.commit()  # the lock ends with the check
        return
    db.session.add(
        SessionCharge(
            training_session_id=training.id,
            payment_id=payment.id,
            kind=ChargeKind.CHARGE,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            organizer_id=training.organizer_id,
            department_id=training.organizer.department_id,
            snapshot=training.estimate_snapshot,
        )
    )
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == training.id)
        .values(paid_cents=TrainingSession.paid_cents + payment.amount_cents)
    )
    db.session.refresh(training)
    balance = balance_cents(training)
    if training.status == SessionStatus.DRAFT and training.pending_intent and balance <= 0:
        # Only a draft paid in full is published: a payment for an older, lower estimate is kept
        # (paid_cents) and the rest is still to pay.
        _publish(training)
    audit.record(
        "pay_per_use.paid",
        training,
        payment=payment.order_id,
        amount_cents=payment.amount_cents,
        department=training.organizer.department_id,
    )
    db.session.commit()
    if balance < 0:
        # It paid for an estimate lowered since (its page was opened before): the rest goes back.
        refund(training, -balance, "estimate lowered")


def _publish(training: TrainingSession) -> None:
    trainings.publish(training, training.pending_intent)


def on_pay_per_use_payment(payment: Payment) -> None:
    if payment.is_paid:
        record_charge(payment)


def _count_refund(training: TrainingSession, record: Refund, department_id: int | None) -> None:
    """The session has ``record``'s amount less paid: its refund row, once per refund."""
    if db.session.scalar(select(SessionCharge.id).where(SessionCharge.refund_id == record.id)):
        return
    db.session.add(
        SessionCharge(
            training_session_id=training.id,
            payment_id=record.payment_id,
            refund_id=record.id,
            kind=ChargeKind.REFUND,
            amount_cents=record.amount_cents,
            currency=record.currency,
            organizer_id=training.organizer_id,
            department_id=department_id,
            snapshot=training.estimate_snapshot,
        )
    )
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == training.id)
        .values(paid_cents=TrainingSession.paid_cents - record.amount_cents)
    )


def on_refund_succeeded(record: Refund) -> None:
    """A refund or void of a pay-per-use payment went through, the session's own or an
    administrator's from the ledger: the session has that much less paid (and what is left to
    pay before it starts grows), and the department's spend falls in the month it came back."""
    charge = db.session.scalar(
        select(SessionCharge).where(
            SessionCharge.payment_id == record.payment_id, SessionCharge.kind == ChargeKind.CHARGE
        )
    )
    if charge is None:
        return  # never counted as paid: nothing to take back
    training = locked_row(TrainingSession, charge.training_session_id)
    _count_refund(training, record, charge.department_id)
    db.session.commit()


def on_refund_released(record: Refund) -> None:
    """A refund counted for a session failed after all: it is owed again (and retried later)."""
    charge = db.session.scalar(select(SessionCharge).where(SessionCharge.refund_id == record.id))
    if charge is None:
        return
    db.session.delete(charge)
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == charge.training_session_id)
        .values(
            paid_cents=TrainingSession.paid_cents + charge.amount_cents,
            refund_owed_cents=TrainingSession.refund_owed_cents + charge.amount_cents,
        )
    )
    audit.record(
        "pay_per_use.refund_failed", charge.training, refund_id=record.id, owed_cents=charge.amount_cents
    )
    db.session.commit()


def is_paid_up(training: TrainingSession) -> bool:
    return balance_cents(training) <= 0


def start(training: TrainingSession) -> None:
    """Start a scheduled session; with pay-per-use on, only once its estimate is fully paid."""
    if get_settings().pay_per_use and not is_paid_up(training):
        raise BillingError("unpaid")
    training.status = transition(training.status, SessionStatus.STARTED)
    audit.record("session.started", training)
    db.session.commit()


def refund(training: TrainingSession, amount_cents: int, reason: str) -> int:
    """Give back up to ``amount_cents`` of the session's payments, newest first; returns what was refunded.

    A payment that has not settled yet cannot be refunded in part: what it owes
    waits in ``refund_owed_cents`` and ``settle_owed_refunds`` retries later.
    """
    left = amount_cents
    refunded = 0
    charges = db.session.scalars(
        select(SessionCharge)
        .where(SessionCharge.training_session_id == training.id, SessionCharge.kind == ChargeKind.CHARGE)
        .order_by(SessionCharge.id.desc())
    ).all()
    for charge in charges:
        if left <= 0:
            break
        payment = charge.payment
        portion = min(left, payment.refundable_cents)
        if portion <= 0:
            continue
        try:
            record = payments.refund(payment.id, portion, reason=reason)
        except payments.PaymentError as exc:
            record = payments.unanswered_refund(payment.id) if exc.code == "refund_outcome_unknown" else None
            if record is None:
                log.info("session %s: refund of %s waits (%s)", training.id, portion, exc.code)
                continue
            # Sent, answer lost: the money is reserved and the reconciler settles it. Count it
            # now, as the ledger does; were it to fail, ``on_refund_released`` puts it back as owed.
        _count_refund(training, record, charge.department_id)  # done already if it succeeded
        db.session.commit()
        left -= record.amount_cents
        refunded += record.amount_cents
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == training.id)
        .values(refund_owed_cents=max(left, 0))
    )
    audit.record(
        "pay_per_use.refunded", training, refunded_cents=refunded, owed_cents=max(left, 0), reason=reason
    )
    db.session.commit()
    return refunded


def after_edit(training: TrainingSession) -> int:
    """After a paid session changed: a lower estimate refunds the difference. Returns the balance."""
    if not training.paid_cents and not training.refund_owed_cents:
        return balance_cents(training)
    quote = quote_for(training)
    training.estimate_cents = quote.total_cents
    training.estimate_snapshot = quote.snapshot()
    db.session.commit()
    balance = balance_cents(training, quote)
    if balance < 0:
        refund(training, -balance, "estimate lowered")
    return balance_cents(training, quote)


def cancel_refund_cents(training: TrainingSession) -> int:
    """What cancelling the session gives back of its pay-per-use payments (before it starts)."""
    if training.status == SessionStatus.STARTED or not get_settings().pay_per_use_refundable:
        return 0
    return max(training.paid_cents, 0)


def cancel_paid(training: TrainingSession) -> int:
    """A paid session cancelled before it started: refund it when the site's policy says so."""
    amount = cancel_refund_cents(training)
    return refund(training, amount, "session cancelled") if amount else 0


def settle_owed_refunds() -> int:
    """Retry refunds that waited for their payment to settle (run by the jobs loop)."""
    done = 0
    for training in db.session.scalars(
        select(TrainingSession).where(TrainingSession.refund_owed_cents > 0)
    ).all():
        for charge in training_charges(training):
            payments.refresh_payment(charge.payment_id)
        done += refund(training, training.refund_owed_cents, "owed refund after settlement")
    return done


def training_charges(training: TrainingSession) -> list[SessionCharge]:
    return list(
        db.session.scalars(
            select(SessionCharge)
            .where(SessionCharge.training_session_id == training.id)
            .order_by(SessionCharge.id)
        )
    )
