"""Invitation links: a signed, expiring token that lets an invited user set a password once.

The token carries the user id, the moment of the invitation (``invited_at``) and the
user's session version. It is only good while all three still match the account:
a new invitation (new ``invited_at``), setting the password (``invited_at`` cleared)
or deactivation (session version bumped) each make every earlier link worthless.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, has_request_context, url_for
from itsdangerous import BadData, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SALT = "accounts-invitation"
# Longer than any token we sign; anything longer is refused before it is decoded.
MAX_TOKEN_LENGTH = 300
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class InvitationError(ValueError):
    """Why a link does not work: ``expired``, ``invalid`` (forged or mangled)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class InvitationClaims:
    user_id: int
    invited_at_us: int  # microseconds since the epoch: exact, whatever the database
    session_version: int


class _IssuedAtSigner(TimestampSigner):
    """Signs with the invitation's own time, so the link expires exactly ``max_age`` after
    ``invited_at`` (the moment the admin pages show), not after whenever the mail was built."""

    def __init__(self, *args, issued_at: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else super().get_timestamp()


def _serializer(issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=SALT,
        signer=_IssuedAtSigner,
        signer_kwargs={"issued_at": int(issued_at.timestamp()) if issued_at else None},
    )


def max_age_hours() -> float:
    return float(current_app.config["INVITE_MAX_AGE_HOURS"])


def stamp(moment: datetime) -> int:
    """A moment as whole microseconds since the epoch (compared exactly, never as floats)."""
    return (moment.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)


def invitation_token(user) -> str:
    return _serializer(user.invited_at).dumps([user.id, stamp(user.invited_at), user.session_version])


def read_token(token: str) -> InvitationClaims:
    """The claims of a genuine, unexpired token; ``InvitationError`` otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvitationError("invalid")
    try:
        value = _serializer().loads(token, max_age=max_age_hours() * 3600)
    except SignatureExpired:  # only raised for a genuine signature
        raise InvitationError("expired") from None
    except BadData:
        raise InvitationError("invalid") from None
    if not (
        isinstance(value, list) and len(value) == 3 and all(type(item) is int and item > 0 for item in value)
    ):
        raise InvitationError("invalid")
    return InvitationClaims(*value)


def invitation_url(user) -> str:
    """The absolute link sent by email (``PORTAL_BASE_URL`` outside a request)."""
    token = invitation_token(user)
    if has_request_context():
        return url_for("users_admin.accept_invitation", token=token, _external=True)
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        return url_for("users_admin.accept_invitation", token=token, _external=True)
