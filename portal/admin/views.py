"""Site administration: settings, the payment gateway's status, the audit log and the outbox.

Thin views: parse the request, call ``portal.admin.services``, render or redirect.
"""

from datetime import datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.accounts.access import admin_required
from portal.admin import audit
from portal.admin.forms import OUTBOX_STATUS_LABELS, AuditFilterForm, OutboxFilterForm, SettingsForm
from portal.admin.services import (
    AUDIT_CSV_COLUMNS,
    SETTING_FIELDS,
    AuditFilter,
    OutboxFilter,
    audit_choices,
    audit_csv_rows,
    audit_entries,
    check_gateway,
    get_settings,
    last_gateway_check,
    outbox_kinds,
    outbox_messages,
    update_settings,
)
from portal.csvutil import stream_csv
from portal.extensions import db
from portal.i18n import select_timezone
from portal.mail.models import OutboxMessage
from portal.pagination import page_of
from portal.registration import services as registrations

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.app_template_global()
def audit_action_label(action: str) -> str:
    return audit.action_label(action)


@bp.app_template_global()
def audit_subject_label(subject_type: str | None) -> str:
    return audit.subject_label(subject_type)


@bp.app_template_global()
def audit_detail_lines(entry) -> list[tuple[str, str]]:
    return audit.detail_lines(entry.action, entry.details)


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    form = SettingsForm(obj=get_settings())
    if form.validate_on_submit():
        charged_fees = get_settings().fee_based
        update_settings({field: getattr(form, field).data for field in SETTING_FIELDS})
        flash(_("Settings saved."), "success")
        if charged_fees and not get_settings().fee_based:
            freed = registrations.free_held_seats()
            if freed:
                flash(
                    ngettext(
                        "%(num)d guest holding a seat no longer pays a fee and can confirm it for free.",
                        "%(num)d guests holding a seat no longer pay a fee and can confirm them for free.",
                        freed,
                    ),
                    "success",
                )
        return redirect(url_for("admin.settings"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/settings.html", form=form), status


# -- the payment gateway ---------------------------------------------------------------------------

MODE_LABELS = {
    "offline": _l("Offline sandbox"),
    "sandbox": _l("Braintree sandbox"),
    "production": _l("Braintree production"),
}
PAYFLOW_MODE_LABELS = {
    "offline": _l("Offline Payflow sandbox"),
    "sandbox": _l("Payflow pilot (PayPal's test servers)"),
    "production": _l("Payflow live"),
}
GATEWAY_NAMES = {"braintree": "Braintree", "payflow": "PayPal Payflow Pro"}

CHECK_MESSAGES = {
    "connection_refused": _l("Connection refused: nothing answers at the gateway's address."),
    "address_not_found": _l("The gateway's address could not be found."),
    "connection_lost": _l("The connection was cut before the gateway answered."),
    "timeout": _l("Timeout: the gateway did not answer in time."),
    "authentication_failed": _l(
        "Authentication failed: the gateway refused the merchant ID or the API keys."
    ),
    "not_authorized": _l("Not authorised: these API keys may not do this for this merchant."),
    "rate_limited": _l("The gateway is limiting requests: try again in a minute."),
    "gateway_error": _l("The gateway answered with a server error: try again later."),
    "upgrade_required": _l("The gateway asks for a newer version of the braintree library."),
    "empty_answer": _l("The gateway answered without a client token."),
    "unexpected_answer": _l("The gateway gave an answer the portal did not understand."),
}


def check_message(details: dict) -> str:
    """A connection test's outcome (from its audit entry) in plain words."""
    if details.get("ok"):
        return _(
            "Connection works: the gateway issued a client token in %(ms)s ms.", ms=details.get("elapsed_ms")
        )
    reason = details.get("reason")
    if reason == "refused":
        return _("The gateway refused the request: %(message)s", message=details.get("message") or "—")
    return str(CHECK_MESSAGES.get(reason, CHECK_MESSAGES["unexpected_answer"]))


def _address(url: str | None) -> str | None:
    """scheme://host:port of a URL: never a user name or password someone put in it."""
    if not url:
        return None
    parts = urlsplit(str(url))
    if not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


@bp.route("/gateway")
@admin_required
def gateway():
    """Which gateway the portal talks to and what it offers; never a key or a token."""
    payments = current_app.extensions["payments"]
    site = get_settings()
    mode = str(getattr(payments, "mode", ""))
    accepts = getattr(payments, "accepts", None)
    last = last_gateway_check()
    name = getattr(payments, "name", "braintree")
    labels = PAYFLOW_MODE_LABELS if name == "payflow" else MODE_LABELS
    sandbox_setting = "PAYFLOW_SANDBOX_URL" if name == "payflow" else "PAYMENTS_SANDBOX_URL"
    return render_template(
        "admin/gateway.html",
        gateway_name=name,
        gateway_label=GATEWAY_NAMES.get(name, name),
        currencies=getattr(payments, "currencies", None),
        mode=mode,
        mode_label=str(labels.get(mode, mode)),
        merchant_id=getattr(payments, "merchant_id", None),
        default_currency=getattr(payments, "default_currency", None),
        accounts=sorted((getattr(payments, "merchant_accounts", None) or {}).items()),
        currency_accepted=accepts(site.currency) if accepts else True,
        sandbox_url=_address(current_app.config.get(sandbox_setting)) if mode == "offline" else None,
        site=site,
        last=last,
        last_message=check_message(last.details or {}) if last else None,
    )


@bp.route("/gateway/test", methods=["POST"])
@admin_required
def gateway_test():
    """Test connection: ask the gateway for a client token (CSRF-checked), then show the result (PRG)."""
    payments = current_app.extensions["payments"]
    currency = get_settings().currency
    accepts = getattr(payments, "accepts", None)
    check_gateway(payments, currency if accepts and accepts(currency) else None)
    return redirect(url_for("admin.gateway"), code=303)


# -- the audit log -----------------------------------------------------------------------------------


def _day_start(day, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _audit_filter(form: AuditFilterForm, zone_name: str) -> AuditFilter:
    zone = ZoneInfo(zone_name)
    return AuditFilter(
        since=_day_start(form.start.data, zone) if form.start.data else None,
        before=_day_start(form.end.data + timedelta(days=1), zone) if form.end.data else None,
        action=form.action.data or None,
        actor=(form.actor.data or "").strip() or None,
        subject_type=form.subject_type.data or None,
        subject_id=(form.subject_id.data or "").strip() or None,
    )


@bp.route("/audit")
@admin_required
def audit_log():
    """Every admin action and money movement, newest first; filtered in SQL, a page at a time, or as CSV."""
    actions, subject_types = audit_choices()
    form = AuditFilterForm(request.args, actions, subject_types)
    zone = select_timezone()
    if not form.validate():
        return render_template("admin/audit_log.html", form=form, page=None, filter_args={}, zone=zone), 422
    flt = _audit_filter(form, zone)
    if request.args.get("format") == "csv":
        name = f"audit-log-{form.start.data or 'start'}-to-{form.end.data or 'now'}.csv"
        return stream_csv(name, AUDIT_CSV_COLUMNS, audit_csv_rows(flt))
    page = page_of(audit_entries(flt))
    return render_template("admin/audit_log.html", form=form, page=page, filter_args=form.args(), zone=zone)


# -- the outbox --------------------------------------------------------------------------------------


@bp.app_template_global()
def outbox_status_label(status: str) -> str:
    return str(OUTBOX_STATUS_LABELS.get(status, status))


@bp.route("/outbox")
@admin_required
def outbox():
    """Mail the portal sent or queued (in the demo it lands as .eml files, not in anybody's inbox)."""
    form = OutboxFilterForm(request.args, outbox_kinds())
    smtp = bool(current_app.config["MAIL_SERVER"])
    if not form.validate():
        return render_template("admin/outbox.html", form=form, page=None, smtp=smtp), 422
    flt = OutboxFilter(
        status=form.status.data or None,
        kind=form.kind.data or None,
        to=(form.to.data or "").strip() or None,
    )
    return render_template("admin/outbox.html", form=form, page=page_of(outbox_messages(flt)), smtp=smtp)


@bp.route("/outbox/<id:message_id>")
@admin_required
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("admin/outbox_message.html", message=message)
