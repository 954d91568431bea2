"""Administrators' pages for people: users (organizers and admins), invitations, departments.

Thin views: parse the form, call ``portal.accounts.services``, render or redirect (303).
Every page is for administrators only (organizers get 404, anonymous visitors the login
page), except the public page behind an invitation link.
"""

import re
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_user
from sqlalchemy import case, func, or_, select

from portal.accounts import services
from portal.accounts.access import admin_required
from portal.accounts.forms import (
    ROLE_LABELS,
    STATUS_LABELS,
    DepartmentForm,
    InviteForm,
    SetPasswordForm,
    UserFilterForm,
    UserForm,
)
from portal.accounts.invitations import max_age_hours
from portal.accounts.models import Department, Role, User
from portal.accounts.passwords import MIN_LENGTH
from portal.accounts.services import AccountError
from portal.admin.models import AuditEntry
from portal.database import utcnow
from portal.extensions import db
from portal.mail.services import deliver_queued
from portal.pagination import page_of
from portal.web import render_page_or_fragment

bp = Blueprint("users_admin", __name__)

MESSAGES = {
    "invalid_email": _l("That is not a valid email address."),
    "email_taken": _l("An account with that email address already exists."),
    "last_admin": _l(
        "This is the last active administrator: the site must keep one. "
        "Make another user an administrator first."
    ),
    "deactivate_self": _l("You cannot deactivate your own account; ask another administrator."),
    "busy": _l("Another change to these accounts is in progress. Try again in a moment."),
    "inactive": _l("This account is deactivated: reactivate it before sending a new invitation."),
    "not_invited": _l("This user has already set a password: there is no invitation to send."),
    "password_too_short": _l("The password must have at least %(min)d characters.", min=MIN_LENGTH),
    "password_common": _l(
        "This password is one of the most common ones and easy to guess. Choose a less usual one."
    ),
    "department_name_required": _l("Enter a name."),
    "department_name_too_long": _l("The name can have at most 120 characters."),
    "department_exists": _l("A department with that name already exists."),
    "department_has_history": _l(
        "This department has pay-per-use budgets, charges or reimbursements, which must stay in the "
        "reports: it cannot be deleted. You can rename it."
    ),
    "invitation_expired": _l("This invitation link has expired. Ask an administrator to send you a new one."),
    "invitation_invalid": _l(
        "This invitation link is not valid. Check that you opened the whole link from the email."
    ),
    "invitation_used": _l("This invitation has already been used: your password is set. Log in with it."),
    "invitation_superseded": _l(
        "A newer invitation was sent to you since this one: use the link in the latest email."
    ),
    "invitation_revoked": _l("This invitation was withdrawn. Ask an administrator if you need access."),
}

# Answers of the invitation page for a link that does not work.
INVITATION_STATUS = {"invitation_invalid": 404}

ACTION_LABELS = {
    "user.invited": _l("Invited"),
    "user.invitation_resent": _l("Invitation sent again"),
    "user.invitation_accepted": _l("Password set from the invitation"),
    "user.updated": _l("Changed"),
    "user.deactivated": _l("Deactivated"),
    "user.reactivated": _l("Reactivated"),
}

FIELD_LABELS = {"name": _l("Name"), "role": _l("Role"), "department": _l("Department")}


@bp.app_template_global()
def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _message(exc: AccountError) -> str:
    return str(MESSAGES.get(exc.code, exc.code))


def _me() -> User:
    return current_user._get_current_object()


def _user_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _department_or_404(department_id: int) -> Department:
    return db.session.get(Department, department_id) or abort(404)


def _all_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def _chosen_department(form) -> Department | None:
    """The department picked in ``form``; ``False`` (with a field error) when it has just gone."""
    if form.department.data is None:
        return None
    department = db.session.get(Department, form.department.data)
    if department is None:
        form.department.errors = [*form.department.errors, _("That department no longer exists.")]
        return False
    return department


def _invite_cutoff():
    """Invitations sent before this moment have expired."""
    return utcnow() - timedelta(hours=max_age_hours())


# -- users ---------------------------------------------------------------------------------------------


def _filtered(form: UserFilterForm):
    query = select(User)
    if form.role.data in (Role.ADMIN, Role.ORGANIZER):
        query = query.where(User.role == form.role.data)
    department = form.department.data or ""
    if department == "none":
        query = query.where(User.department_id.is_(None))
    elif re.fullmatch(r"[0-9]{1,9}", department):  # an id; anything else filters nothing
        query = query.where(User.department_id == int(department))
    status = form.status.data
    if status == "active":
        query = query.where(User.active.is_(True), User.invited_at.is_(None))
    elif status == "invited":
        query = query.where(User.active.is_(True), User.invited_at.is_not(None))
    elif status == "deactivated":
        query = query.where(User.active.is_(False))
    term = (form.q.data or "").strip().lower()
    if term:
        query = query.where(
            or_(
                func.lower(User.email).contains(term, autoescape=True),
                func.lower(User.name).contains(term, autoescape=True),
            )
        )
    return query


@bp.route("/admin/users")
@admin_required
def users():
    form = UserFilterForm(request.args)
    form.set_departments(_all_departments())
    # The department comes with each user (a joined load): two queries per page, whatever the rows.
    pagination = page_of(_filtered(form).order_by(User.email))
    return render_page_or_fragment(
        "users/list.html",
        "users/_table.html",
        form=form,
        pagination=pagination,
        invite_cutoff=_invite_cutoff(),
        status_labels=STATUS_LABELS,
    )


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@admin_required
def invite():
    form = InviteForm()
    form.set_departments(_all_departments())
    if form.validate_on_submit() and (department := _chosen_department(form)) is not False:
        try:
            user = services.invite_user(
                form.email.data, form.name.data, Role(form.role.data), department, actor=_me()
            )
        except AccountError as exc:
            field = form.email if exc.code in ("invalid_email", "email_taken") else None
            if field is not None:
                field.errors = [*field.errors, _message(exc)]
            else:
                form.form_errors.append(_message(exc))
        else:
            user_id, email = user.id, user.email
            deliver_queued()  # after the commit: the mail leaves at once
            flash(_("Invitation sent to %(email)s.", email=email), "success")
            return redirect(url_for("users_admin.edit", user_id=user_id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("users/invite.html", form=form), status


def _history(user: User) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "User", AuditEntry.subject_id == str(user.id))
            .order_by(AuditEntry.id.desc())
            .limit(50)
        )
    )


def _render_edit(user: User, form: UserForm, status: int = 200):
    return (
        render_template(
            "users/edit.html",
            user=user,
            form=form,
            history=_history(user),
            action_labels=ACTION_LABELS,
            field_labels=FIELD_LABELS,
            invite_cutoff=_invite_cutoff(),
            invite_expires_at=user.invited_at + timedelta(hours=max_age_hours()) if user.invited_at else None,
            status_labels=STATUS_LABELS,
        ),
        status,
    )


@bp.route("/admin/users/<id:user_id>", methods=["GET", "POST"])
@admin_required
def edit(user_id: int):
    user = _user_or_404(user_id)
    form = UserForm(data={"name": user.name, "role": str(user.role), "department": user.department_id})
    form.set_departments(_all_departments())
    if form.validate_on_submit() and (department := _chosen_department(form)) is not False:
        me = _me()
        try:
            changed = services.update_user(user, form.name.data, Role(form.role.data), department, actor=me)
        except AccountError as exc:
            (form.role.errors if exc.code == "last_admin" else form.form_errors).append(_message(exc))
        else:
            if not changed:
                flash(_("Nothing to save: no change."), "info")
            elif user.id == me.id and "role" in changed:
                flash(_("You are no longer an administrator."), "success")
                return redirect(url_for("index"), code=303)
            else:
                flash(_("Changes to %(email)s saved.", email=user.email), "success")
            return redirect(url_for("users_admin.edit", user_id=user_id), code=303)
    return _render_edit(user, form, 422 if form.is_submitted() else 200)


def _account_action(user_id: int, action, done: str):
    user = _user_or_404(user_id)
    try:
        action(user, actor=_me())
    except AccountError as exc:
        flash(_message(exc), "error")
    else:
        flash(done % {"email": user.email}, "success")
    return redirect(url_for("users_admin.edit", user_id=user_id), code=303)


@bp.route("/admin/users/<id:user_id>/deactivate", methods=["POST"])
@admin_required
def deactivate(user_id: int):
    return _account_action(
        user_id,
        services.deactivate_user,
        _("%(email)s is deactivated and signed out everywhere. Their sessions, payments and reports stay."),
    )


@bp.route("/admin/users/<id:user_id>/reactivate", methods=["POST"])
@admin_required
def reactivate(user_id: int):
    return _account_action(user_id, services.reactivate_user, _("%(email)s can log in again."))


@bp.route("/admin/users/<id:user_id>/resend", methods=["POST"])
@admin_required
def resend_invitation(user_id: int):
    response = _account_action(
        user_id,
        services.resend_invitation,
        _("A new invitation was sent to %(email)s; earlier links no longer work."),
    )
    deliver_queued()
    return response


# -- departments ---------------------------------------------------------------------------------------


def _department_rows():
    """Each department with its number of users and of active users: one GROUP BY query."""
    return db.session.execute(
        select(
            Department,
            func.count(User.id).label("users"),
            func.coalesce(func.sum(case((User.active.is_(True), 1), else_=0)), 0).label("active"),
        )
        .outerjoin(User, User.department_id == Department.id)
        .group_by(Department.id)
        .order_by(Department.name)
    ).all()


@bp.route("/admin/departments", methods=["GET", "POST"])
@admin_required
def departments():
    form = DepartmentForm()
    if form.validate_on_submit():
        try:
            department = services.create_department(form.name.data, actor=_me())
        except AccountError as exc:
            form.name.errors = [*form.name.errors, _message(exc)]
        else:
            flash(_("Department %(name)s created.", name=department.name), "success")
            return redirect(url_for("users_admin.departments"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("users/departments.html", form=form, rows=_department_rows()), status


@bp.route("/admin/departments/<id:department_id>/rename", methods=["GET", "POST"])
@admin_required
def rename_department(department_id: int):
    department = _department_or_404(department_id)
    form = DepartmentForm(data={"name": department.name})
    if form.validate_on_submit():
        old = department.name
        try:
            renamed = services.rename_department(department, form.name.data, actor=_me())
        except AccountError as exc:
            form.name.errors = [*form.name.errors, _message(exc)]
        else:
            if renamed:
                flash(_("Department %(old)s renamed %(new)s.", old=old, new=department.name), "success")
            else:
                flash(_("Nothing to save: no change."), "info")
            return redirect(url_for("users_admin.departments"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("users/rename_department.html", form=form, department=department), status


@bp.route("/admin/departments/<id:department_id>/delete", methods=["POST"])
@admin_required
def delete_department(department_id: int):
    department = _department_or_404(department_id)
    name = department.name
    try:
        services.delete_department(department, actor=_me())
    except AccountError as exc:
        if exc.code == "department_in_use":
            users_in_it, _others = services.department_references(department)
            flash(
                ngettext(
                    "%(name)s still has %(num)d user: move them to another department first.",
                    "%(name)s still has %(num)d users: move them to another department first.",
                    users_in_it,
                    name=name,
                ),
                "error",
            )
        else:
            flash(_message(exc), "error")
    else:
        flash(_("Department %(name)s deleted.", name=name), "success")
    return redirect(url_for("users_admin.departments"), code=303)


# -- the invitation link (public) ----------------------------------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        user = services.invited_user(token)
    except AccountError as exc:
        return _invitation_refused(exc)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, form.password.data)
        except AccountError as exc:
            if exc.code not in ("password_too_short", "password_common"):
                return _invitation_refused(exc)
            form.password.errors = [*form.password.errors, _message(exc)]
        else:
            session.clear()  # a fresh session for the new login (no fixation)
            login_user(user)
            flash(_("Your password is set. Welcome, %(name)s!", name=user.name or user.email), "success")
            return redirect(url_for("index"), code=303)
    status = 422 if form.is_submitted() else 200
    return (
        render_template("users/accept_invitation.html", form=form, user=user, min_length=MIN_LENGTH),
        status,
    )


def _invitation_refused(exc: AccountError):
    status = INVITATION_STATUS.get(exc.code, 410)
    return render_template("users/invitation_refused.html", message=_message(exc), code=exc.code), status
