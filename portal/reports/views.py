"""The homes (admin dashboard, organizer's upcoming sessions) and the revenue reports.

Thin views: parse the filter, call ``portal.reports``, render.
"""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from portal.accounts.access import admin_required
from portal.accounts.services import find_user_by_email
from portal.csvutil import stream_csv
from portal.fields import FilterDateField
from portal.i18n import select_timezone
from portal.money import plain_amount
from portal.reports import dashboards, revenue

bp = Blueprint("reports", __name__)


@bp.route("/admin/")
@admin_required
def admin_home():
    today, month = dashboards.today_and_month(select_timezone())
    return render_template(
        "reports/admin_home.html",
        today=dashboards.activity(today),
        month=dashboards.activity(month),
        attention=dashboards.attention(),
    )


@bp.route("/home")
@login_required
def organizer_home():
    return render_template("reports/organizer_home.html", page=dashboards.upcoming_sessions(current_user.id))


@bp.route("/admin/reports/")
@admin_required
def index():
    return render_template("reports/index.html")


class RevenueFilterForm(FlaskForm):
    """A GET form (no CSRF token): sessions by start day and organizer."""

    class Meta:
        csrf = False

    start = FilterDateField(_l("Sessions from"), [Optional()], name="from")
    end = FilterDateField(_l("Sessions to"), [Optional()], name="to")
    organizer = StringField(_l("Organizer email"), [Optional(), Length(max=254)])

    def validate_end(self, field):
        if self.start.data and field.data and field.data < self.start.data:
            raise ValidationError(_l("The last day is before the first."))

    def revenue_filter(self) -> revenue.RevenueFilter:
        organizer_id = None
        if self.organizer.data and self.organizer.data.strip():
            organizer = find_user_by_email(self.organizer.data)
            organizer_id = organizer.id if organizer else 0  # nobody: no rows, not every row
        return revenue.RevenueFilter(
            start=self.start.data, end=self.end.data, organizer_id=organizer_id, zone=select_timezone()
        )

    def args(self) -> dict[str, str]:
        values = {f.name: (f.raw_data or [""])[0] for f in self}
        return {name: value.strip() for name, value in values.items() if value and value.strip()}


def _revenue_page(template: str, paged):
    form = RevenueFilterForm(request.args)
    if not form.validate():
        return render_template(template, form=form, page=None, totals=[], filter_args={}), 422
    flt = form.revenue_filter()
    return render_template(
        template,
        form=form,
        page=paged(flt),
        totals=revenue.totals(flt),
        filter_args=form.args(),
        unknown_organizer=flt.organizer_id == 0,
    )


@bp.route("/admin/reports/sessions")
@admin_required
def sessions():
    """Revenue per session: guest fees gross, discounts, refunds, net and confirmed registrations."""
    return _revenue_page("reports/sessions.html", revenue.sessions_page)


@bp.route("/admin/reports/organizers")
@admin_required
def organizers():
    return _revenue_page("reports/organizers.html", revenue.organizers_page)


SESSIONS_CSV_HEADER = [
    "session_id",
    "title",
    "start",
    "status",
    "organizer",
    "registrations",
    "gross",
    "discounts",
    "refunds",
    "net",
    "currency",
]


@bp.route("/admin/reports/sessions.csv")
@admin_required
def sessions_csv():
    form = RevenueFilterForm(request.args)
    if not form.validate():
        return redirect(url_for("reports.sessions", **request.args), code=303)

    def lines():
        for row in revenue.session_rows_for_csv(form.revenue_filter()):
            f, currency = row.figures, row.currency
            yield [
                row.id,
                row.title,
                row.start_at.isoformat(),
                row.status,
                row.organizer_email,
                f.registrations,
                plain_amount(f.gross_cents, currency),
                plain_amount(f.discount_cents, currency),
                plain_amount(f.refunded_cents, currency),
                plain_amount(f.net_cents, currency),
                currency,
            ]

    return stream_csv("revenue-per-session.csv", SESSIONS_CSV_HEADER, lines())
