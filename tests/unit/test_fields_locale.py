"""Fees and rates are typed, and shown back, with the viewer's decimal separator (en and fr)."""

from decimal import Decimal

import pytest
from flask import Flask
from flask_babel import Babel, force_locale
from werkzeug.datastructures import MultiDict
from wtforms import Form

from portal.fields import MoneyField, RateField, input_decimal
from tests.i18n.catalogs import ensure_compiled


class FeeAndRates(Form):
    fee = MoneyField("Session fee", currency="EUR")
    rate = RateField("Person-minute rate", maximum=Decimal(1000))
    tax = RateField("Tax rate (%)", optional=True, max_digits=4, maximum=Decimal(100))


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ensure_compiled())  # the portal's catalogs
    Babel(app, locale_selector=lambda: "en")
    return app


@pytest.fixture(params=["en", "fr"])
def locale(request, app):
    with app.test_request_context(), force_locale(request.param):
        yield request.param


def submit(**values) -> FeeAndRates:
    form = FeeAndRates(MultiDict({"fee": "0", "rate": "0", "tax": "", **values}))
    form.validate()
    return form


@pytest.mark.parametrize(
    ("locale_", "fee", "cents"),
    [
        ("en", "12.50", 1250),
        ("en", "1,234.50", 123450),
        ("en", "12", 1200),
        ("fr", "12,50", 1250),
        ("fr", "12.50", 1250),  # the plain machine form is unambiguous: accepted too
        ("fr", "1 234,50", 123450),
        ("fr", "0,5", 50),
        ("en", "", 0),  # an empty fee box: a free session
    ],
)
def test_a_fee_is_read_in_the_viewers_locale_as_integer_cents(app, locale_, fee, cents):
    with app.test_request_context(), force_locale(locale_):
        form = submit(fee=fee)
        assert form.fee.errors == [] and form.fee.data == cents and isinstance(form.fee.data, int)


@pytest.mark.parametrize(
    ("locale_", "rate", "expected"),
    [
        ("en", "0.0125", Decimal("0.0125")),
        ("fr", "0,0125", Decimal("0.0125")),
        ("fr", "0.0125", Decimal("0.0125")),
        ("fr", "1,5", Decimal("1.5")),
    ],
)
def test_a_rate_keeps_every_digit_typed_in_the_viewers_locale(app, locale_, rate, expected):
    with app.test_request_context(), force_locale(locale_):
        form = submit(rate=rate)
        assert form.rate.errors == [] and form.rate.data == expected
        assert isinstance(form.rate.data, Decimal) and str(form.rate.data) == str(expected)


@pytest.mark.parametrize(
    ("locale_", "field", "text", "message"),
    [
        ("en", "fee", "12,50", "Enter a number, such as 12.50."),  # a comma is no decimal point in English
        ("en", "fee", "twelve", "Enter a number, such as 12.50."),
        ("en", "fee", "1e3", "Enter a number, such as 12.50."),
        ("en", "fee", "-5", "Enter zero or a positive amount."),
        ("en", "fee", "12.505", "EUR amounts have at most 2 decimal places."),
        ("en", "rate", "0.00000001", "Use at most 6 decimal places."),
        ("en", "rate", "abc", "Enter a number, such as 12.50."),
        ("fr", "fee", "douze", "Saisissez un nombre, par exemple 12,50."),
        ("fr", "fee", "12,5,0", "Saisissez un nombre, par exemple 12,50."),
        ("fr", "fee", "1.234,50", "Saisissez un nombre, par exemple 12,50."),
        ("fr", "fee", "-5", "Saisissez zéro ou un montant positif."),
        ("fr", "fee", "12,505", "Les montants en EUR ont au plus 2 décimales."),
        ("fr", "rate", "0,00000001", "Utilisez au plus 6 décimales."),
        ("fr", "rate", "1e3", "Saisissez un nombre, par exemple 12,50."),
    ],
)
def test_garbage_gets_a_clear_message_in_the_viewers_language(app, locale_, field, text, message):
    with app.test_request_context(), force_locale(locale_):
        form = submit(**{field: text})
        assert [str(error) for error in form[field].errors] == [message]
        assert form[field].data is None


@pytest.mark.parametrize(
    ("locale_", "field", "text", "message"),
    [("en", "rate", "1001", "Enter at most 1000."), ("fr", "tax", "100,5", "Saisissez au plus 100.")],
)
def test_a_rate_above_its_maximum_is_refused_in_the_viewers_language(app, locale_, field, text, message):
    with app.test_request_context(), force_locale(locale_):
        assert [str(error) for error in submit(**{field: text})[field].errors] == [message]


@pytest.mark.parametrize(
    ("locale_", "cents", "shown"),
    [("en", 1250, "12.50"), ("fr", 1250, "12,50"), ("en", 123450, "1234.50"), ("fr", 123450, "1234,50")],
)
def test_a_stored_fee_is_shown_back_in_the_viewers_locale(app, locale_, cents, shown):
    with app.test_request_context(), force_locale(locale_):
        form = FeeAndRates(data={"fee": cents, "rate": Decimal("0.0125"), "tax": None})
        assert form.fee._value() == shown
        assert form.rate._value() == ("0.0125" if locale_ == "en" else "0,0125")
        assert form.tax._value() == ""
        # What is shown is read back as the same value.
        again = submit(fee=form.fee._value(), rate=form.rate._value())
        assert (again.fee.data, again.rate.data) == (cents, Decimal("0.0125"))


def test_what_was_typed_is_shown_back_as_typed(locale):
    form = submit(fee="12,5,0")
    assert form.fee._value() == "12,5,0"


@pytest.mark.parametrize(
    ("value", "digits", "en", "fr"),
    [
        (Decimal("0.0125"), None, "0.0125", "0,0125"),
        (Decimal("20"), None, "20", "20"),
        (Decimal("12.50"), None, "12.50", "12,50"),
        (Decimal("1234567.5"), 2, "1234567.50", "1234567,50"),
        (Decimal("100"), 0, "100", "100"),
    ],
)
def test_input_decimal_uses_the_separator_and_no_grouping(app, value, digits, en, fr):
    with app.test_request_context():
        with force_locale("en"):
            assert input_decimal(value, digits) == en
        with force_locale("fr"):
            assert input_decimal(value, digits) == fr
