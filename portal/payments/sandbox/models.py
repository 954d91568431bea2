"""The sandbox's records (transactions, disputes) and their JSON form for storage."""

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from portal.payments.sandbox.rules import Card, Instrument, PayPal


@dataclass
class StatusEvent:
    status: str
    amount: Decimal
    timestamp: datetime
    source: str = "api"


@dataclass
class Transaction:
    id: str
    type: str  # sale | credit
    status: str
    amount: Decimal
    currency: str
    merchant_account_id: str
    order_id: str | None
    created_at: datetime
    updated_at: datetime
    instrument: Instrument
    processor_response_code: str | None = None
    processor_response_text: str | None = None
    processor_response_type: str | None = None
    processor_authorization_code: str | None = None
    gateway_rejection_reason: str | None = None
    processor_settlement_response_code: str = ""
    processor_settlement_response_text: str = ""
    network_transaction_id: str | None = None
    cvv_response_code: str = "I"
    settlement_batch_id: str | None = None
    custom_fields: dict[str, str] = field(default_factory=dict)
    status_history: list[StatusEvent] = field(default_factory=list)
    refund_ids: list[str] = field(default_factory=list)
    refunded_transaction_id: str | None = None

    def move_to(self, status: str, now: datetime, amount: Decimal | None = None) -> None:
        self.status = status
        self.updated_at = now
        self.status_history.append(StatusEvent(status, self.amount if amount is None else amount, now))

    def summary(self) -> dict:
        """The row tests compare ledgers with (``SandboxServer.transactions()``)."""
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "order_id": self.order_id,
            "merchant_account_id": self.merchant_account_id,
            "refunded_transaction_id": self.refunded_transaction_id,
            "refund_ids": list(self.refund_ids),
            "payment_instrument_type": self.instrument.kind,
            "created_at": self.created_at.isoformat(),
        }


@dataclass
class DisputeEvent:
    status: str
    timestamp: datetime
    effective_date: date


@dataclass
class Dispute:
    id: str
    transaction_id: str
    amount: Decimal
    currency: str
    merchant_account_id: str
    status: str
    reason: str
    case_number: str
    reference_number: str
    received_date: date
    reply_by_date: date
    created_at: datetime
    updated_at: datetime
    status_history: list[DisputeEvent] = field(default_factory=list)
    kind: str = "chargeback"

    FINAL = ("won", "lost", "accepted", "auto_accepted", "expired")

    @property
    def closed(self) -> bool:
        return self.status in self.FINAL


# --- JSON --------------------------------------------------------------------------


def to_json(record) -> dict:
    """A dataclass as JSON-ready data: Decimal, date and datetime become strings."""
    data = {}
    for f in dataclasses.fields(record):
        data[f.name] = _encode(getattr(record, f.name))
    if isinstance(record, Transaction):
        data["instrument"] = {"kind": record.instrument.kind, **data["instrument"]}
    return data


def _encode(value):
    if dataclasses.is_dataclass(value):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, (Decimal, date)):  # datetime is a date
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def transaction_from_json(data: dict) -> Transaction:
    data = dict(data)
    instrument = dict(data.pop("instrument"))
    kind = instrument.pop("kind")
    data["instrument"] = Card(**instrument) if kind == "credit_card" else PayPal(**instrument)
    data["amount"] = Decimal(data["amount"])
    for key in ("created_at", "updated_at"):
        data[key] = datetime.fromisoformat(data[key])
    data["status_history"] = [
        StatusEvent(e["status"], Decimal(e["amount"]), datetime.fromisoformat(e["timestamp"]), e["source"])
        for e in data["status_history"]
    ]
    return Transaction(**data)


def dispute_from_json(data: dict) -> Dispute:
    data = dict(data)
    data["amount"] = Decimal(data["amount"])
    for key in ("received_date", "reply_by_date"):
        data[key] = date.fromisoformat(data[key])
    for key in ("created_at", "updated_at"):
        data[key] = datetime.fromisoformat(data[key])
    data["status_history"] = [
        DisputeEvent(
            e["status"], datetime.fromisoformat(e["timestamp"]), date.fromisoformat(e["effective_date"])
        )
        for e in data["status_history"]
    ]
    return Dispute(**data)
