"""Checkout attempts, charges, refunds, reconciliation and webhooks.

The charge saga (ARCHITECTURE.md, money-safety rules):
1. a short transaction claims the attempt (``pending`` -> ``processing``) with
   one conditional UPDATE, so a double click or a second tab never sends a
   second sale;
2. the gateway is called with no transaction open;
3. a short transaction records the outcome. A lost answer leaves the attempt
   ``unknown``: it is looked up by its order id, never charged again.
"""

import base64
import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, timedelta

from flask import current_app, url_for
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.admin import audit
from portal.database import locked_row, utcnow
from portal.extensions import db
from portal.payments.gateway import (
    ChargeOutcome,
    GatewayError,
    GatewayTransaction,
    PaymentGateway,
    UnknownOutcome,
)
from portal.payments.models import Method, Payment, Refund, RefundKind, RefundStatus, WebhookEvent
from portal.payments.payflow import new_token_id
from portal.payments.status import CLOSED, FROM_BRAINTREE, OPEN, PAID, PaymentStatus, can_transition

log = logging.getLogger(__name__)
S = PaymentStatus


class PaymentError(Exception):
    """A payment request that cannot go on; ``code`` maps to a message in the views."""

    def __init__(self, code: str, payment: Payment | None = None):
        super().__init__(code)
        self.code = code
        self.payment = payment


# Purpose -> callable(payment), told when a payment becomes paid (also later, by the
# reconciler), so the purchase's own domain can confirm it or give the money back.
OUTCOME_HANDLERS: dict[str, object] = {}


def register_outcome_handler(purpose: str, handler) -> None:
    OUTCOME_HANDLERS[str(purpose)] = handler


# Purpose -> callable(payment), told when a payment is voided or wholly refunded
# (from the ledger too), so what it bought is taken back.
GIVEN_BACK_HANDLERS: dict[str, object] = {}


def register_given_back_handler(purpose: str, handler) -> None:
    GIVEN_BACK_HANDLERS[str(purpose)] = handler


# Purpose -> callable(refund), told when a refund or void of ours succeeds, whoever asked for it
# (the domain itself, or an administrator from the ledger), so the domain's own books follow.
REFUND_SUCCEEDED_HANDLERS: dict[str, object] = {}


def register_refund_succeeded_handler(purpose: str, handler) -> None:
    REFUND_SUCCEEDED_HANDLERS[str(purpose)] = handler


def _tell_refund_succeeded(record: Refund) -> None:
    handler = REFUND_SUCCEEDED_HANDLERS.get(record.payment.purpose)
    if handler is not None:
        handler(record)


# Purpose -> callable(refund), told when a refund that had reserved money ends failed
# (refused, or the reconciler gave up), so a domain that counted it can undo that.
REFUND_RELEASED_HANDLERS: dict[str, object] = {}


def register_refund_released_handler(purpose: str, handler) -> None:
    REFUND_RELEASED_HANDLERS[str(purpose)] = handler


# Purpose -> callable(payment) -> URL: where a payer lands back from a gateway's own payment page.
RETURN_PAGES: dict[str, object] = {}


def register_return_page(purpose: str, page) -> None:
    RETURN_PAGES[str(purpose)] = page


def return_page(payment: Payment) -> str | None:
    page = RETURN_PAGES.get(payment.purpose)
    return page(payment) if page is not None else None


def unanswered_refund(payment_id: int) -> Refund | None:
    """The payment's refund whose answer was lost (at most one: a new refund waits for it)."""
    return db.session.scalar(
        select(Refund).where(
            Refund.payment_id == payment_id,
            Refund.status == RefundStatus.UNKNOWN,
            Refund.duplicate.is_(False),
        )
    )


def _tell_given_back(payment: Payment) -> None:
    if payment.status in (S.VOIDED, S.REFUNDED) and payment.purpose in GIVEN_BACK_HANDLERS:
        GIVEN_BACK_HANDLERS[payment.purpose](payment)


def gateway() -> PaymentGateway:
    """The gateway that takes new payments (``PORTAL_PAYMENT_GATEWAY``)."""
    return current_app.extensions["payments"]


def gateway_named(name: str):
    current = gateway()
    if current.name == name:
        return current
    return current_app.extensions["payment_gateways"][name]


def gateway_of(payment: Payment):
    """The gateway that took this payment: refunds, voids and lookups go back to it."""
    return gateway_named(payment.gateway or "braintree")


class GoToGateway(Exception):  # noqa: N818 - a redirect, not an error
    """The payer pays on the gateway's own page (Payflow's hosted checkout): send the browser there."""

    def __init__(self, url: str, payment: Payment):
        super().__init__(url)
        self.url = url
        self.payment = payment


def _audit(action: str, payment: Payment, **details) -> None:
    """An audit entry about a payment, in the caller's transaction (no card data beyond brand and last 4)."""
    audit.record(
        action,
        payment,
        order_id=payment.order_id,
        purpose=payment.purpose,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        **details,
    )


def _sale_details(txn: GatewayTransaction) -> dict:
    return {
        "transaction": txn.id,
        "gateway_status": txn.status,
        "method": txn.method,
        "card_brand": txn.card_brand,
        "card_last4": txn.card_last4,
        "processor_response_code": txn.processor_response_code,
    }


SALE_ACTIONS = {
    ChargeOutcome.APPROVED: "payment.charged",
    ChargeOutcome.DECLINED: "payment.declined",
    ChargeOutcome.REJECTED: "payment.declined",
}


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


def client_token(currency: str | None = None) -> str | None:
    """A client token for the browser's payment component; None while the gateway is down."""
    try:
        return _call(gateway().client_token, currency)
    except (GatewayError, UnknownOutcome):
        return None


# -- attempts ------------------------------------------------------------------


def open_attempt(
    purpose: str,
    reference: str,
    amount_cents: int,
    currency: str,
    training_session_id: int | None = None,
    organizer_id: int | None = None,
) -> Payment:
    """The purchase's open attempt, or a new one for the server-computed amount.

    ``training_session_id`` and ``organizer_id`` say whose session it pays for (the ledger's filters).

    A paid purchase raises ``already_paid``; an attempt still being charged is
    returned as it is (its amount cannot change any more).
    """
    if amount_cents <= 0:
        raise PaymentError("nothing_to_pay")
    live = _live_attempt(purpose, reference)
    if live is not None:
        if live.is_paid:
            raise PaymentError("already_paid", live)
        current = (amount_cents, currency, gateway().name)
        if live.status == S.PENDING and (live.amount_cents, live.currency, live.gateway) != current:
            # The price (or the site's gateway) changed before anything was sent: the attempt follows.
            db.session.execute(
                update(Payment)
                .where(Payment.id == live.id, Payment.status == S.PENDING)
                .values(
                    amount_cents=amount_cents, currency=currency, gateway=gateway().name, updated_at=utcnow()
                )
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
        gateway=gateway().name,
        refunded_cents=0,
        training_session_id=training_session_id,
        organizer_id=organizer_id,
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


# No nonce (Braintree's are tokens or UUIDs, the test ones ``fake-...``) is made of digits alone.
_NOT_A_NONCE = re.compile(r"[0-9 .-]+")


def pay(payment_id: int, nonce: str, allowed: AllowedMethods) -> Payment:
    """Charge an attempt once. Returns the attempt in its new (or current) state.

    Raises ``PaymentError`` (``method_not_accepted:*``, ``unknown_nonce``,
    ``currency_not_supported``, ``gateway_unavailable``) when nothing was sent.
    """
    payment = get_payment(payment_id)
    if payment is None:
        raise PaymentError("not_found")
    if gateway_of(payment).hosted:
        return _start_hosted_checkout(payment)
    if payment.status != S.PENDING:
        return payment  # a double submit, a reload or another tab: report the first one
    if not gateway().accepts(payment.currency):
        raise PaymentError("currency_not_supported", payment)
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 512 or _NOT_A_NONCE.fullmatch(nonce):
        # Digits only: a card number typed or posted where the nonce goes. It is never sent on
        # (it would travel in the lookup URL's path, and land in the HTTP client's debug log).
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
        _audit("payment.unknown", payment, reason=result.message)
        db.session.commit()
        return _resolve_unknown(payment)[0]
    if result.outcome == ChargeOutcome.UNAVAILABLE:
        _set_status(payment, S.FAILED, failure_code="gateway_unavailable")
        _audit("payment.failed", payment, failure_code="gateway_unavailable")
        db.session.commit()
        return payment
    if result.transaction is None:  # a validation error: nothing was charged
        code = f"invalid:{result.error_codes[0]}" if result.error_codes else "failed"
        _set_status(payment, S.FAILED, failure_code=code)
        _audit("payment.failed", payment, failure_code=code)
        db.session.commit()
        return payment
    # Committed by _record_sale, with the sale.
    action = SALE_ACTIONS.get(result.outcome, "payment.failed")
    code = failure_code_for(result.transaction)
    _audit(action, payment, **_sale_details(result.transaction), failure_code=code)
    _record_sale(payment, result.transaction)
    if payment.is_paid and not allowed.allows(payment.method):
        # The nonce looked acceptable but the sale says otherwise (e.g. a credit card on a debit-only site).
        _give_back_unwanted(payment, f"method_not_accepted:{payment.method}")
    return get_payment(payment.id)


# -- a gateway's own payment page (Payflow's hosted checkout) ------------------------

# A page still open this long before its token lapses is sent to again; closer to the end, the
# payer could not finish in time.
RESUME_MARGIN = timedelta(minutes=2)
# The reconciler gives an unpaid checkout up only this long after its token lapsed: a payment
# made in the token's last second must be seen first.
LAPSED_MARGIN = timedelta(minutes=5)


def _checkout_url(payment: Payment) -> str | None:
    """The hosted page of an attempt whose secure token is still good, to send the payer back to."""
    if payment.status != S.PROCESSING or not payment.checkout_token or payment.checkout_expires_at is None:
        return None
    if payment.checkout_expires_at - RESUME_MARGIN <= utcnow():
        return None
    return gateway_of(payment).checkout_page(payment.checkout_token, payment.checkout_token_id)


def hosted_checkout_open(payment: Payment) -> bool:
    """The payer can still go back to this attempt's page on the gateway and pay there."""
    return _checkout_url(payment) is not None


def resume_hosted_checkout(payment: Payment) -> None:
    """Raise ``GoToGateway`` when this attempt's hosted page is still open to the payer."""
    url = _checkout_url(payment)
    if url:
        raise GoToGateway(url, payment)


def _start_hosted_checkout(payment: Payment) -> Payment:
    """Claim the attempt, ask the gateway for a secure token, and send the payer to its page.

    Raises ``GoToGateway`` (the normal way out) or ``PaymentError`` when nothing was started.
    The attempt stays ``processing`` while the payer is on the gateway's page: the return and
    silent posts, or the reconciler's inquiry, record what happened there.
    """
    resume_hosted_checkout(payment)
    if payment.status != S.PENDING:
        return payment  # a double submit, a reload or another tab: report the first one
    hosted = gateway_of(payment)
    if not hosted.accepts(payment.currency):
        raise PaymentError("currency_not_supported", payment)
    token_id = new_token_id()
    claimed = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == S.PENDING)
        .values(status=S.PROCESSING, sent_at=utcnow(), updated_at=utcnow(), checkout_token_id=token_id)
    ).rowcount
    db.session.commit()
    payment = get_payment(payment.id)
    if not claimed:
        resume_hosted_checkout(payment)
        return payment
    try:
        checkout = _call(
            hosted.create_checkout,
            payment.amount_cents,
            payment.currency,
            payment.order_id,
            token_id,
            url_for("payments.hosted_return", _external=True),
            url_for("payments.hosted_cancel", _external=True),
            url_for("payments.hosted_silent_post", _external=True),
        )
    except GatewayError as exc:
        # No token, so no page a payer could pay on: nothing can be charged under this attempt.
        payment = get_payment(payment.id)
        _set_status(payment, S.FAILED, failure_code="gateway_unavailable")
        _audit("payment.failed", payment, failure_code="gateway_unavailable", reason=exc.code)
        db.session.commit()
        return payment
    payment = get_payment(payment.id)
    payment.checkout_token = checkout.token
    payment.checkout_expires_at = checkout.expires_at
    expires_at = checkout.expires_at.isoformat()
    _audit("payment.checkout_started", payment, gateway=hosted.name, expires_at=expires_at)
    db.session.commit()
    raise GoToGateway(checkout.url, payment)


def payment_for_checkout(token_id: str) -> Payment | None:
    if not token_id or len(token_id) != 36:
        return None
    return db.session.scalar(select(Payment).where(Payment.checkout_token_id == token_id))


def complete_hosted_checkout(token_id: str, allowed: AllowedMethods | None = None) -> Payment | None:
    """The payer is back from the gateway's page (or its silent post came): find out, then record.

    Nothing the post says is believed: the sale is looked up by an inquiry under our own order id,
    and only what the gateway answers is recorded. Safe to run any number of times.
    """
    payment = payment_for_checkout(token_id)
    if payment is None or payment.status not in (S.PROCESSING, S.UNKNOWN):
        return payment
    payment, _ = _resolve_unknown(payment)
    if payment.is_paid and allowed is not None and not _hosted_method_allowed(allowed, payment.method):
        _give_back_unwanted(payment, f"method_not_accepted:{payment.method}")
        payment = get_payment(payment.id)
    return payment


def _hosted_method_allowed(allowed: AllowedMethods, method: str | None) -> bool:
    """Payflow says which card brand paid, not whether the card was a debit card: cards count as cards."""
    if method == Method.PAYPAL:
        return allowed.paypal
    return allowed.credit_card or allowed.debit_card


def _record_sale(payment: Payment, txn: GatewayTransaction | None) -> None:
    """Record what the gateway says about the attempt's sale, and commit.

    A sale whose amount or currency differs from the attempt's is given back at once.
    """
    _apply_transaction(payment, txn)
    db.session.commit()
    expected = (payment.amount_cents, payment.currency)
    if txn is not None and payment.is_paid and (txn.amount_cents, txn.currency) != expected:
        log.error(
            "payment %s: sale %s is %s %s, expected %s %s",
            payment.order_id,
            txn.id,
            txn.amount_cents,
            txn.currency,
            *expected,
        )
        _give_back_unwanted(payment, "amount_mismatch")
    elif payment.is_paid and payment.purpose in OUTCOME_HANDLERS:
        OUTCOME_HANDLERS[payment.purpose](payment)


def _give_back_unwanted(payment: Payment, code: str) -> None:
    """Void a sale we must not keep; if that fails it stays paid, for an administrator to refund."""
    try:
        void(payment.id, reason=code)
    except PaymentError as exc:
        log.error("payment %s: could not void unwanted sale (%s): %s", payment.order_id, code, exc.code)
        return
    payment = get_payment(payment.id)
    payment.failure_code = code
    db.session.commit()


def failure_code_for(txn: GatewayTransaction | None) -> str | None:
    """The stable failure code for a sale the gateway did not approve."""
    if txn is None:
        return "failed"
    status = FROM_BRAINTREE.get(txn.status, S.FAILED)
    if status in PAID:
        return None
    if status == S.DECLINED:
        return f"declined:{txn.processor_response_code}" if txn.processor_response_code else "declined"
    if status == S.GATEWAY_REJECTED:
        return f"rejected:{txn.gateway_rejection_reason or 'other'}"
    return "failed"


def _set_status(payment: Payment, status: PaymentStatus, **values) -> bool:
    if payment.status != status and not can_transition(payment.status, status):
        log.error("payment %s: refused transition %s -> %s", payment.order_id, payment.status, status)
        return False
    payment.status = status
    for name, value in values.items():
        setattr(payment, name, value)
    return True


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
    accounts = gateway_of(payment).merchant_accounts
    payment.merchant_account_id = payment.merchant_account_id or accounts.get(payment.currency)
    if status in PAID and payment.paid_at is None:
        payment.paid_at = utcnow()
    if status == S.SETTLED and payment.settled_at is None:
        payment.settled_at = utcnow()
    code = None if status in PAID else (failure_code or failure_code_for(txn))
    _set_status(payment, status, failure_code=code)


def _resolve_unknown(payment: Payment) -> tuple[Payment, bool]:
    """Look an unknown attempt up by its order id.

    Returns the attempt and whether the gateway could be asked at all: an
    attempt may only be given up after a search that answered and found nothing.
    """
    payment_id = payment.id
    try:
        found = _call(gateway_of(payment).search_by_order_id, payment.order_id)
    except (GatewayError, UnknownOutcome):
        return get_payment(payment_id), False
    # Locked until the sale is recorded: of two requests resolving it at once (a hosted checkout's
    # return and its silent post), the second finds it resolved instead of recording it again.
    payment = locked_row(Payment, payment_id)
    if payment.status not in (S.UNKNOWN, S.PROCESSING):
        db.session.commit()  # the lock ends with the check: a caller's next lock never waits on it
        return payment, True
    sales = [t for t in found if t.type == "sale"]
    if not sales:
        db.session.commit()
        return payment, True  # nothing yet: the reconciler decides later
    keep, duplicates = _pick_sale(sales)
    if payment.status == S.PROCESSING:
        _set_status(payment, S.UNKNOWN)
    for duplicate in duplicates:
        db.session.add(
            Refund(
                payment_id=payment.id,
                kind=RefundKind.VOID,
                amount_cents=duplicate.amount_cents,
                currency=duplicate.currency,
                status=RefundStatus.PENDING,
                duplicate=True,
                source_transaction_id=duplicate.id,
                reason="duplicate sale for the same order id",
            )
        )
    _audit("payment.reconciled", payment, **_sale_details(keep), duplicates=[d.id for d in duplicates])
    _record_sale(payment, keep)
    if duplicates:
        give_back_duplicates(payment.id)
    return get_payment(payment_id), True


def _pick_sale(sales: list[GatewayTransaction]):
    """The sale to keep (the first paid one) and the other paid ones, which must be given back."""
    paid = [t for t in sales if FROM_BRAINTREE.get(t.status) in PAID]
    if not paid:
        return sales[-1], []
    return paid[0], paid[1:]


def give_back_duplicates(payment_id: int | None = None) -> int:
    """Void (or, once settled, refund) every duplicate sale still to give back; returns how many succeeded."""
    query = select(Refund).where(Refund.duplicate.is_(True), Refund.status == RefundStatus.PENDING)
    if payment_id is not None:
        query = query.where(Refund.payment_id == payment_id)
    done = 0
    for record in db.session.scalars(query).all():
        record_id, sale_id, currency = record.id, record.source_transaction_id, record.currency
        owner = gateway_of(record.payment)
        log.error("payment %s: giving back duplicate sale %s", record.payment_id, sale_id)
        try:
            sale = _call(owner.find, sale_id)
            if sale is not None and (sale.status == "voided" or sale.refund_ids):
                given_back_id = sale.id if sale.status == "voided" else sale.refund_ids[0]
                result = None  # an earlier try worked though its answer was lost
            else:
                result = _call(owner.void, sale_id, _request_key(record, "void"))
                if not result.ok:
                    result = _call(owner.refund, sale_id, None, currency, _request_key(record, "refund"))
                given_back_id = result.transaction.id if result.ok else None
        except (GatewayError, UnknownOutcome) as exc:
            log.error("duplicate sale %s not given back yet: %s", sale_id, type(exc).__name__)
            continue  # stays pending: the next reconciler run tries again
        record = db.session.get(Refund, record_id)
        if given_back_id:
            record.status = RefundStatus.SUCCEEDED
            record.gateway_transaction_id = given_back_id
            done += 1
        else:
            record.failure_message = (result.message or "refused")[:255]
        _audit(
            "payment.duplicate_given_back" if given_back_id else "payment.duplicate_give_back_failed",
            record.payment,
            duplicate_sale=sale_id,
            duplicate_cents=record.amount_cents,
            given_back_by=given_back_id,
            message=None if given_back_id else record.failure_message,
        )
        db.session.commit()
    return done


def refresh_payment(payment_id: int) -> Payment:
    """Ask the gateway now how the sale stands (settled, failed, voided) and record it."""
    payment = get_payment(payment_id)
    if payment is None or not payment.gateway_transaction_id:
        return payment
    try:
        txn = _call(gateway_of(payment).find, payment.gateway_transaction_id)
    except (GatewayError, UnknownOutcome) as exc:
        raise PaymentError("gateway_unavailable", get_payment(payment_id)) from exc
    payment = get_payment(payment_id)
    payment.checked_at = utcnow()
    final = txn is not None and FROM_BRAINTREE.get(txn.status) in (S.SETTLED, S.FAILED, S.VOIDED)
    if final and payment.status == S.SUBMITTED:
        _apply_transaction(payment, txn)
        _audit("payment.status_changed", payment, status=[S.SUBMITTED, payment.status], via="refresh")
    db.session.commit()
    return payment


# -- refunds and voids ---------------------------------------------------------


def refund(payment_id: int, amount_cents: int | None = None, reason: str = "") -> Refund:
    """Give money back: a void while the sale is unsettled (whole amount only), a refund after.

    The amount is reserved on the payment with one conditional UPDATE before the
    gateway call, so two concurrent refunds can never give back more than was
    paid. A lost answer keeps the reservation (status ``unknown``) until the
    reconciler finds out what the gateway did.
    """
    payment = get_payment(payment_id)
    if payment is None or not payment.is_paid:
        raise PaymentError("not_refundable", payment)
    if payment.charged_back:
        raise PaymentError("charged_back", payment)
    if payment.status == S.SUBMITTED and payment.gateway_transaction_id:
        # Our record can lag the gateway, which settles in a batch without telling us: a void of a
        # settled sale is refused. Asked first, a settled sale is refunded instead.
        try:
            payment = refresh_payment(payment_id)
        except PaymentError:
            payment = get_payment(payment_id)  # unanswered: the void below tells
    amount = payment.refundable_cents if amount_cents is None else amount_cents
    if amount <= 0 or amount > payment.refundable_cents:
        raise PaymentError("refund_amount_invalid", payment)
    if payment.status == S.SUBMITTED:
        if amount != payment.amount_cents:
            raise PaymentError("partial_refund_needs_settlement", payment)
        return void(payment_id, reason)
    record = _reserve_refund(payment, amount, RefundKind.REFUND, reason)
    sale_id = payment.gateway_transaction_id
    whole = None if amount == payment.amount_cents else amount
    owner = gateway_of(payment)
    try:
        result = _call(owner.refund, sale_id, whole, payment.currency, _request_key(record))
    except GatewayError as exc:
        _release_refund(record.id, f"gateway: {exc.code}")
        raise PaymentError("gateway_unavailable", payment) from exc
    except UnknownOutcome as exc:
        return _refund_unknown(record.id, exc)
    return _finish_refund(record.id, result)


def void(payment_id: int, reason: str = "") -> Refund:
    payment = get_payment(payment_id)
    if payment is None or payment.status != S.SUBMITTED:
        raise PaymentError("not_voidable", payment)
    record = _reserve_refund(payment, payment.amount_cents - payment.refunded_cents, RefundKind.VOID, reason)
    owner = gateway_of(payment)
    try:
        result = _call(owner.void, payment.gateway_transaction_id, _request_key(record))
    except GatewayError as exc:
        _release_refund(record.id, f"gateway: {exc.code}")
        raise PaymentError("gateway_unavailable", payment) from exc
    except UnknownOutcome as exc:
        return _refund_unknown(record.id, exc)
    return _finish_refund(record.id, result)


def _request_key(record: Refund, kind: str | None = None) -> str:
    """One refund's one request: sent again with the same key, a deduplicating gateway acts once."""
    return f"{record.payment.order_id}:{kind or record.kind}:{record.id}"


def _finish_refund(record_id: int, result) -> Refund:
    if not result.ok:
        record = _release_refund(record_id, result.message or "refused")
        raise PaymentError("void_refused" if record.kind == RefundKind.VOID else "refund_refused")
    record = db.session.get(Refund, record_id)
    record.status = RefundStatus.SUCCEEDED
    record.gateway_transaction_id = result.transaction.id
    _settle_refund_status(record.payment)
    _audit_refund("succeeded", record)
    db.session.commit()
    _tell_refund_succeeded(record)
    _tell_given_back(record.payment)
    return db.session.get(Refund, record_id)


def _audit_refund(outcome: str, record: Refund, **details) -> None:
    """``refund.<outcome>`` or ``void.<outcome>``, about the refund's payment."""
    _audit(
        f"{record.kind}.{outcome}",
        record.payment,
        refund_id=record.id,
        refund_cents=record.amount_cents,
        transaction=record.gateway_transaction_id,
        status=record.payment.status,
        **details,
    )


def _settle_refund_status(payment: Payment) -> None:
    own = [r for r in payment.refunds if not r.duplicate and r.status == RefundStatus.SUCCEEDED]
    if any(r.kind == RefundKind.VOID for r in own):
        _set_status(payment, S.VOIDED)
    elif payment.refunded_cents >= payment.amount_cents:
        _set_status(payment, S.REFUNDED)
    elif payment.refunded_cents:
        _set_status(payment, S.PARTIALLY_REFUNDED)


def _refund_unknown(record_id: int, exc: Exception) -> Refund:
    record = db.session.get(Refund, record_id)
    record.status = RefundStatus.UNKNOWN
    record.failure_message = f"answer lost: {type(exc).__name__}"
    _audit_refund("unknown", record, message=record.failure_message)
    db.session.commit()
    record = resolve_refund(record_id)
    if record.status == RefundStatus.UNKNOWN:
        raise PaymentError("refund_outcome_unknown", record.payment)
    if record.status == RefundStatus.FAILED:
        raise PaymentError("refund_refused", record.payment)
    return record


def resolve_refund(record_id: int, give_up: bool = False) -> Refund:
    """Find out what became of a refund or void whose answer was lost (from the sale's state)."""
    record = db.session.get(Refund, record_id)
    if record.status != RefundStatus.UNKNOWN:
        return record
    payment = record.payment
    known = {r.gateway_transaction_id for r in payment.refunds if r.gateway_transaction_id}
    arguments = (record.kind, payment.gateway_transaction_id, record.amount_cents, record.currency)
    try:
        found = _call(gateway_of(payment).look_up_refund, *arguments, _request_key(record), known)
    except (GatewayError, UnknownOutcome):
        return db.session.get(Refund, record_id)
    record = db.session.get(Refund, record_id)
    if found is not None and found.ok:
        record.status = RefundStatus.SUCCEEDED
        record.gateway_transaction_id = found.transaction.id
        _settle_refund_status(record.payment)
        _audit_refund("reconciled", record, refund_status=record.status)
        db.session.commit()
        _tell_refund_succeeded(record)
        _tell_given_back(record.payment)
        return db.session.get(Refund, record_id)
    if found is not None:  # the gateway knows the request, and refused it
        return _release_refund(record_id, found.message or "refused")
    if give_up:
        return _release_refund(record_id, "the gateway has no record of it")
    db.session.commit()
    return record


def _reserve_refund(payment: Payment, amount: int, kind: RefundKind, reason: str) -> Refund:
    unsettled = db.session.scalar(
        select(func.count())
        .select_from(Refund)
        .where(
            Refund.payment_id == payment.id,
            Refund.duplicate.is_(False),
            Refund.status.in_([RefundStatus.PENDING, RefundStatus.UNKNOWN]),
        )
    )
    if unsettled:
        db.session.rollback()
        raise PaymentError("refund_in_progress", payment)
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
        source_transaction_id=payment.gateway_transaction_id,
    )
    db.session.add(record)
    db.session.flush()
    _audit(f"{kind}.requested", payment, refund_id=record.id, refund_cents=amount, reason=reason)
    db.session.commit()
    return record


def _release_refund(record_id: int, message: str) -> Refund:
    db.session.rollback()
    record = db.session.get(Refund, record_id)
    record.status = RefundStatus.FAILED
    record.failure_message = message[:255]
    db.session.execute(
        update(Payment)
        .where(Payment.id == record.payment_id)
        .values(refunded_cents=Payment.refunded_cents - record.amount_cents, updated_at=utcnow())
    )
    _audit_refund("failed", record, message=record.failure_message)
    db.session.commit()
    log.warning("refund %s on payment %s failed: %s", record.id, record.payment_id, message)
    handler = REFUND_RELEASED_HANDLERS.get(record.payment.purpose)
    if handler is not None and not record.duplicate:
        handler(record)
    return db.session.get(Refund, record_id)


# -- reconciliation ------------------------------------------------------------


def reconcile(
    now=None,
    unknown_after=timedelta(seconds=30),
    give_up_after=timedelta(minutes=30),
    settlement_after=timedelta(hours=1),
    settlement_every=timedelta(hours=6),
) -> dict:
    """Settle unknown attempts and refunds, give back duplicates, and poll settlements (backing off).

    Each payment is handled on its own: one that fails is logged and retried next run.
    Safe to run from several places at once: each change is a conditional transition.
    """
    now = now or utcnow()
    counts = dict.fromkeys(
        ("resolved", "failed", "still_unknown", "refunds_resolved", "duplicates", "settled"), 0
    )
    stale = db.session.scalars(
        select(Payment.id).where(
            Payment.status.in_([S.UNKNOWN, S.PROCESSING]),
            Payment.sent_at <= now - unknown_after,
        )
    ).all()
    for payment_id in stale:
        try:
            payment, asked = _resolve_unknown(get_payment(payment_id))
        except Exception:  # one bad payment must not stop the others
            db.session.rollback()
            log.exception("reconciler: payment %s", payment_id)
            continue
        if payment.status not in (S.UNKNOWN, S.PROCESSING):
            counts["resolved"] += 1
        elif asked and payment.sent_at <= now - give_up_after and _checkout_lapsed(payment, now):
            # The gateway answered, repeatedly and for long enough, that no such sale exists.
            code = "checkout_abandoned" if payment.checkout_token_id else "no_charge_found"
            _set_status(payment, S.UNKNOWN)
            _set_status(payment, S.FAILED, failure_code=code)
            _audit("payment.reconciled", payment, transaction=None, failure_code=code)
            db.session.commit()
            counts["failed"] += 1
        else:
            counts["still_unknown"] += 1
    unknown_refunds = db.session.scalars(
        select(Refund.id).where(
            Refund.status == RefundStatus.UNKNOWN, Refund.updated_at <= now - unknown_after
        )
    ).all()
    for record_id in unknown_refunds:
        give_up = db.session.get(Refund, record_id).updated_at <= now - give_up_after
        record = resolve_refund(record_id, give_up=give_up)
        counts["refunds_resolved"] += record.status != RefundStatus.UNKNOWN
    counts["duplicates"] = give_back_duplicates()
    submitted = db.session.scalars(
        select(Payment.id)
        .where(
            Payment.status == S.SUBMITTED,
            Payment.paid_at <= now - settlement_after,
            or_(Payment.checked_at.is_(None), Payment.checked_at <= now - settlement_every),
        )
        .order_by(Payment.checked_at.nulls_first())
        .limit(100)
    ).all()
    for payment_id in submitted:
        payment = get_payment(payment_id)
        try:
            txn = _call(gateway_of(payment).find, payment.gateway_transaction_id)
        except (GatewayError, UnknownOutcome):
            continue
        payment = get_payment(payment_id)
        payment.checked_at = now
        if txn is not None and FROM_BRAINTREE.get(txn.status) in (S.SETTLED, S.FAILED, S.VOIDED):
            before = payment.status
            _apply_transaction(payment, txn)
            counts["settled"] += payment.status == S.SETTLED
            if payment.status != before:
                _audit("payment.status_changed", payment, status=[before, payment.status], via="reconciler")
        db.session.commit()
    return counts


def _checkout_lapsed(payment: Payment, now) -> bool:
    """No hosted page, or its token lapsed long enough ago that no payment can still come."""
    expires = payment.checkout_expires_at
    if payment.checkout_token_id is None:
        return True
    if expires is None:  # the token was never issued: nobody could pay
        return True
    return expires + LAPSED_MARGIN <= now


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
    notification = gateway_named("braintree").parse_webhook(signature, payload)
    # Of the decoded notification: "payload" and "payload\n" verify alike, and must dedupe alike.
    digest = hashlib.sha256(base64.b64decode(payload)).hexdigest()
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
    before = payment.status
    if notification.kind in DISPUTE_KINDS:
        if payment.dispute_updated_at and when and when < payment.dispute_updated_at:
            db.session.commit()  # an older notification arriving late changes nothing
            return "ignored"
        payment.dispute_id = notification.dispute_id
        payment.dispute_status = notification.dispute_status or notification.kind.removeprefix("dispute_")
        payment.dispute_updated_at = when
        target = DISPUTE_KINDS[notification.kind]
        # Only refunds that went through: ``refunded_cents`` also holds reservations whose answer
        # was lost, and a reservation the reconciler later gives up on must not leave it "refunded".
        given_back = sum(
            r.amount_cents for r in payment.refunds if not r.duplicate and r.status == RefundStatus.SUCCEEDED
        )
        if target == S.SETTLED and given_back:
            target = S.PARTIALLY_REFUNDED if given_back < payment.amount_cents else S.REFUNDED
        _set_status(payment, target)
    elif notification.kind == "transaction_settled":
        payment.settled_at = payment.settled_at or utcnow()
        # A dispute opened before the settlement's notice came stays open: only its own outcome
        # (won, lost, expired) closes it.
        if payment.status != S.DISPUTED:
            _set_status(payment, S.SETTLED)
    elif notification.kind == "transaction_settlement_declined":
        _set_status(payment, S.FAILED, failure_code="settlement_declined")
    _audit(
        "payment.webhook",
        payment,
        kind=notification.kind,
        status=[before, payment.status],
        dispute_id=notification.dispute_id,
        dispute_status=payment.dispute_status,
    )
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
