"""Checkout attempts, charges, refunds, reconciliation and webhooks.

The charge saga (ARCHITECTURE.md, money-safety rules):
1. a short transaction claims the attempt (``pending`` -> ``processing``) with
   one conditional UPDATE, so a double click or a second tab never sends a
   second sale;
2. the gateway is called with no transaction open;
3. a short transaction records the outcome. A lost answer leaves the attempt
   ``unknown``: it is looked up by its order id, never charged again.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.database import utcnow
from portal.extensions import db
from portal.payments.gateway import (
    ChargeOutcome,
    GatewayError,
    GatewayTransaction,
    PaymentGateway,
    UnknownOutcome,
)
from portal.payments.models import Method, Payment, Refund, RefundKind, RefundStatus, WebhookEvent
from portal.payments.status import CLOSED, FROM_BRAINTREE, OPEN, PAID, PaymentStatus, can_transition

log = logging.getLogger(__name__)
S = PaymentStatus


class PaymentError(Exception):
    """A payment request that cannot go on; ``code`` maps to a message in the views."""

    def __init__(self, code: str, payment: Payment | None = None):
        super().__init__(code)
        self.code = code
        self.payment = payment


def gateway() -> PaymentGateway:
    return current_app.extensions["payments"]


def _call(method, *args):
    """Call the gateway with no database transaction open.

    On SQLite every transaction holds the write lock (BEGIN IMMEDIATE), and on
    PostgreSQL it may hold row locks: neither may wait on the network. Arguments
    are evaluated before this runs, so ending the read transaction here is safe.
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("unsaved changes before a gateway call")
    db.session.rollback()
    return method(*args)


def client_token() -> str | None:
    """A client token for the browser's payment component; None while the gateway is down."""
    try:
        return _call(gateway().client_token)
    except (GatewayError, UnknownOutcome):
        return None


# -- attempts ------------------------------------------------------------------


def open_attempt(purpose: str, reference: str, amount_cents: int, currency: str) -> Payment:
    """The purchase's open attempt, or a new one for the server-computed amount.

    A paid purchase raises ``already_paid``; an attempt still being charged is
    returned as it is (its amount cannot change any more).
    """
    if amount_cents <= 0:
        raise PaymentError("nothing_to_pay")
    live = _live_attempt(purpose, reference)
    if live is not None:
        if live.is_paid:
            raise PaymentError("already_paid", live)
        if live.status == S.PENDING and (live.amount_cents, live.currency) != (amount_cents, currency):
            # The price changed before anything was sent: the pending attempt follows it.
            db.session.execute(
                update(Payment)
                .where(Payment.id == live.id, Payment.status == S.PENDING)
                .values(amount_cents=amount_cents, currency=currency, updated_at=utcnow())
            )
            db.session.commit()
            db.session.refresh(live)
        return live
    payment = Payment(
        purpose=purpose,
        reference=reference,
        amount_cents=amount_cents,
        currency=currency,
        status=S.PENDING,
        gateway="braintree",
        refunded_cents=0,
    )
    db.session.add(payment)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request opened it at the same moment: use theirs.
        db.session.rollback()
        live = _live_attempt(purpose, reference)
        if live is None:
            raise
        if live.is_paid:
            raise PaymentError("already_paid", live) from None
        return live
    return payment


def _live_attempt(purpose: str, reference: str) -> Payment | None:
    return db.session.scalar(
        select(Payment).where(
            Payment.purpose == purpose,
            Payment.reference == reference,
            Payment.status.in_([str(s) for s in OPEN | PAID]),
        )
    )


def get_payment(payment_id: int) -> Payment | None:
    return db.session.get(Payment, payment_id)


@dataclass(frozen=True)
class AllowedMethods:
    credit_card: bool
    debit_card: bool
    paypal: bool

    def allows(self, method: str) -> bool:
        return {
            Method.CREDIT_CARD: self.credit_card,
            Method.DEBIT_CARD: self.debit_card,
            Method.PAYPAL: self.paypal,
        }.get(method, False)

    @property
    def any(self) -> bool:
        return self.credit_card or self.debit_card or self.paypal


def pay(payment_id: int, nonce: str, allowed: AllowedMethods) -> Payment:
    """Charge an attempt once. Returns the attempt in its new (or current) state.

    Raises ``PaymentError`` with ``method_not_accepted``, ``unknown_nonce`` or
    ``gateway_unavailable`` when nothing was sent.
    """
    payment = get_payment(payment_id)
    if payment is None:
        raise PaymentError("not_found")
    if payment.status != S.PENDING:
        return payment  # a double submit, a reload or another tab: report the first one
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 512:
        raise PaymentError("unknown_nonce", payment)
    try:
        info = _call(gateway().inspect_nonce, nonce)
    except (GatewayError, UnknownOutcome) as exc:
        raise PaymentError("gateway_unavailable", payment) from exc
    if info is None:
        raise PaymentError("unknown_nonce", payment)
    if not allowed.allows(info.method):
        raise PaymentError(f"method_not_accepted:{info.method}", payment)
    # 1. claim: only one request moves the attempt out of pending.
    claimed = db.session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status == S.PENDING)
        .values(status=S.PROCESSING, sent_at=utcnow(), updated_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return get_payment(payment_id)
    payment = get_payment(payment_id)

    # 2. the gateway call, with no transaction open.
    result = _call(
        gateway().charge, payment.amount_cents, payment.currency, nonce, payment.order_id, payment.purpose
    )

    # 3. record what happened.
    if result.outcome == ChargeOutcome.UNKNOWN:
        _set_status(payment, S.UNKNOWN, failure_code="outcome_unknown")
        db.session.commit()
        return _resolve_unknown(payment)
    if result.outcome == ChargeOutcome.UNAVAILABLE:
        _set_status(payment, S.FAILED, failure_code="gateway_unavailable")
        db.session.commit()
        return payment
    _apply_transaction(payment, result.transaction, failure_code=_failure_code(result))
    db.session.commit()
    if payment.is_paid and not allowed.allows(payment.method):
        # The nonce looked acceptable but the card is not (e.g. a credit card on a debit-only site).
        void(payment.id, reason="method not accepted")
        payment.failure_code = f"method_not_accepted:{payment.method}"
        db.session.commit()
    return payment


def _failure_code(result) -> str | None:
    if result.outcome == ChargeOutcome.APPROVED:
        return None
    transaction = result.transaction
    if result.outcome == ChargeOutcome.DECLINED and transaction and transaction.processor_response_code:
        return f"declined:{transaction.processor_response_code}"
    if result.outcome == ChargeOutcome.REJECTED and result.transaction is not None:
        return f"rejected:{result.transaction.gateway_rejection_reason or 'other'}"
    if result.error_codes:
        return f"invalid:{result.error_codes[0]}"
    return "failed"


def _set_status(payment: Payment, status: PaymentStatus, **values) -> None:
    if payment.status != status and not can_transition(payment.status, status):
        log.error("payment %s: refused transition %s -> %s", payment.order_id, payment.status, status)
        return
    payment.status = status
    for name, value in values.items():
        setattr(payment, name, value)


def _apply_transaction(payment: Payment, txn: GatewayTransaction | None, failure_code: str | None = None):
    """Copy what the gateway says about the sale onto the attempt (no card data beyond brand and last 4)."""
    if txn is None:
        _set_status(payment, S.FAILED, failure_code=failure_code or "failed")
        return
    status = FROM_BRAINTREE.get(txn.status, S.FAILED)
    payment.gateway_transaction_id = txn.id
    payment.method = txn.method
    payment.card_brand = txn.card_brand
    payment.card_last4 = txn.card_last4
    payment.paypal_email = txn.paypal_email
    payment.processor_response_code = txn.processor_response_code
    payment.processor_response_text = txn.processor_response_text
    payment.gateway_rejection_reason = txn.gateway_rejection_reason
    payment.merchant_account_id = payment.merchant_account_id or gateway().merchant_accounts.get(
        payment.currency
    )
    if status in PAID and payment.paid_at is None:
        payment.paid_at = utcnow()
    if status == S.SETTLED and payment.settled_at is None:
        payment.settled_at = utcnow()
    _set_status(payment, status, failure_code=None if status in PAID else (failure_code or status.value))


def _resolve_unknown(payment: Payment) -> Payment:
    """Look an unknown attempt up by its order id; leave it unknown if the gateway is still silent."""
    payment_id = payment.id
    try:
        found = _call(gateway().search_by_order_id, payment.order_id)
    except (GatewayError, UnknownOutcome):
        return get_payment(payment_id)
    payment = get_payment(payment_id)
    if payment.status not in (S.UNKNOWN, S.PROCESSING):
        return payment
    sales = [t for t in found if t.type == "sale"]
    if not sales:
        return payment  # nothing yet: the reconciler decides later
    keep, duplicates = _pick_sale(sales)
    _apply_transaction(payment, keep, failure_code="declined")
    db.session.commit()
    for duplicate in duplicates:
        _cancel_duplicate(payment, duplicate)
    return payment


def _pick_sale(sales: list[GatewayTransaction]):
    """The sale to keep (the first paid one) and the other paid ones, which must be given back."""
    paid = [t for t in sales if FROM_BRAINTREE.get(t.status) in PAID]
    if not paid:
        return sales[-1], []
    return paid[0], paid[1:]


def _cancel_duplicate(payment: Payment, txn: GatewayTransaction) -> None:
    log.error("payment %s: duplicate sale %s found; giving it back", payment.order_id, txn.id)
    result = _call(gateway().void, txn.id)
    if not result.ok:
        result = _call(gateway().refund, txn.id, None, txn.currency)
    if not result.ok:
        log.error(
            "payment %s: could not give back duplicate %s: %s", payment.order_id, txn.id, result.message
        )


# -- refunds and voids ---------------------------------------------------------


def refund(payment_id: int, amount_cents: int | None = None, reason: str = "") -> Refund:
    """Give money back: a void while the sale is unsettled (whole amount only), a refund after.

    The amount is reserved on the payment with one conditional UPDATE before the
    gateway call, so two concurrent refunds can never give back more than was paid.
    """
    payment = get_payment(payment_id)
    if payment is None or not payment.is_paid:
        raise PaymentError("not_refundable", payment)
    amount = payment.refundable_cents if amount_cents is None else amount_cents
    if amount <= 0 or amount > payment.refundable_cents:
        raise PaymentError("refund_amount_invalid", payment)
    if payment.status == S.SUBMITTED:
        if amount != payment.amount_cents:
            raise PaymentError("partial_refund_needs_settlement", payment)
        return void(payment_id, reason)
    record = _reserve_refund(payment, amount, RefundKind.REFUND, reason)
    try:
        result = _call(
            gateway().refund,
            payment.gateway_transaction_id,
            None if amount == payment.amount_cents else amount,
            payment.currency,
        )
    except (GatewayError, UnknownOutcome) as exc:
        _release_refund(record, f"gateway: {exc}")
        raise PaymentError("gateway_unavailable", payment) from exc
    if not result.ok:
        _release_refund(record, result.message)
        raise PaymentError("refund_refused", payment)
    record = db.session.get(Refund, record.id)
    record.status = RefundStatus.SUCCEEDED
    record.gateway_transaction_id = result.transaction.id
    payment = get_payment(payment_id)
    full = payment.refunded_cents >= payment.amount_cents
    _set_status(payment, S.REFUNDED if full else S.PARTIALLY_REFUNDED)
    db.session.commit()
    return record


def void(payment_id: int, reason: str = "") -> Refund:
    payment = get_payment(payment_id)
    if payment is None or payment.status != S.SUBMITTED:
        raise PaymentError("not_voidable", payment)
    record = _reserve_refund(payment, payment.amount_cents - payment.refunded_cents, RefundKind.VOID, reason)
    try:
        result = _call(gateway().void, payment.gateway_transaction_id)
    except (GatewayError, UnknownOutcome) as exc:
        _release_refund(record, f"gateway: {exc}")
        raise PaymentError("gateway_unavailable", payment) from exc
    if not result.ok:
        _release_refund(record, result.message)
        raise PaymentError("void_refused", payment)
    record = db.session.get(Refund, record.id)
    record.status = RefundStatus.SUCCEEDED
    record.gateway_transaction_id = result.transaction.id
    _set_status(get_payment(payment_id), S.VOIDED)
    db.session.commit()
    return record


def _reserve_refund(payment: Payment, amount: int, kind: RefundKind, reason: str) -> Refund:
    reserved = db.session.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.status.in_([str(s) for s in PAID]),
            Payment.refunded_cents + amount <= Payment.amount_cents,
        )
        .values(refunded_cents=Payment.refunded_cents + amount, updated_at=utcnow())
    ).rowcount
    if not reserved:
        db.session.rollback()
        raise PaymentError("refund_amount_invalid", payment)
    record = Refund(
        payment_id=payment.id,
        kind=kind,
        amount_cents=amount,
        currency=payment.currency,
        status=RefundStatus.PENDING,
        reason=reason,
    )
    db.session.add(record)
    db.session.commit()
    return record


def _release_refund(record: Refund, message: str) -> None:
    db.session.rollback()
    record = db.session.get(Refund, record.id)
    record.status = RefundStatus.FAILED
    record.failure_message = message[:255]
    db.session.execute(
        update(Payment)
        .where(Payment.id == record.payment_id)
        .values(refunded_cents=Payment.refunded_cents - record.amount_cents, updated_at=utcnow())
    )
    db.session.commit()
    log.warning("refund %s on payment %s failed: %s", record.id, record.payment_id, message)


# -- reconciliation ------------------------------------------------------------


def reconcile(now=None, unknown_after=timedelta(seconds=30), give_up_after=timedelta(minutes=30)) -> dict:
    """Settle every attempt whose outcome is unknown, and sync settlement of submitted sales.

    Safe to run from several places at once: each change is a conditional transition.
    """
    now = now or utcnow()
    counts = {"resolved": 0, "failed": 0, "still_unknown": 0, "settled": 0}
    stale = db.session.scalars(
        select(Payment).where(
            Payment.status.in_([S.UNKNOWN, S.PROCESSING]),
            Payment.sent_at <= now - unknown_after,
        )
    ).all()
    for payment in stale:
        payment = _resolve_unknown(payment)
        if payment.status in (S.UNKNOWN, S.PROCESSING):
            if payment.sent_at <= now - give_up_after:
                _set_status(payment, S.UNKNOWN)
                _set_status(payment, S.FAILED, failure_code="no_charge_found")
                db.session.commit()
                counts["failed"] += 1
            else:
                counts["still_unknown"] += 1
        else:
            counts["resolved"] += 1
    submitted = db.session.scalars(select(Payment).where(Payment.status == S.SUBMITTED)).all()
    for payment in submitted:
        try:
            txn = _call(gateway().find, payment.gateway_transaction_id)
        except (GatewayError, UnknownOutcome):
            continue
        if txn is not None and FROM_BRAINTREE.get(txn.status) in (S.SETTLED, S.FAILED, S.VOIDED):
            payment = get_payment(payment.id)
            _apply_transaction(payment, txn)
            db.session.commit()
            counts["settled"] += payment.status == S.SETTLED
    return counts


# -- webhooks -------------------------------------------------------------------

DISPUTE_KINDS = {
    "dispute_opened": S.DISPUTED,
    "dispute_disputed": S.DISPUTED,
    "dispute_under_review": S.DISPUTED,
    "dispute_lost": S.DISPUTED,
    "dispute_accepted": S.DISPUTED,
    "dispute_auto_accepted": S.DISPUTED,
    "dispute_won": S.SETTLED,
    "dispute_expired": S.SETTLED,
}


def handle_webhook(signature: str, payload: str) -> str:
    """Verify and apply a notification once. Returns "applied", "replayed" or "ignored".

    Raises ``WebhookSignatureError`` (from the gateway) for a bad signature.
    """
    notification = gateway().parse_webhook(signature, payload)
    digest = hashlib.sha256(payload.encode()).hexdigest()
    db.session.add(
        WebhookEvent(
            digest=digest,
            kind=notification.kind,
            subject_id=notification.transaction_id,
            notified_at=_aware(notification.timestamp),
        )
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return "replayed"
    payment = None
    if notification.transaction_id:
        payment = db.session.scalar(
            select(Payment).where(Payment.gateway_transaction_id == notification.transaction_id)
        )
    if payment is None:
        db.session.commit()
        return "ignored"
    when = _aware(notification.timestamp)
    if notification.kind in DISPUTE_KINDS:
        if payment.dispute_updated_at and when and when < payment.dispute_updated_at:
            db.session.commit()  # an older notification arriving late changes nothing
            return "ignored"
        payment.dispute_id = notification.dispute_id
        payment.dispute_status = notification.dispute_status or notification.kind.removeprefix("dispute_")
        payment.dispute_updated_at = when
        target = DISPUTE_KINDS[notification.kind]
        if target == S.SETTLED and payment.refunded_cents:
            target = S.PARTIALLY_REFUNDED if payment.refunded_cents < payment.amount_cents else S.REFUNDED
        _set_status(payment, target)
    elif notification.kind == "transaction_settled":
        _set_status(payment, S.SETTLED, settled_at=payment.settled_at or utcnow())
    elif notification.kind == "transaction_settlement_declined":
        _set_status(payment, S.FAILED, failure_code="settlement_declined")
    db.session.commit()
    log.info("webhook %s applied to payment %s", notification.kind, payment.order_id)
    return "applied"


def _aware(value):
    if value is None or not hasattr(value, "tzinfo"):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


__all__ = [
    "AllowedMethods",
    "CLOSED",
    "PaymentError",
    "handle_webhook",
    "open_attempt",
    "pay",
    "reconcile",
    "refund",
    "void",
]
