"""PayPal Payflow Pro as the portal's payment gateway: its name-value API over HTTPS.

Payers enter their card on Payflow's hosted checkout page, never on ours: the portal asks for a
secure token (a sale with ``CREATESECURETOKEN=Y`` and our 36-character ``SECURETOKENID``), sends
the payer to the hosted page with it, and learns the result from the return and silent posts,
which it trusts only after an inquiry (``TRXTYPE=I``) of its own. Refunds are credits
(``TRXTYPE=C`` with ``ORIGID``), voids ``TRXTYPE=V``.

Every call carries an ``X-VPS-REQUEST-ID``. Payflow answers a repeated id with the first answer
(and ``DUPLICATE=1``) without acting again, so a credit or a void whose answer was lost is
resolved by sending the very same request again. Inquiries get a fresh id each time: a repeated
one would replay an old answer.

Above this module, a Payflow transaction looks like a Braintree one (``GatewayTransaction`` with
Braintree's status words), so the payments service, the reconciler and the ledger stay the same.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from portal.config import ConfigurationError
from portal.database import utcnow
from portal.money import plain_amount, round_to_minor
from portal.payments import nvp
from portal.payments.gateway import (
    GatewayError,
    GatewayTransaction,
    Mode,
    RefundResult,
    UnknownOutcome,
    WebhookSignatureError,
)

log = logging.getLogger(__name__)

HOSTS = {
    Mode.SANDBOX: ("https://pilot-payflowpro.paypal.com", "https://pilot-payflowlink.paypal.com"),
    Mode.PRODUCTION: ("https://payflowpro.paypal.com", "https://payflowlink.paypal.com"),
}
# A secure token is good for one transaction and 30 minutes (Payflow's rule).
TOKEN_LIFETIME = timedelta(minutes=30)

CARD_TYPES = {
    "0": "Visa",
    "1": "MasterCard",
    "2": "Discover",
    "3": "American Express",
    "4": "Diners Club",
    "5": "JCB",
}
# RESULT codes of Payflow's fraud service: a refusal by the gateway, not by the bank.
FRAUD_RESULTS = frozenset({"125", "126", "127", "128"})
# TRANSSTATE of an approved sale -> Braintree's word for it.
TRANSSTATES = {
    "0": "submitted_for_settlement",
    "3": "submitted_for_settlement",
    "5": "submitted_for_settlement",
    "6": "submitted_for_settlement",
    "7": "submitted_for_settlement",
    "9": "submitted_for_settlement",
    "206": "submitted_for_settlement",
    "8": "settled",
    "106": "voided",  # never settled: voided, or dropped before settlement
    "1": "settlement_declined",
    "10": "settlement_declined",
    "11": "settlement_declined",
    "12": "settlement_declined",
    "14": "settlement_declined",
    "16": "settlement_declined",
}
NOT_FOUND = "19"  # "Original transaction ID not found"


@dataclass(frozen=True)
class HostedCheckout:
    """Where to send the payer: the hosted page, opened with the secure token."""

    token: str
    token_id: str
    url: str
    expires_at: datetime


def new_token_id() -> str:
    """Payflow wants exactly 36 characters: a UUID in its usual form."""
    return str(uuid.uuid4())


def _request_id(key: str) -> str:
    """The same key gives the same id (a retry of one request); 32 hex characters."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "portal-payflow:" + key).hex


class PayflowGateway:
    """The Payflow side of the payments service (the same methods as ``PaymentGateway`` where they apply)."""

    name = "payflow"
    hosted = True  # the payer pays on the gateway's page: no nonce, no client token

    def __init__(
        self,
        mode: Mode,
        partner: str,
        vendor: str,
        user: str,
        password: str,
        currencies: tuple[str, ...] = ("USD",),
        api_url: str | None = None,
        checkout_url: str | None = None,
        timeout: float = 45,
    ):
        self.mode = Mode(mode)
        default_api, default_checkout = HOSTS.get(self.mode, (None, None))
        self.api_url = api_url or default_api
        self.checkout_url = checkout_url or default_checkout
        self._credentials = {"PARTNER": partner, "VENDOR": vendor, "USER": user or vendor, "PWD": password}
        self.currencies = tuple(currencies)
        self.merchant_accounts: dict[str, str] = {}
        self.merchant_id = vendor
        self.timeout = timeout
        self._session = requests.Session()

    def endpoint(self) -> tuple[str, int]:
        parts = urlsplit(self.api_url)
        return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)

    def checkout_origin(self) -> str:
        """The hosted page's origin: pages that post to it must allow it in their CSP."""
        parts = urlsplit(self.checkout_url)
        return f"{parts.scheme}://{parts.netloc}"

    def accepts(self, currency: str) -> bool:
        return currency in self.currencies

    # -- the wire ------------------------------------------------------------------
    def _send(self, operation: str, fields: dict, request_id: str, ref: str | None = None) -> dict[str, str]:
        """One name-value request; transport failures become ``GatewayError`` or ``UnknownOutcome``.

        Nothing of the request goes to the log (it holds the password); only the operation and ``ref``.
        """
        body = nvp.encode({**self._credentials, **fields})
        headers = {
            "Content-Type": "text/namevalue",
            "X-VPS-REQUEST-ID": request_id,
            "X-VPS-CLIENT-TIMEOUT": str(int(self.timeout)),
        }
        try:
            response = self._session.post(self.api_url, data=body, headers=headers, timeout=self.timeout)
        except requests.exceptions.ConnectTimeout as exc:
            raise self._failed(operation, ref, exc, sent=False) from exc
        except requests.exceptions.ConnectionError as exc:
            raise self._failed(operation, ref, exc, sent=not _never_connected(exc)) from exc
        except requests.exceptions.RequestException as exc:  # a read timeout, a broken answer
            raise self._failed(operation, ref, exc, sent=True) from exc
        if response.status_code != 200:
            # 429: refused before processing. Any other error status: it may have acted.
            sent = response.status_code not in (401, 403, 429)
            raise self._failed(operation, ref, f"HTTP {response.status_code}", sent=sent)
        try:
            answer = nvp.decode(response.content)
        except nvp.NVPError as exc:
            raise self._failed(operation, ref, exc, sent=True) from exc
        if "RESULT" not in answer:
            raise self._failed(operation, ref, "no RESULT in the answer", sent=True)
        if answer["RESULT"] == "1":
            raise GatewayError("authentication", answer.get("RESPMSG", ""))
        return answer

    def _failed(self, operation: str, ref: str | None, cause, sent: bool) -> Exception:
        kind = cause if isinstance(cause, str) else type(cause).__name__
        log.warning("payflow %s failed for %s (vendor %s): %s", operation, ref or "-", self.merchant_id, kind)
        return UnknownOutcome(f"{operation}: {kind}") if sent else GatewayError(kind)

    def probe(self, currency: str | None = None) -> bool:
        """Test connection: an inquiry for a sale that cannot exist. "Not found" proves the credentials."""
        fields = {"TRXTYPE": "I", "TENDER": "C", "ORIGID": "PROBE0000000"}
        answer = self._send("inquiry", fields, uuid.uuid4().hex)
        return answer["RESULT"] in (NOT_FOUND, "0")

    # -- checkout ------------------------------------------------------------------
    def create_checkout(
        self,
        amount_cents: int,
        currency: str,
        order_id: str,
        token_id: str,
        return_url: str,
        cancel_url: str,
        silent_post_url: str,
    ) -> HostedCheckout:
        """A secure token for one sale of this amount; raises ``GatewayError`` when none was issued.

        No money moves here, so a lost answer is as good as a refusal: the payer presses Pay again.
        """
        fields = {
            "TRXTYPE": "S",
            "TENDER": "C",
            "AMT": plain_amount(amount_cents, currency),
            "CURRENCY": currency,
            "CREATESECURETOKEN": "Y",
            "SECURETOKENID": token_id,
            "CUSTREF": order_id,
            "INVNUM": order_id,
            "RETURNURL": return_url,
            "ERRORURL": return_url,
            "CANCELURL": cancel_url,
            "SILENTPOSTURL": silent_post_url,
        }
        try:
            answer = self._send("token", fields, _request_id(f"token:{token_id}"), ref=order_id)
        except UnknownOutcome as exc:
            raise GatewayError("token_answer_lost", str(exc)) from exc
        if answer["RESULT"] != "0" or not answer.get("SECURETOKEN"):
            log.warning("payflow token refused for %s: %s", order_id, answer.get("RESPMSG"))
            raise GatewayError(f"token_refused:{answer['RESULT']}", answer.get("RESPMSG", ""))
        token = answer["SECURETOKEN"]
        return HostedCheckout(token, token_id, self.checkout_page(token, token_id), utcnow() + TOKEN_LIFETIME)

    def checkout_page(self, token: str, token_id: str) -> str:
        """The hosted page's address for this secure token (to send the payer there, or back)."""
        return f"{self.checkout_url}?" + urlencode({"SECURETOKEN": token, "SECURETOKENID": token_id})

    # -- lookups -------------------------------------------------------------------
    def _inquiry(self, fields: dict, ref: str) -> GatewayTransaction | None:
        answer = self._send("inquiry", {"TRXTYPE": "I", "TENDER": "C", **fields}, uuid.uuid4().hex, ref=ref)
        if answer["RESULT"] == NOT_FOUND:
            return None
        if answer["RESULT"] != "0":
            raise UnknownOutcome(f"inquiry: RESULT={answer['RESULT']} {answer.get('RESPMSG', '')}")
        return _transaction(answer)

    def find(self, transaction_id: str) -> GatewayTransaction | None:
        return self._inquiry({"ORIGID": transaction_id}, ref=transaction_id)

    def search_by_order_id(self, order_id: str) -> list[GatewayTransaction]:
        """The sale made under this order id (Payflow's CUSTREF), if any: one token, one sale."""
        found = self._inquiry({"CUSTREF": order_id}, ref=order_id)
        return [found] if found is not None else []

    # -- giving money back ---------------------------------------------------------
    def refund(
        self, transaction_id: str, amount_cents: int | None, currency: str, request_key: str | None = None
    ) -> RefundResult:
        fields = {"TRXTYPE": "C", "TENDER": "C", "ORIGID": transaction_id}
        if amount_cents is not None:
            fields["AMT"] = plain_amount(amount_cents, currency)
        key = request_key or f"credit:{transaction_id}:{secrets.token_hex(8)}"
        return self._given_back(self._send("credit", fields, _request_id(key), ref=transaction_id), currency)

    def void(self, transaction_id: str, request_key: str | None = None) -> RefundResult:
        fields = {"TRXTYPE": "V", "TENDER": "C", "ORIGID": transaction_id}
        key = request_key or f"void:{transaction_id}:{secrets.token_hex(8)}"
        return self._given_back(self._send("void", fields, _request_id(key), ref=transaction_id), None)

    def _given_back(self, answer: dict[str, str], currency: str | None) -> RefundResult:
        if answer["RESULT"] != "0":
            message = f"{answer.get('RESPMSG', 'refused')} (RESULT {answer['RESULT']})"
            return RefundResult(False, message=message, error_codes=(answer["RESULT"],))
        amount = _cents(answer.get("AMT"), currency) if currency else 0
        return RefundResult(
            True,
            GatewayTransaction(
                id=answer["PNREF"],
                status="settled",
                type="credit",
                amount_cents=amount,
                currency=currency or "",
                order_id=None,
                method=None,
                card_brand=None,
                card_last4=None,
                paypal_email=None,
                processor_response_code="0",
                processor_response_text=answer.get("RESPMSG"),
                gateway_rejection_reason=None,
            ),
        )

    def look_up_refund(
        self, kind: str, sale_id: str, amount_cents: int, currency: str, request_key: str, known_ids: set
    ) -> RefundResult | None:
        """What became of a credit or void whose answer was lost: the same request, sent again.

        Payflow answers a repeated request id with its first answer and does not act twice; if the
        first never arrived, it acts now, which is what was asked. Never None: it always knows.
        """
        if kind == "void":
            return self.void(sale_id, request_key=request_key)
        return self.refund(sale_id, amount_cents, currency, request_key=request_key)

    # -- what Payflow does not have ---------------------------------------------------
    def settle(self, transaction_id: str):
        raise GatewayError("not_supported", "Payflow settles in its nightly batch")

    def parse_webhook(self, signature: str, payload: str):
        raise WebhookSignatureError("Payflow sends no webhooks")


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made (refused, no route): the request was not sent."""
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", None)
    return isinstance(reason, NewConnectionError) or isinstance(cause, NewConnectionError)


def _cents(amount: str | None, currency: str) -> int:
    try:
        return round_to_minor(Decimal(amount or "0"), currency)
    except InvalidOperation:
        return 0


def _transaction(answer: dict[str, str]) -> GatewayTransaction:
    """An inquiry's answer in the shape the payments service knows (Braintree's status words)."""
    result = answer.get("ORIGRESULT", "")
    if result == "0":
        status = TRANSSTATES.get(answer.get("TRANSSTATE", ""), "submitted_for_settlement")
    elif result in FRAUD_RESULTS:
        status = "gateway_rejected"
    else:
        status = "processor_declined"
    currency = (answer.get("CURRENCY") or "USD").upper()
    account = answer.get("ACCT", "")
    tender = answer.get("TENDER", "C")
    return GatewayTransaction(
        id=answer.get("ORIGPNREF") or answer.get("PNREF", ""),
        status=status,
        type={"S": "sale", "C": "credit", "V": "void"}.get(answer.get("TRXTYPE", "S"), "sale"),
        amount_cents=_cents(answer.get("AMT"), currency),
        currency=currency,
        order_id=answer.get("CUSTREF"),
        method="paypal" if tender == "P" else "credit_card",
        card_brand=CARD_TYPES.get(answer.get("CARDTYPE", "")) if tender != "P" else None,
        card_last4=account[-4:] if account[-4:].isdigit() else None,
        paypal_email=None,
        processor_response_code=result or None,
        processor_response_text=answer.get("ORIGRESPMSG") or answer.get("RESPMSG"),
        gateway_rejection_reason="fraud" if result in FRAUD_RESULTS else None,
        refunded_transaction_id=answer.get("ORIGID") if answer.get("TRXTYPE") == "C" else None,
    )


def build_payflow_gateway(config) -> PayflowGateway:
    """Real Payflow (pilot or live) when its credentials are set, the offline Payflow sandbox otherwise."""
    names = ("PARTNER", "VENDOR", "USER", "PASSWORD")
    # str(): PORTAL_* variables are read as JSON, so a password of digits arrives as a number.
    values = {name: str(config.get(f"PAYFLOW_{name}") or "").strip() for name in names}
    mode = str(config.get("PAYFLOW_MODE") or "").strip().lower()
    listed = config.get("PAYFLOW_CURRENCIES") or "USD"
    listed = listed.split(",") if isinstance(listed, str) else listed
    currencies = tuple(str(c).strip().upper() for c in listed if str(c).strip())
    timeout = float(config.get("PAYFLOW_TIMEOUT", 45))
    if mode or any(values[name] for name in ("VENDOR", "USER", "PASSWORD")):
        required = values["PARTNER"] and values["VENDOR"] and values["PASSWORD"]
        if mode not in ("pilot", "live") or not required:
            raise ConfigurationError(
                "Real Payflow Pro needs PORTAL_PAYFLOW_MODE (pilot or live), PORTAL_PAYFLOW_PARTNER, "
                "PORTAL_PAYFLOW_VENDOR and PORTAL_PAYFLOW_PASSWORD (PORTAL_PAYFLOW_USER when it differs "
                "from the vendor); unset them to use the offline Payflow sandbox."
            )
        return PayflowGateway(
            Mode.SANDBOX if mode == "pilot" else Mode.PRODUCTION,
            values["PARTNER"],
            values["VENDOR"],
            values["USER"],
            values["PASSWORD"],
            currencies=currencies,
            timeout=timeout,
        )
    sandbox = config["PAYFLOW_SANDBOX_URL"].rstrip("/")
    return PayflowGateway(
        Mode.OFFLINE,
        config["PAYFLOW_SANDBOX_PARTNER"],
        config["PAYFLOW_SANDBOX_VENDOR"],
        config["PAYFLOW_SANDBOX_USER"],
        config["PAYFLOW_SANDBOX_PASSWORD"],
        currencies=currencies,
        api_url=sandbox + "/",
        checkout_url=sandbox + "/checkout",
        timeout=timeout,
    )
