"""The payments ledger: every payment attempt and every refund or void, as rows of money movements.

A row is a ``payment`` (positive amount, dated when paid, else when opened) or a
``refund``/``void`` (negative, dated when asked). Totals count only money that
moved: a sale that was taken (including one later refunded or voided) and a
refund or void that did not fail (a reservation or an unanswered one included,
exactly as the payment's ``refunded_cents`` counts it). A duplicate sale found by
the reconciler and given back is not ours: neither it nor its give-back is shown.

Everything is one UNION ALL filtered, grouped and sliced in SQL: a page costs the
same few queries however many rows it shows, and the CSV streams.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, String, case, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.database import stream_rows
from portal.extensions import db
from portal.money import plain_amount
from portal.payments.models import Payment, Refund, RefundStatus
from portal.payments.status import PAID, PaymentStatus
from portal.trainings.models import TrainingSession

# A sale counts once the money was taken, whatever happened to it afterwards.
TAKEN = PAID | {PaymentStatus.REFUNDED, PaymentStatus.VOIDED}
# A refund counts unless it failed: the payment reserves it from the moment it is asked.
GIVEN_BACK = (RefundStatus.PENDING, RefundStatus.UNKNOWN, RefundStatus.SUCCEEDED)

KINDS = ("payment", "refund", "void")


@dataclass(frozen=True)
class LedgerFilter:
    start: date | None = None  # first day (UTC), inclusive
    end: date | None = None  # last day (UTC), inclusive
    purpose: str | None = None
    status: str | None = None  # the payment's status (its refunds follow it)
    method: str | None = None
    kind: str | None = None  # "payment", "refund" or "void"
    training_session_id: int | None = None
    organizer_id: int | None = None


@dataclass(frozen=True)
class LedgerTotal:
    currency: str
    payments: int  # sales counted
    charged_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.charged_cents - self.refunded_cents


def movements():
    """Every ledger row, unfiltered, as a subquery."""
    sales = select(
        literal("payment", String).label("kind"),
        Payment.id.label("payment_id"),
        null().cast(Integer).label("refund_id"),
        func.coalesce(Payment.paid_at, Payment.created_at).label("at"),
        Payment.purpose.label("purpose"),
        Payment.status.label("payment_status"),
        Payment.status.label("status"),
        Payment.method.label("method"),
        Payment.card_brand.label("card_brand"),
        Payment.card_last4.label("card_last4"),
        Payment.paypal_email.label("paypal_email"),
        Payment.dispute_status.label("dispute_status"),
        Payment.training_session_id.label("training_session_id"),
        Payment.organizer_id.label("organizer_id"),
        Payment.amount_cents.label("amount_cents"),
        Payment.currency.label("currency"),
        case((Payment.status.in_(TAKEN), 1), else_=0).label("counted"),
    )
    given_back = (
        select(
            Refund.kind.label("kind"),
            Refund.payment_id.label("payment_id"),
            Refund.id.label("refund_id"),
            Refund.created_at.label("at"),
            Payment.purpose.label("purpose"),
            Payment.status.label("payment_status"),
            Refund.status.label("status"),
            Payment.method.label("method"),
            Payment.card_brand.label("card_brand"),
            Payment.card_last4.label("card_last4"),
            Payment.paypal_email.label("paypal_email"),
            Payment.dispute_status.label("dispute_status"),
            Payment.training_session_id.label("training_session_id"),
            Payment.organizer_id.label("organizer_id"),
            (-Refund.amount_cents).label("amount_cents"),
            Refund.currency.label("currency"),
            case((Refund.status.in_(GIVEN_BACK), 1), else_=0).label("counted"),
        )
        .join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.duplicate.is_(False))
    )
    return union_all(sales, given_back).subquery("movements")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filtered(flt: LedgerFilter):
    rows = movements()
    conditions = []
    if flt.start:
        conditions.append(rows.c.at >= _day_start(flt.start))
    if flt.end:
        conditions.append(rows.c.at < _day_start(flt.end + timedelta(days=1)))
    for column, value in (
        (rows.c.purpose, flt.purpose),
        (rows.c.payment_status, flt.status),
        (rows.c.method, flt.method),
        (rows.c.kind, flt.kind),
        (rows.c.training_session_id, flt.training_session_id),
        (rows.c.organizer_id, flt.organizer_id),
    ):
        if value is not None:
            conditions.append(column == value)
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
        ]


def _iso(moment) -> str:
    if isinstance(moment, str):  # a UNION's column loses the UTCDateTime type on SQLite
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()
