from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, ValidationError

from portal.fields import RateField
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
