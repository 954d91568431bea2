"""Signed links: a guest manages a registration without an account, through its link."""

from flask import current_app, has_request_context, url_for
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "registration-manage"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def manage_token(registration_id: int) -> str:
    return _serializer().dumps(registration_id)


def registration_id_from(token: str) -> int | None:
    """The registration id the token was signed for; None for a forged or mangled token."""
    if not token or len(token) > 200:
        return None
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and value > 0 else None


def external_url(endpoint: str, **values) -> str:
    """An absolute URL, also from background jobs (``PORTAL_BASE_URL`` says where the site lives)."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for(endpoint, _external=True, **values)


def manage_url(registration_id: int) -> str:
    return external_url("registration.manage", token=manage_token(registration_id))
