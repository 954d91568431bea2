from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import DataRequired, ValidationError

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
    submit = SubmitField(_l("Save"))

    def validate_currency(self, field):
        field.data = (field.data or "").strip().upper()
        if not is_known_currency(field.data):
            raise ValidationError(_l("Enter a three-letter ISO 4217 currency code, such as USD or EUR."))
