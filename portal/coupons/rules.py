"""Coupon rules: may this guest use this coupon on this session, and for how much?

Pure module (no Flask, no SQLAlchemy). Services load a coupon row and the
session into the plain values below, call ``evaluate`` and persist the result.

Discount kinds (the value is held in the field named for it, nothing else):

    percent  ``percent``: Decimal, 0-100, at most two decimals;
             discount = price x percent / 100, rounded half-up once to the minor unit
    fixed    ``amount_cents``: int >= 0, minor units of the coupon's ``currency``;
             discount = min(amount, price), so the amount due never drops below zero;
             only valid for sessions priced in that same currency
    free     no value; discount = the whole price

Always 0 <= discount <= price and due = price - discount.

``evaluate`` runs its checks in one fixed order (``CHECK_ORDER``, the order of
``RejectReason``) and reports the first that fails, so the reason a guest sees
is deterministic:

    unknown -> inactive -> not yet valid -> expired -> not valid for this session
    -> bound to another email -> used up -> used up for this email

A coupon is valid while ``valid_from <= moment < valid_until`` (from inclusive,
until exclusive; either bound may be absent). Views should answer unknown and
inactive codes alike, so a guesser learns nothing about which codes exist.
"""

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar, Protocol

from portal.money import is_known_currency, round_half_up


class DiscountKind(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"
    FREE = "free"


class RejectReason(StrEnum):
    """Stable codes, declared in the order ``evaluate`` checks them."""

    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    NOT_VALID_FOR_SESSION = "not_valid_for_session"
    BOUND_TO_OTHER_EMAIL = "bound_to_other_email"
    USED_UP = "used_up"
    USED_UP_FOR_EMAIL = "used_up_for_email"


CHECK_ORDER: tuple[RejectReason, ...] = tuple(RejectReason)


class CouponError(ValueError):
    """Terms or arguments that cannot be evaluated; ``code`` is stable."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CouponTerms:
    """What the coupon row holds, as plain values, plus the usage counts.

    ``uses`` counts reserved and committed uses; ``uses_by_email`` counts those
    of the email being checked. ``session_ids=None`` means no restriction to
    chosen sessions; an empty frozenset restricts the coupon to no session at
    all. When both ``session_ids`` and ``organizer_id`` are set, both must hold.
    A blank ``bound_email`` means the coupon is not bound.
    """

    code: str
    kind: DiscountKind
    max_uses: int
    percent: Decimal | None = None
    amount_cents: int | None = None
    currency: str | None = None
    active: bool = True
    uses: int = 0
    max_uses_per_email: int | None = None
    uses_by_email: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    session_ids: frozenset[int] | None = None
    organizer_id: int | None = None
    bound_email: str | None = None

    @property
    def value(self) -> Decimal | int | None:
        """The value for this kind: the percent, the fixed amount, or None (free)."""
        return {DiscountKind.PERCENT: self.percent, DiscountKind.FIXED: self.amount_cents}.get(self.kind)


@dataclass(frozen=True)
class SessionFacts:
    """The training session a coupon is tried on, and its price."""

    session_id: int
    organizer_id: int
    price_cents: int
    currency: str


@dataclass(frozen=True)
class Discount:
    ok: ClassVar[bool] = True
    kind: DiscountKind
    price_cents: int
    discount_cents: int
    due_cents: int
    currency: str


@dataclass(frozen=True)
class Rejection:
    ok: ClassVar[bool] = False
    reason: RejectReason

    @property
    def code(self) -> str:
        return self.reason.value


def evaluate(
    terms: CouponTerms | None, training: SessionFacts, email: str, moment: datetime
) -> Discount | Rejection:
    """The discount on ``training`` for ``email`` at ``moment``, or the first failed check.

    ``terms`` is None when no coupon has the typed code. Raises ``CouponError``
    for a naive ``moment`` or terms whose value is invalid for their kind.
    """
    _require_aware(moment)
    reason = _first_failed_check(terms, training, email, moment)
    if reason is not None:
        return Rejection(reason)
    return discount_for(terms.kind, terms.value, training.price_cents, training.currency)


def _first_failed_check(
    terms: CouponTerms | None, training: SessionFacts, email: str, moment: datetime
) -> RejectReason | None:
    if terms is None:
        return RejectReason.UNKNOWN
    if not terms.active:
        return RejectReason.INACTIVE
    if terms.valid_from is not None and moment < terms.valid_from:
        return RejectReason.NOT_YET_VALID
    if terms.valid_until is not None and moment >= terms.valid_until:
        return RejectReason.EXPIRED
    if not applies_to(terms, training):
        return RejectReason.NOT_VALID_FOR_SESSION
    bound = normalize_email(terms.bound_email)
    if bound and normalize_email(email) != bound:
        return RejectReason.BOUND_TO_OTHER_EMAIL
    if terms.uses >= terms.max_uses:
        return RejectReason.USED_UP
    if terms.max_uses_per_email is not None and terms.uses_by_email >= terms.max_uses_per_email:
        return RejectReason.USED_UP_FOR_EMAIL
    return None


def applies_to(terms: CouponTerms, training: SessionFacts) -> bool:
    """The session restriction (chosen sessions, one organizer) and, for fixed amounts, the currency."""
    if terms.session_ids is not None and training.session_id not in terms.session_ids:
        return False
    if terms.organizer_id is not None and training.organizer_id != terms.organizer_id:
        return False
    return not (terms.kind == DiscountKind.FIXED and terms.currency != training.currency)


def discount_for(
    kind: DiscountKind, value: Decimal | int | None, price_cents: int, currency: str
) -> Discount:
    """Apply one discount to a price in minor units of ``currency``.

    ``value`` is the percent (Decimal) for PERCENT, the amount in minor units
    (int, same currency as the price) for FIXED, and ignored for FREE.
    """
    kind = DiscountKind(kind)
    if isinstance(price_cents, bool) or not isinstance(price_cents, int):
        raise TypeError("prices are integer minor units")
    if price_cents < 0:
        raise CouponError("price_negative")
    errors = _value_errors(kind, value)
    if errors:
        raise CouponError(errors[0])
    if kind == DiscountKind.PERCENT:
        # Minor units are the currency's smallest unit (cents, whole yen): one half-up rounding.
        discount = round_half_up(Decimal(price_cents) * Decimal(value) / 100)
    elif kind == DiscountKind.FIXED:
        discount = min(value, price_cents)
    else:
        discount = price_cents
    return Discount(
        kind=kind,
        price_cents=price_cents,
        discount_cents=discount,
        due_cents=price_cents - discount,
        currency=currency,
    )


# ---- validation of admin input -------------------------------------------------------------------------

_HUNDREDTH = Decimal("0.01")


def validate_terms(
    kind: DiscountKind,
    value: Decimal | int | None,
    *,
    currency: str | None = None,
    max_uses: int = 1,
    max_uses_per_email: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> list[str]:
    """Stable error codes for coupon settings an admin typed; empty when they are valid.

    ``value`` is the percent for PERCENT, the amount in minor units for FIXED
    (whose ``currency`` must then be a known currency), ignored for FREE.
    """
    kind = DiscountKind(kind)
    errors = _value_errors(kind, value)
    if kind == DiscountKind.FIXED and not (currency and is_known_currency(currency)):
        errors.append("currency_unknown")
    if max_uses < 1:
        errors.append("max_uses_below_one")
    if max_uses_per_email is not None:
        if max_uses_per_email < 1:
            errors.append("per_email_below_one")
        elif max_uses_per_email > max_uses:
            errors.append("per_email_above_max")
    if any(moment is not None and not _is_aware(moment) for moment in (valid_from, valid_until)):
        errors.append("window_not_aware")
    elif valid_from is not None and valid_until is not None and valid_until <= valid_from:
        errors.append("window_inverted")
    return errors


def validate_coupon_terms(terms: CouponTerms) -> list[str]:
    """``validate_terms`` for a whole ``CouponTerms`` (code included)."""
    return validate_code(terms.code) + validate_terms(
        terms.kind,
        terms.value,
        currency=terms.currency,
        max_uses=terms.max_uses,
        max_uses_per_email=terms.max_uses_per_email,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
    )


def _value_errors(kind: DiscountKind, value: Decimal | int | None) -> list[str]:
    if kind == DiscountKind.FREE:
        return []
    if isinstance(value, float):
        raise TypeError("coupon values are Decimal or int, never float")
    if kind == DiscountKind.PERCENT:
        if value is None:
            return ["percent_missing"]
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError("a percent is a Decimal")
        percent = Decimal(value)
        if not percent.is_finite() or not 0 <= percent <= 100:
            return ["percent_out_of_range"]
        if percent.quantize(_HUNDREDTH) != percent:
            return ["percent_too_precise"]
        return []
    if value is None:
        return ["amount_missing"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a fixed amount is integer minor units")
    return ["amount_negative"] if value < 0 else []


# ---- codes ---------------------------------------------------------------------------------------------

# No 0/O, 1/I/L; of the look-alike pairs 2/Z, 5/S, 8/B the digit stays. 28 symbols.
CODE_ALPHABET = "23456789ACDEFGHJKMNPQRTUVWXY"
MIN_RANDOM_LENGTH = 8
MAX_CODE_LENGTH = 40

_TYPED_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")  # spaces, hyphens, dashes, minus sign
_CODE_CHARACTERS = re.compile(r"[A-Z0-9]+")


class Chooser(Protocol):
    def choice(self, seq: str) -> str: ...


def normalize_code(text: str | None) -> str:
    """The stored form of a code a guest or admin typed: trimmed, upper-case, without spaces or dashes.

    Full-width characters (typed on a phone or an IME) become their ASCII form.
    """
    text = unicodedata.normalize("NFKC", text or "")
    return _TYPED_SEPARATORS.sub("", text).upper()


def validate_code(text: str | None) -> list[str]:
    """Error codes for an admin-chosen or imported code, checked in its normalized form."""
    code = normalize_code(text)
    if not code:
        return ["code_required"]
    errors = []
    if not _CODE_CHARACTERS.fullmatch(code):
        errors.append("code_bad_characters")
    if len(code) > MAX_CODE_LENGTH:
        errors.append("code_too_long")
    return errors


def generate_code(length: int = 10, prefix: str = "", rng: Chooser = secrets) -> str:
    """A new code: the normalized ``prefix`` and ``length`` random symbols of ``CODE_ALPHABET``.

    ``rng`` is anything with ``choice`` (the ``secrets`` module; ``random.Random(seed)`` in tests).
    """
    if length < MIN_RANDOM_LENGTH:
        raise CouponError("code_too_short")
    prefix = normalize_code(prefix)
    if prefix and not _CODE_CHARACTERS.fullmatch(prefix):
        raise CouponError("code_bad_characters")
    if len(prefix) + length > MAX_CODE_LENGTH:
        raise CouponError("code_too_long")
    return prefix + "".join(rng.choice(CODE_ALPHABET) for _ in range(length))


def normalize_email(email: str | None) -> str:
    """The form in which emails are compared: trimmed and case-folded."""
    return (email or "").strip().casefold()


def _is_aware(moment: datetime) -> bool:
    return moment.tzinfo is not None and moment.utcoffset() is not None


def _require_aware(moment: datetime) -> None:
    if not isinstance(moment, datetime) or not _is_aware(moment):
        raise CouponError("moment_not_aware")
