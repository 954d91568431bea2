"""Coupon administration (admins; organizers for coupons restricted to their own sessions).

Thin views: parse the form, call ``portal.coupons.services``, render or redirect (303).
Every page answers 404 while the site's "Coupons" switch is off, and a coupon
the user may not manage answers 404 too.
"""

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.access import admin_required
from portal.accounts.models import User
from portal.admin.models import AuditEntry
from portal.admin.services import get_settings
from portal.coupons import (
    models,  # noqa: F401  (the tables belong to the app's metadata)
    rules,
    services,
)
from portal.coupons.forms import (
    KIND_LABELS,
    CouponForm,
    FilterForm,
    GenerateForm,
    ImportForm,
    PrepaidForm,
    SendForm,
    to_local,
)
from portal.coupons.messages import FIELD_OF, coupon_message
from portal.coupons.models import Coupon, CouponDelivery, CouponRedemption
from portal.csvutil import stream_csv
from portal.extensions import db
from portal.i18n import format_in_zone, select_timezone
from portal.mail.services import deliver_queued
from portal.pagination import page_of
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus
from portal.web import render_page_or_fragment

bp = Blueprint("coupons", __name__, url_prefix="/coupons")

ACTION_LABELS = {
    "coupon.created": _l("Created"),
    "coupon.updated": _l("Changed"),
    "coupon.activated": _l("Activated"),
    "coupon.deactivated": _l("Deactivated"),
    "coupon.deleted": _l("Deleted"),
    "coupon.resent": _l("Sent again"),
}

STATUS_LABELS = {
    "reserved": _l("Reserved (guest paying)"),
    "committed": _l("Used"),
    "released": _l("Released"),
}


@bp.before_request
def coupons_switch():
    """Coupons exist only while the site's "Coupons" switch (and e-commerce) is on."""
    if not get_settings().coupons:
        abort(404)


@bp.app_template_global()
def coupon_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


# -- helpers -------------------------------------------------------------------------------------------


def _coupon_or_404(coupon_id: int) -> Coupon:
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or not services.can_manage(current_user, coupon):
        abort(404)
    return coupon


def _zone() -> str:
    return select_timezone()


def _session_choices(extra: list[TrainingSession] = ()) -> list[tuple[int, str]]:
    """Upcoming sessions the user may manage (plus those a coupon is already restricted to)."""
    query = (
        select(TrainingSession)
        .where(
            TrainingSession.end_at >= datetime.now(UTC),
            TrainingSession.status != SessionStatus.CANCELLED,
        )
        .order_by(TrainingSession.start_at)
        .limit(500)
    )
    if not current_user.is_admin:
        query = query.where(TrainingSession.organizer_id == current_user.id)
    trainings = list(db.session.scalars(query))
    known = {training.id for training in trainings}
    trainings += [training for training in extra if training.id not in known]
    return [(training.id, _session_label(training)) for training in trainings]


def _session_label(training: TrainingSession) -> str:
    label = f"{training.title} — {format_in_zone(training.start_at, style='medium')}"
    if current_user.is_admin:
        label += f" ({training.organizer.email})"
    return label


def _organizer_choices(keep: int | None = None) -> list[tuple[int, str]] | None:
    """Admins choose any active account whose sessions the coupon is limited to; organizers don't.

    ``keep``: the coupon's current organizer, offered even if their account was deactivated.
    """
    if not current_user.is_admin:
        return None
    users = db.session.scalars(
        select(User).where(or_(User.active.is_(True), User.id == keep)).order_by(User.email)
    )
    return [(user.id, f"{user.name} <{user.email}>" if user.name else user.email) for user in users]


def _form_kwargs(organizer_id: int | None = None) -> dict:
    return {
        "currency": get_settings().currency,
        "zone": _zone(),
        "organizer_choices": _organizer_choices(organizer_id),
    }


def _coupon_input(form, **extra) -> services.CouponInput:
    organizer_id = form.organizer.data if "organizer" in form else current_user.id
    return services.CouponInput(**form.terms(), organizer_id=organizer_id, **extra)


def _show_error(form, exc, fields: dict | None = None) -> None:
    """A service (or rules) error as a field error when it belongs to one, else a form error."""
    message = coupon_message(exc.code, getattr(exc, "detail", ""))
    name = (fields or {}).get(exc.code) or FIELD_OF.get(exc.code)
    if name and name in form:
        form[name].errors = [*form[name].errors, message]
    else:
        form.form_errors = [*form.form_errors, message]


def _visible_batches() -> list[str]:
    query = services.coupons_for(current_user).with_only_columns(Coupon.batch).distinct()
    return sorted(batch for batch in db.session.scalars(query) if batch)


def _filtered(form: FilterForm):
    query = services.coupons_for(current_user)
    if form.batch.data:
        query = query.where(Coupon.batch == form.batch.data)
    if form.active.data == "yes":
        query = query.where(Coupon.active.is_(True))
    elif form.active.data == "no":
        query = query.where(Coupon.active.is_(False))
    if form.used_up.data:
        query = query.where(Coupon.uses >= Coupon.max_uses)
    if form.expired.data:
        query = query.where(Coupon.valid_until.is_not(None), Coupon.valid_until <= datetime.now(UTC))
    term = (form.q.data or "").strip()
    if term:
        lowered = term.lower()
        matches = [
            func.lower(Coupon.batch).contains(lowered, autoescape=True),
            func.lower(func.coalesce(Coupon.bound_email, "")).contains(lowered, autoescape=True),
            func.lower(Coupon.note).contains(lowered, autoescape=True),
        ]
        code = rules.normalize_code(term)
        if code:
            matches.append(Coupon.code.contains(code, autoescape=True))
        query = query.where(or_(*matches))
    return query


def _filter_args(form: FilterForm) -> dict:
    """The active filters as query-string arguments (for the export link; the pager keeps the URL's own)."""
    args = {"q": (form.q.data or "").strip(), "batch": form.batch.data, "active": form.active.data}
    args = {key: value for key, value in args.items() if value}
    if form.used_up.data:
        args["used_up"] = "y"
    if form.expired.data:
        args["expired"] = "y"
    return args


# -- list, create, edit --------------------------------------------------------------------------------


@bp.route("/")
@login_required
def list_coupons():
    """Newest first, a page at a time: filtered, counted and sliced in SQL (a fixed number of queries)."""
    form = FilterForm(request.args, _visible_batches())
    # Each row shows its organizer and its sessions: loaded for the whole page in one query each.
    query = _filtered(form).options(selectinload(Coupon.organizer), selectinload(Coupon.sessions))
    return render_page_or_fragment(
        "coupons/list.html",
        "coupons/_table.html",
        form=form,
        listing=page_of(query.order_by(Coupon.id.desc())),
        filter_args=_filter_args(form),
        now=datetime.now(UTC),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = CouponForm(session_choices=_session_choices(), **_form_kwargs())
    if form.validate_on_submit():
        data = _coupon_input(form, code=form.code.data or "", bound_email=form.bound_email.data or None)
        try:
            coupon = services.create_coupon(data, current_user)
        except services.CouponServiceError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            flash(_("Coupon %(code)s created.", code=coupon.code), "success")
            return redirect(url_for("coupons.detail", coupon_id=coupon.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("coupons/form.html", form=form, coupon=None), status


@bp.route("/<id:coupon_id>/edit", methods=["GET", "POST"])
@login_required
def edit(coupon_id: int):
    coupon = _coupon_or_404(coupon_id)
    kwargs = _form_kwargs(coupon.organizer_id)
    if coupon.kind == rules.DiscountKind.FIXED and coupon.currency:
        kwargs["currency"] = coupon.currency  # a fixed amount keeps the currency it was set in
    if request.method == "GET":
        zone = kwargs["zone"]
        kwargs.update(
            code=coupon.code,
            kind=coupon.kind,
            value=coupon.percent if coupon.kind == rules.DiscountKind.PERCENT else coupon.amount_cents,
            max_uses=coupon.max_uses,
            max_uses_per_email=coupon.max_uses_per_email,
            valid_from=to_local(coupon.valid_from, zone),
            valid_until=to_local(coupon.valid_until, zone),
            bound_email=coupon.bound_email or "",
            batch=coupon.batch,
            sessions=[training.id for training in coupon.sessions],
            organizer=coupon.organizer_id,
            note=coupon.note,
            active=coupon.active,
        )
    form = CouponForm(session_choices=_session_choices(coupon.sessions), **kwargs)
    form.code.render_kw = {"readonly": True, "autocomplete": "off"}
    if form.validate_on_submit():
        data = _coupon_input(form, code=coupon.code, bound_email=form.bound_email.data or None)
        try:
            changed = services.update_coupon(coupon, data, current_user)
        except services.CouponServiceError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            flash(_("Coupon saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("coupons.detail", coupon_id=coupon.id), code=303)
    form.code.data = coupon.code  # the code never changes
    status = 422 if form.is_submitted() else 200
    return render_template("coupons/form.html", form=form, coupon=coupon), status


# -- one coupon ----------------------------------------------------------------------------------------


# The latest deliveries and history entries shown on a coupon's page.
DETAIL_CAP = 50


@bp.route("/<id:coupon_id>")
@login_required
def detail(coupon_id: int):
    coupon = _coupon_or_404(coupon_id)
    # A coupon can be used thousands of times: redemptions are paged, the rest capped (the
    # audit log has the full history).
    redemptions = page_of(
        select(CouponRedemption)
        .where(CouponRedemption.coupon_id == coupon.id)
        .order_by(CouponRedemption.id.desc())
    )
    deliveries = db.session.scalars(
        select(CouponDelivery)
        .where(CouponDelivery.coupon_id == coupon.id)
        .order_by(CouponDelivery.id.desc())
        .limit(DETAIL_CAP)
    ).all()
    history = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.subject_type == "Coupon", AuditEntry.subject_id == str(coupon.id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(DETAIL_CAP)
    ).all()
    if redemptions.total:
        delete_refusal = coupon_message("has_redemptions")
    elif deliveries:
        delete_refusal = coupon_message("was_sent")
    else:
        delete_refusal = None
    return render_template(
        "coupons/detail.html",
        coupon=coupon,
        redemptions=redemptions,
        deliveries=deliveries,
        history=[(entry, _action_label(entry.action), _describe(entry.details)) for entry in history],
        delete_refusal=delete_refusal,
        status_labels=STATUS_LABELS,
        now=datetime.now(UTC),
    )


def _action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def _describe(details: dict | None) -> str:
    """An audit entry's details in one readable line (changes as "field: old → new")."""
    details = dict(details or {})
    details.pop("values", None)  # the full snapshot of a creation; the code says which coupon
    parts = []
    for key, value in details.items():
        if key == "changes" and isinstance(value, dict):
            parts += [f"{name}: {_plain(old)} → {_plain(new)}" for name, (old, new) in value.items()]
        else:
            parts.append(f"{key}: {_plain(value)}")
    return "; ".join(parts)


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


@bp.route("/<id:coupon_id>/deactivate", methods=["POST"])
@login_required
def deactivate(coupon_id: int):
    coupon = _coupon_or_404(coupon_id)
    services.set_active(coupon, False, current_user)
    flash(_("Coupon %(code)s deactivated: guests can no longer use it.", code=coupon.code), "success")
    return redirect(url_for("coupons.detail", coupon_id=coupon.id), code=303)


@bp.route("/<id:coupon_id>/activate", methods=["POST"])
@login_required
def activate(coupon_id: int):
    coupon = _coupon_or_404(coupon_id)
    services.set_active(coupon, True, current_user)
    flash(_("Coupon %(code)s activated.", code=coupon.code), "success")
    return redirect(url_for("coupons.detail", coupon_id=coupon.id), code=303)


@bp.route("/<id:coupon_id>/delete", methods=["POST"])
@login_required
def delete(coupon_id: int):
    coupon = _coupon_or_404(coupon_id)
    code = coupon.code
    try:
        services.delete_coupon(coupon, current_user)
    except services.CouponServiceError as exc:
        db.session.rollback()
        flash(coupon_message(exc.code, exc.detail), "error")
        return redirect(url_for("coupons.detail", coupon_id=coupon_id), code=303)
    flash(_("Coupon %(code)s deleted.", code=code), "success")
    return redirect(url_for("coupons.list_coupons"), code=303)


# -- bulk ----------------------------------------------------------------------------------------------


@bp.route("/generate", methods=["GET", "POST"])
@login_required
def generate():
    form = GenerateForm(session_choices=_session_choices(), **_form_kwargs())
    if form.validate_on_submit():
        try:
            coupons = services.generate_coupons(
                form.count.data, form.prefix.data or "", form.length.data, _coupon_input(form), current_user
            )
        except (services.CouponServiceError, rules.CouponError) as exc:
            # rules.CouponError: generate_code refuses a prefix too long for the length (code_too_long).
            db.session.rollback()
            _show_error(form, exc, {"code_too_long": "prefix", "code_bad_characters": "prefix"})
        else:
            flash(ngettext("%(num)d code generated.", "%(num)d codes generated.", len(coupons)), "success")
            batch = coupons[0].batch
            return redirect(url_for("coupons.list_coupons", **({"batch": batch} if batch else {})), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("coupons/generate.html", form=form), status


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_coupons():
    form = ImportForm(session_choices=_session_choices(), **_form_kwargs())
    row_errors = []
    if form.validate_on_submit():
        text = form.csv_text()
        if text is not None:
            defaults = _coupon_input(form)
            defaults.currency = defaults.currency or get_settings().currency  # for rows of fixed amounts
            try:
                report = services.import_csv(text, current_user, defaults)
            except services.CouponServiceError as exc:
                db.session.rollback()
                _show_error(form, exc)
            else:
                if report.ok:
                    flash(
                        ngettext(
                            "%(num)d coupon imported.", "%(num)d coupons imported.", len(report.created)
                        ),
                        "success",
                    )
                    return redirect(url_for("coupons.list_coupons"), code=303)
                db.session.rollback()
                row_errors = [(line, code, coupon_message(problem)) for line, code, problem in report.errors]
    status = 422 if form.is_submitted() else 200
    return render_template(
        "coupons/import.html", form=form, row_errors=row_errors, columns=services.CSV_COLUMNS
    ), status


@bp.route("/export.csv")
@login_required
def export_csv():
    """Every coupon the filters match (not only a page), streamed as it is read."""
    form = FilterForm(request.args, _visible_batches())
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    rows = services.export_rows(_filtered(form).order_by(Coupon.id))
    return stream_csv(f"coupons-{stamp}.csv", services.CSV_COLUMNS, rows)


# -- distribution by email -----------------------------------------------------------------------------


def _link_choices() -> tuple[list[tuple[str, str]], dict[str, str]]:
    """Upcoming sessions' public links, as select choices and a lookup by session id."""
    choices, links = [], {}
    for session_id, label in _session_choices():
        training = db.session.get(TrainingSession, session_id)
        link = url_for("registration.public_session", token=training.public_token, _external=True)
        choices.append((str(session_id), label))
        links[str(session_id)] = link
    return choices, links


@bp.route("/send", methods=["GET", "POST"])
@login_required
def send():
    link_choices, links = _link_choices()
    batches = _visible_batches()
    form = SendForm(batch_choices=[(batch, batch) for batch in batches], link_choices=link_choices)
    if request.method == "GET" and request.args.get("batch") in batches:
        form.batch.data = request.args["batch"]
    if form.validate_on_submit():
        recipients = form.parsed_recipients()
        if recipients is not None:
            try:
                deliveries = services.distribute(
                    form.batch.data,
                    recipients,
                    form.subject.data,
                    form.body.data,
                    links.get(form.link.data, ""),
                    bool(form.bind.data),
                    current_user,
                )
            except services.CouponServiceError as exc:
                db.session.rollback()
                _show_error(form, exc)
            else:
                deliver_queued()  # after the commit: the mail leaves at once
                flash(
                    ngettext(
                        "%(num)d coupon sent by email.", "%(num)d coupons sent by email.", len(deliveries)
                    ),
                    "success",
                )
                return redirect(url_for("coupons.list_coupons", batch=form.batch.data), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("coupons/send.html", form=form), status


@bp.route("/deliveries/<id:delivery_id>/resend", methods=["POST"])
@login_required
def resend(delivery_id: int):
    delivery = db.session.get(CouponDelivery, delivery_id)
    if delivery is None or not services.can_manage(current_user, delivery.coupon):
        abort(404)
    services.resend(delivery, current_user)
    deliver_queued()
    flash(_("Coupon sent again to %(email)s.", email=delivery.email), "success")
    return redirect(url_for("coupons.detail", coupon_id=delivery.coupon_id), code=303)


# -- prepaid coupons -----------------------------------------------------------------------------------


@bp.route("/prepaid", methods=["GET", "POST"])
@admin_required
def prepaid():
    settings = get_settings()
    form = PrepaidForm(currency=settings.currency, zone=_zone())
    if form.validate_on_submit():
        try:
            prepayment = services.record_prepayment(
                form.email.data,
                (form.name.data or "").strip(),
                form.amount.data,
                settings.currency,
                form.reference.data,
                form.sessions_count.data,
                current_user,
                valid_until=form.aware(form.valid_until),
            )
        except services.CouponServiceError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            deliver_queued()
            flash(
                ngettext(
                    "Prepayment recorded: %(num)d free coupon sent to %(email)s.",
                    "Prepayment recorded: %(num)d free coupons sent to %(email)s.",
                    prepayment.sessions_count,
                    email=prepayment.email,
                ),
                "success",
            )
            return redirect(url_for("coupons.list_coupons", batch=f"prepaid-{prepayment.id}"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("coupons/prepaid.html", form=form), status


# -- reports -------------------------------------------------------------------------------------------


@bp.route("/report")
@login_required
def report():
    """Uses per batch or per coupon, a page at a time; the totals per currency cover every row."""
    by = "coupon" if request.args.get("by") == "coupon" else "batch"
    if request.args.get("format") == "csv":
        rows = services.usage_csv_rows(current_user, by)
        return stream_csv(f"coupon-report-by-{by}.csv", services.usage_csv_header(by), rows)
    return render_template(
        "coupons/report.html",
        page=page_of(services.usage_query(current_user, by), rows=True),
        by=by,
        totals=services.usage_totals(current_user),
    )
