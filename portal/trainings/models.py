import secrets
from datetime import timedelta

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.trainings.status import SessionStatus


def new_public_token() -> str:
    # 32 random bytes (256 bits), URL-safe; never derived from the database id.
    return secrets.token_urlsafe(32)


class TrainingSession(db.Model):
    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN 1 AND 1440", name="duration"),
        CheckConstraint("capacity >= 1", name="capacity"),
        CheckConstraint("expected_attendees >= 0 AND expected_attendees <= capacity", name="attendees"),
        CheckConstraint(
            "teleconference_participants >= 0 AND teleconference_participants <= expected_attendees + 1",
            name="teleconference",
        ),
        CheckConstraint("fee_cents >= 0", name="fee"),
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats_taken"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
        CheckConstraint("status IN ('draft', 'scheduled', 'started', 'cancelled')", name="status"),
        CheckConstraint("audio IN ('none', 'internet', 'toll', 'toll_free', 'callback')", name="audio"),
        Index("ix_training_sessions_organizer_end", "organizer_id", "end_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    public_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_public_token)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_at = mapped_column(UTCDateTime, nullable=False)
    end_at = mapped_column(UTCDateTime, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int]
    capacity: Mapped[int]
    expected_attendees: Mapped[int]
    audio: Mapped[str] = mapped_column(String(20))
    teleconference_participants: Mapped[int] = mapped_column(default=0)
    fee_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Seats held or confirmed: taken with one conditional UPDATE (seats_taken < capacity).
    seats_taken: Mapped[int] = mapped_column(default=0)
    # Pay-per-use: what a draft becomes once paid ("schedule" or "start"), the net amount
    # paid so far, and a refund owed that waits for the payment to settle.
    pending_intent: Mapped[str | None] = mapped_column(String(10))
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_owed_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    # Extra questions on the registration form: "off", "optional" or "required".
    ask_company: Mapped[str] = mapped_column(String(10), default="off")
    ask_phone: Mapped[str] = mapped_column(String(10), default="off")
    # Shown only to confirmed guests.
    meeting_url: Mapped[str] = mapped_column(String(500), default="")
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.DRAFT)
    # The estimate as last computed: inputs, rates in force and totals.
    estimate_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    estimate_snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    cancelled_at = mapped_column(UTCDateTime, nullable=True)

    organizer: Mapped[User] = relationship(lazy="joined")

    def set_times(self, start_at) -> None:
        self.start_at = start_at
        self.end_at = start_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def is_editable(self) -> bool:
        return self.status in (SessionStatus.DRAFT, SessionStatus.SCHEDULED)
