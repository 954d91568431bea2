"""Pay-per-use administration: the reimbursement report, department budgets, and "My spend".

Thin views: parse the request, call ``portal.billing.reports``, render or redirect.
"""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import InputRequired, Optional, ValidationError

from portal.accounts.access import admin_required
from portal.admin.services import get_settings
from portal.billing import reports
from portal.billing.services import period_of
from portal.database import utcnow
from portal.fields import MoneyField
from portal.web import cents_from, id_from

bp = Blueprint("billing_admin", __name__, url_prefix="/admin")


def _period(form, field):
    if field.data and not reports.is_period(field.data.strip()):
        raise ValidationError(_l("Enter a month as YYYY-MM, such as 2026-11."))


MONTH_INPUT = {"type": "month", "placeholder": "YYYY-MM", "pattern": r"\d{4}-\d{2}", "autocomplete": "off"}


# -- the reimbursement report ---------------------------------------------------------------------


class ReportFilterForm(FlaskForm):
    """The report's filters: a GET form, so no CSRF token; ``from``/``to`` in the address."""

    class Meta:
        csrf = False

    start = StringField(_l("From month"), [Optional(), _period], name="from", render_kw=MONTH_INPUT)
    end = StringField(_l("To month"), [Optional(), _period], name="to", render_kw=MONTH_INPUT)
    department = SelectField(_l("Department"), default="")

    def __init__(self, formdata, departments):
        super().__init__(formdata)
        self.department.choices = [
            ("", _("All departments")),
            *[(str(d.id), d.name) for d in departments],
            (reports.NO_DEPARTMENT, _("No department")),
        ]

    def validate_end(self, field):
        start, end = (self.start.data or "").strip(), (field.data or "").strip()
        if reports.is_period(start) and reports.is_period(end) and end < start:
            raise ValidationError(_l("The last month is before the first."))

    def report_filter(self) -> reports.ReportFilter:
        department = self.department.data or None
        if department and department != reports.NO_DEPARTMENT:
            department = int(department)
        return reports.ReportFilter(
            start=(self.start.data or "").strip() or None,
            end=(self.end.data or "").strip() or None,
            department=department,
        )

    def args(self) -> dict[str, str]:
        """The filter as query arguments (empty ones left out)."""
        values = {"from": self.start.data, "to": self.end.data, "department": self.department.data}
        return {key: value.strip() for key, value in values.items() if value and value.strip()}


def _filter_args(values) -> dict[str, str]:
    """Only the report's own filter arguments, passed back after a POST (never a free URL)."""
    return {key: values[key] for key in ("from", "to", "department") if values.get(key)}


REIMBURSE_MESSAGES = {
    "invalid": _l("That department or month does not exist."),
    "nothing_to_reimburse": _l("There is nothing to reimburse: the net for that month is not above zero."),
}


@bp.route("/reports/pay-per-use")
@admin_required
def report():
    form = ReportFilterForm(request.args, reports.departments())
    if not form.validate():
        return render_template("billing/report.html", form=form, report=None, filter_args={}), 422
    result = reports.pay_per_use_report(form.report_filter())
    if request.args.get("format") == "csv":
        text = reports.report_csv(result, no_department=_("No department"), total=_("Total"))
        flt = form.report_filter()
        name = f"pay-per-use-{flt.start or 'start'}-to-{flt.end or 'now'}.csv"
        response = Response(text, mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render_template("billing/report.html", form=form, report=result, filter_args=form.args())


@bp.route("/reports/pay-per-use/reimburse", methods=["POST"])
@admin_required
def reimburse():
    """Mark a department's month as reimbursed with its net now; then back to the report (PRG)."""
    back = redirect(url_for("billing_admin.report", **_filter_args(request.form)), code=303)
    values = request.form  # CSRFProtect has checked the token
    department_id = id_from(values.get("department_id"))
    expected = values.get("expected_net_cents", "")
    expected_net_cents = cents_from(expected)
    if department_id is None or (expected and expected_net_cents is None):
        flash(str(REIMBURSE_MESSAGES["invalid"]), "error")
        return back
    try:
        record = reports.mark_reimbursed(
            department_id,
            values.get("period", ""),
            values.get("currency", ""),
            current_user,
            expected_net_cents=expected_net_cents,
        )
    except reports.ReportError as exc:
        flash(_reimburse_error(exc), "error")
        return back
    flash(
        _(
            "%(department)s, %(period)s: marked as reimbursed (%(amount)s).",
            department=record.department.name,
            period=record.period,
            amount=_money(record.amount_cents, record.currency),
        ),
        "success",
    )
    return back


def _money(cents: int, currency: str) -> str:
    from portal.i18n import format_money

    return format_money(cents, currency)


def _reimburse_error(exc: reports.ReportError) -> str:
    if exc.code == "already_reimbursed" and exc.details.get("reimbursement") is not None:
        done = exc.details["reimbursement"]
        from portal.i18n import format_in_zone

        return _(
            "%(department)s, %(period)s was already marked as reimbursed by %(who)s on %(when)s "
            "(%(amount)s). It was not marked again.",
            department=done.department.name,
            period=done.period,
            who=done.reimbursed_by.email,
            when=format_in_zone(done.reimbursed_at, style="medium"),
            amount=_money(done.amount_cents, done.currency),
        )
    if exc.code == "already_reimbursed":
        return _("That month was already marked as reimbursed. It was not marked again.")
    if exc.code == "net_changed":
        return _(
            "Money moved since the report was shown: the net is now %(amount)s. "
            "Check the new figure, then mark it again.",
            amount=_money(exc.details["net_cents"], request.form.get("currency", "")),
        )
    return str(REIMBURSE_MESSAGES.get(exc.code, REIMBURSE_MESSAGES["invalid"]))


# -- budgets ---------------------------------------------------------------------------------------


class BudgetForm(FlaskForm):
    department = SelectField(_l("Department"), coerce=int)
    period = StringField(
        _l("Month"),
        [InputRequired(message=_l("Enter a month.")), _period],
        default=lambda: period_of(utcnow()),
        render_kw=MONTH_INPUT,
    )
    amount = MoneyField(_l("Budget"))

    def __init__(self, departments, currency, **kwargs):
        super().__init__(**kwargs)
        self.department.choices = [(d.id, d.name) for d in departments]
        self.amount.currency = currency

    @property
    def amount_cents(self) -> int | None:
        """The budget typed, or None when the box was left empty (remove the budget)."""
        typed = (self.amount.raw_data or [""])[0] or ""
        return self.amount.data if typed.strip() else None


BUDGET_DONE = {
    "created": _l("Budget set: %(department)s, %(period)s, %(amount)s."),
    "updated": _l("Budget changed: %(department)s, %(period)s, %(amount)s."),
    "deleted": _l("Budget removed: %(department)s, %(period)s."),
    "unchanged": _l("Nothing changed for %(department)s, %(period)s."),
}


@bp.route("/budgets", methods=["GET", "POST"])
@admin_required
def budgets():
    settings = get_settings()
    departments = reports.departments()
    prefill = {}
    if request.method == "GET":
        # "Change" links prefill the form from the address.
        if (department_id := id_from(request.args.get("department"))) is not None:
            prefill["department"] = department_id
        if reports.is_period(request.args.get("period")):
            prefill["period"] = request.args["period"]
        if len(prefill) == 2:
            budget = reports.budget_for(prefill["department"], prefill["period"])
            if budget is not None and budget.currency == settings.currency:
                prefill["amount"] = budget.amount_cents
    form = BudgetForm(departments, settings.currency, data=prefill or None)
    if form.validate_on_submit():
        period = form.period.data.strip()
        amount = form.amount_cents
        outcome = reports.set_budget(form.department.data, period, amount, settings.currency, current_user)
        name = dict(form.department.choices)[form.department.data]
        flash(
            str(BUDGET_DONE[outcome])
            % {
                "department": name,
                "period": period,
                "amount": _money(amount, settings.currency) if amount is not None else "",
            },
            "success",
        )
        return redirect(url_for("billing_admin.budgets"), code=303)
    status = 422 if form.is_submitted() else 200
    return (
        render_template(
            "billing/budgets.html",
            form=form,
            lines=reports.budget_lines(),
            has_departments=bool(departments),
            currency=settings.currency,
        ),
        status,
    )


# -- an organizer's own spend ----------------------------------------------------------------------


@login_required
def my_spend():
    """The signed-in user's own pay-per-use charges and refunds, per month."""
    return render_template("billing/my_spend.html", spend=reports.organizer_spend(current_user.id))


@bp.record_once
def _outside_admin(state) -> None:
    # "My spend" belongs with this feature but not under /admin: registered on the app
    # with an endpoint of this blueprint ("billing_admin.my_spend").
    state.app.add_url_rule("/my/spend", f"{bp.name}.my_spend", my_spend)
