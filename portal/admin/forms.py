import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from portal.admin import audit
from portal.fields import FilterDateField, RateField
from portal.money import is_known_currency

# Per minute, in the site currency: higher is a typing mistake.
MAX_RATE = Decimal(1000)


class SettingsForm(FlaskForm):
    ecommerce_enabled = BooleanField(_l("Enable e-commerce"))
    fee_based_enabled = BooleanField(_l("Fee-based training"))
    coupons_enabled = BooleanField(_l("Coupons"))
    pay_per_use_enabled = BooleanField(_l("Pay-per-use"))
    credit_cards_enabled = BooleanField(_l("Credit cards"))
    debit_cards_enabled = BooleanField(_l("Debit cards"))
    paypal_enabled = BooleanField(_l("PayPal"))
    currency = StringField(_l("Currency"), validators=[DataRequired()])
    person_minute_rate = RateField(_l("Person-minute rate"), maximum=MAX_RATE)
    toll_rate = RateField(_l("Toll call-in rate"), maximum=MAX_RATE)
    toll_free_rate = RateField(_l("Toll-free call-in rate"), maximum=MAX_RATE)
    callback_rate = RateField(_l("Call-back rate"), maximum=MAX_RATE)
    tax_percent = RateField(_l("Tax rate (%)"), optional=True, max_digits=4, maximum=Decimal(100))
    hold_minutes = IntegerField(
        _l("Seat hold (minutes)"),
        validators=[InputRequired(), NumberRange(1, 240, _l("Between 1 and 240 minutes."))],
    )
    offer_minutes = IntegerField(
        _l("Waiting-list offer (minutes)"),
        validators=[InputRequired(), NumberRange(5, 7 * 24 * 60, _l("Between 5 minutes and 7 days."))],
    )
    refund_until_hours = IntegerField(
        _l("Refund cancellations until (hours before the start)"),
        validators=[Optional(), NumberRange(0, 24 * 365, _l("Between 0 and 8760 hours."))],
    )
    pay_per_use_refundable = BooleanField(_l("Refund pay-per-use sessions cancelled before they start"))
    allow_budget_overrun = BooleanField(_l("Let departments pay beyond their monthly budget"))
    submit = SubmitField(_l("Save"))

    def validate_currency(self, field):
        field.data = (field.data or "").strip().upper()
        if not is_known_currency(field.data):
            raise ValidationError(_l("Enter a three-letter ISO 4217 currency code, such as USD or EUR."))


# -- list filters: GET forms, every value in the address, no CSRF token -------------------------------

ACTION_PATTERN = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*\.?")
SUBJECT_TYPE_PATTERN = re.compile(r"[A-Za-z0-9_]+")


class _FilterForm(FlaskForm):
    class Meta:
        csrf = False

    def args(self) -> dict[str, str]:
        """The filter as query arguments, empty ones left out (for the CSV link and the pages)."""
        values = {field.name: (field.raw_data or [""])[0] for field in self}
        return {name: value.strip() for name, value in values.items() if value and value.strip()}


def _keep_typed(field) -> None:
    """A value typed in the address that the select does not offer stays selected (and is validated)."""
    if field.data and field.data not in {value for value, _label in field.choices}:
        field.choices.append((field.data, field.data))


class AuditFilterForm(_FilterForm):
    start = FilterDateField(_l("From"), [Optional()], name="from")
    end = FilterDateField(_l("To"), [Optional()], name="to")
    action = SelectField(_l("Action"), default="", validate_choice=False)
    actor = StringField(_l("Who (email contains)"), [Optional(), Length(max=254)])
    subject_type = SelectField(_l("Subject"), default="", validate_choice=False)
    subject_id = StringField(_l("Subject number"), [Optional(), Length(max=64)])

    def __init__(self, formdata, actions: list[str], subject_types: list[str]):
        super().__init__(formdata)
        prefixes = sorted({action.split(".", 1)[0] for action in actions if "." in action})
        self.action.choices = [
            ("", _l("All actions")),
            *[(f"{prefix}.", _l("Every %(prefix)s.* action", prefix=prefix)) for prefix in prefixes],
            *[(action, f"{audit.action_label(action)} ({action})") for action in sorted(actions)],
        ]
        self.subject_type.choices = [
            ("", _l("Anything")),
            *[(name, audit.subject_label(name)) for name in sorted(subject_types)],
        ]
        _keep_typed(self.action)
        _keep_typed(self.subject_type)

    def validate_action(self, field):
        if field.data and not ACTION_PATTERN.fullmatch(field.data):
            raise ValidationError(_l("Choose an action from the list."))

    def validate_subject_type(self, field):
        if field.data and not SUBJECT_TYPE_PATTERN.fullmatch(field.data):
            raise ValidationError(_l("Choose a subject from the list."))

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The last day is before the first."))


OUTBOX_STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


class OutboxFilterForm(_FilterForm):
    status = SelectField(_l("Status"), default="")
    kind = SelectField(_l("Kind"), default="", validate_choice=False)
    to = StringField(_l("To (contains)"), [Optional(), Length(max=254)])

    def __init__(self, formdata, kinds: list[str]):
        super().__init__(formdata)
        self.status.choices = [("", _l("All statuses")), *OUTBOX_STATUS_LABELS.items()]
        self.kind.choices = [("", _l("All kinds")), *[(kind, kind) for kind in sorted(kinds)]]
        _keep_typed(self.kind)
