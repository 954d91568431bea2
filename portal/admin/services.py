import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import requests
from flask import g
from sqlalchemy import func, select
from urllib3.exceptions import NameResolutionError, NewConnectionError

from portal.admin import audit
from portal.admin.models import AuditEntry, SiteSettings
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.payments.gateway import GatewayError, UnknownOutcome, braintree

# The SDK's exceptions (imported through the gateway module, which silences the SDK's import-time warnings).
bt_errors = braintree.exceptions
bt_http = braintree.exceptions.http

SETTING_FIELDS = (
    "ecommerce_enabled",
    "fee_based_enabled",
    "coupons_enabled",
    "pay_per_use_enabled",
    "credit_cards_enabled",
    "debit_cards_enabled",
    "paypal_enabled",
    "currency",
    "person_minute_rate",
    "toll_rate",
    "toll_free_rate",
    "callback_rate",
    "tax_percent",
    "hold_minutes",
    "offer_minutes",
    "refund_until_hours",
    "pay_per_use_refundable",
    "allow_budget_overrun",
)


def _defaults() -> SiteSettings:
    zero = Decimal("0")
    return SiteSettings(
        id=1,
        ecommerce_enabled=False,
        fee_based_enabled=False,
        coupons_enabled=False,
        pay_per_use_enabled=False,
        credit_cards_enabled=False,
        debit_cards_enabled=False,
        paypal_enabled=False,
        currency="USD",
        person_minute_rate=zero,
        toll_rate=zero,
        toll_free_rate=zero,
        callback_rate=zero,
        tax_percent=None,
        hold_minutes=15,
        offer_minutes=60,
        refund_until_hours=24,
        pay_per_use_refundable=True,
        allow_budget_overrun=False,
    )


def get_settings() -> SiteSettings:
    """The site's settings, read once per request."""
    if "site_settings" not in g:
        g.site_settings = db.session.get(SiteSettings, 1) or _defaults()
    return g.site_settings


def update_settings(values: dict) -> dict:
    """Store new settings; return ``{field: (old, new)}`` for what changed."""
    settings = db.session.get(SiteSettings, 1)
    if settings is None:
        settings = _defaults()
        db.session.add(settings)
    changes = {}
    for field in SETTING_FIELDS:
        old, new = getattr(settings, field), values[field]
        if old != new:
            changes[field] = (old, new)
            setattr(settings, field, new)
    if changes:
        audit.record("settings.updated", settings, changes=changes)
    db.session.commit()
    g.pop("site_settings", None)
    return changes


# -- the payment gateway ---------------------------------------------------------------------------

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    reason: str  # "ok", or why not: "connection_refused", "timeout", "authentication_failed", ...
    elapsed_ms: int
    message: str = ""  # the gateway's own words when it refused the request (never a key or token)


def _failure_reason(exc: Exception) -> str:
    """Why a call failed, from the SDK's exception (``GatewayError``/``UnknownOutcome`` wrap it)."""
    cause = exc.__cause__ if isinstance(exc, GatewayError | UnknownOutcome) else exc
    if isinstance(exc, GatewayError) and exc.code == "authentication":
        return "authentication_failed"  # Payflow's RESULT=1
    if isinstance(cause, requests.exceptions.RequestException):  # Payflow's client
        return _http_failure_reason(cause)
    if cause is None and "HTTP 429" in str(exc):  # Payflow's client names the status it got
        return "rate_limited"
    if cause is None and "HTTP 5" in str(exc):
        return "gateway_error"
    if isinstance(cause, bt_errors.AuthenticationError):
        return "authentication_failed"
    if isinstance(cause, bt_errors.AuthorizationError):
        return "not_authorized"
    if isinstance(
        cause, bt_http.TimeoutError | bt_errors.RequestTimeoutError | bt_errors.GatewayTimeoutError
    ):
        return "timeout"
    if isinstance(cause, bt_http.ConnectionError):
        inner = cause.args[0] if cause.args else None
        reason = getattr(inner.args[0], "reason", None) if inner is not None and inner.args else None
        if isinstance(reason, NameResolutionError):
            return "address_not_found"
        if isinstance(reason, NewConnectionError):
            return "connection_refused"
        return "connection_lost"
    if isinstance(cause, bt_errors.TooManyRequestsError):
        return "rate_limited"
    if isinstance(cause, bt_errors.ServerError | bt_errors.ServiceUnavailableError):
        return "gateway_error"
    if isinstance(cause, bt_errors.UpgradeRequiredError):
        return "upgrade_required"
    return "unexpected_answer"


def _http_failure_reason(cause: requests.exceptions.RequestException) -> str:
    if isinstance(cause, requests.exceptions.Timeout):
        return "timeout"
    if isinstance(cause, requests.exceptions.ConnectionError):
        inner = cause.args[0] if cause.args else None
        reason = getattr(inner, "reason", None)
        if isinstance(reason, NameResolutionError):
            return "address_not_found"
        if isinstance(reason, NewConnectionError):
            return "connection_refused"
        return "connection_lost"
    return "unexpected_answer"


def check_gateway(gateway, currency: str | None = None) -> ConnectionCheck:
    """Ask the gateway for a client token and say how that went; the token itself is thrown away.

    No transaction stays open across the call; the outcome goes to the audit log.
    """
    if db.session.new or db.session.dirty or db.session.deleted:
        raise RuntimeError("unsaved changes before a gateway call")
    db.session.rollback()
    started = time.perf_counter()
    message = ""
    try:
        reason = "ok" if gateway.probe(currency) else "empty_answer"
    except (GatewayError, UnknownOutcome) as exc:
        reason = _failure_reason(exc)
    except ValueError as exc:
        # The SDK's way of passing on a refusal with an API error message (e.g. an unknown merchant account).
        reason, message = "refused", str(exc)[:200]
    except Exception as exc:  # a test button must never answer 500
        log.warning("gateway test failed unexpectedly: %s", type(exc).__name__)
        reason = "unexpected_answer"
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    check = ConnectionCheck(reason == "ok", reason, elapsed_ms, message)
    audit.record(
        "gateway.tested",
        None,
        ok=check.ok,
        reason=check.reason,
        **({"message": check.message} if check.message else {}),
        elapsed_ms=check.elapsed_ms,
        mode=str(getattr(gateway, "mode", "")),
        merchant_id=getattr(gateway, "merchant_id", None),
        currency=currency,
    )
    db.session.commit()
    return check


def last_gateway_check() -> AuditEntry | None:
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "gateway.tested")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


# -- the audit log -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None  # aware, inclusive
    before: datetime | None = None  # aware, exclusive
    action: str | None = None  # one action, or a prefix ending in "." ("payment.")
    actor: str | None = None  # part of the actor's email, any case
    subject_type: str | None = None  # a model name ("Payment")
    subject_id: str | None = None


def _audit_conditions(flt: AuditFilter) -> list:
    conditions = []
    if flt.since is not None:
        conditions.append(AuditEntry.at >= flt.since)
    if flt.before is not None:
        conditions.append(AuditEntry.at < flt.before)
    if flt.action:
        if flt.action.endswith("."):
            conditions.append(AuditEntry.action.startswith(flt.action, autoescape=True))
        else:
            conditions.append(AuditEntry.action == flt.action)
    if flt.actor:
        term = flt.actor.strip().lower()
        conditions.append(func.lower(AuditEntry.actor_email).contains(term, autoescape=True))
    if flt.subject_type:
        conditions.append(AuditEntry.subject_type == flt.subject_type)
    if flt.subject_id:
        conditions.append(AuditEntry.subject_id == flt.subject_id.strip())
    return conditions


def audit_entries(flt: AuditFilter):
    """The filtered entries, newest first, as a SELECT (for ``page_of``)."""
    return select(AuditEntry).where(*_audit_conditions(flt)).order_by(AuditEntry.id.desc())


def audit_choices() -> tuple[list[str], list[str]]:
    """Every action and subject type the portal records (a fixed list: no scan of a growing log)."""
    return sorted(audit.ACTION_LABELS), sorted(audit.SUBJECT_LABELS)


AUDIT_CSV_COLUMNS = ("id", "at", "actor_email", "action", "subject_type", "subject_id", "ip", "details")


def audit_csv_rows(flt: AuditFilter, batch: int = 1000) -> Iterator[tuple]:
    """The filtered entries as CSV rows, newest first, read ``batch`` rows at a time.

    Each batch is its own short read (keyed on the id, which only grows: the log is
    append-only), so a slow download never holds a transaction, or SQLite's lock, open.
    """
    columns = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.actor_email,
        AuditEntry.action,
        AuditEntry.subject_type,
        AuditEntry.subject_id,
        AuditEntry.ip,
        AuditEntry.details,
    )
    conditions = _audit_conditions(flt)
    last_id = None
    while True:
        query = select(*columns).where(*conditions).order_by(AuditEntry.id.desc()).limit(batch)
        if last_id is not None:
            query = query.where(AuditEntry.id < last_id)
        rows = db.session.execute(query).all()
        db.session.rollback()
        for row in rows:
            yield (
                row.id,
                row.at.astimezone(UTC).isoformat(),
                row.actor_email or "",
                row.action,
                row.subject_type or "",
                row.subject_id or "",
                row.ip or "",
                json.dumps(row.details or {}, sort_keys=True, ensure_ascii=False),
            )
        if len(rows) < batch:
            return
        last_id = rows[-1].id


# -- the outbox --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxFilter:
    status: str | None = None
    kind: str | None = None
    to: str | None = None  # part of the address, any case


def outbox_messages(flt: OutboxFilter):
    """The filtered outbox, newest first, as a SELECT (for ``page_of``)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if flt.status:
        query = query.where(OutboxMessage.status == flt.status)
    if flt.kind:
        query = query.where(OutboxMessage.kind == flt.kind)
    if flt.to:
        term = flt.to.strip().lower()
        query = query.where(func.lower(OutboxMessage.to_email).contains(term, autoescape=True))
    return query


def outbox_kinds() -> list[str]:
    return sorted(db.session.scalars(select(OutboxMessage.kind).distinct()))
