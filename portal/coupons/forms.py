"""Coupon forms: the coupon itself, bulk generation, CSV import, distribution, prepayments, filters."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    SearchField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal import money
from portal.coupons.messages import coupon_message
from portal.coupons.rules import DiscountKind
from portal.fields import MESSAGES as AMOUNT_MESSAGES
from portal.fields import LocalDateTimeField, MoneyField, input_decimal

KIND_LABELS = {
    DiscountKind.PERCENT: _l("Percent"),
    DiscountKind.FIXED: _l("Fixed amount"),
    DiscountKind.FREE: _l("Free"),
}

_HUNDREDTH = Decimal("0.01")


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class CouponValueField(MoneyField):
    """The discount, typed in the viewer's locale: a percent (Decimal) or, for a fixed amount, an
    amount in the site currency (minor units, as ``MoneyField``); nothing for a free coupon.

    The range and precision of a percent are the service's rules (their messages come from
    ``messages.py``); this field only reads the number.
    """

    def __init__(self, label=None, validators=None, required=True, **kw):
        super().__init__(label, validators, **kw)
        self.required = required

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if isinstance(self.data, Decimal):
            return input_decimal(self.data)
        return super()._value()

    def pre_validate(self, form):
        kind = form.kind.data
        text = (self.raw_data[0] if self.raw_data else "") or ""
        if kind == DiscountKind.FREE:
            self.data = None
            return
        if not text.strip():
            self.data = None
            if self.required:
                raise ValidationError(
                    _l("Enter the percentage to take off, between 0 and 100.")
                    if kind == DiscountKind.PERCENT
                    else _l("Enter the amount to take off.")
                )
            return
        if kind == DiscountKind.FIXED:
            super().pre_validate(form)
            return
        try:
            # More digits than allowed are read, so that the rule's own message explains the limit.
            percent = money.parse_rate(text, locale=str(get_locale()), max_digits=8)
        except money.MoneyError as exc:
            self.data = None
            if exc.code in ("negative", "too_large"):
                raise ValidationError(coupon_message("percent_out_of_range")) from None
            if exc.code == "too_many_decimals":
                raise ValidationError(coupon_message("percent_too_precise")) from None
            raise ValidationError(AMOUNT_MESSAGES.get(exc.code, AMOUNT_MESSAGES["malformed"])) from None
        if percent.as_tuple().exponent < -2 and percent.quantize(_HUNDREDTH) == percent:
            percent = percent.quantize(_HUNDREDTH)  # "12.500" is 12.50
        self.data = percent


def _optional_int(value):
    if value in (None, ""):
        return None
    return int(value)


def to_local(moment: datetime | None, zone: str) -> datetime | None:
    """An aware moment as the wall-clock time in ``zone`` (to fill a datetime-local input)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


class ZonedTimesMixin:
    """Valid from / until are wall-clock times in ``self.zone`` (the viewer's time zone)."""

    zone = "UTC"

    def aware(self, field) -> datetime | None:
        """The field's wall-clock time as an aware UTC datetime (None when empty)."""
        if field.data is None:
            return None
        zone = ZoneInfo(self.zone)
        utc = field.data.replace(tzinfo=zone).astimezone(UTC)
        if utc.astimezone(zone).replace(tzinfo=None) != field.data:
            return None  # skipped by a daylight-saving change; validate_* reports it
        return utc

    def _check_exists(self, field):
        if field.data is not None and self.aware(field) is None:
            raise ValidationError(_l("This time does not exist in your time zone (the clocks change then)."))
        if field.data is not None and not 2000 <= field.data.year <= 2100:
            raise ValidationError(_l("Enter a year between 2000 and 2100."))


class CouponTermsForm(ZonedTimesMixin, FlaskForm):
    """The settings a coupon has; shared by the coupon form, bulk generation and CSV import."""

    kind = SelectField(
        _l("Discount type"),
        choices=choices((kind.value, label) for kind, label in KIND_LABELS.items()),
        default=DiscountKind.PERCENT.value,
    )
    value = CouponValueField(_l("Value"))
    max_uses = IntegerField(
        _l("Maximum uses"),
        default=1,
        validators=[
            InputRequired(_l("Enter how many times the coupon can be used.")),
            NumberRange(1, 1_000_000, _l("Enter a number between 1 and 1000000.")),
        ],
    )
    max_uses_per_email = IntegerField(
        _l("Maximum uses per email"),
        validators=[Optional(), NumberRange(1, 1_000_000, _l("Enter 1 or more, or leave empty."))],
    )
    valid_from = LocalDateTimeField(_l("Valid from"))
    valid_until = LocalDateTimeField(_l("Valid until"))
    batch = StringField(_l("Batch"), validators=[Optional(), Length(max=80)])
    sessions = SelectMultipleField(_l("Only for these sessions"), coerce=int, validate_choice=False)
    organizer = SelectField(_l("Only for this organizer's sessions"), coerce=_optional_int)
    note = TextAreaField(_l("Internal note"), validators=[Optional(), Length(max=2000)])
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, currency: str, zone: str, session_choices, organizer_choices=None, **kw):
        super().__init__(*args, **kw)
        self.zone = zone
        self.value.currency = currency
        self.sessions.choices = choices(session_choices)
        if organizer_choices is None:
            del self.organizer  # organizers: always their own sessions
        else:
            self.organizer.choices = choices([("", _l("Any organizer")), *organizer_choices])

    def validate_valid_from(self, field):
        self._check_exists(field)

    def validate_valid_until(self, field):
        self._check_exists(field)

    def terms(self) -> dict:
        """The typed settings as ``CouponInput`` keyword arguments (organizer_id left to the view)."""
        kind = DiscountKind(self.kind.data)
        return {
            "kind": kind.value,
            "percent": self.value.data if kind == DiscountKind.PERCENT else None,
            "amount_cents": self.value.data if kind == DiscountKind.FIXED else None,
            "currency": self.value.currency if kind == DiscountKind.FIXED else None,
            "max_uses": self.max_uses.data,
            "max_uses_per_email": self.max_uses_per_email.data,
            "valid_from": self.aware(self.valid_from),
            "valid_until": self.aware(self.valid_until),
            "session_ids": list(self.sessions.data or []),
            "batch": (self.batch.data or "").strip(),
            "note": (self.note.data or "").strip(),
            "active": bool(self.active.data),
        }


class CouponForm(CouponTermsForm):
    code = StringField(_l("Code"), validators=[Optional(), Length(max=60)], render_kw={"autocomplete": "off"})
    bound_email = StringField(
        _l("Bound to email"), validators=[Optional(), Length(max=254)], render_kw={"autocomplete": "off"}
    )

    def validate_bound_email(self, field):
        field.data = _checked_email(field.data) if (field.data or "").strip() else ""


class GenerateForm(CouponTermsForm):
    count = IntegerField(
        _l("Number of codes"),
        default=10,
        validators=[
            InputRequired(_l("Enter how many codes to generate.")),
            NumberRange(1, 5000, _l("Generate between 1 and 5000 codes at a time.")),
        ],
    )
    prefix = StringField(_l("Prefix"), validators=[Optional(), Length(max=20)])
    length = IntegerField(
        _l("Random characters"),
        default=10,
        validators=[
            InputRequired(_l("Enter the number of random characters.")),
            NumberRange(8, 32, _l("The random part of a code has between 8 and 32 characters.")),
        ],
    )


class ImportForm(CouponTermsForm):
    file = FileField(_l("CSV file"))
    text = TextAreaField(_l("Or paste the CSV here"))

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.value.required = False  # each row may carry its own value
        self.value.label.text = _l("Default value")

    def csv_text(self) -> str | None:
        """The uploaded file's text, else the pasted text; None (with an error) when unreadable."""
        upload = self.file.data
        if upload and getattr(upload, "filename", ""):
            raw = upload.read()
            try:
                return raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                self.file.errors.append(_l('The file must be UTF-8 text (save it as "CSV UTF-8").'))
                return None
        text = (self.text.data or "").strip()
        if not text:
            self.text.errors.append(_l("Choose a CSV file or paste its lines."))
            return None
        return text + "\n"


class SendForm(FlaskForm):
    batch = SelectField(_l("Batch"), validators=[DataRequired(_l("Choose the batch to send codes from."))])
    recipients = TextAreaField(_l("Recipients"), render_kw={"rows": 8})
    file = FileField(_l("Or a CSV file of recipients"))
    bind = BooleanField(_l("Bind each code to its recipient"), default=True)
    subject = StringField(
        _l("Subject"),
        validators=[DataRequired(_l("Enter a subject.")), Length(max=200)],
        default=_l("Your coupon code"),
    )
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(_l("Enter the message.")), Length(max=10000)],
        render_kw={"rows": 10},
        default=_l(
            "Hello {name},\n\nHere is your coupon code: {code}\n\n"
            "Type it on the payment page when you register: {link}\n"
        ),
    )
    link = SelectField(_l("Link"))

    def __init__(self, *args, batch_choices, link_choices, **kw):
        super().__init__(*args, **kw)
        self.batch.choices = choices([("", _l("Choose a batch")), *batch_choices])
        self.link.choices = choices([("", _l("No link")), *link_choices])

    def validate_subject(self, field):
        field.data = _one_line(field.data)  # a mail header: a pasted line break would break the message

    def parsed_recipients(self) -> list[tuple[str, str]] | None:
        """(email, name) pairs from the upload or the text box; None with errors listed when any is bad."""
        upload = self.file.data
        if upload and getattr(upload, "filename", ""):
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.file.errors.append(_l('The file must be UTF-8 text (save it as "CSV UTF-8").'))
                return None
            rows = _csv_rows(text)
            field = self.file
        else:
            rows = [
                (number, [part.strip() for part in line.split(",", 1)])
                for number, line in enumerate((self.recipients.data or "").splitlines(), start=1)
                if line.strip()
            ]
            field = self.recipients
        recipients, seen = [], set()
        for number, parts in rows:
            address = parts[0] if parts else ""
            name = parts[1] if len(parts) > 1 else ""
            try:
                email = _checked_email(address)
            except ValidationError:
                field.errors.append(
                    _l('Line %(line)s: "%(text)s" is not an email address.', line=number, text=address)
                )
                continue
            if email in seen:
                field.errors.append(_l("Line %(line)s: %(email)s is listed twice.", line=number, email=email))
                continue
            seen.add(email)
            recipients.append((email, _one_line(name)[:200]))
        if not recipients and not field.errors:
            field.errors.append(_l("Enter at least one email address."))
        return None if field.errors else recipients


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """Rows of an "email,name" CSV (a header line naming the columns is optional)."""
    rows = [row for row in csv.reader(io.StringIO(text))]
    numbered = [
        (number, [cell.strip() for cell in row]) for number, row in enumerate(rows, start=1) if any(row)
    ]
    if numbered and numbered[0][1] and numbered[0][1][0].lower() == "email":
        header = [cell.lower() for cell in numbered[0][1]]
        name_at = header.index("name") if "name" in header else None
        return [
            (number, [row[0], row[name_at] if name_at is not None and name_at < len(row) else ""])
            for number, row in numbered[1:]
        ]
    return numbered


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _checked_email(text: str) -> str:
    try:
        return validate_email((text or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationError(_l("Enter a valid email address.")) from None


class PrepaidForm(ZonedTimesMixin, FlaskForm):
    email = StringField(
        _l("Guest email"), validators=[DataRequired(_l("Enter the guest's email.")), Length(max=254)]
    )
    name = StringField(_l("Guest name"), validators=[Optional(), Length(max=200)])
    amount = MoneyField(_l("Amount paid"))
    reference = StringField(
        _l("Payment reference"),
        validators=[
            DataRequired(_l("Enter the payment's reference, such as an invoice number.")),
            Length(max=120),
        ],
    )
    sessions_count = IntegerField(
        _l("Number of sessions"),
        default=1,
        validators=[
            InputRequired(_l("Enter the number of sessions paid for.")),
            NumberRange(1, 100, _l("The number of sessions must be between 1 and 100.")),
        ],
    )
    valid_until = LocalDateTimeField(_l("Valid until"))

    def __init__(self, *args, currency: str, zone: str, **kw):
        super().__init__(*args, **kw)
        self.amount.currency = currency
        self.zone = zone

    def validate_email(self, field):
        field.data = _checked_email(field.data)

    def validate_valid_until(self, field):
        self._check_exists(field)
        moment = self.aware(field)
        if moment is not None and moment <= datetime.now(UTC):
            raise ValidationError(_l("Choose a moment in the future, or leave empty."))


YES_NO = [("", _l("All")), ("yes", _l("Active")), ("no", _l("Inactive"))]


class FilterForm(FlaskForm):
    """The list's filters: a GET form (no CSRF), read from the query string."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), render_kw={"placeholder": _l("Code, batch, email or note")})
    batch = SelectField(_l("Batch"), validate_choice=False)
    active = SelectField(_l("Active"), validate_choice=False)
    used_up = BooleanField(_l("Used up"))
    expired = BooleanField(_l("Expired"))

    def __init__(self, formdata, batches: list[str]):
        super().__init__(formdata=formdata)
        self.batch.choices = choices(
            [("", _l("All batches")), *((batch, batch) for batch in batches if batch)]
        )
        self.active.choices = choices(YES_NO)
