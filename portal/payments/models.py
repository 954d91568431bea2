import uuid
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.payments.status import OPEN, PAID, PaymentStatus


class Purpose(StrEnum):
    GUEST_FEE = "guest_fee"
    PAY_PER_USE = "pay_per_use"
    TEST = "test"  # an administrator's test charge


class Method(StrEnum):
    CREDIT_CARD = "credit_card"
    DEBIT_CARD = "debit_card"
    PAYPAL = "paypal"


def new_order_id() -> str:
    # Sent to the gateway as order_id: the attempt's idempotency key.
    return "pay_" + uuid.uuid4().hex


CHARGED_BACK = frozenset({"lost", "accepted", "auto_accepted"})

_LIVE = ", ".join(f"'{status}'" for status in sorted(OPEN | PAID))


class Payment(db.Model):
    """One checkout attempt and, once charged, the payment it became.

    Its ``order_id`` is the key sent to the gateway: one attempt, at most one sale.
    """

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("refunded_cents >= 0 AND refunded_cents <= amount_cents", name="refunded_range"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        # One open or paid attempt per purchase: two tabs never make two sales.
        Index(
            "uq_payments_live_reference",
            "purpose",
            "reference",
            unique=True,
            sqlite_where=db.text(f"status IN ({_LIVE})"),
            postgresql_where=db.text(f"status IN ({_LIVE})"),
        ),
        # The ledger's chargeback rows (a lost dispute, dated by its outcome): a range, not a scan.
        Index("ix_payments_dispute", "dispute_status", "dispute_updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True, default=new_order_id)
    purpose: Mapped[str] = mapped_column(String(20))
    # What is being bought, e.g. "registration:12"; meaningful to the purpose's domain.
    reference: Mapped[str] = mapped_column(String(64))
    # The session and organizer it is for (none for a test charge): the ledger filters on them in SQL.
    training_session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(30), default=PaymentStatus.PENDING, index=True)
    gateway: Mapped[str] = mapped_column(String(20), default="braintree")
    merchant_account_id: Mapped[str | None] = mapped_column(String(64))
    gateway_transaction_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    method: Mapped[str | None] = mapped_column(String(20))
    card_brand: Mapped[str | None] = mapped_column(String(40))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    paypal_email: Mapped[str | None] = mapped_column(String(254))
    processor_response_code: Mapped[str | None] = mapped_column(String(10))
    processor_response_text: Mapped[str | None] = mapped_column(String(255))
    gateway_rejection_reason: Mapped[str | None] = mapped_column(String(40))
    # Why it failed, as a stable code the views turn into a message.
    failure_code: Mapped[str | None] = mapped_column(String(40))
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    dispute_id: Mapped[str | None] = mapped_column(String(64))
    dispute_status: Mapped[str | None] = mapped_column(String(30))
    dispute_updated_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    # When the sale was sent: the reconciler looks up attempts left unknown since then.
    sent_at = mapped_column(UTCDateTime, nullable=True)
    paid_at = mapped_column(UTCDateTime, nullable=True, index=True)
    settled_at = mapped_column(UTCDateTime, nullable=True)
    # When the reconciler last asked the gateway about settlement (it backs off).
    checked_at = mapped_column(UTCDateTime, nullable=True)
    # A gateway's own payment page (Payflow's hosted checkout): the secure token the payer was sent
    # with, our 36-character id for it (the return and silent posts name it), and when it lapses.
    checkout_token_id: Mapped[str | None] = mapped_column(String(36), unique=True)
    checkout_token: Mapped[str | None] = mapped_column(String(64))
    checkout_expires_at = mapped_column(UTCDateTime, nullable=True)

    refunds: Mapped[list["Refund"]] = relationship(
        back_populates="payment", order_by="Refund.id", lazy="selectin"
    )

    @property
    def is_paid(self) -> bool:
        return self.status in PAID

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def charged_back(self) -> bool:
        """A lost (or accepted) dispute: the bank already gave the money back to the payer."""
        return self.dispute_status in CHARGED_BACK

    @property
    def refundable_cents(self) -> int:
        if not self.is_paid or self.charged_back:
            return 0
        return self.amount_cents - self.refunded_cents


class RefundKind(StrEnum):
    REFUND = "refund"
    VOID = "void"


class RefundStatus(StrEnum):
    PENDING = "pending"  # reserved on the payment (or, for a duplicate sale, still to do)
    UNKNOWN = "unknown"  # sent, answer lost: the reservation stays until the reconciler knows
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(db.Model):
    """Money given back on a payment: a gateway refund (credit) or a void.

    A duplicate sale found for the same attempt is given back through a row with
    ``duplicate`` set and ``source_transaction_id`` naming that sale; it does not
    count in the payment's ``refunded_cents``.
    """

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=RefundStatus.PENDING)
    gateway_transaction_id: Mapped[str | None] = mapped_column(String(64))
    # The sale given back: the payment's own, or a duplicate's.
    source_transaction_id: Mapped[str | None] = mapped_column(String(64))
    duplicate: Mapped[bool] = mapped_column(default=False)
    failure_message: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    payment: Mapped[Payment] = relationship(back_populates="refunds")


class WebhookEvent(db.Model):
    """Each verified webhook once: the payload's digest is unique, so a replay changes nothing."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    notified_at = mapped_column(UTCDateTime, nullable=True)
    received_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
