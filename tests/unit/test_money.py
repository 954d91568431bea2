"""Money: integer minor units, Decimal in between, one half-up rounding rule."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import (
    MAX_AMOUNT,
    MoneyError,
    format_exact,
    format_money,
    is_known_currency,
    minor_digits,
    parse_amount,
    parse_rate,
    plain_amount,
    round_half_up,
    round_to_minor,
    to_decimal,
)

NNBSP = "\u202f"  # narrow no-break space: babel's French group separator
NBSP = "\u00a0"  # no-break space: between a French amount and its currency symbol


# --- currencies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3)],
)
def test_minor_digits_per_currency(currency, digits):
    assert minor_digits(currency) == digits


@pytest.mark.parametrize(
    ("code", "known"),
    [
        ("USD", True),
        ("EUR", True),
        ("JPY", True),
        ("BHD", True),
        ("usd", False),  # codes are upper case
        ("XYZ", False),
        ("US1", False),
        ("", False),
        (None, False),
        (840, False),
    ],
)
def test_is_known_currency_only_for_upper_case_iso_codes(code, known):
    assert is_known_currency(code) is known


# --- rounding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0),
        ("0.4", 0),
        ("0.49999", 0),
        ("0.5", 1),  # half goes up, not to even
        ("1.5", 2),
        ("2.5", 3),  # banker's rounding would give 2
        ("2.4999999999", 2),
        ("2.5000000001", 3),
        ("824.5", 825),
        ("825.49", 825),
        ("-0.4", 0),
        ("-2.5", -3),  # half away from zero
        ("12345678901234567890.5", 12345678901234567891),
    ],
)
def test_round_half_up_rounds_halves_up(value, expected):
    result = round_half_up(Decimal(value))
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", [2.5, 0.1, 1, "2.5", None])
def test_round_half_up_refuses_anything_but_decimal(value):
    with pytest.raises(TypeError, match="never float"):
        round_half_up(value)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("8.25", "USD", 825),
        ("0.025", "USD", 3),  # 2.5 cents -> 3
        ("0.015", "USD", 2),  # 1.5 cents -> 2
        ("0.0149", "USD", 1),
        ("0.0125", "USD", 1),
        ("21.9375", "USD", 2194),
        ("1102.5", "JPY", 1103),  # JPY has no minor unit
        ("1102.49", "JPY", 1102),
        ("0.0005", "BHD", 1),  # half a fils -> 1 fils
        ("0.0004999", "BHD", 0),
        ("0.84", "BHD", 840),
        ("0", "USD", 0),
    ],
)
def test_round_to_minor_rounds_half_up_to_currency_unit(amount, currency, expected):
    assert round_to_minor(Decimal(amount), currency) == expected


def test_round_to_minor_refuses_float():
    with pytest.raises(TypeError):
        round_to_minor(0.025, "USD")


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (123450, "USD", "1234.50"),
        (5, "USD", "0.05"),
        (0, "USD", "0.00"),
        (1234, "JPY", "1234"),
        (1234, "BHD", "1.234"),
        (5, "BHD", "0.005"),
    ],
)
def test_to_decimal_and_plain_amount_keep_currency_digits(minor, currency, expected):
    value = to_decimal(minor, currency)
    assert isinstance(value, Decimal)
    assert str(value) == expected
    assert plain_amount(minor, currency) == expected


@given(
    currency=st.sampled_from(["USD", "JPY", "BHD"]),
    minor=st.integers(min_value=0, max_value=10**12),
)
def test_to_decimal_round_trips_through_round_to_minor(currency, minor):
    assert round_to_minor(to_decimal(minor, currency), currency) == minor


@given(currency=st.sampled_from(["USD", "JPY", "BHD"]), data=st.data())
def test_plain_amount_round_trips_through_parse_amount(currency, data):
    largest = round_to_minor(MAX_AMOUNT, currency) - 1
    minor = data.draw(st.integers(min_value=0, max_value=largest))
    assert parse_amount(plain_amount(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"), [("100000000", "USD"), ("100000000.00", "USD"), ("100000000", "JPY")]
)
def test_amounts_from_the_maximum_up_are_too_large(text, currency):
    with pytest.raises(MoneyError) as error:
        parse_amount(text, currency)
    assert error.value.code == "too_large"


def test_the_largest_accepted_amount_parses_exactly():
    assert parse_amount("99999999.99", "USD") == 9_999_999_999


# --- parsing amounts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "locale", "expected"),
    [
        ("12", "USD", "en", 1200),
        ("12.5", "USD", "en", 1250),
        ("12.50", "USD", "en", 1250),
        ("0.01", "USD", "en", 1),
        ("0", "USD", "en", 0),
        ("  12.50  ", "USD", "en", 1250),
        ("1,234.50", "USD", "en", 123450),
        ("1234.50", "USD", "en", 123450),
        (".5", "USD", "en", 50),
        ("1500", "JPY", "en", 1500),
        ("1,500", "JPY", "en", 1500),
        ("1.234", "BHD", "en", 1234),
        ("0.005", "BHD", "en", 5),
        ("12,5", "EUR", "fr", 1250),  # the locale's decimal comma
        ("12.5", "EUR", "fr", 1250),  # a machine-format number is accepted too
        ("1 234,50", "EUR", "fr", 123450),  # a typed ordinary space as group separator
        (f"1{NNBSP}234,50", "EUR", "fr", 123450),  # babel's own group separator
        (f"1{NBSP}234,50", "EUR", "fr", 123450),
        ("1.234,50", "EUR", "de", 123450),
    ],
)
def test_parse_amount_returns_minor_units(text, currency, locale, expected):
    result = parse_amount(text, currency, locale)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("text", "currency", "locale", "code"),
    [
        ("", "USD", "en", "required"),
        ("   ", "USD", "en", "required"),
        (None, "USD", "en", "required"),
        ("-1", "USD", "en", "negative"),
        ("-0.01", "USD", "en", "negative"),
        ("12.345", "USD", "en", "too_many_decimals"),
        ("1.5", "JPY", "en", "too_many_decimals"),
        ("0.0005", "BHD", "en", "too_many_decimals"),
        ("abc", "USD", "en", "malformed"),
        ("NaN", "USD", "en", "malformed"),
        ("sNaN", "USD", "en", "malformed"),
        ("Infinity", "USD", "en", "malformed"),
        ("-Infinity", "USD", "en", "malformed"),
        ("1e5", "USD", "en", "malformed"),  # not a plain number: never $100,000.00
        ("1E2", "USD", "en", "malformed"),
        ("1_000", "USD", "en", "malformed"),
        ("\u0661\u0662", "USD", "en", "malformed"),  # Arabic-Indic digits
        ("$12.50", "USD", "en", "malformed"),
        ("12.50 USD", "USD", "en", "malformed"),
        ("1,2,3", "USD", "en", "malformed"),
        ("1,5", "USD", "en", "malformed"),  # a comma is not the English decimal mark
        ("1.234,50", "USD", "en", "malformed"),
        ("12 5", "EUR", "fr", "malformed"),  # a space that does not group thousands
        ("-", "USD", "en", "malformed"),
        (".", "USD", "en", "malformed"),
    ],
)
def test_parse_amount_refuses_bad_input_with_stable_code(text, currency, locale, code):
    with pytest.raises(MoneyError) as info:
        parse_amount(text, currency, locale)
    assert info.value.code == code
    assert str(info.value) == code


def test_money_error_is_a_value_error():
    assert issubclass(MoneyError, ValueError)


# --- parsing rates ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "locale", "max_digits", "expected"),
    [
        ("0.0125", "en", 6, "0.0125"),  # sub-cent digits kept
        ("0.012500", "en", 6, "0.012500"),  # every typed digit kept
        ("0.000001", "en", 6, "0.000001"),
        ("0.09", "en", 6, "0.09"),
        ("8.25", "en", 4, "8.25"),
        ("0", "en", 6, "0"),
        ("999999999", "en", 6, "999999999"),
        ("0,0125", "fr", 6, "0.0125"),
        ("0.0125", "fr", 6, "0.0125"),
    ],
)
def test_parse_rate_keeps_every_digit(text, locale, max_digits, expected):
    result = parse_rate(text, locale=locale, max_digits=max_digits)
    assert isinstance(result, Decimal)
    assert str(result) == expected
    assert result == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "locale", "max_digits", "code"),
    [
        ("", "en", 6, "required"),
        (None, "en", 6, "required"),
        ("-0.01", "en", 6, "negative"),
        ("0.0000001", "en", 6, "too_many_decimals"),
        ("8.12345", "en", 4, "too_many_decimals"),
        ("1000000000", "en", 6, "too_large"),
        ("abc", "en", 6, "malformed"),
        ("NaN", "en", 6, "malformed"),
        ("Infinity", "en", 6, "malformed"),
        ("1E-3", "en", 6, "malformed"),
        ("1e9", "en", 6, "malformed"),
        ("0,0125", "en", 6, "malformed"),
    ],
)
def test_parse_rate_refuses_bad_input_with_stable_code(text, locale, max_digits, code):
    with pytest.raises(MoneyError) as info:
        parse_rate(text, locale=locale, max_digits=max_digits)
    assert info.value.code == code


# --- formatting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (123450, "USD", "en", "$1,234.50"),
        (0, "USD", "en", "$0.00"),
        (5, "USD", "en", "$0.05"),
        (123456789, "USD", "en", "$1,234,567.89"),
        (123450, "EUR", "en", "€1,234.50"),
        (123450, "EUR", "fr", f"1{NNBSP}234,50{NBSP}€"),
        (123450, "USD", "fr", f"1{NNBSP}234,50{NBSP}$US"),
        (123450, "EUR", "de", f"1.234,50{NBSP}€"),
        (1234, "JPY", "en", "¥1,234"),
        (1234, "BHD", "en", "BHD1.234"),
    ],
)
def test_format_money_for_locale(minor, currency, locale, expected):
    assert format_money(minor, currency, locale) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        ("0.0125", "USD", "en", "$0.0125"),  # a sub-cent rate keeps its digits
        ("1.6875", "USD", "en", "$1.6875"),
        ("0.0125", "EUR", "fr", f"0,0125{NBSP}€"),
        ("0.0125", "BHD", "en", "BHD0.0125"),
        ("8.2500", "USD", "en", "$8.25"),
    ],
)
def test_format_exact_keeps_sub_minor_digits(amount, currency, locale, expected):
    assert format_exact(Decimal(amount), currency, locale) == expected


def test_kept_formats_answer_for_their_own_locale_currency_and_digits():
    # Formatting keeps its recent answers: the same amount asked in turn never gets another's.
    asked = [(123450, "USD", "en"), (123450, "USD", "fr"), (123450, "EUR", "fr"), (123450, "USD", "en")]
    assert [format_money(*key) for key in asked] == [
        "$1,234.50",
        f"1{NNBSP}234,50{NBSP}$US",
        f"1{NNBSP}234,50{NBSP}€",
        "$1,234.50",
    ]
    # Decimal("8.2500") == Decimal("8.25") == Decimal("8.250"), and each is formatted from its own text.
    assert [format_exact(Decimal(text), "USD", "en") for text in ("0.0125", "0.01250", "8.25", "8.2500")] == [
        "$0.0125",
        "$0.0125",
        "$8.25",
        "$8.25",
    ]
