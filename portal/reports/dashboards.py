"""The homes: the admin's day and month with what needs attention; the organizer's upcoming sessions.

Each figure is one grouped query over an indexed column; lists are capped or paged,
so a home costs the same few queries on a site of any size.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.database import utcnow
from portal.extensions import db
from portal.pagination import Page, page_of
from portal.payments.ledger import charged_sum, movements, refunded_sum
from portal.payments.models import Payment, Purpose, Refund, RefundStatus
from portal.payments.status import PAID, PaymentStatus
from portal.registration.models import Registration, RegistrationStatus
from portal.reports.revenue import Figures, figures_by_session
from portal.trainings.models import SessionStatus, TrainingSession

# How many of each kind of trouble the home lists (the count shows them all).
ATTENTION_LIMIT = 10


@dataclass(frozen=True)
class Window:
    """From ``start`` (inclusive) to ``end`` (exclusive), as UTC instants."""

    start: datetime
    end: datetime


def today_and_month(zone: str, now: datetime | None = None) -> tuple[Window, Window]:
    """Today and this calendar month in the viewer's time zone."""
    now = (now or utcnow()).astimezone(ZoneInfo(zone))
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    # Aware arithmetic is wall-clock arithmetic: a day is midnight to midnight even across DST.
    return (
        Window(day, day + timedelta(days=1)),
        Window(month, next_month),
    )


@dataclass
class Activity:
    """What happened in a window, per currency for money."""

    registrations: int = 0
    revenue: dict[str, int] = field(default_factory=dict)  # guest fees taken
    refunds: dict[str, int] = field(default_factory=dict)  # guest fees given back
    pay_per_use: dict[str, int] = field(default_factory=dict)  # pay-per-use charged minus refunded


def activity(window: Window) -> Activity:
    """Two queries: confirmed registrations, and the ledger's counted money grouped by purpose."""
    result = Activity()
    result.registrations = db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.confirmed_at >= window.start,
            Registration.confirmed_at < window.end,
        )
    )
    rows = movements(start=window.start, end=window.end)
    query = select(rows.c.purpose, rows.c.currency, charged_sum(rows), refunded_sum(rows)).group_by(
        rows.c.purpose, rows.c.currency
    )
    for purpose, currency, charged, refunded in db.session.execute(query):
        charged, refunded = int(charged or 0), int(refunded or 0)
        if purpose == Purpose.GUEST_FEE:
            if charged:
                result.revenue[currency] = result.revenue.get(currency, 0) + charged
            if refunded:
                result.refunds[currency] = result.refunds.get(currency, 0) + refunded
        elif purpose == Purpose.PAY_PER_USE and (charged or refunded):
            result.pay_per_use[currency] = result.pay_per_use.get(currency, 0) + charged - refunded
    return result


@dataclass(frozen=True)
class Attention:
    """Money whose fate a person should look at."""

    unknown_payments: list[Payment]
    unknown_count: int
    failed_refunds: list[Refund]
    failed_refund_count: int
    disputes: list[Payment]
    dispute_count: int
    owed_refund_sessions: int

    @property
    def anything(self) -> bool:
        return bool(
            self.unknown_count or self.failed_refund_count or self.dispute_count or self.owed_refund_sessions
        )


def _listed(statement, limit=ATTENTION_LIMIT) -> tuple[list, int]:
    items = db.session.scalars(statement.limit(limit)).all()
    if len(items) < limit:
        return list(items), len(items)
    count = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    return list(items), int(count)


# A refund still "pending" this long after it was asked was interrupted (the process stopped).
STUCK_AFTER = timedelta(minutes=10)


def _refund_in_trouble():
    """Unanswered, interrupted, or failed and not made good since (a later refund of the same payment)."""
    later = aliased(Refund)
    retried = exists().where(
        later.payment_id == Refund.payment_id,
        later.id > Refund.id,
        later.duplicate == Refund.duplicate,
        later.status != RefundStatus.FAILED,
    )
    still_owed = or_(
        Refund.duplicate.is_(True),  # the payer was charged twice: that sale must go back
        and_(Payment.status.in_(sorted(PAID)), Payment.refunded_cents < Payment.amount_cents),
    )
    return or_(
        Refund.status == RefundStatus.UNKNOWN,
        and_(Refund.status == RefundStatus.PENDING, Refund.created_at < utcnow() - STUCK_AFTER),
        and_(Refund.status == RefundStatus.FAILED, ~retried, still_owed),
    )


def attention() -> Attention:
    unknown, unknown_count = _listed(
        select(Payment).where(Payment.status == PaymentStatus.UNKNOWN).order_by(Payment.id)
    )
    failed, failed_count = _listed(
        select(Refund).join(Payment).where(_refund_in_trouble()).order_by(Refund.id.desc())
    )
    disputes, dispute_count = _listed(
        select(Payment).where(Payment.status == PaymentStatus.DISPUTED).order_by(Payment.id.desc())
    )
    owed = db.session.scalar(
        select(func.count()).select_from(TrainingSession).where(TrainingSession.refund_owed_cents > 0)
    )
    return Attention(unknown, unknown_count, failed, failed_count, disputes, dispute_count, int(owed))


@dataclass(frozen=True)
class UpcomingSession:
    training: TrainingSession
    figures: Figures

    @property
    def seats_left(self) -> int:
        return max(self.training.capacity - self.training.seats_taken, 0)


def upcoming_sessions(organizer_id: int) -> Page:
    """The organizer's sessions still to come (or running), soonest first, with their figures."""
    page = page_of(
        select(TrainingSession)
        .where(
            TrainingSession.organizer_id == organizer_id,
            TrainingSession.end_at > utcnow(),
            TrainingSession.status != SessionStatus.CANCELLED,
        )
        .order_by(TrainingSession.start_at, TrainingSession.id)
    )
    figures = figures_by_session([training.id for training in page.items])
    items = [UpcomingSession(training, figures[training.id]) for training in page.items]
    return Page(items=items, page=page.page, per_page=page.per_page, total=page.total)
