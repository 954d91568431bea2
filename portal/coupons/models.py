from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import DecimalText, UTCDateTime, utcnow
from portal.extensions import db
from portal.trainings.models import TrainingSession

coupon_sessions = Table(
    "coupon_sessions",
    db.metadata,
    Column("coupon_id", ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True),
    Column("training_session_id", ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True),
)


class Coupon(db.Model):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'fixed', 'free')", name="kind"),
        CheckConstraint("max_uses >= 1", name="max_uses"),
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="uses_range"),
        CheckConstraint(
            "max_uses_per_email IS NULL OR (max_uses_per_email >= 1 AND max_uses_per_email <= max_uses)",
            name="per_email",
        ),
        CheckConstraint("amount_cents IS NULL OR amount_cents >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalized (upper case, no spaces or dashes): codes are case-insensitive.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    percent = mapped_column(DecimalText, nullable=True)  # 0-100, two decimals at most
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)  # fixed-amount coupons
    currency: Mapped[str | None] = mapped_column(String(3))  # of amount_cents
    max_uses: Mapped[int] = mapped_column(default=1)
    # Reserved plus committed uses: taken with one conditional UPDATE, never check-then-write.
    uses: Mapped[int] = mapped_column(default=0)
    max_uses_per_email: Mapped[int | None]
    valid_from = mapped_column(UTCDateTime, nullable=True)
    valid_until = mapped_column(UTCDateTime, nullable=True)  # exclusive
    # Restricted to one organizer's sessions (organizers manage only these coupons).
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    bound_email: Mapped[str | None] = mapped_column(String(254))
    batch: Mapped[str] = mapped_column(String(80), default="", index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    prepayment_id: Mapped[int | None] = mapped_column(ForeignKey("prepayments.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    sessions: Mapped[list[TrainingSession]] = relationship(secondary=coupon_sessions, lazy="selectin")
    organizer: Mapped[User | None] = relationship(foreign_keys=[organizer_id])

    @property
    def uses_left(self) -> int:
        return self.max_uses - self.uses


class CouponEmailUse(db.Model):
    """Uses per coupon and guest email, for "maximum uses per email" (a conditional UPDATE too)."""

    __tablename__ = "coupon_email_uses"
    __table_args__ = (CheckConstraint("uses >= 0", name="uses"),)

    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    uses: Mapped[int] = mapped_column(default=0)


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"  # held with the seat while the guest pays
    COMMITTED = "committed"  # the registration is confirmed
    RELEASED = "released"  # the hold expired, the payment failed or the guest cancelled first


class CouponRedemption(db.Model):
    """The redemption log: coupon, registration, email, discount, when."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        CheckConstraint("status IN ('reserved', 'committed', 'released')", name="status"),
        CheckConstraint("discount_cents >= 0 AND discount_cents <= price_cents", name="discount_range"),
        # One live use per registration: applying a code twice never takes two uses.
        Index(
            "uq_coupon_redemptions_live_reference",
            "reference",
            unique=True,
            sqlite_where=db.text("status IN ('reserved', 'committed')"),
            postgresql_where=db.text("status IN ('reserved', 'committed')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    # The registration (or other purchase) that uses it, e.g. "registration:12".
    reference: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(254))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    discount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=RedemptionStatus.RESERVED)
    reserved_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    committed_at = mapped_column(UTCDateTime, nullable=True)
    released_at = mapped_column(UTCDateTime, nullable=True)

    coupon: Mapped[Coupon] = relationship()


class CouponDelivery(db.Model):
    """Who received which code by email (distribution and prepaid coupons)."""

    __tablename__ = "coupon_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id"))
    sent_count: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_sent_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    coupon: Mapped[Coupon] = relationship()


class Prepayment(db.Model):
    """A guest's offline prepayment, for which the portal issued free coupons bound to their email."""

    __tablename__ = "prepayments"
    __table_args__ = (
        CheckConstraint("amount_cents >= 0", name="amount"),
        CheckConstraint("sessions_count >= 1", name="sessions_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(120))
    sessions_count: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    coupons: Mapped[list[Coupon]] = relationship(foreign_keys=[Coupon.prepayment_id], lazy="selectin")
