from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

OPTIONAL_FIELDS = ("company", "phone")


class RegistrationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter your name.")), Length(max=200)])
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter a valid email address, such as name@example.com."), check_deliverability=False),
            Length(max=254),
        ],
    )
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])

    def __init__(self, *args, training, **kwargs):
        super().__init__(*args, **kwargs)
        for name in OPTIONAL_FIELDS:
            ask = getattr(training, f"ask_{name}")
            field = getattr(self, name)
            if ask == "off":
                delattr(self, name)
            elif ask == "required":
                field.validators = [DataRequired(_l("This field is required.")), Length(max=field_max(name))]
                field.flags.required = True


def field_max(name: str) -> int:
    return 200 if name == "company" else 40


class CouponForm(FlaskForm):
    code = StringField(
        _l("Coupon code"), validators=[DataRequired(_l("Enter a coupon code.")), Length(max=60)]
    )
