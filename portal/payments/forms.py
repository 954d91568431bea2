from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from portal import i18n
from portal.fields import FilterDateField, MoneyField


class TestChargeForm(FlaskForm):
    amount = MoneyField(_l("Amount"))


class RefundForm(FlaskForm):
    amount = MoneyField(_l("Amount to refund"))
    reason = StringField(_l("Reason"))


def _choices(labels: dict, everything) -> list[tuple[str, str]]:
    return [("", everything), *[(code, label) for code, label in labels.items()]]


class LedgerFilterForm(FlaskForm):
    """The ledger's filters: a GET form (no CSRF token), every value in the address."""

    class Meta:
        csrf = False

    start = FilterDateField(_l("From"), [Optional()], name="from")
    end = FilterDateField(_l("To"), [Optional()], name="to")
    purpose = SelectField(_l("Purpose"), default="")
    status = SelectField(_l("Payment status"), default="")
    method = SelectField(_l("Method"), default="")
    kind = SelectField(_l("Kind"), default="")
    session = IntegerField(_l("Session number"), [Optional(), NumberRange(min=1, max=2**31 - 1)])
    organizer = StringField(_l("Organizer email"), [Optional(), Length(max=254)])

    def __init__(self, formdata):
        super().__init__(formdata)
        self.purpose.choices = _choices(i18n.PURPOSE_LABELS, _l("All purposes"))
        self.status.choices = _choices(i18n.PAYMENT_STATUS_LABELS, _l("All statuses"))
        self.method.choices = _choices(i18n.METHOD_LABELS, _l("All methods"))
        self.kind.choices = _choices(i18n.LEDGER_KIND_LABELS, _l("Payments and refunds"))

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The last day is before the first."))

    def args(self) -> dict[str, str]:
        """The filter as query arguments, empty ones left out (for the CSV link and the pages)."""
        values = {field.name: (field.raw_data or [""])[0] for field in self}
        return {name: value.strip() for name, value in values.items() if value and value.strip()}
