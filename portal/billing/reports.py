"""Pay-per-use reporting: the reimbursement report, department budgets, an organizer's own spend.

Every figure comes from ``SessionCharge`` rows (charges and refunds, attributed to
the organizer's department when the money moved) summed with GROUP BY queries, so
a page costs the same few statements however many rows it shows. Months are UTC
calendar months ("2026-11"), exactly as ``services.department_spend`` counts them.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, case, distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.accounts.models import Department, User
from portal.admin import audit
from portal.billing.models import ChargeKind, DepartmentBudget, Reimbursement, SessionCharge
from portal.billing.services import department_spend
from portal.database import utcnow
from portal.extensions import db
from portal.money import is_known_currency, plain_amount
from portal.trainings.models import TrainingSession

# The report's department filter value for charges whose organizer had no department.
NO_DEPARTMENT = "none"

_PERIOD = re.compile(r"(19|20)\d\d-(0[1-9]|1[0-2])")


class ReportError(Exception):
    """A refused report action; ``code`` is stable, views map it to a message."""

    def __init__(self, code: str, **details):
        super().__init__(code)
        self.code = code
        self.details = details


# -- months ----------------------------------------------------------------------------------------


def is_period(text: str | None) -> bool:
    return isinstance(text, str) and _PERIOD.fullmatch(text) is not None


def month_start(period: str) -> datetime:
    """The first instant (UTC) of a "YYYY-MM" month."""
    if not is_period(period):
        raise ReportError("bad_period")
    return datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=utcnow().tzinfo)


def month_end(period: str) -> datetime:
    """The first instant (UTC) of the month after ``period``."""
    start = month_start(period)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


class month_of(FunctionElement):  # noqa: N801 - a SQL function, named like one
    """The UTC calendar month ("2026-11") of a ``UTCDateTime`` column, on every backend.

    The format is written into the SQL as a literal (not a bound parameter), so
    PostgreSQL sees the same expression in SELECT and GROUP BY.
    """

    type = String()
    name = "month_of"
    inherit_cache = True


@compiles(month_of)
def _month_of_sqlite(element, compiler, **kw):
    # SQLite keeps UTCDateTime as naive UTC text ("2026-11-05 10:00:00.000000").
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(month_of, "postgresql")
def _month_of_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM')"


def _paid_sum():
    return func.coalesce(
        func.sum(case((SessionCharge.kind == ChargeKind.CHARGE, SessionCharge.amount_cents), else_=0)), 0
    )


def _refunded_sum():
    return func.coalesce(
        func.sum(case((SessionCharge.kind == ChargeKind.REFUND, SessionCharge.amount_cents), else_=0)), 0
    )


# -- the reimbursement report ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFilter:
    start: str | None = None  # first month shown, "YYYY-MM"
    end: str | None = None  # last month shown
    department: int | str | None = None  # a department id, NO_DEPARTMENT, or None for all


@dataclass(frozen=True)
class ReimbursementInfo:
    amount_cents: int
    by_id: int
    by_email: str
    by_name: str
    at: datetime


@dataclass(frozen=True)
class ReportRow:
    department_id: int | None  # None: the organizer had no department
    department_name: str | None
    period: str
    currency: str
    sessions: int  # distinct sessions with a charge or a refund in the month
    paid_cents: int
    refunded_cents: int
    reimbursement: ReimbursementInfo | None = None

    @property
    def net_cents(self) -> int:
        return self.paid_cents - self.refunded_cents

    @property
    def reimbursable(self) -> bool:
        return self.department_id is not None and self.reimbursement is None and self.net_cents > 0


@dataclass(frozen=True)
class ReportTotal:
    currency: str
    sessions: int  # distinct sessions over the whole report, not the sum of the rows
    paid_cents: int
    refunded_cents: int
    reimbursed_cents: int

    @property
    def net_cents(self) -> int:
        return self.paid_cents - self.refunded_cents


@dataclass(frozen=True)
class Report:
    rows: list[ReportRow]
    totals: list[ReportTotal]  # one per currency


def _charge_conditions(flt: ReportFilter) -> list:
    conditions = []
    if flt.start:
        conditions.append(SessionCharge.created_at >= month_start(flt.start))
    if flt.end:
        conditions.append(SessionCharge.created_at < month_end(flt.end))
    if flt.department == NO_DEPARTMENT:
        conditions.append(SessionCharge.department_id.is_(None))
    elif flt.department is not None:
        conditions.append(SessionCharge.department_id == flt.department)
    return conditions


def _reimbursements(flt: ReportFilter) -> dict[tuple[int, str, str], ReimbursementInfo]:
    if flt.department == NO_DEPARTMENT:
        return {}
    query = select(
        Reimbursement.department_id,
        Reimbursement.period,
        Reimbursement.currency,
        Reimbursement.amount_cents,
        Reimbursement.reimbursed_at,
        User.id,
        User.email,
        User.name,
    ).join(User, User.id == Reimbursement.reimbursed_by_id)
    if flt.start:
        query = query.where(Reimbursement.period >= flt.start)
    if flt.end:
        query = query.where(Reimbursement.period <= flt.end)
    if flt.department is not None:
        query = query.where(Reimbursement.department_id == flt.department)
    return {
        (dept, period, currency): ReimbursementInfo(int(amount), by_id, email, name or "", at)
        for dept, period, currency, amount, at, by_id, email, name in db.session.execute(query)
    }


def pay_per_use_report(flt: ReportFilter | None = None) -> Report:
    """Per department, month and currency: sessions, paid, refunded, net, reimbursement. Three queries."""
    flt = flt or ReportFilter()
    conditions = _charge_conditions(flt)
    period = month_of(SessionCharge.created_at).label("period")
    grouped = db.session.execute(
        select(
            SessionCharge.department_id,
            Department.name,
            period,
            SessionCharge.currency,
            func.count(distinct(SessionCharge.training_session_id)),
            _paid_sum(),
            _refunded_sum(),
        )
        .outerjoin(Department, Department.id == SessionCharge.department_id)
        .where(*conditions)
        .group_by(SessionCharge.department_id, Department.name, period, SessionCharge.currency)
    ).all()
    reimbursed = _reimbursements(flt)
    rows = [
        ReportRow(
            department_id=dept,
            department_name=name,
            period=month,
            currency=currency,
            sessions=int(sessions),
            paid_cents=int(paid),
            refunded_cents=int(refunded),
            reimbursement=reimbursed.get((dept, month, currency)),
        )
        for dept, name, month, currency, sessions, paid, refunded in grouped
    ]
    # Newest month first; departments by name, "No department" last.
    rows.sort(key=lambda r: (r.department_name is None, r.department_name or "", r.currency))
    rows.sort(key=lambda r: r.period, reverse=True)

    reimbursed_by_currency: dict[str, int] = {}
    for row in rows:
        if row.reimbursement:
            reimbursed_by_currency[row.currency] = (
                reimbursed_by_currency.get(row.currency, 0) + row.reimbursement.amount_cents
            )
    totals = [
        ReportTotal(
            currency=currency,
            sessions=int(sessions),
            paid_cents=int(paid),
            refunded_cents=int(refunded),
            reimbursed_cents=reimbursed_by_currency.get(currency, 0),
        )
        for currency, sessions, paid, refunded in db.session.execute(
            select(
                SessionCharge.currency,
                func.count(distinct(SessionCharge.training_session_id)),
                _paid_sum(),
                _refunded_sum(),
            )
            .where(*conditions)
            .group_by(SessionCharge.currency)
            .order_by(SessionCharge.currency)
        )
    ]
    return Report(rows=rows, totals=totals)


CSV_COLUMNS = [
    "department",
    "period",
    "sessions",
    "paid",
    "refunds",
    "net",
    "currency",
    "reimbursed_amount",
    "reimbursed_by",
    "reimbursed_at",
]


def _text_cell(value: str) -> str:
    """Text that a spreadsheet would run as a formula is kept as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def report_csv(report: Report, no_department: str = "No department", total: str = "Total") -> str:
    """The report's numbers as plain decimals ("1234.50"); the totals last, one row per currency."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        done = row.reimbursement
        writer.writerow(
            [
                _text_cell(row.department_name or no_department),
                row.period,
                row.sessions,
                plain_amount(row.paid_cents, row.currency),
                plain_amount(row.refunded_cents, row.currency),
                plain_amount(row.net_cents, row.currency),
                row.currency,
                plain_amount(done.amount_cents, row.currency) if done else "",
                _text_cell(done.by_email) if done else "",
                done.at.isoformat() if done else "",
            ]
        )
    for line in report.totals:
        writer.writerow(
            [
                total,
                "",
                line.sessions,
                plain_amount(line.paid_cents, line.currency),
                plain_amount(line.refunded_cents, line.currency),
                plain_amount(line.net_cents, line.currency),
                line.currency,
                plain_amount(line.reimbursed_cents, line.currency),
                "",
                "",
            ]
        )
    return out.getvalue()


# -- marking a month reimbursed -------------------------------------------------------------------


def mark_reimbursed(
    department_id: int,
    period: str,
    currency: str,
    actor: User,
    expected_net_cents: int | None = None,
    note: str = "",
) -> Reimbursement:
    """Record that a department's month was reimbursed with its net pay-per-use spend now.

    Once per department, month and currency (a unique constraint settles races).
    ``expected_net_cents`` is the net the administrator saw: if money moved since,
    nothing is recorded and they review the new figure first.
    """
    if not is_period(period) or not is_known_currency(currency):
        raise ReportError("invalid")
    department = db.session.get(Department, department_id)
    if department is None:
        raise ReportError("invalid")
    existing = _existing_reimbursement(department_id, period, currency)
    if existing is not None:
        raise ReportError("already_reimbursed", reimbursement=existing)
    net = department_spend(department_id, period, currency)
    if net <= 0:
        raise ReportError("nothing_to_reimburse")
    if expected_net_cents is not None and expected_net_cents != net:
        raise ReportError("net_changed", net_cents=net)
    record = Reimbursement(
        department_id=department_id,
        period=period,
        currency=currency,
        amount_cents=net,
        reimbursed_by_id=actor.id,
        reimbursed_at=utcnow(),
        note=note[:500],
    )
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise ReportError(
            "already_reimbursed", reimbursement=_existing_reimbursement(department_id, period, currency)
        ) from None
    audit.record(
        "billing.reimbursed",
        record,
        actor=actor,
        department=department.name,
        department_id=department_id,
        period=period,
        currency=currency,
        amount_cents=net,
    )
    db.session.commit()
    return record


def _existing_reimbursement(department_id: int, period: str, currency: str) -> Reimbursement | None:
    return db.session.scalar(
        select(Reimbursement).where(
            Reimbursement.department_id == department_id,
            Reimbursement.period == period,
            Reimbursement.currency == currency,
        )
    )


# -- budgets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    department_id: int
    department_name: str
    period: str
    currency: str
    amount_cents: int
    spent_cents: int

    @property
    def remaining_cents(self) -> int:
        return self.amount_cents - self.spent_cents


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def set_budget(department_id: int, period: str, amount_cents: int | None, currency: str, actor: User) -> str:
    """Set (or with ``None`` remove) a department's budget for a month.

    Returns what happened: ``created``, ``updated``, ``deleted`` or ``unchanged``.
    """
    if not is_period(period) or not is_known_currency(currency):
        raise ReportError("invalid")
    if amount_cents is not None and amount_cents < 0:
        raise ReportError("invalid")
    department = db.session.get(Department, department_id)
    if department is None:
        raise ReportError("invalid")
    budget = _budget(department_id, period)
    if budget is None and amount_cents is not None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    DepartmentBudget(
                        department_id=department_id,
                        period=period,
                        amount_cents=amount_cents,
                        currency=currency,
                    )
                )
        except IntegrityError:
            # Another administrator created it at the same moment: this change updates theirs.
            budget = _budget(department_id, period)
        else:
            _audit_budget("created", department, period, {}, amount_cents, currency, actor)
            db.session.commit()
            return "created"
    if budget is None:
        return "unchanged"
    old = {"amount_cents": budget.amount_cents, "currency": budget.currency}
    if amount_cents is None:
        db.session.delete(budget)
        outcome = "deleted"
    elif old == {"amount_cents": amount_cents, "currency": currency}:
        return "unchanged"
    else:
        budget.amount_cents = amount_cents
        budget.currency = currency
        outcome = "updated"
    _audit_budget(outcome, department, period, old, amount_cents, currency, actor)
    db.session.commit()
    return outcome


def _audit_budget(outcome, department, period, old, amount_cents, currency, actor) -> None:
    new = {"amount_cents": amount_cents, "currency": currency if amount_cents is not None else None}
    audit.record(
        f"billing.budget_{outcome}",
        department,
        actor=actor,
        department=department.name,
        period=period,
        changes=audit.changes(old, new),
    )


def budget_for(department_id: int, period: str) -> DepartmentBudget | None:
    return _budget(department_id, period)


def _budget(department_id: int, period: str) -> DepartmentBudget | None:
    return db.session.scalar(
        select(DepartmentBudget).where(
            DepartmentBudget.department_id == department_id, DepartmentBudget.period == period
        )
    )


def budget_lines() -> list[BudgetLine]:
    """Every budget, newest month first, with what its department spent that month."""
    budgets = db.session.execute(
        select(DepartmentBudget, Department.name)
        .join(Department, Department.id == DepartmentBudget.department_id)
        .order_by(DepartmentBudget.period.desc(), Department.name)
    ).all()
    return [
        BudgetLine(
            department_id=budget.department_id,
            department_name=name,
            period=budget.period,
            currency=budget.currency,
            amount_cents=budget.amount_cents,
            spent_cents=department_spend(budget.department_id, budget.period, budget.currency),
        )
        for budget, name in budgets
    ]


# -- an organizer's own spend ---------------------------------------------------------------------


@dataclass(frozen=True)
class SpendMonth:
    period: str
    currency: str
    sessions: int
    paid_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.paid_cents - self.refunded_cents


@dataclass(frozen=True)
class SpendEntry:
    id: int
    period: str
    created_at: datetime
    kind: str
    amount_cents: int
    currency: str
    training_id: int
    training_title: str
    department_name: str | None


@dataclass(frozen=True)
class Spend:
    months: list[SpendMonth]  # newest first
    totals: list[SpendMonth]  # one per currency; ``period`` is ""
    entries: list[SpendEntry]  # newest first


def organizer_spend(organizer_id: int) -> Spend:
    """One organizer's own pay-per-use charges and refunds, per month and in full. Three queries."""
    mine = SessionCharge.organizer_id == organizer_id
    period = month_of(SessionCharge.created_at).label("period")
    sessions = func.count(distinct(SessionCharge.training_session_id))
    months = [
        SpendMonth(month, currency, int(count), int(paid), int(refunded))
        for month, currency, count, paid, refunded in db.session.execute(
            select(period, SessionCharge.currency, sessions, _paid_sum(), _refunded_sum())
            .where(mine)
            .group_by(period, SessionCharge.currency)
        )
    ]
    months.sort(key=lambda m: m.currency)
    months.sort(key=lambda m: m.period, reverse=True)
    totals = [
        SpendMonth("", currency, int(count), int(paid), int(refunded))
        for currency, count, paid, refunded in db.session.execute(
            select(SessionCharge.currency, sessions, _paid_sum(), _refunded_sum())
            .where(mine)
            .group_by(SessionCharge.currency)
            .order_by(SessionCharge.currency)
        )
    ]
    entries = [
        SpendEntry(
            id=charge_id,
            period=month,
            created_at=created_at,
            kind=kind,
            amount_cents=int(amount),
            currency=currency,
            training_id=training_id,
            training_title=title,
            department_name=department_name,
        )
        for charge_id, month, created_at, kind, amount, currency, training_id, title, department_name in (
            db.session.execute(
                select(
                    SessionCharge.id,
                    period,
                    SessionCharge.created_at,
                    SessionCharge.kind,
                    SessionCharge.amount_cents,
                    SessionCharge.currency,
                    TrainingSession.id,
                    TrainingSession.title,
                    Department.name,
                )
                .join(TrainingSession, TrainingSession.id == SessionCharge.training_session_id)
                .outerjoin(Department, Department.id == SessionCharge.department_id)
                .where(mine)
                .order_by(SessionCharge.created_at.desc(), SessionCharge.id.desc())
            )
        )
    ]
    return Spend(months=months, totals=totals, entries=entries)
