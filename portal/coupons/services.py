"""Coupons: administration, bulk codes, distribution, prepaid coupons and redemption.

Redemption follows the money-safety rules: a use is taken with one conditional
UPDATE (``uses < max_uses``), never by counting and then inserting, so
concurrent checkouts can never redeem more than the maximum, per coupon or per
email, on SQLite and PostgreSQL alike.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from portal.accounts.models import User
from portal.admin import audit
from portal.coupons import rules
from portal.coupons.models import (
    Coupon,
    CouponDelivery,
    CouponEmailUse,
    CouponRedemption,
    Prepayment,
    RedemptionStatus,
)
from portal.csvutil import row as csv_row
from portal.database import stream_objects, stream_rows, utcnow
from portal.extensions import db
from portal.mail import services as mail
from portal.money import parse_amount, plain_amount
from portal.trainings.models import TrainingSession


class CouponServiceError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


# -- reading ---------------------------------------------------------------------


def find_coupon(code: str) -> Coupon | None:
    normalized = rules.normalize_code(code)
    if not normalized or len(normalized) > 40:
        return None
    return db.session.scalar(select(Coupon).where(Coupon.code == normalized))


def terms_of(coupon: Coupon, email: str = "") -> rules.CouponTerms:
    uses_by_email = 0
    if coupon.max_uses_per_email and email:
        uses_by_email = (
            db.session.scalar(
                select(CouponEmailUse.uses).where(
                    CouponEmailUse.coupon_id == coupon.id,
                    CouponEmailUse.email == rules.normalize_email(email),
                )
            )
            or 0
        )
    return rules.CouponTerms(
        code=coupon.code,
        kind=rules.DiscountKind(coupon.kind),
        max_uses=coupon.max_uses,
        percent=coupon.percent,
        amount_cents=coupon.amount_cents,
        currency=coupon.currency,
        active=coupon.active,
        uses=coupon.uses,
        max_uses_per_email=coupon.max_uses_per_email,
        uses_by_email=uses_by_email,
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        session_ids=frozenset(s.id for s in coupon.sessions) if coupon.sessions else None,
        organizer_id=coupon.organizer_id,
        bound_email=coupon.bound_email,
    )


def facts_for(training: TrainingSession, price_cents: int | None = None) -> rules.SessionFacts:
    return rules.SessionFacts(
        session_id=training.id,
        organizer_id=training.organizer_id,
        price_cents=training.fee_cents if price_cents is None else price_cents,
        currency=training.currency,
    )


def check(code: str, training: TrainingSession, email: str, moment: datetime | None = None):
    """What ``code`` would do for this guest now: a ``Discount`` or a ``Rejection`` (nothing is taken)."""
    coupon = find_coupon(code)
    terms = terms_of(coupon, email) if coupon else None
    return rules.evaluate(terms, facts_for(training), email, moment or utcnow())


# -- redemption ------------------------------------------------------------------


def reserve(
    code: str,
    training: TrainingSession,
    email: str,
    reference: str,
    moment: datetime | None = None,
    price_cents: int | None = None,
) -> CouponRedemption | rules.Rejection:
    """Take one use of the coupon for ``reference`` (a registration), in the caller's transaction.

    Returns the reserved redemption, or the ``Rejection`` that explains why not;
    the caller commits together with its seat hold. A use the reference already
    holds is given back first (inside the same savepoint), so re-applying a code
    never takes two uses and a refused code leaves the previous one in place.
    """
    email = rules.normalize_email(email)
    coupon = find_coupon(code)
    held = live_redemption(reference)
    if coupon is not None and held is not None and held.coupon_id == coupon.id:
        # The same code again: its use is this reference's already (counting it as taken, a last
        # use would read "used up").
        return held
    terms = terms_of(coupon, email) if coupon else None
    outcome = rules.evaluate(terms, facts_for(training, price_cents), email, moment or utcnow())
    if isinstance(outcome, rules.Rejection):
        return outcome
    savepoint = db.session.begin_nested()
    release(reference)
    taken = db.session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.active.is_(True), Coupon.uses < Coupon.max_uses)
        .values(uses=Coupon.uses + 1)
    ).rowcount
    if not taken:
        savepoint.rollback()
        return rules.Rejection(rules.RejectReason.USED_UP)
    if coupon.max_uses_per_email and not _take_email_use(coupon.id, email, coupon.max_uses_per_email):
        savepoint.rollback()
        return rules.Rejection(rules.RejectReason.USED_UP_FOR_EMAIL)
    redemption = CouponRedemption(
        coupon_id=coupon.id,
        reference=reference,
        email=email,
        price_cents=outcome.price_cents,
        discount_cents=outcome.discount_cents,
        currency=outcome.currency,
        status=RedemptionStatus.RESERVED,
    )
    db.session.add(redemption)
    savepoint.commit()
    return redemption


def _take_email_use(coupon_id: int, email: str, limit: int) -> bool:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(CouponEmailUse).values(coupon_id=coupon_id, email=email, uses=0).on_conflict_do_nothing()
    )
    return bool(
        db.session.execute(
            update(CouponEmailUse)
            .where(
                CouponEmailUse.coupon_id == coupon_id,
                CouponEmailUse.email == email,
                CouponEmailUse.uses < limit,
            )
            .values(uses=CouponEmailUse.uses + 1)
        ).rowcount
    )


def live_redemption(reference: str) -> CouponRedemption | None:
    return db.session.scalar(
        select(CouponRedemption).where(
            CouponRedemption.reference == reference,
            CouponRedemption.status.in_([RedemptionStatus.RESERVED, RedemptionStatus.COMMITTED]),
        )
    )


def commit(reference: str) -> bool:
    """The registration is confirmed: its reserved use becomes permanent (caller's transaction)."""
    return bool(
        db.session.execute(
            update(CouponRedemption)
            .where(
                CouponRedemption.reference == reference, CouponRedemption.status == RedemptionStatus.RESERVED
            )
            .values(status=RedemptionStatus.COMMITTED, committed_at=utcnow())
        ).rowcount
    )


def release(reference: str, committed_too: bool = False) -> bool:
    """Give a use back: a reserved one (hold expired, payment failed, cancelled before paying),
    or with ``committed_too`` a committed one (the registration was cancelled).

    The status change is conditional, so a use is given back at most once even
    when the hold expiry and a cancellation race.
    """
    statuses = [RedemptionStatus.RESERVED] + ([RedemptionStatus.COMMITTED] if committed_too else [])
    redemption = db.session.scalar(
        select(CouponRedemption).where(
            CouponRedemption.reference == reference, CouponRedemption.status.in_(statuses)
        )
    )
    if redemption is None:
        return False
    released = db.session.execute(
        update(CouponRedemption)
        .where(CouponRedemption.id == redemption.id, CouponRedemption.status == redemption.status)
        .values(status=RedemptionStatus.RELEASED, released_at=utcnow())
    ).rowcount
    if not released:
        return False
    db.session.execute(
        update(Coupon).where(Coupon.id == redemption.coupon_id, Coupon.uses > 0).values(uses=Coupon.uses - 1)
    )
    db.session.execute(
        update(CouponEmailUse)
        .where(
            CouponEmailUse.coupon_id == redemption.coupon_id,
            CouponEmailUse.email == redemption.email,
            CouponEmailUse.uses > 0,
        )
        .values(uses=CouponEmailUse.uses - 1)
    )
    return True


# -- administration --------------------------------------------------------------


@dataclass
class CouponInput:
    """What an administrator (or organizer) typed; ``code`` empty means generate one."""

    kind: str
    code: str = ""
    percent: Decimal | None = None
    amount_cents: int | None = None
    currency: str | None = None
    max_uses: int = 1
    max_uses_per_email: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    session_ids: list[int] = field(default_factory=list)
    organizer_id: int | None = None
    bound_email: str | None = None
    batch: str = ""
    note: str = ""
    active: bool = True


FIELDS = (
    "kind",
    "percent",
    "amount_cents",
    "currency",
    "max_uses",
    "max_uses_per_email",
    "valid_from",
    "valid_until",
    "organizer_id",
    "bound_email",
    "batch",
    "note",
    "active",
)


def can_manage(user: User, coupon: Coupon) -> bool:
    """Admins manage every coupon; an organizer only those restricted to their own sessions."""
    return user.is_admin or (coupon.organizer_id is not None and coupon.organizer_id == user.id)


def coupons_for(user: User):
    query = select(Coupon)
    if not user.is_admin:
        query = query.where(Coupon.organizer_id == user.id)
    return query


def _validate(data: CouponInput, actor: User, coupon: Coupon | None = None) -> None:
    kind = rules.DiscountKind(data.kind)
    value = {rules.DiscountKind.PERCENT: data.percent, rules.DiscountKind.FIXED: data.amount_cents}.get(kind)
    errors = rules.validate_terms(
        kind,
        value,
        currency=data.currency,
        max_uses=data.max_uses,
        max_uses_per_email=data.max_uses_per_email,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
    )
    if errors:
        raise CouponServiceError(errors[0])
    if coupon is not None and data.max_uses < coupon.uses:
        raise CouponServiceError("max_uses_below_redemptions", str(coupon.uses))
    if not actor.is_admin and data.organizer_id != actor.id:
        raise CouponServiceError("organizer_restriction_required")
    if any(not 1 <= session_id < 2**31 for session_id in data.session_ids):
        raise CouponServiceError("unknown_session")
    if data.session_ids:
        owners = set(
            db.session.scalars(
                select(TrainingSession.organizer_id).where(TrainingSession.id.in_(data.session_ids))
            )
        )
        found = db.session.scalar(
            select(func.count()).select_from(TrainingSession).where(TrainingSession.id.in_(data.session_ids))
        )
        if found != len(set(data.session_ids)):
            raise CouponServiceError("unknown_session")
        if (not actor.is_admin or data.organizer_id) and owners - {data.organizer_id or actor.id}:
            raise CouponServiceError("session_of_another_organizer")


def _apply(coupon: Coupon, data: CouponInput) -> None:
    kind = rules.DiscountKind(data.kind)
    coupon.kind = kind.value
    coupon.percent = data.percent if kind == rules.DiscountKind.PERCENT else None
    coupon.amount_cents = data.amount_cents if kind == rules.DiscountKind.FIXED else None
    coupon.currency = data.currency if kind == rules.DiscountKind.FIXED else None
    coupon.max_uses = data.max_uses
    coupon.max_uses_per_email = data.max_uses_per_email
    coupon.valid_from, coupon.valid_until = data.valid_from, data.valid_until
    coupon.organizer_id = data.organizer_id
    coupon.bound_email = rules.normalize_email(data.bound_email) or None
    coupon.batch = (data.batch or "").strip()
    coupon.note = data.note or ""
    coupon.active = data.active
    coupon.sessions = (
        list(db.session.scalars(select(TrainingSession).where(TrainingSession.id.in_(data.session_ids))))
        if data.session_ids
        else []
    )


def _snapshot(coupon: Coupon) -> dict:
    data = {name: getattr(coupon, name) for name in FIELDS}
    data["session_ids"] = sorted(s.id for s in coupon.sessions)
    return data


def _new_coupon(data: CouponInput, actor: User, code: str) -> Coupon:
    coupon = Coupon(code=code, uses=0, created_by_id=actor.id if actor else None)
    _apply(coupon, data)
    db.session.add(coupon)
    return coupon


def _unique_code(prefix: str = "", length: int = 10, taken: set[str] | None = None) -> str:
    taken = taken if taken is not None else set()
    for _ in range(20):
        code = rules.generate_code(length, prefix)
        if code not in taken and find_coupon(code) is None:
            taken.add(code)
            return code
    raise CouponServiceError("no_free_code")


def create_coupon(data: CouponInput, actor: User) -> Coupon:
    _validate(data, actor)
    code = rules.normalize_code(data.code) if data.code else _unique_code()
    if data.code:
        problems = rules.validate_code(code)
        if problems:
            raise CouponServiceError(problems[0])
        if find_coupon(code) is not None:
            raise CouponServiceError("code_taken")
    coupon = _new_coupon(data, actor, code)
    db.session.flush()
    audit.record("coupon.created", coupon, actor=actor, code=code, values=_snapshot(coupon))
    _commit_or_code_taken()
    return coupon


def _commit_or_code_taken() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise CouponServiceError("code_taken") from None


def update_coupon(coupon: Coupon, data: CouponInput, actor: User) -> dict:
    _validate(data, actor, coupon)
    before = _snapshot(coupon)
    # The conditional write keeps "maximum uses never below redemptions" true under races too.
    # Both maxima in one statement: the per-email CHECK holds at every step.
    db.session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.uses <= data.max_uses)
        .values(max_uses=data.max_uses, max_uses_per_email=data.max_uses_per_email)
    )
    db.session.refresh(coupon)
    if coupon.max_uses != data.max_uses:
        db.session.rollback()
        raise CouponServiceError("max_uses_below_redemptions", str(coupon.uses))
    if data.max_uses_per_email and before.get("max_uses_per_email") != data.max_uses_per_email:
        _recount_email_uses(coupon.id)
    _apply(coupon, data)
    changed = audit.changes(before, _snapshot(coupon))
    if changed:
        audit.record("coupon.updated", coupon, actor=actor, code=coupon.code, changes=changed)
    db.session.commit()
    return changed


def _recount_email_uses(coupon_id: int) -> None:
    """Uses per email, counted again from the coupon's live redemptions: without a per-email limit
    they are not kept, so a limit set later must count the uses made before it (the coupon's row is
    locked by the caller's UPDATE: no use is taken meanwhile)."""
    live = (RedemptionStatus.RESERVED, RedemptionStatus.COMMITTED)
    db.session.execute(CouponEmailUse.__table__.delete().where(CouponEmailUse.coupon_id == coupon_id))
    db.session.execute(
        insert(CouponEmailUse).from_select(
            ["coupon_id", "email", "uses"],
            select(CouponRedemption.coupon_id, CouponRedemption.email, func.count())
            .where(CouponRedemption.coupon_id == coupon_id, CouponRedemption.status.in_(live))
            .group_by(CouponRedemption.coupon_id, CouponRedemption.email),
        )
    )


def set_active(coupon: Coupon, active: bool, actor: User) -> None:
    if coupon.active == active:
        return
    coupon.active = active
    audit.record(
        "coupon.activated" if active else "coupon.deactivated", coupon, actor=actor, code=coupon.code
    )
    db.session.commit()


def delete_coupon(coupon: Coupon, actor: User) -> None:
    """Only a coupon nobody ever used can be deleted; otherwise deactivate it."""
    used = db.session.scalar(
        select(func.count()).select_from(CouponRedemption).where(CouponRedemption.coupon_id == coupon.id)
    )
    if used:
        raise CouponServiceError("has_redemptions")
    delivered = db.session.scalar(
        select(func.count()).select_from(CouponDelivery).where(CouponDelivery.coupon_id == coupon.id)
    )
    if delivered:
        raise CouponServiceError("was_sent")
    audit.record("coupon.deleted", coupon, actor=actor, code=coupon.code, values=_snapshot(coupon))
    db.session.execute(CouponEmailUse.__table__.delete().where(CouponEmailUse.coupon_id == coupon.id))
    db.session.delete(coupon)
    db.session.commit()


def generate_coupons(count: int, prefix: str, length: int, data: CouponInput, actor: User) -> list[Coupon]:
    """N coupons with shared settings, in one transaction: all of them or none."""
    if not 1 <= count <= 5000:
        raise CouponServiceError("count_out_of_range")
    if length < 8 or length > 32:
        raise CouponServiceError("length_out_of_range")
    prefix = rules.normalize_code(prefix)
    if prefix and rules.validate_code(prefix):
        raise CouponServiceError("prefix_bad_characters")
    if len(prefix) + length > 40:
        raise CouponServiceError("code_too_long")
    _validate(data, actor)
    taken: set[str] = set()
    coupons = [_new_coupon(data, actor, _unique_code(prefix, length, taken)) for _ in range(count)]
    db.session.flush()
    audit.record(
        "coupon.generated",
        None,
        actor=actor,
        count=count,
        prefix=prefix,
        batch=data.batch,
        first=coupons[0].code,
        last=coupons[-1].code,
    )
    _commit_or_code_taken()
    return coupons


# -- CSV -------------------------------------------------------------------------

CSV_COLUMNS = [
    "code",
    "kind",
    "value",
    "currency",
    "uses",
    "max_uses",
    "max_uses_per_email",
    "valid_from",
    "valid_until",
    "batch",
    "bound_email",
    "active",
]


def export_values(coupon: Coupon) -> list:
    """One coupon as the values of its CSV line (``csvutil`` quotes what a spreadsheet would run)."""
    value = ""
    if coupon.kind == rules.DiscountKind.PERCENT:
        value = format(coupon.percent, "f")
    elif coupon.kind == rules.DiscountKind.FIXED:
        value = plain_amount(coupon.amount_cents, coupon.currency)
    return [
        coupon.code,
        coupon.kind,
        value,
        coupon.currency or "",
        coupon.uses,
        coupon.max_uses,
        coupon.max_uses_per_email or "",
        _iso(coupon.valid_from),
        _iso(coupon.valid_until),
        coupon.batch,
        coupon.bound_email or "",
        "yes" if coupon.active else "no",
    ]


def export_rows(query) -> Iterator[list]:
    """The CSV lines of a SELECT of coupons, read a thousand at a time (memory stays flat)."""
    # The export shows no sessions: don't load them (``sessions`` is selectin by default).
    yield from map(export_values, stream_objects(query.options(lazyload(Coupon.sessions))))


def export_csv(coupons: list[Coupon]) -> str:
    """A few coupons' CSV as text (the download streams ``export_rows`` instead)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for coupon in coupons:
        writer.writerow(csv_row(export_values(coupon)))
    return out.getvalue()


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


@dataclass
class ImportReport:
    created: list[Coupon] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, code, problem)

    @property
    def ok(self) -> bool:
        return not self.errors


def import_csv(text: str, actor: User, defaults: CouponInput) -> ImportReport:
    """Create coupons from CSV rows (columns as exported; ``code`` required, others optional).

    Every row is checked first; if any is bad, nothing is created and the report
    lists each bad row with its line number.
    """
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "code" not in [name.strip().lower() for name in reader.fieldnames]:
        report.errors.append((1, "", "missing_code_column"))
        return report
    rows, seen = [], set()
    for line, raw in enumerate(reader, start=2):
        row = {(key or "").strip().lower(): (value or "").strip() for key, value in raw.items()}
        code = rules.normalize_code(row.get("code"))
        try:
            data = _row_input(row, defaults)
            problems = rules.validate_code(code)
            if problems:
                raise CouponServiceError(problems[0])
            if code in seen:
                raise CouponServiceError("duplicate_in_file")
            if find_coupon(code) is not None:
                raise CouponServiceError("code_taken")
            _validate(data, actor)
        except CouponServiceError as exc:
            report.errors.append((line, code, exc.code))
            continue
        seen.add(code)
        rows.append((code, data))
    if not rows and not report.errors:
        report.errors.append((1, "", "no_rows"))
    if report.errors:
        return report
    report.created = [_new_coupon(data, actor, code) for code, data in rows]
    db.session.flush()
    audit.record("coupon.imported", None, actor=actor, count=len(rows), batch=defaults.batch)
    _commit_or_code_taken()
    return report


def _row_input(row: dict, defaults: CouponInput) -> CouponInput:
    data = CouponInput(**{**defaults.__dict__, "session_ids": list(defaults.session_ids)})
    kind = row.get("kind") or defaults.kind
    if kind not in {k.value for k in rules.DiscountKind}:
        raise CouponServiceError("kind_unknown")
    data.kind = kind
    value = row.get("value", "")
    currency = (row.get("currency") or defaults.currency or "").upper() or None
    try:
        if kind == rules.DiscountKind.PERCENT:
            data.percent = Decimal(value) if value else defaults.percent
        elif kind == rules.DiscountKind.FIXED:
            data.currency = currency
            data.amount_cents = parse_amount(value, currency or "USD") if value else defaults.amount_cents
        for name in ("max_uses", "max_uses_per_email"):
            if row.get(name):
                number = int(row[name])
                if not 1 <= number <= 1_000_000:
                    raise CouponServiceError("max_uses_out_of_range")
                setattr(data, name, number)
        for name in ("valid_from", "valid_until"):
            if row.get(name):
                moment = datetime.fromisoformat(row[name])
                if moment.tzinfo is None:
                    raise CouponServiceError("window_not_aware")
                setattr(data, name, moment)
    except (InvalidOperation, ValueError) as exc:
        if isinstance(exc, CouponServiceError):
            raise
        raise CouponServiceError("value_malformed") from None
    if row.get("batch"):
        data.batch = row["batch"]
    if row.get("bound_email"):
        data.bound_email = row["bound_email"]
    if row.get("active"):
        data.active = row["active"].lower() in ("yes", "true", "1")
    return data


# -- distribution by email ------------------------------------------------------


def render_template_text(template: str, code: str, name: str, link: str) -> str:
    """Fill ``{code}``, ``{name}`` and ``{link}``; nothing else in the text is interpreted."""
    return template.replace("{code}", code).replace("{name}", name).replace("{link}", link)


def distribute(
    batch: str,
    recipients: list[tuple[str, str]],
    subject: str,
    body: str,
    link: str,
    bind: bool,
    actor: User,
) -> list[CouponDelivery]:
    """Give each recipient its own unsent code of the batch, optionally bound to them, by email.

    One transaction: either every recipient gets a code and a queued message, or nobody does.
    """
    if not recipients:
        raise CouponServiceError("no_recipients")
    addresses = [rules.normalize_email(email) for email, _ in recipients]
    if len(set(addresses)) != len(addresses):
        raise CouponServiceError("duplicate_recipient")
    sent_ids = select(CouponDelivery.coupon_id)
    query = (
        coupons_for(actor)
        .where(
            Coupon.batch == batch,
            Coupon.active.is_(True),
            Coupon.uses == 0,
            Coupon.bound_email.is_(None),
            Coupon.id.not_in(sent_ids),
        )
        .order_by(Coupon.id)
        .limit(len(recipients))
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two senders never hand out one code
    available = list(db.session.scalars(query))
    if len(available) < len(recipients):
        raise CouponServiceError("not_enough_codes", str(len(available)))
    deliveries = []
    for coupon, (_email, name), address in zip(available, recipients, addresses, strict=True):
        if bind:
            coupon.bound_email = address
        deliveries.append(_deliver(coupon, address, name, subject, body, link, actor))
    audit.record(
        "coupon.distributed",
        None,
        actor=actor,
        batch=batch,
        count=len(deliveries),
        bound=bind,
    )
    db.session.commit()
    return deliveries


def _deliver(coupon, email, name, subject, body, link, actor) -> CouponDelivery:
    subject_text = render_template_text(subject, coupon.code, name, link)
    body_text = render_template_text(body, coupon.code, name, link)
    message = mail.queue(
        email, subject_text, body_text, kind="coupon", to_name=name, reference=f"coupon:{coupon.id}"
    )
    db.session.flush()
    delivery = CouponDelivery(
        coupon_id=coupon.id,
        email=email,
        name=name,
        subject=subject_text,
        body=body_text,
        outbox_message_id=message.id,
        sent_count=1,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(delivery)
    return delivery


def resend(delivery: CouponDelivery, actor: User) -> None:
    message = mail.queue(
        delivery.email,
        delivery.subject,
        delivery.body,
        kind="coupon",
        to_name=delivery.name,
        reference=f"coupon:{delivery.coupon_id}",
    )
    db.session.flush()
    delivery.outbox_message_id = message.id
    delivery.sent_count += 1
    delivery.last_sent_at = utcnow()
    audit.record("coupon.resent", delivery.coupon, actor=actor, email=delivery.email)
    db.session.commit()


# -- prepaid coupons ------------------------------------------------------------

# Lazy: in the language of whoever records the prepayment (the guest's is not known).
PREPAID_SUBJECT = _l("Your prepaid training sessions")
PREPAID_BODY = _l(
    "Hello {name},\n\n"
    "Thank you for your prepayment. Use this code to register for a training session "
    "without paying again:\n\n    {code}\n\n"
    "It is valid for one registration with this email address.\n"
)


def record_prepayment(
    email: str,
    name: str,
    amount_cents: int,
    currency: str,
    reference: str,
    sessions_count: int,
    actor: User,
    valid_until: datetime | None = None,
    subject: str = PREPAID_SUBJECT,
    body: str = PREPAID_BODY,
) -> Prepayment:
    """Record an offline prepayment and issue one free coupon per session, bound to the guest, by email."""
    address = rules.normalize_email(email)
    if "@" not in address:
        raise CouponServiceError("email_invalid")
    if not 1 <= sessions_count <= 100:
        raise CouponServiceError("sessions_count_out_of_range")
    if amount_cents < 0:
        raise CouponServiceError("amount_negative")
    prepayment = Prepayment(
        email=address,
        name=name,
        amount_cents=amount_cents,
        currency=currency,
        reference=reference.strip(),
        sessions_count=sessions_count,
        created_by_id=actor.id,
    )
    db.session.add(prepayment)
    db.session.flush()
    taken: set[str] = set()
    data = CouponInput(
        kind=rules.DiscountKind.FREE,
        max_uses=1,
        bound_email=address,
        valid_until=valid_until,
        batch=f"prepaid-{prepayment.id}",
        note=f"Prepayment {prepayment.reference}",
    )
    for _ in range(sessions_count):
        coupon = _new_coupon(data, actor, _unique_code("", 10, taken))
        coupon.prepayment_id = prepayment.id
        db.session.flush()
        _deliver(coupon, address, name or address, subject, body, "", actor)
    audit.record(
        "prepayment.recorded",
        prepayment,
        actor=actor,
        email=address,
        amount_cents=amount_cents,
        currency=currency,
        reference=prepayment.reference,
        sessions=sessions_count,
    )
    db.session.commit()
    return prepayment


# -- reports --------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRow:
    key: str  # a batch label or a coupon code
    coupons: int
    uses: int
    discount_cents: int
    revenue_cents: int  # what the registrations that used it paid (price - discount)
    currency: str


@dataclass(frozen=True)
class UsageTotal:
    currency: str
    uses: int
    discount_cents: int
    revenue_cents: int


def _committed_uses(actor: User):
    """The FROM and WHERE every usage figure shares: committed uses of the coupons ``actor`` may see."""
    return (
        coupons_for(actor)
        .join(CouponRedemption, CouponRedemption.coupon_id == Coupon.id)
        .where(CouponRedemption.status == RedemptionStatus.COMMITTED)
    )


def _sum_cents(column):
    # A SUM of BIGINT is NUMERIC on PostgreSQL: cast back so that both databases give an int.
    return cast(func.coalesce(func.sum(column), 0), BigInteger)


def usage_query(actor: User, by: str = "batch"):
    """Committed redemptions per batch or per coupon (and currency), one grouped SELECT.

    Columns are labelled as ``UsageRow``'s fields; page it with ``page_of(..., rows=True)``.
    """
    key = Coupon.batch if by == "batch" else Coupon.code
    return (
        _committed_uses(actor)
        .with_only_columns(
            key.label("key"),
            func.count(func.distinct(Coupon.id)).label("coupons"),
            func.count(CouponRedemption.id).label("uses"),
            _sum_cents(CouponRedemption.discount_cents).label("discount_cents"),
            _sum_cents(CouponRedemption.price_cents - CouponRedemption.discount_cents).label("revenue_cents"),
            CouponRedemption.currency.label("currency"),
        )
        .group_by(key, CouponRedemption.currency)
        .order_by(key, CouponRedemption.currency)
    )


def usage_report(actor: User, by: str = "batch") -> list[UsageRow]:
    """Every row of the report at once (the page shows a page at a time, the CSV streams them)."""
    return [UsageRow(**row._mapping) for row in db.session.execute(usage_query(actor, by))]


def usage_totals(actor: User) -> list[UsageTotal]:
    """Uses, discounts and revenue per currency over the whole report (the same whatever the grouping)."""
    rows = db.session.execute(
        _committed_uses(actor)
        .with_only_columns(
            CouponRedemption.currency,
            func.count(CouponRedemption.id),
            _sum_cents(CouponRedemption.discount_cents),
            _sum_cents(CouponRedemption.price_cents - CouponRedemption.discount_cents),
        )
        .group_by(CouponRedemption.currency)
        .order_by(CouponRedemption.currency)
    )
    return [UsageTotal(*row) for row in rows]


def usage_csv_header(by: str) -> list[str]:
    return [by, "coupons", "uses", "discount", "revenue", "currency"]


def usage_csv_rows(actor: User, by: str) -> Iterator[list]:
    """The report's CSV lines, read a thousand at a time (by coupon it can be 100,000 lines)."""
    for row in stream_rows(usage_query(actor, by)):
        yield [
            row.key,
            row.coupons,
            row.uses,
            plain_amount(row.discount_cents, row.currency),
            plain_amount(row.revenue_cents, row.currency),
            row.currency,
        ]
