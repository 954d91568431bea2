from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.access import admin_required
from portal.admin.forms import SettingsForm
from portal.admin.services import SETTING_FIELDS, get_settings, update_settings
from portal.extensions import db
from portal.mail.models import OutboxMessage

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


@bp.route("/outbox")
@admin_required
def outbox():
    """Mail the portal sent or queued (in the demo it lands as .eml files, not in anybody's inbox)."""
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)).all()
    return render_template(
        "admin/outbox.html", messages=messages, smtp=bool(current_app.config["MAIL_SERVER"])
    )


@bp.route("/outbox/<id:message_id>")
@admin_required
def outbox_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    return render_template("admin/outbox_message.html", message=message)
