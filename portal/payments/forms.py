from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from portal.fields import MoneyField


class TestChargeForm(FlaskForm):
    amount = MoneyField(_l("Amount"))


class RefundForm(FlaskForm):
    amount = MoneyField(_l("Amount to refund"))
    reason = StringField(_l("Reason"))
