"""Payflow's rules: secure tokens, the hosted checkout's sale, credits, voids, inquiries, settlement.

Answers are dicts of Payflow response fields; ``call`` turns an authenticated API request into
the name-value answer, once per request id. Every state change runs inside one ``Store.atomic``
block, so concurrent requests can neither pay one token twice nor credit more than a sale.
"""

import hmac
import re
import secrets
import string
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from portal.payments import nvp
from portal.payments.payflow_sandbox.cards import SandboxCard
from portal.payments.payflow_sandbox.store import Store

# TRANSSTATE values the sandbox reports.
DECLINED = 1
AWAITING_SETTLEMENT = 6
SETTLED = 8
VOIDED = 106

# The fault plan's operation for each API TRXTYPE.
OPERATION_BY_TRXTYPE = {"S": "token", "C": "credit", "V": "void", "I": "inquiry"}

_AMOUNT = re.compile(r"\d{1,10}\.\d{2}")
_TOKEN_ID = re.compile(r"[A-Za-z0-9-]{36}")
_URL = re.compile(r"https?://[^\s/?#]+([/?#]\S*)?", re.IGNORECASE)
_PNREF_ALPHABET = string.ascii_uppercase + string.digits
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def utcnow() -> datetime:
    return datetime.now(UTC)


def transtime(at: datetime) -> str:
    """Payflow's TRANSTIME format (``2026-05-09 14:03:27``), here in UTC."""
    return at.strftime("%Y-%m-%d %H:%M:%S")


class CheckoutRefused(Exception):
    """A hosted checkout that cannot go ahead: the HTTP status and a plain sentence for the payer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(result: int, respmsg: str) -> dict:
    return {"RESULT": result, "RESPMSG": respmsg}


def _amount(value: str | None) -> Decimal | None:
    """A positive amount with exactly two decimals, else ``None``."""
    if value is None or not _AMOUNT.fullmatch(value) or Decimal(value) <= 0:
        return None
    return Decimal(value)


class Ledger:
    def __init__(self, store: Store, currencies: tuple[str, ...], token_ttl: timedelta):
        self.store = store
        self.currencies = currencies
        self.token_ttl = token_ttl

    # --- the name-value API ---

    def call(self, request_id: str, fields: dict[str, str]) -> bytes:
        """The answer to an authenticated request; a repeated request id gets the first answer again,
        with ``DUPLICATE=1``, and nothing is done twice."""
        with self.store.atomic():
            previous = self.store.response(request_id)
            if previous is not None:
                return previous + b"&DUPLICATE=1"
            answer = nvp.encode(self._answer(fields))
            self.store.save_response(request_id, answer)
            return answer

    def _answer(self, fields: dict[str, str]) -> dict:
        trxtype = fields.get("TRXTYPE")
        if trxtype == "S":
            if fields.get("CREATESECURETOKEN") == "Y":
                return self._secure_token(fields)
            return _error(
                7, "Field format error: this sandbox takes card details only on its hosted checkout page"
            )
        if trxtype == "C":
            return self._credit(fields)
        if trxtype == "V":
            return self._void(fields)
        if trxtype == "I":
            return self._inquiry(fields)
        return _error(3, "Invalid transaction type")

    def _secure_token(self, fields: dict[str, str]) -> dict:
        token_id = fields.get("SECURETOKENID", "")
        if not _TOKEN_ID.fullmatch(token_id):
            return _error(7, "Field format error: SECURETOKENID")
        if self.store.token(token_id) is not None:
            return _error(7, "Field format error: Secure Token ID already been used")
        amount = _amount(fields.get("AMT"))
        if amount is None:
            return _error(4, "Invalid amount")
        currency = fields.get("CURRENCY", "USD")
        if currency not in self.currencies:
            return _error(7, "Field format error: CURRENCY")
        if fields.get("TENDER", "C") != "C":
            return _error(7, "Field format error: TENDER")
        for name in ("RETURNURL", "CANCELURL", "SILENTPOSTURL", "ERRORURL"):
            required = name in ("RETURNURL", "CANCELURL")
            if (required or name in fields) and not _URL.fullmatch(fields.get(name, "")):
                return _error(7, f"Field format error: {name}")
        now = utcnow()
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(32))
        self.store.add_token(
            {
                "token_id": token_id,
                "token": token,
                "amount": f"{amount:.2f}",
                "currency": currency,
                "custref": fields.get("CUSTREF"),
                "invnum": fields.get("INVNUM"),
                "return_url": fields["RETURNURL"],
                "cancel_url": fields["CANCELURL"],
                "silent_post_url": fields.get("SILENTPOSTURL"),
                "created_at": now.isoformat(),
                "expires_at": (now + self.token_ttl).isoformat(),
                "used_at": None,
            }
        )
        return {"RESULT": 0, "RESPMSG": "Approved", "SECURETOKEN": token, "SECURETOKENID": token_id}

    def _original(self, fields: dict[str, str]) -> tuple[dict | None, dict | None]:
        """``(the ORIGID transaction, None)`` or ``(None, the error answer)``."""
        if not fields.get("ORIGID"):
            return None, _error(7, "Field format error: ORIGID")
        txn = self.store.transaction(fields["ORIGID"])
        if txn is None:
            return None, _error(19, "Original transaction ID not found")
        return txn, None

    def _credit(self, fields: dict[str, str]) -> dict:
        sale, error = self._original(fields)
        if error:
            return error
        if "AMT" in fields and _amount(fields["AMT"]) is None:
            return _error(4, "Invalid amount")
        if fields.get("CURRENCY", sale["currency"]) != sale["currency"]:
            return _error(7, "Field format error: CURRENCY")
        if sale["trxtype"] != "S":
            return _error(105, "Credit error: only a sale can be credited")
        if sale["transstate"] != SETTLED:
            return _error(105, "Credit error: the sale is not settled")
        left = Decimal(sale["amount"]) - self.store.credited(sale["pnref"])
        amount = _amount(fields["AMT"]) if "AMT" in fields else left
        if left <= 0 or amount > left:
            return _error(105, "Credit error: amount exceeds the original")
        pnref = self._follow_up(sale, "C", amount)
        return {"RESULT": 0, "PNREF": pnref, "RESPMSG": "Approved", "AMT": f"{amount:.2f}"}

    def _void(self, fields: dict[str, str]) -> dict:
        sale, error = self._original(fields)
        if error:
            return error
        if sale["trxtype"] != "S":
            return _error(108, "Void error: only a sale can be voided")
        refusal = {
            DECLINED: "Void error: the sale was declined",
            SETTLED: "Void error: the sale is settled, credit it instead",
            VOIDED: "Void error: the sale is already voided",
        }.get(sale["transstate"])
        if refusal:
            return _error(108, refusal)
        pnref = self._follow_up(sale, "V", Decimal(sale["amount"]))
        self.store.set_transstate(sale["pnref"], VOIDED)
        return {"RESULT": 0, "PNREF": pnref, "RESPMSG": "Approved"}

    def _follow_up(self, sale: dict, trxtype: str, amount: Decimal) -> str:
        """Record a credit or void of ``sale`` (done at once: TRANSSTATE 8); its PNREF."""
        pnref = self._new_pnref()
        self.store.add_transaction(
            {
                **{k: sale[k] for k in ("currency", "custref", "invnum", "card_type", "last4")},
                "pnref": pnref,
                "trxtype": trxtype,
                "origid": sale["pnref"],
                "amount": f"{amount:.2f}",
                "result": 0,
                "respmsg": "Approved",
                "transstate": SETTLED,
                "created_at": utcnow().isoformat(),
            }
        )
        return pnref

    def _inquiry(self, fields: dict[str, str]) -> dict:
        if fields.get("ORIGID"):
            txn = self.store.transaction(fields["ORIGID"])
        elif fields.get("CUSTREF"):
            txn = self.store.latest_sale(fields["CUSTREF"])
        else:
            return _error(7, "Field format error: ORIGID or CUSTREF")
        if txn is None:
            return _error(19, "Original transaction ID not found")
        return {
            "RESULT": 0,
            "RESPMSG": "Approved",
            "ORIGRESULT": txn["result"],
            "ORIGPNREF": txn["pnref"],
            "TRANSSTATE": txn["transstate"],
            "TRXTYPE": txn["trxtype"],
            "AMT": txn["amount"],
            "CURRENCY": txn["currency"],
            "CUSTREF": txn["custref"],
            "INVNUM": txn["invnum"],
            "SECURETOKENID": txn["secure_token_id"],
            "TENDER": "C",
            "CARDTYPE": txn["card_type"],
            "ACCT": txn["last4"],
            "AUTHCODE": txn["authcode"],
            "ORIGRESPMSG": txn["respmsg"],
            "ORIGID": txn["origid"],
        }

    # --- the hosted checkout ---

    def usable_token(self, token_id: str, token: str | None = None) -> dict:
        """The stored token, if a payer may pay with it now (``token``, when given, must match)."""
        row = self.store.token(token_id or "")
        if row is None or (token is not None and not hmac.compare_digest(row["token"], token)):
            raise CheckoutRefused(404, "This checkout link is not valid")
        if row["used_at"] is not None:
            raise CheckoutRefused(410, "This checkout has already been used")
        if datetime.fromisoformat(row["expires_at"]) <= utcnow():
            raise CheckoutRefused(410, "This checkout has expired")
        return row

    def checkout(self, token_id: str, token: str | None, card: SandboxCard) -> tuple[dict, dict[str, str]]:
        """Pay a token with a test card: record the sale, use up the token.

        ``(the token, the result fields)``: what the silent post and the return form carry.
        """
        with self.store.atomic():
            row = self.usable_token(token_id, token)
            now = utcnow()
            pnref = self._new_pnref()
            authcode = f"{secrets.randbelow(10**6):06d}" if card.approved else None
            self.store.add_transaction(
                {
                    "pnref": pnref,
                    "trxtype": "S",
                    "amount": row["amount"],
                    "currency": row["currency"],
                    "custref": row["custref"],
                    "invnum": row["invnum"],
                    "result": card.result,
                    "respmsg": card.respmsg,
                    "transstate": AWAITING_SETTLEMENT if card.approved else DECLINED,
                    "card_type": card.card_type,
                    "last4": card.last4,
                    "authcode": authcode,
                    "secure_token_id": token_id,
                    "created_at": now.isoformat(),
                }
            )
            self.store.update_token(token_id, used_at=now.isoformat())
        fields = {
            "RESULT": str(card.result),
            "RESPMSG": card.respmsg,
            "PNREF": pnref,
            "AMT": row["amount"],
            "CURRENCY": row["currency"],
            "SECURETOKEN": row["token"],
            "SECURETOKENID": token_id,
            "CUSTREF": row["custref"],
            "INVNUM": row["invnum"],
            "TRXTYPE": "S",
            "TENDER": "C",
            "CARDTYPE": card.card_type,
            "ACCT": card.last4,
            "AUTHCODE": authcode,
            "TRANSTIME": transtime(now),
        }
        return row, {k: v for k, v in fields.items() if v is not None}

    # --- test controls ---

    def settle(self, pnref: str) -> None:
        """Settle an approved sale (TRANSSTATE 6 -> 8), as the nightly batch would."""
        with self.store.atomic():
            txn = self.store.transaction(pnref)
            if txn is None:
                raise LookupError(f"transaction {pnref} not found")
            if txn["trxtype"] != "S" or txn["transstate"] != AWAITING_SETTLEMENT:
                raise ValueError(
                    f"only an approved sale awaiting settlement (TRANSSTATE 6) settles; "
                    f"{pnref} is TRXTYPE {txn['trxtype']}, TRANSSTATE {txn['transstate']}"
                )
            self.store.set_transstate(pnref, SETTLED)

    def expire_token(self, token_id: str) -> None:
        with self.store.atomic():
            if self.store.token(token_id) is None:
                raise LookupError(f"secure token id {token_id} not found")
            self.store.update_token(token_id, expires_at=utcnow().isoformat())

    def _new_pnref(self) -> str:
        """12 uppercase alphanumerics, unique (callers hold the store's transaction)."""
        while True:
            pnref = "".join(secrets.choice(_PNREF_ALPHABET) for _ in range(12))
            if self.store.transaction(pnref) is None:
                return pnref
