from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.admin.services import get_settings
from portal.billing import services as billing
from portal.billing.pricing import AudioType, estimate
from portal.database import utcnow
from portal.extensions import db
from portal.i18n import format_money
from portal.mail.services import deliver_queued
from portal.pagination import page_of
from portal.registration.services import cancel_session_registrations, notify_session_changed
from portal.trainings import services
from portal.trainings.forms import SessionCostForm, SessionForm
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus
from portal.web import is_htmx, reads_only_when, render_page_or_fragment

bp = Blueprint("trainings", __name__, url_prefix="/sessions")

# What each form may ask for; anything else (or a tampered value) only re-estimates.
NEW_INTENTS = {"schedule", "start"}
EDIT_INTENTS = {"save"}


def _managed_or_404(session_id: int):
    training = services.managed_session(session_id, current_user)
    if training is None:
        abort(404)
    return training


def _default_start(zone: str) -> datetime:
    tomorrow = datetime.now(ZoneInfo(zone)).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(9, 0))


def _build_form(start_now: bool, training=None, form_class=SessionForm) -> SessionCostForm:
    settings = get_settings()
    kwargs = {}
    if training is None and request.method == "GET":
        zone = current_user.timezone
        kwargs = {
            "timezone": zone,
            "start": _default_start(zone),
            "duration_minutes": 60,
            "capacity": 20,
            "expected_attendees": 10,
        }
    elif training is not None and request.method == "GET":
        local_start = training.start_at.astimezone(ZoneInfo(training.timezone))
        kwargs = {"start": local_start.replace(tzinfo=None), "session_fee": training.fee_cents}
    return form_class(
        obj=training,
        # A session keeps the currency its fee was set in, whatever the site uses now.
        currency=training.currency if training else settings.currency,
        fee_enabled=settings.fee_based,
        start_required=not start_now,
        **kwargs,
    )


def _details(form: SessionForm) -> services.SessionDetails:
    audio = AudioType(form.audio.data)
    return services.SessionDetails(
        title=form.title.data.strip(),
        description=(form.description.data or "").strip(),
        start_at=form.start_at_utc(),
        timezone=form.timezone.data,
        duration_minutes=form.duration_minutes.data,
        capacity=form.capacity.data,
        expected_attendees=form.expected_attendees.data,
        audio=audio,
        teleconference_participants=form.teleconference_participants.data if audio.uses_teleconference else 0,
        fee_cents=form.session_fee.data if "session_fee" in form else 0,
        ask_company=form.ask_company.data,
        ask_phone=form.ask_phone.data,
        meeting_url=(form.meeting_url.data or "").strip(),
    )


def _render_form(form: SessionCostForm, training, status: int = 200):
    """The scheduling page, or only its estimate panel for htmx."""
    settings = get_settings()
    usage = form.usage() if settings.pay_per_use else None
    # A session already made is priced in its own currency (billing.session_rates).
    rates = billing.session_rates(training) if training is not None else settings.rates()
    return render_page_or_fragment(
        "trainings/form.html",
        "trainings/_estimate.html",
        status=status,
        form=form,
        training=training,
        quote=estimate(usage, rates) if usage else None,
        live_errors=form.live_errors(),
    )


def _edit_or_create(training=None):
    draft = training is None or training.status == SessionStatus.DRAFT
    allowed = NEW_INTENTS if draft else EDIT_INTENTS
    intent = request.form.get("intent", "save" if training else "schedule")
    saving = intent in allowed
    if not saving and is_htmx() and not get_settings().pay_per_use:
        abort(404)  # no live estimate while pay-per-use is off
    # Only a new session started now may leave the start empty or in the past. The live estimate
    # (htmx, the panel alone) reads only the fields the panel shows.
    form = _build_form(
        start_now=draft and intent == "start",
        training=training,
        form_class=SessionForm if saving or not is_htmx() else SessionCostForm,
    )
    if request.method == "GET":
        return _render_form(form, training)
    valid = form.validate()
    if not saving:
        form.clear_errors_outside_live_fields()
    if saving and valid:
        details = _details(form)
        if draft and get_settings().pay_per_use:
            # Pay-per-use: nothing is scheduled or started before its estimate is paid.
            training = services.save_draft(current_user, details, get_settings(), intent, training)
            return redirect(url_for("billing.estimate_page", session_id=training.id), code=303)
        if training is None:
            training = services.schedule_session(
                current_user, details, get_settings(), start_now=intent == "start"
            )
            flash(_("Session started.") if intent == "start" else _("Session scheduled."), "success")
        else:
            try:
                calendar_changed = services.update_session(training, details, get_settings())
            except services.TrainingError as exc:
                db.session.rollback()
                form.capacity.errors.append(
                    _(
                        "%(count)s seats are already taken: the capacity cannot be lower.",
                        count=training.seats_taken,
                    )
                    if exc.code == "capacity_below_seats_taken"
                    else _("This session can no longer be changed.")
                )
                return _render_form(form, training, 422)
            if draft:
                # Left unpaid while pay-per-use was on; with it off, it goes out like a new session.
                services.publish(training, intent)
                db.session.commit()
                flash(_("Session started.") if intent == "start" else _("Session scheduled."), "success")
                return redirect(url_for("trainings.detail", session_id=training.id), code=303)
            if calendar_changed and notify_session_changed(training):
                deliver_queued()  # each confirmed guest: the new time, and an invitation replacing theirs
            balance = billing.after_edit(training) if get_settings().pay_per_use else 0
            if balance > 0:
                flash(
                    _(
                        "Session updated. Its estimate rose: "
                        "pay the difference (%(amount)s) before it starts.",
                        amount=format_money(balance, training.currency),
                    ),
                    "error",
                )
            else:
                flash(_("Session updated."), "success")
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    return _render_form(form, training, 422 if saving else 200)


def _estimates_only(default_intent: str):
    """A POST whose intent schedules or saves nothing only re-estimates: it reads."""
    return lambda: request.form.get("intent", default_intent) not in NEW_INTENTS | EDIT_INTENTS


@bp.route("/new", methods=["GET", "POST"])
@reads_only_when(_estimates_only("schedule"))
@login_required
def new():
    return _edit_or_create()


@bp.route("/<id:session_id>/edit", methods=["GET", "POST"])
@reads_only_when(_estimates_only("save"))
@login_required
def edit(session_id: int):
    training = _managed_or_404(session_id)
    if not training.is_editable:
        flash(_("A session that has started or was cancelled cannot be changed."), "error")
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    return _edit_or_create(training)


def _sessions_query(past: bool):
    """Upcoming or running (soonest first), or finished (latest first), that the user may manage.

    The organizer each row shows comes in the same query (``organizer`` is joined).
    """
    query = select(TrainingSession)
    if not current_user.is_admin:
        query = query.where(TrainingSession.organizer_id == current_user.id)
    now = utcnow()
    if past:
        query = query.where(TrainingSession.end_at < now)
        return query.order_by(TrainingSession.start_at.desc(), TrainingSession.id.desc())
    query = query.where(TrainingSession.end_at >= now)
    return query.order_by(TrainingSession.start_at, TrainingSession.id)


@bp.route("/")
@login_required
def list_sessions():
    """A page at a time (``?page=N``), filtered, counted and sliced in SQL: a fixed number of queries."""
    past = request.args.get("when") == "past"
    return render_page_or_fragment(
        "trainings/list.html",
        "trainings/_list.html",
        listing=page_of(_sessions_query(past)),
        past=past,
    )


@bp.route("/<id:session_id>")
@login_required
def detail(session_id: int):
    training = _managed_or_404(session_id)
    return render_template(
        "trainings/detail.html",
        training=training,
        seats_left=services.seats_left(training),
    )


@bp.route("/<id:session_id>/cancel", methods=["POST"])
@login_required
def cancel(session_id: int):
    """Cancel the session, then every registration with a full refund and an email to each guest."""
    training = _managed_or_404(session_id)
    if not training.is_editable:
        flash(_("This session can no longer be cancelled."), "error")
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    started = training.status == SessionStatus.STARTED
    services.cancel_session(training)
    if not started:
        billing.cancel_paid(training)
    failures = cancel_session_registrations(training)
    deliver_queued()
    if failures:
        flash(
            _(
                "Session cancelled. %(count)s refunds failed: retry them from the registrants page.",
                count=len(failures),
            ),
            "error",
        )
    else:
        flash(_("Session cancelled. Every guest was refunded and emailed."), "success")
    return redirect(url_for("trainings.detail", session_id=training.id), code=303)
