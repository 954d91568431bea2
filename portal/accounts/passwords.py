"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile), and which new
passwords are too weak to accept."""

import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verified when the email is unknown, so both answers cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10
# Common passwords, lower case (see the file's header for its source).
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")
# What people add to a common password to get past a length rule: "password2024!", "monkey12345".
_PADDING = re.compile(r"[\d\W_]+$")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """A well-known password, alone or padded with digits and symbols ("Password123!")."""
    lowered = (password or "").strip().lower()
    return lowered in common_passwords() or _PADDING.sub("", lowered) in common_passwords()


def password_problem(password: str) -> str | None:
    """Why a new password is refused (``password_too_short``, ``password_common``), or None."""
    if len(password or "") < MIN_LENGTH:
        return "password_too_short"
    if is_common(password):
        return "password_common"
    return None
