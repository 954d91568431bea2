from enum import StrEnum

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Department, User
from portal.database import UTCDateTime, utcnow
from portal.extensions import db
from portal.payments.models import Payment
from portal.trainings.models import TrainingSession


class ChargeKind(StrEnum):
    CHARGE = "charge"  # a pay-per-use payment (the first, or a difference after an edit)
    REFUND = "refund"  # money given back (a lower estimate, a cancelled session)


class SessionCharge(db.Model):
    """Pay-per-use money for one session, attributed to the organizer's department when it moved.

    Each row keeps what it paid for: the estimate's inputs and the rates in force
    (``snapshot``), so a later rate change never rewrites it.
    """

    __tablename__ = "session_charges"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint("kind IN ('charge', 'refund')", name="kind"),
        Index("ix_session_charges_department_at", "department_id", "created_at"),
        # A payment is recorded as a charge once, however many callers learn it was paid.
        Index(
            "uq_session_charges_charge_payment",
            "payment_id",
            unique=True,
            sqlite_where=db.text("kind = 'charge'"),
            postgresql_where=db.text("kind = 'charge'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), index=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"))
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    training: Mapped[TrainingSession] = relationship()
    payment: Mapped[Payment] = relationship()
    department: Mapped[Department | None] = relationship()
    organizer: Mapped[User] = relationship()


class DepartmentBudget(db.Model):
    """What a department may spend on pay-per-use in one calendar month ("2026-11")."""

    __tablename__ = "department_budgets"
    __table_args__ = (
        UniqueConstraint("department_id", "period", name="uq_department_budgets_department_period"),
        CheckConstraint("amount_cents >= 0", name="amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    period: Mapped[str] = mapped_column(String(7))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))

    department: Mapped[Department] = relationship()


class Reimbursement(db.Model):
    """An administrator marked a department's month as reimbursed: who, when, how much."""

    __tablename__ = "reimbursements"
    __table_args__ = (
        UniqueConstraint("department_id", "period", "currency", name="uq_reimbursements_department_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    period: Mapped[str] = mapped_column(String(7))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reimbursed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reimbursed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    note: Mapped[str] = mapped_column(String(500), default="")

    department: Mapped[Department] = relationship()
    reimbursed_by: Mapped[User] = relationship()
