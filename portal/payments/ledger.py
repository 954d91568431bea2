"""The payments ledger: every payment attempt, refund, void and chargeback, as rows of money movements.

A row is a ``payment`` (positive amount, dated when paid, else when opened), a
``refund``/``void`` (negative, dated when asked) or a ``chargeback`` (negative: a
lost dispute, the bank took back what was not refunded). Totals count only money
that moved:
- a sale that was taken, including one later refunded, or voided by us (its void
  row then gives it back); a sale voided at the gateway without a void of ours never
  moved money;
- a refund or void that did not fail: a reservation or an unanswered one included,
  exactly as the payment's ``refunded_cents`` counts it;
- every chargeback.
A duplicate sale found by the reconciler and given back is not ours: neither it nor
its give-back is shown (the admin home lists one still to give back).

Everything is one UNION ALL filtered, grouped and sliced in SQL: a page costs the
same few queries however many rows it shows, and the CSV streams.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, and_, case, exists, func, literal, null, or_, select, union_all
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.database import stream_rows
from portal.extensions import db
from portal.money import plain_amount
from portal.payments.models import CHARGED_BACK, Payment, Refund, RefundKind, RefundStatus
from portal.payments.status import PAID, PaymentStatus
from portal.trainings.models import TrainingSession

# A refund counts unless it failed: the payment reserves it from the moment it is asked.
GIVEN_BACK = (RefundStatus.PENDING, RefundStatus.UNKNOWN, RefundStatus.SUCCEEDED)

KINDS = ("payment", "refund", "void", "chargeback")


@dataclass(frozen=True)
class LedgerFilter:
    start: date | None = None  # first day, inclusive
    end: date | None = None  # last day, inclusive
    purpose: str | None = None
    status: str | None = None  # the payment's status (its refunds follow it)
    method: str | None = None
    kind: str | None = None  # "payment", "refund" or "void"
    training_session_id: int | None = None
    organizer_id: int | None = None
    zone: str = "UTC"  # the days' time zone (the viewer's)


@dataclass(frozen=True)
class LedgerTotal:
    currency: str
    payments: int  # sales counted
    charged_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.charged_cents - self.refunded_cents


def _columns():
    """The columns every branch shares, from the payment."""
    return (
        Payment.purpose.label("purpose"),
        Payment.status.label("payment_status"),
        Payment.method.label("method"),
        Payment.card_brand.label("card_brand"),
        Payment.card_last4.label("card_last4"),
        Payment.paypal_email.label("paypal_email"),
        Payment.dispute_status.label("dispute_status"),
        Payment.training_session_id.label("training_session_id"),
        Payment.organizer_id.label("organizer_id"),
        Payment.gateway.label("gateway"),
    )


def _between(column, start: datetime | None, end: datetime | None) -> list:
    return [c for c in (start and column >= start, end and column < end) if c is not None]


def movements(payments_where=(), start: datetime | None = None, end: datetime | None = None):
    """Every ledger row as a subquery: sales, refunds and voids, chargebacks.

    ``payments_where`` (conditions on ``Payment``) and the ``start``/``end`` window
    (each row's own date) are applied inside every branch, where indexes can serve them.
    """
    voided_by_us = exists().where(
        Refund.payment_id == Payment.id,
        Refund.kind == RefundKind.VOID,
        Refund.status.in_(GIVEN_BACK),
        Refund.duplicate.is_(False),
    )
    sale_at = func.coalesce(Payment.paid_at, Payment.created_at)
    sale_window = []
    if start or end:
        # The same as a window on ``sale_at``, written so the two indexes can answer it.
        sale_window = [
            or_(
                and_(*_between(Payment.paid_at, start, end)),
                and_(Payment.paid_at.is_(None), *_between(Payment.created_at, start, end)),
            )
        ]
    sales = select(
        literal("payment", String).label("kind"),
        Payment.id.label("payment_id"),
        null().cast(Integer).label("refund_id"),
        sale_at.label("at"),
        Payment.status.label("status"),
        *_columns(),
        Payment.amount_cents.label("amount_cents"),
        Payment.currency.label("currency"),
        # A sale voided at the gateway behind our back (no void of ours) never moved money.
        case((Payment.status.in_(PAID | {PaymentStatus.REFUNDED}), 1), (voided_by_us, 1), else_=0).label(
            "counted"
        ),
    ).where(*payments_where, *sale_window)
    given_back = (
        select(
            Refund.kind.label("kind"),
            Refund.payment_id.label("payment_id"),
            Refund.id.label("refund_id"),
            Refund.created_at.label("at"),
            Refund.status.label("status"),
            *_columns(),
            (-Refund.amount_cents).label("amount_cents"),
            Refund.currency.label("currency"),
            case((Refund.status.in_(GIVEN_BACK), 1), else_=0).label("counted"),
        )
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.duplicate.is_(False), *payments_where, *_between(Refund.created_at, start, end))
    )
    # A lost dispute: the bank took back what had not been refunded.
    chargebacks = select(
        literal("chargeback", String).label("kind"),
        Payment.id.label("payment_id"),
        null().cast(Integer).label("refund_id"),
        Payment.dispute_updated_at.label("at"),
        Payment.dispute_status.label("status"),
        *_columns(),
        (Payment.refunded_cents - Payment.amount_cents).label("amount_cents"),
        Payment.currency.label("currency"),
        literal(1, Integer).label("counted"),
    ).where(
        Payment.dispute_status.in_(sorted(CHARGED_BACK)),
        Payment.amount_cents > Payment.refunded_cents,
        *payments_where,
        *_between(Payment.dispute_updated_at, start, end),
    )
    return union_all(sales, given_back, chargebacks).subquery("movements")


def day_start(day: date, zone: str) -> datetime:
    """Midnight of ``day`` in ``zone``, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def _filtered(flt: LedgerFilter):
    payments_where = [
        column == value
        for column, value in (
            (Payment.purpose, flt.purpose),
            (Payment.status, flt.status),
            (Payment.method, flt.method),
            (Payment.training_session_id, flt.training_session_id),
            (Payment.organizer_id, flt.organizer_id),
        )
        if value is not None
    ]
    rows = movements(
        payments_where,
        start=day_start(flt.start, flt.zone) if flt.start else None,
        end=day_start(flt.end + timedelta(days=1), flt.zone) if flt.end else None,
    )
    conditions = [rows.c.kind == flt.kind] if flt.kind else []
    return rows, conditions


def ledger_rows(flt: LedgerFilter):
    """The filtered rows, newest first, with the session's title and the organizer's email."""
    rows, conditions = _filtered(flt)
    organizer = aliased(User)
    return (
        select(rows, TrainingSession.title.label("session_title"), organizer.email.label("organizer_email"))
        .outerjoin(TrainingSession, TrainingSession.id == rows.c.training_session_id)
        .outerjoin(organizer, organizer.id == rows.c.organizer_id)
        .where(*conditions)
        .order_by(rows.c.at.desc(), rows.c.payment_id.desc(), rows.c.refund_id.desc())
    )


def charged_sum(rows):
    """SQL: the money taken among ``rows`` (a ``movements()`` subquery)."""
    counted = (rows.c.counted == 1) & (rows.c.amount_cents > 0)
    return func.coalesce(func.sum(case((counted, rows.c.amount_cents), else_=0)), 0)


def refunded_sum(rows):
    """SQL: the money given back among ``rows``, as a positive amount."""
    counted = (rows.c.counted == 1) & (rows.c.amount_cents < 0)
    return func.coalesce(func.sum(case((counted, -rows.c.amount_cents), else_=0)), 0)


def totals(flt: LedgerFilter) -> list[LedgerTotal]:
    """Money that moved under the filter, per currency: one query."""
    rows, conditions = _filtered(flt)
    sales = case(((rows.c.counted == 1) & (rows.c.kind == "payment"), 1), else_=0)
    query = (
        select(rows.c.currency, func.sum(sales), charged_sum(rows), refunded_sum(rows))
        .where(*conditions)
        .group_by(rows.c.currency)
        .order_by(rows.c.currency)
    )
    return [
        LedgerTotal(currency, int(count or 0), int(paid or 0), int(back or 0))
        for currency, count, paid, back in db.session.execute(query)
    ]


CSV_HEADER = [
    "kind",
    "payment_id",
    "refund_id",
    "at",
    "purpose",
    "payment_status",
    "status",
    "method",
    "session_id",
    "session",
    "organizer",
    "amount",
    "currency",
    "counted",
    "gateway",
]


def csv_rows(flt: LedgerFilter) -> Iterator[list]:
    """The filtered rows for a CSV, streamed from a read-only connection."""
    for row in stream_rows(ledger_rows(flt)):
        yield [
            row.kind,
            row.payment_id,
            row.refund_id,
            _iso(row.at),
            row.purpose,
            row.payment_status,
            row.status,
            row.method,
            row.training_session_id,
            row.session_title,
            row.organizer_email,
            plain_amount(row.amount_cents, row.currency),
            row.currency,
            "yes" if row.counted else "no",
            row.gateway,
        ]


def _iso(moment) -> str:
    if isinstance(moment, str):  # a UNION's column loses the UTCDateTime type on SQLite
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
