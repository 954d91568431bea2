from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.i18n import current_language
from portal.payments.models import Payment
from portal.trainings.models import TrainingSession


class RegistrationStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"  # holds a seat until hold_expires_at
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"  # no seat; in line by created_at
    EXPIRED = "expired"  # the hold (or a waiting-list offer) ran out; the seat went back
    CANCELLED = "cancelled"
    REFUNDED = "refunded"  # cancelled and its payment given back


ACTIVE = (RegistrationStatus.PENDING_PAYMENT, RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
HOLDS_SEAT = (RegistrationStatus.PENDING_PAYMENT, RegistrationStatus.CONFIRMED)
_ACTIVE_SQL = ", ".join(f"'{status}'" for status in ACTIVE)
# The partial unique index's condition. A query finds a guest's active registration through that
# index only when it states this condition word for word (SQLite matches the text; a bound
# parameter list never matches), so both use this one string.
ACTIVE_CONDITION = f"status IN ({_ACTIVE_SQL})"


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending_payment', 'confirmed', 'waitlisted', 'expired', 'cancelled', 'refunded')",
            name="status",
        ),
        CheckConstraint("discount_cents >= 0 AND discount_cents <= price_cents", name="discount_range"),
        # One active registration per email per session: a second submit finds the first.
        Index(
            "uq_registrations_active_email",
            "training_session_id",
            "email",
            unique=True,
            sqlite_where=db.text(ACTIVE_CONDITION),
            postgresql_where=db.text(ACTIVE_CONDITION),
        ),
        # A session's registrations by status, and its holds by expiry: counting or ending the
        # run-out holds on every registration is a range, not a walk over every pending guest.
        Index("ix_registrations_session_status_hold", "training_session_id", "status", "hold_expires_at"),
        # The dashboards count today's and this month's confirmations (a range, not a scan).
        Index("ix_registrations_status_confirmed_at", "status", "confirmed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"))
    email: Mapped[str] = mapped_column(String(254))  # lower-cased
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    # The guest's time zone when registering (from the browser), for times in their email.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # The guest's language when registering (the page's), for the mail and invitation sent to them.
    locale: Mapped[str] = mapped_column(String(10), default=current_language, server_default="en")
    status: Mapped[str] = mapped_column(String(20))
    # The fee when the guest registered, and what a coupon took off: the server's numbers only.
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    hold_expires_at = mapped_column(UTCDateTime, nullable=True)
    # A waiting-list guest who was offered a freed seat (the offer is a hold).
    offered_at = mapped_column(UTCDateTime, nullable=True)
    confirmed_at = mapped_column(UTCDateTime, nullable=True)
    cancelled_at = mapped_column(UTCDateTime, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    training: Mapped[TrainingSession] = relationship(lazy="joined")
    payment: Mapped[Payment | None] = relationship(lazy="joined")

    @property
    def due_cents(self) -> int:
        return self.price_cents - self.discount_cents

    @property
    def reference(self) -> str:
        """What the payment attempt and the coupon use are for."""
        return reference_of(self.id)


def reference_of(registration_id: int) -> str:
    return f"registration:{registration_id}"
