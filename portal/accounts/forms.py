from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SearchField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from portal.accounts.models import Role
from portal.accounts.passwords import MIN_LENGTH

ROLE_LABELS = {Role.ORGANIZER: _l("Organizer"), Role.ADMIN: _l("Administrator")}

STATUS_LABELS = {
    "active": _l("Active"),
    "invited": _l("Invited"),
    "deactivated": _l("Deactivated"),
}


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    submit = SubmitField(_l("Log in"))


def _optional_id(value):
    """A select's value as a database id; "" (no department) as None."""
    if value in (None, "", "None"):
        return None
    return int(value)


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def department_choices(departments, empty_label) -> list[SelectChoice]:
    return choices([("", empty_label), *((department.id, department.name) for department in departments)])


class UserFieldsMixin:
    def set_departments(self, departments) -> None:
        self.department.choices = department_choices(departments, _l("No department"))


class InviteForm(UserFieldsMixin, FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(_l("Enter the email address to invite.")), Length(max=254)],
        render_kw={"autocomplete": "off"},
    )
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the person's name.")), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()), default=Role.ORGANIZER)
    department = SelectField(_l("Department"), coerce=_optional_id, default="")


class UserForm(UserFieldsMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS.items()))
    department = SelectField(_l("Department"), coerce=_optional_id)


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=MIN_LENGTH,
                max=1024,
                message=_l("The password must have at least %(min)d characters.", min=MIN_LENGTH),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords do not match.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class UserFilterForm(FlaskForm):
    """The users list's filters: a GET form (no CSRF), read from the query string."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), render_kw={"placeholder": _l("Name or email")})
    role = SelectField(
        _l("Role"),
        choices=choices([("", _l("Any role")), *ROLE_LABELS.items()]),
        validate_choice=False,
        default="",
    )
    department = SelectField(_l("Department"), validate_choice=False, default="")
    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("Any status")), *STATUS_LABELS.items()]),
        validate_choice=False,
        default="",
    )

    def set_departments(self, departments) -> None:
        self.department.choices = choices(
            [
                ("", _l("Any department")),
                ("none", _l("No department")),
                *((str(department.id), department.name) for department in departments),
            ]
        )


class DepartmentForm(FlaskForm):
    name = StringField(
        _l("Department name"),
        validators=[DataRequired(_l("Enter a name.")), Length(max=120)],
    )
