"""The portal's one way to talk to a payment gateway: the official braintree SDK.

``PaymentGateway`` wraps a ``braintree.BraintreeGateway`` configured either for
real Braintree (sandbox or production) or for the offline sandbox that ships
with the portal. Everything above this module sees plain dataclasses and
integer minor units; nothing here touches the database.
"""

import logging
import warnings
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from urllib.parse import urlsplit

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # the SDK warns about its own names on import
    import braintree
from braintree.exceptions import (
    AuthenticationError,
    AuthorizationError,
    NotFoundError,
    TooManyRequestsError,
)
from braintree.exceptions.braintree_error import BraintreeError
from braintree.exceptions.http import ConnectionError as BraintreeConnectionError
from braintree.exceptions.http.timeout_error import ConnectTimeoutError
from braintree.exceptions.invalid_signature_error import InvalidSignatureError
from urllib3.exceptions import NewConnectionError

from portal.config import ConfigurationError
from portal.money import plain_amount, round_to_minor
from portal.payments.sandbox import sandbox_gateway

log = logging.getLogger(__name__)


class Mode(StrEnum):
    OFFLINE = "offline"  # the portal's own sandbox over loopback HTTP
    SANDBOX = "sandbox"  # Braintree's sandbox
    PRODUCTION = "production"


class ChargeOutcome(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"  # processor declined
    REJECTED = "rejected"  # gateway rejected (fraud, risk, ...)
    FAILED = "failed"  # processor failure, or a validation error: nothing charged
    UNAVAILABLE = "unavailable"  # the request never reached the gateway: nothing charged
    UNKNOWN = "unknown"  # sent, but no answer: the sale may exist


@dataclass(frozen=True)
class GatewayTransaction:
    id: str
    status: str  # Braintree's own status string
    type: str
    amount_cents: int
    currency: str
    order_id: str | None
    method: str | None  # credit_card, debit_card, paypal
    card_brand: str | None
    card_last4: str | None
    paypal_email: str | None
    processor_response_code: str | None
    processor_response_text: str | None
    gateway_rejection_reason: str | None
    refunded_transaction_id: str | None = None
    refund_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChargeResult:
    outcome: ChargeOutcome
    transaction: GatewayTransaction | None = None
    message: str = ""
    error_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class NonceInfo:
    method: str  # credit_card, debit_card, paypal, other
    card_brand: str | None = None


@dataclass(frozen=True)
class RefundResult:
    ok: bool
    transaction: GatewayTransaction | None = None
    message: str = ""
    error_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notification:
    kind: str
    timestamp: object
    transaction_id: str | None
    dispute_id: str | None = None
    dispute_status: str | None = None


class GatewayError(Exception):
    """The gateway could not be asked (down, refused, bad credentials): nothing happened."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


class UnknownOutcome(Exception):
    """The request may have reached the gateway; whether it acted is unknown."""


class WebhookSignatureError(Exception):
    pass


def _never_sent(exc: BraintreeError) -> bool:
    """True when the request certainly did not reach the gateway."""
    if isinstance(exc, ConnectTimeoutError | AuthenticationError | AuthorizationError):
        return True
    if isinstance(exc, TooManyRequestsError):
        return True  # rate limited before processing
    if isinstance(exc, BraintreeConnectionError):
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause.args[0], "reason", None) if cause is not None and cause.args else None
        return isinstance(reason, NewConnectionError)
    return False


class PaymentGateway:
    name = "braintree"
    hosted = False  # the payer pays on our page, in Braintree's fields: a nonce comes back

    def __init__(
        self,
        gateway: braintree.BraintreeGateway,
        mode: Mode,
        merchant_accounts: dict[str, str],
        default_currency: str = "USD",
    ):
        self._gateway = gateway
        self.mode = Mode(mode)
        self.merchant_accounts = dict(merchant_accounts)
        # The currency of the default merchant account: a sale in any other currency
        # needs its own merchant account, or Braintree would charge it in this one.
        self.default_currency = default_currency
        self.merchant_id = gateway.config.merchant_id

    def endpoint(self) -> tuple[str, int]:
        """The gateway's host and port (Braintree's API, or the offline sandbox)."""
        parts = urlsplit(self._gateway.config.base_url())
        return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)

    def accepts(self, currency: str) -> bool:
        return currency == self.default_currency or currency in self.merchant_accounts

    # -- calls ---------------------------------------------------------------
    def _call(self, operation: str, func, *args, ref: str | None = None):
        """Run one SDK call; turn transport errors into GatewayError / UnknownOutcome.

        ``ref`` (an order or transaction id) goes into the log; arguments never do,
        since a sale's carry the nonce.
        """
        try:
            return func(*args)
        except NotFoundError:
            raise
        except BraintreeError as exc:
            # Only the exception's type: its text can hold a URL with a nonce in it.
            log.warning(
                "gateway %s failed for %s (merchant %s): %s",
                operation,
                ref or "-",
                self.merchant_id,
                type(exc).__name__,
            )
            if _never_sent(exc):
                raise GatewayError(type(exc).__name__, str(exc)) from exc
            raise UnknownOutcome(f"{operation}: {type(exc).__name__}") from exc

    def probe(self, currency: str | None = None) -> bool:
        """Test connection: the gateway answers with our credentials (a client token, thrown away)."""
        return bool(self.client_token(currency))

    def client_token(self, currency: str | None = None) -> str:
        params = {}
        if currency and currency in self.merchant_accounts:
            params["merchant_account_id"] = self.merchant_accounts[currency]
        return self._call("client_token", self._gateway.client_token.generate, params)

    def inspect_nonce(self, nonce: str) -> NonceInfo | None:
        """What a nonce pays with, before anything is charged; None for an unknown nonce."""
        try:
            found = self._call("nonce_find", self._gateway.payment_method_nonce.find, nonce)
        except NotFoundError:
            return None
        if found.type == "PayPalAccount":
            return NonceInfo("paypal")
        if found.type != "CreditCard":
            return NonceInfo("other")
        bin_data = getattr(found, "bin_data", None)
        debit = getattr(bin_data, "debit", None) == "Yes"
        details = getattr(found, "details", None) or {}
        brand = details.get("card_type") if isinstance(details, dict) else None
        return NonceInfo("debit_card" if debit else "credit_card", brand)

    def charge(
        self, amount_cents: int, currency: str, nonce: str, order_id: str, purpose: str
    ) -> ChargeResult:
        """One sale, submitted for settlement. A lost answer is ``UNKNOWN``, never a failure."""
        request = {
            "amount": plain_amount(amount_cents, currency),
            "payment_method_nonce": nonce,
            "order_id": order_id,
            "options": {"submit_for_settlement": True},
        }
        account = self.merchant_accounts.get(currency)
        if account:
            request["merchant_account_id"] = account
        try:
            result = self._call("sale", self._gateway.transaction.sale, request, ref=order_id)
        except GatewayError as exc:
            return ChargeResult(ChargeOutcome.UNAVAILABLE, message=exc.code)
        except UnknownOutcome as exc:
            return ChargeResult(ChargeOutcome.UNKNOWN, message=str(exc))
        if result is None:  # an empty body: the gateway said nothing we can trust
            return ChargeResult(ChargeOutcome.UNKNOWN, message="empty response")
        if result.is_success:
            return ChargeResult(ChargeOutcome.APPROVED, _transaction(result.transaction))
        codes = tuple(error.code for error in result.errors.deep_errors)
        transaction = _transaction(result.transaction) if result.transaction else None
        log.info(
            "sale %s not approved: %s %s codes=%s purpose=%s",
            order_id,
            transaction and transaction.status,
            result.message,
            codes,
            purpose,
        )
        if transaction is None:
            return ChargeResult(ChargeOutcome.FAILED, None, result.message, codes)
        outcome = {
            "processor_declined": ChargeOutcome.DECLINED,
            "gateway_rejected": ChargeOutcome.REJECTED,
        }.get(transaction.status, ChargeOutcome.FAILED)
        return ChargeResult(outcome, transaction, result.message, codes)

    def find(self, transaction_id: str) -> GatewayTransaction | None:
        try:
            found = self._call("find", self._gateway.transaction.find, transaction_id, ref=transaction_id)
            return _transaction(found)
        except NotFoundError:
            return None

    def search_by_order_id(self, order_id: str) -> list[GatewayTransaction]:
        results = self._call(
            "search",
            self._gateway.transaction.search,
            braintree.TransactionSearch.order_id == order_id,
            ref=order_id,
        )
        return [_transaction(item) for item in results.items]

    def refund(
        self, transaction_id: str, amount_cents: int | None, currency: str, request_key: str | None = None
    ) -> RefundResult:
        """``request_key`` is for gateways that deduplicate requests (Payflow); Braintree has no such key."""
        amount = plain_amount(amount_cents, currency) if amount_cents is not None else None
        refund = self._gateway.transaction.refund
        result = self._call("refund", refund, transaction_id, amount, ref=transaction_id)
        return _refund_result(result)

    def void(self, transaction_id: str, request_key: str | None = None) -> RefundResult:
        return _refund_result(
            self._call("void", self._gateway.transaction.void, transaction_id, ref=transaction_id)
        )

    def look_up_refund(
        self, kind: str, sale_id: str, amount_cents: int, currency: str, request_key: str, known_ids: set
    ) -> RefundResult | None:
        """What became of a refund or void whose answer was lost, from the sale's state; None: no trace.

        A void shows as the sale being voided; a refund as one of the sale's credits we have not
        recorded yet, for the same amount.
        """
        sale = self.find(sale_id)
        if sale is None:
            return None
        if kind == "void":
            return RefundResult(True, sale) if sale.status == "voided" else None
        for credit_id in sale.refund_ids:
            if credit_id in known_ids:
                continue
            credit = self.find(credit_id)
            if credit is not None and credit.amount_cents == amount_cents:
                return RefundResult(True, credit)
        return None

    def settle(self, transaction_id: str) -> GatewayTransaction:
        """Testing only: ask the (offline or Braintree) sandbox to settle a sale now."""
        if self.mode == Mode.PRODUCTION:
            raise GatewayError("not_in_production")
        result = self._call(
            "settle", self._gateway.testing.settle_transaction, transaction_id, ref=transaction_id
        )
        return _transaction(result.transaction)

    def parse_webhook(self, signature: str, payload: str) -> Notification:
        try:
            notification = self._gateway.webhook_notification.parse(signature, payload)
        except (InvalidSignatureError, ValueError, UnicodeError, TypeError) as exc:
            # Malformed input (a signature with extra "|", non-ASCII payload) is a bad signature too.
            raise WebhookSignatureError(type(exc).__name__) from exc
        dispute = getattr(notification, "dispute", None)
        transaction = getattr(notification, "transaction", None)
        transaction_id = None
        if dispute is not None and getattr(dispute, "transaction", None) is not None:
            transaction_id = dispute.transaction.id
        elif transaction is not None:
            transaction_id = transaction.id
        return Notification(
            kind=notification.kind,
            timestamp=notification.timestamp,
            transaction_id=transaction_id,
            dispute_id=getattr(dispute, "id", None),
            dispute_status=getattr(dispute, "status", None),
        )


def _transaction(t) -> GatewayTransaction:
    card = getattr(t, "credit_card_details", None)
    paypal = getattr(t, "paypal_details", None)
    if getattr(t, "payment_instrument_type", None) == "paypal_account" or (paypal and not card):
        method = "paypal"
    elif card is not None:
        method = "debit_card" if getattr(card, "debit", None) == "Yes" else "credit_card"
    else:
        method = None
    currency = t.currency_iso_code
    return GatewayTransaction(
        id=t.id,
        status=t.status,
        type=t.type,
        amount_cents=round_to_minor(Decimal(t.amount), currency),
        currency=currency,
        order_id=getattr(t, "order_id", None),
        method=method,
        card_brand=getattr(card, "card_type", None) if card is not None else None,
        card_last4=getattr(card, "last_4", None) if card is not None else None,
        paypal_email=getattr(paypal, "payer_email", None) if paypal is not None else None,
        processor_response_code=getattr(t, "processor_response_code", None),
        processor_response_text=getattr(t, "processor_response_text", None),
        gateway_rejection_reason=getattr(t, "gateway_rejection_reason", None),
        refunded_transaction_id=getattr(t, "refunded_transaction_id", None),
        refund_ids=tuple(getattr(t, "refund_ids", None) or ()),
    )


def _refund_result(result) -> RefundResult:
    if result is not None and result.is_success:
        return RefundResult(True, _transaction(result.transaction))
    if result is None:
        return RefundResult(False, message="empty response")
    codes = tuple(error.code for error in result.errors.deep_errors)
    return RefundResult(False, message=result.message, error_codes=codes)


def build_gateways(config) -> dict:
    """Every gateway the site can use, by name; ``PAYMENT_GATEWAY`` names the one for new payments.

    Both are built whichever is chosen: a payment is refunded, voided and reconciled through the
    gateway that took it, also after the site has switched.
    """
    from portal.payments.payflow import build_payflow_gateway

    chosen = str(config.get("PAYMENT_GATEWAY") or "braintree").strip().lower()
    if chosen not in ("braintree", "payflow"):
        raise ConfigurationError("PORTAL_PAYMENT_GATEWAY must be braintree or payflow.")
    return {"braintree": build_gateway(config), "payflow": build_payflow_gateway(config)}


def build_gateway(config) -> PaymentGateway:
    """Real Braintree when its variables are set, the offline sandbox otherwise."""
    environment = (config.get("BRAINTREE_ENVIRONMENT") or "").strip().lower()
    keys = [config.get(f"BRAINTREE_{name}") for name in ("MERCHANT_ID", "PUBLIC_KEY", "PRIVATE_KEY")]
    accounts = config.get("BRAINTREE_MERCHANT_ACCOUNTS") or {}
    if not isinstance(accounts, dict):
        raise ConfigurationError(
            'PORTAL_BRAINTREE_MERCHANT_ACCOUNTS must be a JSON object such as {"EUR": "acme_eur"}.'
        )
    timeout = int(config.get("BRAINTREE_TIMEOUT", 20))
    default_currency = (config.get("BRAINTREE_DEFAULT_CURRENCY") or "USD").upper()
    if environment or any(keys):
        if environment not in ("sandbox", "production") or not all(keys):
            raise ConfigurationError(
                "Real Braintree needs PORTAL_BRAINTREE_ENVIRONMENT (sandbox or production), "
                "PORTAL_BRAINTREE_MERCHANT_ID, PORTAL_BRAINTREE_PUBLIC_KEY and PORTAL_BRAINTREE_PRIVATE_KEY; "
                "unset all four to use the offline sandbox."
            )
        env = braintree.Environment.Sandbox if environment == "sandbox" else braintree.Environment.Production
        gateway = braintree.BraintreeGateway(
            braintree.Configuration(
                environment=env,
                merchant_id=keys[0],
                public_key=keys[1],
                private_key=keys[2],
                timeout=timeout,
                wrap_http_exceptions=True,
            )
        )
        return PaymentGateway(gateway, Mode(environment), accounts, default_currency)
    gateway = sandbox_gateway(
        config["PAYMENTS_SANDBOX_URL"],
        config["PAYMENTS_SANDBOX_MERCHANT_ID"],
        config["PAYMENTS_SANDBOX_PUBLIC_KEY"],
        config["PAYMENTS_SANDBOX_PRIVATE_KEY"],
        timeout=timeout,
    )
    return PaymentGateway(gateway, Mode.OFFLINE, accounts, default_currency)
