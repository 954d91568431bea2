"""The audit log: ``record`` adds an entry to the caller's transaction, so it commits with the change.

Entries are append-only (database triggers refuse UPDATE and DELETE). ``action_label`` and
``detail_lines`` turn an entry into words for the audit log page.
"""

import json
from decimal import Decimal
from functools import cache

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.admin.models import AuditEntry
from portal.extensions import db


def _plain(value):
    """JSON-safe, exact: Decimals and other values as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def record(action: str, subject=None, actor=None, **details) -> AuditEntry:
    """Note ``action`` on ``subject`` (a model instance with an id, or None) by the current user."""
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=str(subject.id) if subject is not None and getattr(subject, "id", None) else None,
        details=_plain(details),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def changes(old: dict, new: dict) -> dict:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {key: [_plain(old.get(key)), _plain(value)] for key, value in new.items() if old.get(key) != value}


# -- reading the log ---------------------------------------------------------------------------------

# What each action means, in words; an action not listed here is shown as its code.
ACTION_LABELS = {
    "settings.updated": _l("Settings changed"),
    "gateway.tested": _l("Gateway connection tested"),
    "coupon.created": _l("Coupon created"),
    "coupon.updated": _l("Coupon changed"),
    "coupon.activated": _l("Coupon activated"),
    "coupon.deactivated": _l("Coupon deactivated"),
    "coupon.deleted": _l("Coupon deleted"),
    "coupon.generated": _l("Coupons generated"),
    "coupon.imported": _l("Coupons imported"),
    "coupon.distributed": _l("Coupons sent by email"),
    "coupon.resent": _l("Coupon sent again"),
    "prepayment.recorded": _l("Prepayment recorded"),
    "payment.charged": _l("Payment charged"),
    "payment.declined": _l("Payment declined"),
    "payment.failed": _l("Payment failed (nothing charged)"),
    "payment.unknown": _l("Payment outcome unknown"),
    "payment.checkout_started": _l("Payer sent to the gateway's payment page"),
    "payment.reconciled": _l("Payment reconciled"),
    "payment.duplicate_given_back": _l("Duplicate charge given back"),
    "payment.duplicate_give_back_failed": _l("Duplicate charge not given back yet"),
    "payment.status_changed": _l("Payment status changed"),
    "payment.webhook": _l("Gateway notification applied"),
    "refund.requested": _l("Refund requested"),
    "refund.succeeded": _l("Refund done"),
    "refund.failed": _l("Refund failed"),
    "refund.unknown": _l("Refund outcome unknown"),
    "refund.reconciled": _l("Refund reconciled"),
    "void.requested": _l("Void requested"),
    "void.succeeded": _l("Payment voided"),
    "void.failed": _l("Void failed"),
    "void.unknown": _l("Void outcome unknown"),
    "void.reconciled": _l("Void reconciled"),
    "pay_per_use.paid": _l("Pay-per-use session paid"),
    "pay_per_use.nothing_to_pay": _l("Pay-per-use session published with nothing to pay"),
    "pay_per_use.refunded": _l("Pay-per-use session refunded"),
    "pay_per_use.refund_failed": _l("Pay-per-use refund failed: owed again"),
    "session.started": _l("Session started"),
    "billing.reimbursed": _l("Department reimbursed"),
    "billing.budget_created": _l("Department budget set"),
    "billing.budget_updated": _l("Department budget changed"),
    "billing.budget_deleted": _l("Department budget removed"),
    "registration.confirmed": _l("Registration confirmed"),
    "registration.pending_payment": _l("Registration awaiting payment"),
    "registration.waitlisted": _l("Registration on the waiting list"),
    "registration.offered": _l("Waiting-list seat offered"),
    "registration.cancelled": _l("Registration cancelled"),
    "registration.refunded": _l("Registration refunded"),
    "registration.paid_without_seat": _l("Payment arrived without a seat"),
    "registration.fee_waived": _l("Guest fee waived (guest fees turned off)"),
    "user.invited": _l("User invited"),
    "user.invitation_resent": _l("Invitation sent again"),
    "user.invitation_accepted": _l("Invitation accepted"),
    "user.updated": _l("User changed"),
    "user.deactivated": _l("User deactivated"),
    "user.reactivated": _l("User reactivated"),
    "department.created": _l("Department created"),
    "department.renamed": _l("Department renamed"),
    "department.deleted": _l("Department deleted"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


# What an entry is about: the subject's model, in words.
SUBJECT_LABELS = {
    "SiteSettings": _l("Site settings"),
    "Payment": _l("Payment"),
    "Coupon": _l("Coupon"),
    "Prepayment": _l("Prepayment"),
    "Registration": _l("Registration"),
    "TrainingSession": _l("Session"),
    "Department": _l("Department"),
    "Reimbursement": _l("Reimbursement"),
    "User": _l("User"),
}


def subject_label(subject_type: str | None) -> str:
    return str(SUBJECT_LABELS.get(subject_type, subject_type or ""))


@cache
def _field_labels() -> dict:
    """The site settings' own labels ("Person-minute rate"), for settings changes (lazy strings)."""
    from portal.admin.forms import SettingsForm

    labels = {}
    for name in dir(SettingsForm):
        unbound = getattr(SettingsForm, name, None)
        args = getattr(unbound, "args", None)
        if getattr(unbound, "field_class", None) is not None and args:
            labels[name] = args[0]
    return labels


def _humanize(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _value(key: str, value, currency: str | None) -> str:
    from portal.i18n import format_money, format_number

    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int) and key.endswith("_cents") and currency:
        return format_money(value, currency)
    if isinstance(value, int):
        return format_number(value)
    if isinstance(value, list):
        return ", ".join(_value(key, item, currency) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def detail_lines(action: str, details: dict | None) -> list[tuple[str, str]]:
    """An entry's details as (label, text) pairs; a change reads "old → new"."""
    details = details or {}
    currency = details.get("currency") if isinstance(details.get("currency"), str) else None
    labels = _field_labels() if action.startswith("settings.") else {}
    lines = []
    for key, value in details.items():
        if key == "changes" and isinstance(value, dict):
            for field, pair in value.items():
                label = str(labels.get(field, _humanize(field)))
                if isinstance(pair, list) and len(pair) == 2:
                    old, new = (_value(field, item, currency) for item in pair)
                    lines.append((label, _("%(old)s → %(new)s", old=old, new=new)))
                else:
                    lines.append((label, _value(field, pair, currency)))
            continue
        if key == "status" and isinstance(value, list) and len(value) == 2:
            lines.append((_humanize(key), _("%(old)s → %(new)s", old=value[0] or "—", new=value[1] or "—")))
            continue
        lines.append((_humanize(key), _value(key, value, currency)))
    return lines
