from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from portal.accounts.access import admin_required
from portal.admin.forms import SettingsForm
from portal.admin.services import SETTING_FIELDS, get_settings, update_settings

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    form = SettingsForm(obj=get_settings())
    if form.validate_on_submit():
        update_settings({field: getattr(form, field).data for field in SETTING_FIELDS})
        flash(_("Settings saved."), "success")
        return redirect(url_for("admin.settings"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("admin/settings.html", form=form), status
