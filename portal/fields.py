"""WTForms fields: exact decimals (rates and money typed in the viewer's locale), dates."""

from datetime import date, datetime
from decimal import Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField, StringField
from wtforms.validators import ValidationError

from portal import money

MESSAGES = {
    "required": _l("This field is required."),
    "malformed": _l("Enter a number, such as 12.50."),
    "negative": _l("Enter zero or a positive amount."),
    "too_large": _l("This value is too large."),
}


def input_decimal(value: Decimal, digits: int | None = None) -> str:
    """An exact decimal as the viewer types it: the locale's separator, no grouping, ``digits``
    decimals (default: every digit of ``value``), e.g. fr ``0,0125`` and ``12,50``, en ``0.0125`` and
    ``12.50``. ``money.parse_amount`` / ``money.parse_rate`` read it back in the same locale."""
    if digits is None:
        digits = max(0, -value.as_tuple().exponent)
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(value, format=pattern, locale=get_locale())


class RateField(StringField):
    """A non-negative exact decimal with up to ``max_digits`` decimals (e.g. 0.0125)."""

    def __init__(self, label=None, validators=None, max_digits=6, optional=False, maximum=None, **kw):
        kw.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kw)
        self.max_digits = max_digits
        self.optional = optional
        self.maximum = maximum

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else input_decimal(self.data)

    def pre_validate(self, form):
        text = (self.raw_data[0] if self.raw_data else "") or ""
        if not text.strip() and self.optional:
            self.data = None
            return
        try:
            self.data = money.parse_rate(text, locale=str(get_locale()), max_digits=self.max_digits)
        except money.MoneyError as exc:
            self.data = None
            if exc.code == "too_many_decimals":
                raise ValidationError(
                    _l("Use at most %(digits)s decimal places.", digits=self.max_digits)
                ) from None
            raise ValidationError(MESSAGES[exc.code]) from None
        if self.maximum is not None and self.data > self.maximum:
            raise ValidationError(_l("Enter at most %(maximum)s.", maximum=input_decimal(self.maximum)))


class MoneyField(StringField):
    """An amount in the site currency; ``data`` is minor units (int) once validated."""

    def __init__(self, label=None, validators=None, currency="USD", **kw):
        kw.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kw)
        self.currency = currency  # set per request from the site settings

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if not isinstance(self.data, int):
            return ""
        return input_decimal(money.to_decimal(self.data, self.currency), money.minor_digits(self.currency))

    def pre_validate(self, form):
        text = (self.raw_data[0] if self.raw_data else "") or ""
        if not text.strip():
            self.data = 0  # an empty fee box means a free session
            return
        try:
            self.data = money.parse_amount(text, self.currency, locale=str(get_locale()))
        except money.MoneyError as exc:
            self.data = None
            if exc.code == "too_many_decimals":
                raise ValidationError(
                    _l(
                        "%(currency)s amounts have at most %(digits)s decimal places.",
                        currency=self.currency,
                        digits=money.minor_digits(self.currency),
                    )
                ) from None
            raise ValidationError(MESSAGES[exc.code]) from None


class LocalDateTimeField(DateTimeLocalField):
    """A wall-clock date and time (``<input type="datetime-local">``); empty means None."""

    def __init__(self, label=None, validators=None, **kw):
        super().__init__(label, validators, format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"], **kw)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        for pattern in self.strptime_format:
            try:
                # A wall-clock time: the form's time zone field gives it meaning.
                self.data = datetime.strptime(text, pattern)  # noqa: DTZ007
                return
            except ValueError:
                continue
        self.data = None
        raise ValueError(_l("Enter a date and time, such as 2026-12-01T09:30."))


# Days a report filter accepts: far enough for any real history, near enough that
# "the day after" and a time zone's offset never leave the calendar.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2199, 12, 31)


class FilterDateField(DateField):
    """A day in a filter form (``YYYY-MM-DD``), within ``FIRST_DAY`` .. ``LAST_DAY``."""

    def pre_validate(self, form):
        if self.data is not None and not FIRST_DAY <= self.data <= LAST_DAY:
            raise ValidationError(
                _l("Enter a day between %(first)s and %(last)s.", first=FIRST_DAY, last=LAST_DAY)
            )
