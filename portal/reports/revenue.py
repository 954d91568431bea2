"""Guest-fee revenue per session and per organizer, from the same money movements as the ledger.

Gross and refunds are the ledger's counted rows for guest fees (``payments.ledger``),
so the per-session report and the ledger agree to the cent by construction; discounts
and registrations come from the confirmed registrations. A page is a page of sessions
(or organizers) read first, then the figures for just those ids: the same few queries
whether the site has ten sessions or ten thousand.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, distinct, exists, func, or_, select

from portal.accounts.models import User
from portal.database import stream_rows
from portal.extensions import db
from portal.pagination import Page, page_of
from portal.payments.ledger import charged_sum, day_start, movements, refunded_sum
from portal.payments.models import Payment, Purpose
from portal.registration.models import Registration, RegistrationStatus
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus


@dataclass(frozen=True)
class RevenueFilter:
    start: date | None = None  # sessions starting on or after this day
    end: date | None = None  # ... and on or before this one
    organizer_id: int | None = None
    zone: str = "UTC"  # the days' time zone (the viewer's)


@dataclass(frozen=True)
class Figures:
    registrations: int = 0  # confirmed
    gross_cents: int = 0
    discount_cents: int = 0
    refunded_cents: int = 0

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.refunded_cents


@dataclass(frozen=True)
class SessionRevenue:
    id: int
    title: str
    start_at: datetime
    status: str
    currency: str
    organizer_email: str
    figures: Figures


@dataclass(frozen=True)
class OrganizerRevenue:
    id: int
    email: str
    name: str
    currency: str
    sessions: int
    figures: Figures


@dataclass(frozen=True)
class RevenueTotal:
    currency: str
    sessions: int
    figures: Figures


def _guest_money(session_ids):
    """Per session: guest fees charged and refunded (counted ledger rows), for some sessions.

    ``session_ids``: a list of ids, or a SELECT of them.
    """
    rows = movements([Payment.purpose == Purpose.GUEST_FEE, Payment.training_session_id.in_(session_ids)])
    return select(
        rows.c.training_session_id.label("training_session_id"),
        charged_sum(rows).label("gross"),
        refunded_sum(rows).label("refunded"),
    ).group_by(rows.c.training_session_id)


def _registrations():
    """Per session: confirmed registrations and the discounts they were given."""
    confirmed = Registration.status == RegistrationStatus.CONFIRMED
    return select(
        Registration.training_session_id.label("training_session_id"),
        func.sum(case((confirmed, 1), else_=0)).label("registrations"),
        func.sum(case((confirmed, Registration.discount_cents), else_=0)).label("discounts"),
    ).group_by(Registration.training_session_id)


def _sessions_in_report(flt: RevenueFilter):
    """Sessions with a guest fee or a guest payment, filtered by start day and organizer.

    An unpaid pay-per-use draft is not published: no guest could pay its fee yet.
    """
    # Per session (the session's payments index), not a list of every session ever paid for.
    has_payments = exists().where(
        Payment.training_session_id == TrainingSession.id, Payment.purpose == Purpose.GUEST_FEE
    )
    published_with_fee = (TrainingSession.fee_cents > 0) & (TrainingSession.status != SessionStatus.DRAFT)
    conditions = [or_(published_with_fee, has_payments)]
    if flt.start:
        conditions.append(TrainingSession.start_at >= day_start(flt.start, flt.zone))
    if flt.end:
        conditions.append(TrainingSession.start_at < day_start(flt.end + timedelta(days=1), flt.zone))
    if flt.organizer_id is not None:
        conditions.append(TrainingSession.organizer_id == flt.organizer_id)
    return conditions


def figures_by_session(session_ids: list[int]) -> dict[int, Figures]:
    if not session_ids:
        return {}
    found: dict[int, dict] = {sid: {} for sid in session_ids}
    for sid, gross, refunded in db.session.execute(_guest_money(session_ids)):
        found[sid].update(gross_cents=int(gross or 0), refunded_cents=int(refunded or 0))
    regs = _registrations().where(Registration.training_session_id.in_(session_ids)).subquery()
    for sid, count, discounts in db.session.execute(
        select(regs.c.training_session_id, regs.c.registrations, regs.c.discounts)
    ):
        found[sid].update(registrations=int(count or 0), discount_cents=int(discounts or 0))
    return {sid: Figures(**values) for sid, values in found.items()}


def sessions_page(flt: RevenueFilter) -> Page:
    """A page of sessions (newest start first) with their figures: four queries."""
    page = page_of(
        select(TrainingSession)
        .where(*_sessions_in_report(flt))
        .order_by(TrainingSession.start_at.desc(), TrainingSession.id.desc())
    )
    figures = figures_by_session([training.id for training in page.items])
    items = [
        SessionRevenue(
            id=training.id,
            title=training.title,
            start_at=training.start_at,
            status=training.status,
            currency=training.currency,
            organizer_email=training.organizer.email,
            figures=figures[training.id],
        )
        for training in page.items
    ]
    return Page(items=items, page=page.page, per_page=page.per_page, total=page.total)


def _per_session_figures(flt: RevenueFilter, organizer_ids: list[int] | None = None):
    """One row per session in the report with all its figures (for totals and per-organizer sums).

    The sums read only the sessions in the report (of ``organizer_ids`` only, when given): a
    filtered report, or a page of organizers, costs what it shows.
    """
    conditions = _sessions_in_report(flt)
    if organizer_ids is not None:
        conditions.append(TrainingSession.organizer_id.in_(organizer_ids))
    in_report = select(TrainingSession.id).where(*conditions)
    money = _guest_money(in_report).subquery()
    regs = _registrations().where(Registration.training_session_id.in_(in_report)).subquery()
    return (
        select(
            TrainingSession.id.label("training_session_id"),
            TrainingSession.organizer_id.label("organizer_id"),
            TrainingSession.currency.label("currency"),
            func.coalesce(regs.c.registrations, 0).label("registrations"),
            func.coalesce(money.c.gross, 0).label("gross"),
            func.coalesce(regs.c.discounts, 0).label("discounts"),
            func.coalesce(money.c.refunded, 0).label("refunded"),
        )
        .outerjoin(money, money.c.training_session_id == TrainingSession.id)
        .outerjoin(regs, regs.c.training_session_id == TrainingSession.id)
        .where(*conditions)
        .subquery()
    )


def _sums(rows):
    return (
        func.count(distinct(rows.c.training_session_id)),
        func.sum(rows.c.registrations),
        func.sum(rows.c.gross),
        func.sum(rows.c.discounts),
        func.sum(rows.c.refunded),
    )


def _figures(registrations, gross, discounts, refunded) -> Figures:
    return Figures(
        registrations=int(registrations or 0),
        gross_cents=int(gross or 0),
        discount_cents=int(discounts or 0),
        refunded_cents=int(refunded or 0),
    )


def totals(flt: RevenueFilter) -> list[RevenueTotal]:
    """The report's totals per currency: one query."""
    rows = _per_session_figures(flt)
    query = select(rows.c.currency, *_sums(rows)).group_by(rows.c.currency).order_by(rows.c.currency)
    return [
        RevenueTotal(currency=currency, sessions=int(count), figures=_figures(*values))
        for currency, count, *values in db.session.execute(query)
    ]


def organizers_page(flt: RevenueFilter) -> Page:
    """Per organizer and currency: sessions and summed figures (three queries).

    The page of organizers comes from their sessions alone; the money and registrations
    are summed for that page's organizers only, not for the whole site.
    """
    pairs = (
        select(User.id, User.email, User.name, TrainingSession.currency)
        .join(TrainingSession, TrainingSession.organizer_id == User.id)
        .where(*_sessions_in_report(flt))
        .group_by(User.id, User.email, User.name, TrainingSession.currency)
        .order_by(User.email, TrainingSession.currency)
    )
    page = page_of(pairs, rows=True)
    rows = _per_session_figures(flt, organizer_ids=sorted({row.id for row in page.items}))
    sums = {
        (organizer_id, currency): (int(count), _figures(*values))
        for organizer_id, currency, count, *values in db.session.execute(
            select(rows.c.organizer_id, rows.c.currency, *_sums(rows)).group_by(
                rows.c.organizer_id, rows.c.currency
            )
        )
    }
    items = [
        OrganizerRevenue(user_id, email, name or "", currency, *sums[(user_id, currency)])
        for user_id, email, name, currency in page.items
    ]
    return Page(items=items, page=page.page, per_page=page.per_page, total=page.total)


def session_rows_for_csv(flt: RevenueFilter):
    """Every session of the report with its figures, streamed (for the CSV)."""
    rows = _per_session_figures(flt)
    query = (
        select(
            TrainingSession.id,
            TrainingSession.title,
            TrainingSession.start_at,
            TrainingSession.status,
            User.email,
            rows.c.currency,
            rows.c.registrations,
            rows.c.gross,
            rows.c.discounts,
            rows.c.refunded,
        )
        .join(rows, rows.c.training_session_id == TrainingSession.id)
        .join(User, User.id == TrainingSession.organizer_id)
        .order_by(TrainingSession.start_at.desc(), TrainingSession.id.desc())
    )
    for (
        sid,
        title,
        start_at,
        status,
        email,
        currency,
        registrations,
        gross,
        discounts,
        refunded,
    ) in stream_rows(query):
        yield (
            SessionRevenue(
                id=sid,
                title=title,
                start_at=start_at,
                status=status,
                currency=currency,
                organizer_email=email,
                figures=_figures(registrations, gross, discounts, refunded),
            )
        )
