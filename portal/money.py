"""Money arithmetic: integer minor units, Decimal in between, one rounding rule.

Pure module: imports neither Flask nor SQLAlchemy (a unit test checks this).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_decimal_symbol,
    get_group_symbol,
    list_currencies,
    parse_decimal,
)


class MoneyError(ValueError):
    """Bad amount input; ``code`` is stable, views map it to a message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# ISO 4217 codes that are not money anyone pays with: metals, funds, testing, "no currency".
_NOT_PAYABLE = frozenset(
    {"XAG", "XAU", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX"}
)


def is_known_currency(code: str) -> bool:
    return (
        isinstance(code, str)
        and code.isalpha()
        and code.isupper()
        and code in list_currencies()
        and code not in _NOT_PAYABLE
    )


def minor_digits(currency: str) -> int:
    """Digits after the decimal point for the currency (USD 2, JPY 0, BHD 3)."""
    return get_currency_precision(currency)


def round_half_up(value: Decimal) -> int:
    """The project's one rounding rule: half-up to a whole number."""
    if not isinstance(value, Decimal):
        raise TypeError("amounts are Decimal, never float")
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_to_minor(amount: Decimal, currency: str) -> int:
    """Round half-up, once, to the currency's minor unit; return minor units."""
    return round_half_up(amount * (Decimal(10) ** minor_digits(currency)))


def to_decimal(minor_units: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units (1234, USD -> 12.34)."""
    digits = minor_digits(currency)
    return (Decimal(minor_units) / (Decimal(10) ** digits)).quantize(Decimal(1).scaleb(-digits))


def plain_amount(minor_units: int, currency: str) -> str:
    """A machine-readable amount such as ``123.45`` (for data attributes and inputs)."""
    return format(to_decimal(minor_units, currency), "f")


# Formatting is pure, costs babel about 15 us an amount, and a page shows the same few amounts
# (rates, fees, totals) over and over: both formatters keep their recent answers.
FORMAT_CACHE_SIZE = 4096


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def format_money(minor_units: int, currency: str, locale: str = "en") -> str:
    """A human amount for the locale, e.g. ``$1,234.50`` or ``1 234,50 $US``."""
    return format_currency(to_decimal(minor_units, currency), currency, locale=locale)


# Larger amounts are typing mistakes, and would overflow 64-bit minor units in totals.
MAX_AMOUNT = Decimal("100000000")


def parse_amount(text: str, currency: str, locale: str = "en") -> int:
    """Parse a typed amount into minor units.

    Accepts the locale's decimal separator; refuses negatives, more decimals
    than the currency has, amounts of ``MAX_AMOUNT`` or more, and anything that
    is not a plain number.
    """
    value = _parse_decimal(text, locale)
    if -value.as_tuple().exponent > minor_digits(currency):
        raise MoneyError("too_many_decimals")
    if value >= MAX_AMOUNT:
        raise MoneyError("too_large")
    return round_to_minor(value, currency)


def parse_rate(text: str, locale: str = "en", max_digits: int = 6) -> Decimal:
    """Parse a non-negative per-minute rate or percentage, keeping every digit typed."""
    value = _parse_decimal(text, locale)
    if -value.as_tuple().exponent > max_digits:
        raise MoneyError("too_many_decimals")
    if value.adjusted() >= 9:
        raise MoneyError("too_large")
    return value


def _parse_decimal(text: str, locale: str) -> Decimal:
    """A finite, non-negative Decimal from the locale's or the plain machine format."""
    text = (text or "").strip()
    if not text:
        raise MoneyError("required")
    text = _plain_number_text(text, locale)
    try:
        value = parse_decimal(text, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        if not _is_plain_number(text):
            raise MoneyError("malformed") from None
        value = Decimal(text)  # a plain machine-format number is always accepted too
    if not value.is_finite():
        raise MoneyError("malformed")
    if value < 0:
        raise MoneyError("negative")
    return value.copy_abs()  # "-0" is zero, not a negative zero stored forever


def _plain_number_text(text: str, locale: str) -> str:
    """Refuse anything but ASCII digits, a sign and the locale's separators.

    ``Decimal`` (and so babel's ``parse_decimal``) also accepts exponents
    ("1e5"), underscores ("1_000") and non-ASCII digits; none is a typed amount.
    Where the locale groups digits with a kind of space (fr: U+202F), any typed
    space stands for it.
    """
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
    if group.isspace():
        text = re.sub(r"\s", group, text)
    if any(char not in "0123456789+-." and char not in (group, decimal) for char in text):
        raise MoneyError("malformed")
    return text


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def _is_plain_number(text: str) -> bool:
    return _PLAIN_NUMBER.fullmatch(text) is not None


def format_exact(amount: Decimal, currency: str, locale: str = "en") -> str:
    """A rate or an unrounded line total with every digit kept (``$0.0125``)."""
    # Keyed by the text: Decimal("0.50") == Decimal("0.5"), but each shows its own digits.
    return _format_exact(str(amount), currency, locale)


@lru_cache(maxsize=FORMAT_CACHE_SIZE)
def _format_exact(amount: str, currency: str, locale: str) -> str:
    return format_currency(Decimal(amount), currency, locale=locale, decimal_quantization=False)
