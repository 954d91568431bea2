"""The audit log: ``record`` adds an entry to the caller's transaction, so it commits with the change."""

from decimal import Decimal

from flask import has_request_context, request
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
