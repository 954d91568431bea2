"""The gateway's behaviour: sale, find, search, refund, void, settle ... on the stored ledger.

Takes and returns plain data (request dicts as the SDK's XML parses to, model
records, ``Result``); HTTP and XML live elsewhere. Every operation runs under
the store's lock, so concurrent requests see Braintree-like atomic state changes.
"""

import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from portal.payments.sandbox import rules
from portal.payments.sandbox.models import Dispute, DisputeEvent, Transaction
from portal.payments.sandbox.rules import FieldError

VOIDABLE = ("authorized", "submitted_for_settlement", "settlement_pending")
REFUNDABLE = ("settled", "settling")
SETTLEABLE = ("submitted_for_settlement", "settling", "settlement_pending")
_SETTLEMENT = {  # status -> processor settlement response (code, text)
    "settled": ("1000", "Approved"),
    "settlement_declined": ("4001", "Settlement Declined"),
    "settlement_pending": ("4002", "Settlement Pending"),
}
_ID_ALPHABET = string.ascii_lowercase + string.digits


class NotFound(LookupError):
    """No such transaction (HTTP 404: the SDK raises NotFoundError)."""


class UnsupportedSearch(ValueError):
    """A search criterion the sandbox does not implement: refused rather than silently ignored."""


@dataclass
class Result:
    """A transaction call's answer: the transaction, or validation errors, or both (a decline)."""

    transaction: Transaction | None = None
    errors: list[FieldError] = field(default_factory=list)
    message: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return not self.errors and self.message is None


def _invalid(params: dict, *errors: FieldError) -> Result:
    return Result(errors=list(errors), message="\n".join(e.message for e in errors), params=params)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Ledger:
    def __init__(
        self,
        store,
        merchant_id: str,
        accounts: dict[str, str],
        single_use_test_nonces: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.store = store
        self.merchant_id = merchant_id
        self.accounts = accounts  # merchant account id -> currency
        self.single_use_test_nonces = single_use_test_nonces
        self.clock = clock

    # --- lookups ---

    def find(self, txn_id: str) -> Transaction:
        txn = self.store.transaction(txn_id)
        if txn is None:
            raise NotFound(txn_id)
        return txn

    def disputes_for(self, txn_id: str) -> list[Dispute]:
        return self.store.disputes_for(txn_id)

    def _new_id(self, exists: Callable[[str], bool]) -> str:
        while True:
            candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
            if not exists(candidate):
                return candidate

    # --- nonces ---

    def mint_nonce(self, base: str) -> str:
        """A fresh single-use nonce that behaves like the test nonce ``base`` (what tokenizing returns)."""
        if rules.resolve_nonce(base, self.clock().year) is None:
            raise ValueError(f"unknown test nonce {base!r}")
        prefix = "tokenpp" if base.startswith("fake-paypal") else "tokencc"
        nonce = f"{prefix}_sb_{secrets.token_hex(12)}"
        self.store.add_nonce(nonce, base, self.clock())
        return nonce

    def lookup_nonce(self, nonce: str) -> tuple[rules.PaymentSource, bool] | None:
        """``(payment source, consumed)``, or ``None`` for an unknown nonce."""
        issued = self.store.nonce(nonce)
        if issued is None and not rules.is_test_nonce(nonce):
            return None
        base, consumed = issued if issued else (nonce, False)
        source = rules.resolve_nonce(base, self.clock().year + 3)
        if source is None:
            return None
        consumed = consumed or nonce == rules.CONSUMED_NONCE
        return source, consumed

    def _single_use(self, nonce: str) -> bool:
        """Issued nonces are single-use, like Braintree's; static test nonces only when configured so."""
        return not rules.is_test_nonce(nonce) or self.single_use_test_nonces

    # --- sale ---

    def sale(self, params: dict) -> Result:
        echo = {"type": params.get("type"), "amount": params.get("amount")}
        request, errors = self._sale_request(params)
        with self.store.atomic():  # the nonce check and its consumption happen as one step
            source, error = self._payment_source(params, request.nonce)
            errors += [error] if error else []
            if errors:
                return _invalid(echo, *errors)  # nothing happened: the nonce stays usable
            if request.nonce and self._single_use(request.nonce):
                issued = self.store.nonce(request.nonce)
                self.store.consume_nonce(request.nonce, issued[0] if issued else request.nonce, self.clock())
            outcome = source.outcome or rules.amount_outcome(request.amount, source.instrument.kind)
            txn = self._new_sale(request, source, outcome)
            self.store.add_transaction(txn)
        if outcome.approved:
            return Result(txn, params=echo)
        return Result(txn, message=outcome.message, params=echo)

    def _sale_request(self, params: dict) -> tuple["_SaleRequest", list[FieldError]]:
        """The sale's own fields, checked (the payment method is checked under the lock)."""
        errors: list[FieldError] = []
        if params.get("type") != "sale":
            errors.append(FieldError("91523", "type"))
        account_id = params.get("merchant_account_id") or self.merchant_id
        currency = self.accounts.get(account_id)
        if currency is None:
            errors.append(FieldError("91513", "merchant_account_id"))
        amount, error = rules.parse_amount(params.get("amount"), currency or "USD")
        errors += [error] if error else []
        order_id = str(params["order_id"]) if params.get("order_id") else None
        if order_id is not None and len(order_id) > 255:
            errors.append(FieldError("91501", "order_id"))
        fields = params.get("custom_fields") if isinstance(params.get("custom_fields"), dict) else {}
        custom_fields = {k: "" if v is None else str(v) for k, v in fields.items()}
        if any(len(v) > 255 for v in custom_fields.values()):
            errors.append(FieldError("81527", "custom_fields"))
        options = params.get("options") if isinstance(params.get("options"), dict) else {}
        request = _SaleRequest(
            amount=amount,
            currency=currency,
            merchant_account_id=account_id,
            order_id=order_id,
            custom_fields=custom_fields,
            nonce=str(params["payment_method_nonce"]) if params.get("payment_method_nonce") else None,
            submit=_truthy(options.get("submit_for_settlement")),
        )
        return request, errors

    def _payment_source(
        self, params: dict, nonce: str | None
    ) -> tuple[rules.PaymentSource | None, FieldError | None]:
        card = params.get("credit_card")
        if params.get("payment_method_token"):
            return None, FieldError("91518", "payment_method_token")
        if nonce and card:
            return None, FieldError("91515", "base")
        if nonce:
            found = self.lookup_nonce(nonce)
            if found is None:
                return None, FieldError("91565", "payment_method_nonce")
            source, consumed = found
            if consumed:
                return None, FieldError("91564", "payment_method_nonce")
            return source, source.error
        if isinstance(card, dict) and card:
            now = self.clock()
            source = rules.card_from_params(card, now.year, now.month)
            return source, source.error
        return None, FieldError("91508", "base")

    def _new_sale(
        self, request: "_SaleRequest", source: rules.PaymentSource, outcome: rules.Outcome
    ) -> Transaction:
        now = self.clock()
        card = source.instrument.kind == "credit_card"
        txn = Transaction(
            id=self._new_id(self.store.has_transaction),
            type="sale",
            status=outcome.status,
            amount=request.amount,
            currency=request.currency,
            merchant_account_id=request.merchant_account_id,
            order_id=request.order_id,
            created_at=now,
            updated_at=now,
            instrument=source.instrument,
            processor_response_code=outcome.code,
            processor_response_text=outcome.text,
            processor_response_type=outcome.response_type,
            processor_authorization_code=_auth_code() if outcome.approved else None,
            gateway_rejection_reason=outcome.rejection_reason,
            network_transaction_id=_digits(15) if card else None,
            custom_fields=request.custom_fields,
        )
        txn.move_to(outcome.status, now)
        if outcome.approved and request.submit:
            txn.move_to("submitted_for_settlement", now)
        return txn

    # --- after the sale ---

    def submit_for_settlement(self, txn_id: str, params: dict) -> Result:
        with self.store.atomic():
            txn = self.find(txn_id)
            echo = {"amount": params.get("amount")}
            if txn.status != "authorized":
                return _invalid(echo, FieldError("91507", "base"))
            amount = txn.amount
            if params.get("amount") not in (None, ""):
                amount, error = rules.parse_amount(params["amount"], txn.currency)
                if error:
                    return _invalid(echo, error)
                if amount > txn.amount:
                    return _invalid(echo, FieldError("91522", "amount"))
            if params.get("order_id"):
                if len(str(params["order_id"])) > 255:
                    return _invalid(echo, FieldError("91501", "order_id"))
                txn.order_id = str(params["order_id"])
            txn.amount = amount
            txn.move_to("submitted_for_settlement", self.clock())
            self.store.save_transaction(txn)
            return Result(txn)

    def void(self, txn_id: str) -> Result:
        with self.store.atomic():
            txn = self.find(txn_id)
            if txn.status not in VOIDABLE:
                return _invalid({}, FieldError("91504", "base"))
            txn.move_to("voided", self.clock())
            self.store.save_transaction(txn)
            return Result(txn)

    def refund(self, txn_id: str, params: dict) -> Result:
        with self.store.atomic():
            txn = self.find(txn_id)
            echo = {"amount": params.get("amount")}
            if txn.type == "credit":
                return _invalid(echo, FieldError("91505", "base"))
            if txn.status not in REFUNDABLE:
                return _invalid(echo, FieldError("91506", "base"))
            remaining = txn.amount - self._refunded(txn)
            if remaining <= 0:
                return _invalid(echo, FieldError("91512", "base"))
            amount = remaining
            if params.get("amount") not in (None, ""):
                amount, error = rules.parse_amount(params["amount"], txn.currency)
                if error:
                    return _invalid(echo, error)
                if amount > remaining:
                    return _invalid(echo, FieldError("91521", "amount"))
            order_id = params.get("order_id") or None
            if order_id is not None and len(str(order_id)) > 255:
                return _invalid(echo, FieldError("91501", "order_id"))
            credit = self._new_credit(txn, amount, order_id and str(order_id))
            txn.refund_ids.append(credit.id)
            txn.updated_at = credit.created_at
            self.store.add_transaction(credit)
            self.store.save_transaction(txn)
            return Result(credit)

    def _refunded(self, txn: Transaction) -> Decimal:
        credits = (self.store.transaction(i) for i in txn.refund_ids)
        return sum((c.amount for c in credits if c and c.status not in ("voided", "failed")), Decimal(0))

    def _new_credit(self, sale: Transaction, amount: Decimal, order_id: str | None) -> Transaction:
        now = self.clock()
        outcome = rules.REFUND_PROCESSED
        credit = Transaction(
            id=self._new_id(self.store.has_transaction),
            type="credit",
            status=outcome.status,
            amount=amount,
            currency=sale.currency,
            merchant_account_id=sale.merchant_account_id,
            order_id=order_id,
            created_at=now,
            updated_at=now,
            instrument=sale.instrument,
            processor_response_code=outcome.code,
            processor_response_text=outcome.text,
            processor_response_type=outcome.response_type,
            refunded_transaction_id=sale.id,
        )
        credit.move_to(outcome.status, now)
        return credit

    def reverse(self, txn_id: str) -> Result:
        """Void while voidable, else refund what is left (Braintree's ``transaction.reverse``)."""
        with self.store.atomic():
            txn = self.find(txn_id)
            if txn.status in VOIDABLE:
                return self.void(txn_id)
            if txn.status in REFUNDABLE and txn.type == "sale":
                return self.refund(txn_id, {})
            return _invalid({}, FieldError("915282", "base"))

    # --- testing helpers (gateway.testing.*) ---

    def settle(self, txn_id: str) -> Result:
        return self._settle(txn_id, lambda t: rules.settlement_status(t.amount, t.instrument.kind))

    def settlement_decline(self, txn_id: str) -> Result:
        return self._settle(txn_id, lambda t: "settlement_declined")

    def settlement_pending(self, txn_id: str) -> Result:
        return self._settle(txn_id, lambda t: "settlement_pending")

    def _settle(self, txn_id: str, decide: Callable[[Transaction], str]) -> Result:
        with self.store.atomic():
            txn = self.find(txn_id)
            if txn.status not in SETTLEABLE:
                return _invalid({}, FieldError("91575", "base"))
            status, now = decide(txn), self.clock()
            txn.processor_settlement_response_code, txn.processor_settlement_response_text = _SETTLEMENT[
                status
            ]
            if status == "settled":
                batch = f"{now.date().isoformat()}_{txn.merchant_account_id}_{secrets.token_hex(3)}"
                txn.settlement_batch_id = batch
            txn.move_to(status, now)
            self.store.save_transaction(txn)
            return Result(txn)

    # --- disputes ---

    def dispute(self, txn_id: str, status: str) -> tuple[Dispute, Transaction]:
        """Open a chargeback on a sale, or move its current one to ``status``."""
        with self.store.atomic():
            txn = self.find(txn_id)
            if txn.type != "sale":
                raise ValueError("disputes are opened on sales, not on refunds")
            now = self.clock()
            existing = [d for d in self.store.disputes_for(txn_id) if not d.closed]
            dispute = existing[-1] if existing else self._new_dispute(txn, now)
            if dispute.status != status:
                dispute.status = status
                dispute.updated_at = now
                dispute.status_history.append(DisputeEvent(status, now, now.date()))
            self.store.save_dispute(dispute)
            return dispute, txn

    def _new_dispute(self, txn: Transaction, now: datetime) -> Dispute:
        return Dispute(
            id=self._new_id(lambda candidate: False),  # 36^8 ids: a clash is not worth a query
            transaction_id=txn.id,
            amount=txn.amount,
            currency=txn.currency,
            merchant_account_id=txn.merchant_account_id,
            status="open",
            reason="fraud",
            case_number=f"CASE-{secrets.randbelow(10**8):08d}",
            reference_number=f"REF-{secrets.randbelow(10**8):08d}",
            received_date=now.date(),
            reply_by_date=now.date() + timedelta(days=7),
            created_at=now,
            updated_at=now,
            status_history=[DisputeEvent("open", now, now.date())],
        )

    # --- search ---

    def search(self, criteria: dict) -> list[Transaction]:
        """Transactions matching every criterion of an ``advanced_search`` body, oldest first."""
        checks = [_criterion(name, value) for name, value in criteria.items()]
        ids, order = criteria.get("ids"), criteria.get("order_id")
        candidates = self.store.transactions(  # narrowed in SQL first: these two are what clients search by
            ids=ids if isinstance(ids, list) else None,
            order_id=order.get("is")
            if isinstance(order, dict) and isinstance(order.get("is"), str)
            else None,
        )
        return [t for t in candidates if all(check(t) for check in checks)]


def _truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _auth_code() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


@dataclass(frozen=True)
class _SaleRequest:
    amount: Decimal | None
    currency: str | None
    merchant_account_id: str
    order_id: str | None
    custom_fields: dict[str, str]
    nonce: str | None
    submit: bool


# --- search criteria (braintree.TransactionSearch) --------------------------------------------

_TEXT_FIELDS: dict[str, Callable[[Transaction], str | None]] = {
    "id": lambda t: t.id,
    "order_id": lambda t: t.order_id,
    "currency": lambda t: t.currency,
    "processor_authorization_code": lambda t: t.processor_authorization_code,
    "settlement_batch_id": lambda t: t.settlement_batch_id,
    "credit_card_number": lambda t: getattr(t.instrument, "last_4", None),
    "paypal_payer_email": lambda t: getattr(t.instrument, "payer_email", None),
}
_MULTI_FIELDS: dict[str, Callable[[Transaction], str | None]] = {
    "ids": lambda t: t.id,
    "status": lambda t: t.status,
    "type": lambda t: t.type,
    "merchant_account_id": lambda t: t.merchant_account_id,
    "payment_instrument_type": lambda t: t.instrument.kind,
    "credit_card_card_type": lambda t: getattr(t.instrument, "card_type", None),
}
_RANGE_FIELDS: dict[str, Callable[[Transaction], object]] = {
    "amount": lambda t: t.amount,
    "created_at": lambda t: t.created_at,
}
_TEXT_OPS = {
    "is": lambda v, q: v == q,
    "is_not": lambda v, q: v != q,
    "starts_with": lambda v, q: v is not None and v.startswith(q),
    "ends_with": lambda v, q: v is not None and v.endswith(q),
    "contains": lambda v, q: v is not None and q in v,
}


def _criterion(name: str, value) -> Callable[[Transaction], bool]:
    if name in _TEXT_FIELDS and isinstance(value, dict) and value and set(value) <= set(_TEXT_OPS):
        get = _TEXT_FIELDS[name]
        return lambda t: all(_TEXT_OPS[op](get(t), str(q)) for op, q in value.items())
    if name in _MULTI_FIELDS and isinstance(value, list):
        get, wanted = _MULTI_FIELDS[name], {str(v) for v in value}
        return lambda t: get(t) in wanted
    if name in _RANGE_FIELDS and isinstance(value, dict) and value and set(value) <= {"min", "max", "is"}:
        get, bounds = _RANGE_FIELDS[name], {k: _range_value(name, v) for k, v in value.items()}
        return lambda t: (
            ("min" not in bounds or get(t) >= bounds["min"])
            and ("max" not in bounds or get(t) <= bounds["max"])
            and ("is" not in bounds or get(t) == bounds["is"])
        )
    raise UnsupportedSearch(name)


def _range_value(name: str, value):
    if name == "amount":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise UnsupportedSearch(name) from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise UnsupportedSearch(name)
