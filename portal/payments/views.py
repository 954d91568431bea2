"""Webhooks, and the administrators' payments pages (ledger, test charge, refund, void)."""

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.accounts.access import admin_required
from portal.accounts.services import find_user_by_email
from portal.admin.services import get_settings
from portal.csvutil import stream_csv
from portal.extensions import csrf
from portal.i18n import select_timezone
from portal.mail.services import deliver_queued
from portal.pagination import page_of
from portal.payments import ledger as ledger_queries
from portal.payments import services
from portal.payments.component import allowed_methods, component_context, redirect_to_gateway
from portal.payments.forms import LedgerFilterForm, RefundForm, TestChargeForm
from portal.payments.gateway import WebhookSignatureError
from portal.payments.messages import failure_message
from portal.payments.models import Purpose

bp = Blueprint("payments", __name__)


@bp.route("/webhooks/braintree", methods=["POST"])
@csrf.exempt  # authenticated by Braintree's signature instead
def webhook():
    signature = request.form.get("bt_signature", "")
    payload = request.form.get("bt_payload", "")
    if not signature or not payload:
        return "missing bt_signature or bt_payload\n", 400
    try:
        outcome = services.handle_webhook(signature, payload)
    except WebhookSignatureError:
        return "invalid signature\n", 403
    return outcome + "\n", 200


# -- a gateway's own payment page (Payflow's hosted checkout) -----------------------------------------
# The gateway's page posts these from its own origin, without our CSRF token or our cookies
# (SameSite=Lax): they read only the secure token id from the post, ask the gateway themselves,
# and never touch the Flask session (a cookie set here would replace the payer's).


def _checkout_token_id() -> str:
    return (request.form.get("SECURETOKENID") or "").strip()


@bp.route("/payments/hosted/return", methods=["POST"])
@csrf.exempt  # posted by the gateway's page; nothing posted is believed (see complete_hosted_checkout)
def hosted_return():
    """The payer is back: record the sale as the gateway reports it, then show their own page."""
    payment = services.complete_hosted_checkout(_checkout_token_id(), allowed_methods(get_settings()))
    deliver_queued()
    page = services.return_page(payment) if payment is not None else None
    return redirect(page, code=303) if page else abort(404)


@bp.route("/payments/hosted/cancel", methods=["POST"])
@csrf.exempt  # changes nothing: the payer left the gateway's page
def hosted_cancel():
    """Back without paying. The token stays good, so the attempt stays open: Pay goes back to it."""
    payment = services.payment_for_checkout(_checkout_token_id())
    page = services.return_page(payment) if payment is not None else None
    return redirect(page, code=303) if page else abort(404)


@bp.route("/payments/hosted/silent-post", methods=["POST"])
@csrf.exempt  # server to server, from the gateway; verified by our own inquiry
def hosted_silent_post():
    """The gateway's own word that the payer paid, even if their browser never came back."""
    payment = services.complete_hosted_checkout(_checkout_token_id(), allowed_methods(get_settings()))
    deliver_queued()
    return ("recorded\n" if payment is not None else "unknown token\n"), 200


def _ecommerce_or_404():
    if not get_settings().ecommerce_enabled:
        abort(404)


def _ledger_filter(form: LedgerFilterForm) -> ledger_queries.LedgerFilter:
    organizer_id = None
    if form.organizer.data and form.organizer.data.strip():
        organizer = find_user_by_email(form.organizer.data)
        organizer_id = organizer.id if organizer else 0  # nobody: no rows, not every row
    return ledger_queries.LedgerFilter(
        start=form.start.data,
        end=form.end.data,
        purpose=form.purpose.data or None,
        status=form.status.data or None,
        method=form.method.data or None,
        kind=form.kind.data or None,
        training_session_id=form.session.data,
        organizer_id=organizer_id,
        zone=select_timezone(),
    )


@bp.route("/admin/payments")
@admin_required
def ledger():
    """Every payment and refund, filtered and paged in SQL, with the totals of the whole filter."""
    form = LedgerFilterForm(request.args)
    if not form.validate():
        return render_template("payments/ledger.html", form=form, page=None, totals=[], filter_args={}), 422
    flt = _ledger_filter(form)
    return render_template(
        "payments/ledger.html",
        form=form,
        page=page_of(ledger_queries.ledger_rows(flt), rows=True),
        totals=ledger_queries.totals(flt),
        filter_args=form.args(),
        unknown_organizer=flt.organizer_id == 0,
    )


@bp.route("/admin/payments/ledger.csv")
@admin_required
def ledger_csv():
    form = LedgerFilterForm(request.args)
    if not form.validate():
        return redirect(url_for("payments.ledger", **request.args), code=303)
    flt = _ledger_filter(form)
    return stream_csv(
        f"ledger-{flt.start or 'start'}-to-{flt.end or 'now'}.csv",
        ledger_queries.CSV_HEADER,
        ledger_queries.csv_rows(flt),
    )


@bp.route("/admin/payments/<id:payment_id>")
@admin_required
def detail(payment_id: int):
    payment = services.get_payment(payment_id) or abort(404)
    form = RefundForm()
    form.amount.currency = payment.currency
    return render_template(
        "payments/detail.html", payment=payment, form=form, message=failure_message(payment.failure_code)
    )


@bp.route("/admin/payments/test", methods=["GET", "POST"])
@admin_required
def test_charge():
    """An administrator's test charge: proves the gateway and the payment component end to end."""
    _ecommerce_or_404()
    settings = get_settings()
    form = TestChargeForm()
    form.amount.currency = settings.currency
    if form.validate_on_submit():
        if not form.amount.data:
            form.amount.errors.append(_("Enter an amount above zero."))
        else:
            payment = services.open_attempt(
                Purpose.TEST, "test:" + secrets.token_hex(8), form.amount.data, settings.currency
            )
            return redirect(url_for("payments.pay", payment_id=payment.id), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("payments/test_charge.html", form=form), status


@bp.route("/admin/payments/<id:payment_id>/pay", methods=["GET", "POST"])
@admin_required
def pay(payment_id: int):
    _ecommerce_or_404()
    payment = services.get_payment(payment_id) or abort(404)
    if payment.purpose != Purpose.TEST:
        abort(404)
    settings = get_settings()
    error = None
    if request.method == "POST":
        try:
            payment = services.pay(
                payment.id, request.form.get("payment_method_nonce", ""), allowed_methods(settings)
            )
        except services.GoToGateway as exc:
            return redirect_to_gateway(exc)
        except services.PaymentError as exc:
            error = failure_message(exc.code)
        else:
            if payment.is_paid:
                flash(_("Payment received."), "success")
            return redirect(url_for("payments.detail", payment_id=payment.id), code=303)
    if payment.status != "pending" and not services.hosted_checkout_open(payment):
        return redirect(url_for("payments.detail", payment_id=payment.id), code=303)
    return render_template(
        "payments/pay.html",
        payment=payment,
        component=component_context(settings, payment.amount_cents, payment.currency),
        payment_error=error,
    ), (422 if error else 200)


@bp.route("/admin/payments/<id:payment_id>/retry", methods=["POST"])
@admin_required
def retry(payment_id: int):
    """After a decline: a new attempt for the same purchase (a new order id)."""
    payment = services.get_payment(payment_id) or abort(404)
    try:
        attempt = services.open_attempt(
            payment.purpose,
            payment.reference,
            payment.amount_cents,
            payment.currency,
            training_session_id=payment.training_session_id,
            organizer_id=payment.organizer_id,
        )
    except services.PaymentError as exc:
        flash(failure_message(exc.code), "error")
        return redirect(url_for("payments.detail", payment_id=payment.id), code=303)
    return redirect(url_for("payments.pay", payment_id=attempt.id), code=303)


@bp.route("/admin/payments/<id:payment_id>/refund", methods=["POST"])
@admin_required
def refund(payment_id: int):
    """A partial refund of a typed amount, or "Refund in full" (an explicit button, never an empty box)."""
    payment = services.get_payment(payment_id) or abort(404)
    form = RefundForm()
    form.amount.currency = payment.currency
    in_full = request.form.get("scope") == "full"
    if not in_full and form.validate() and not form.amount.data:
        form.amount.errors.append(_("Enter an amount above zero, or choose Refund in full."))
    if in_full or (form.validate() and form.amount.data):
        try:
            services.refund(payment.id, None if in_full else form.amount.data, form.reason.data or "")
            flash(_("Refund done."), "success")
        except services.PaymentError as exc:
            flash(failure_message(exc.code), "error")
    else:
        flash(" ".join(str(e) for e in form.amount.errors) or _("Check the amount."), "error")
    return redirect(url_for("payments.detail", payment_id=payment_id), code=303)


@bp.route("/admin/payments/<id:payment_id>/void", methods=["POST"])
@admin_required
def void(payment_id: int):
    services.get_payment(payment_id) or abort(404)
    try:
        services.void(payment_id, request.form.get("reason", ""))
        flash(_("Payment voided."), "success")
    except services.PaymentError as exc:
        flash(failure_message(exc.code), "error")
    return redirect(url_for("payments.detail", payment_id=payment_id), code=303)
