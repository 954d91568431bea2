"""Pay-per-use pages: the Estimated session cost page and the organizer's checkout."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.admin.services import get_settings
from portal.billing import services
from portal.mail.services import deliver_queued
from portal.payments.component import allowed_methods, component_context, redirect_to_gateway
from portal.payments.messages import failure_message
from portal.payments.services import GoToGateway, PaymentError, get_payment, hosted_checkout_open
from portal.trainings import services as trainings
from portal.trainings.status import SessionStatus

bp = Blueprint("billing", __name__, url_prefix="/sessions")


@bp.app_template_global("billing_balance")
def billing_balance(training) -> int:
    return services.balance_cents(training)


MESSAGES = {
    "nothing_to_pay": _l("Nothing is left to pay for this session."),
    "over_budget": _l(
        "This payment is more than what is left of your department's budget this month. "
        "Ask an administrator to raise the budget or to allow overruns."
    ),
    "unpaid": _l("Pay the session's estimated cost before it can start."),
    "not_found": _l("This payment does not belong to this session."),
    "estimate_changed": _l(
        "The session's estimated cost changed since this page was opened. "
        "Check the new estimate and continue from there."
    ),
}


# Where a guest's wording ("tell the organizer") does not fit the organizer paying.
ORGANIZER_FAILURES = {
    "currency_not_supported": _l(
        "Payments in this currency are not set up yet. Nothing was charged; "
        "ask a site administrator to set them up."
    ),
}


def _session_or_404(session_id: int):
    if not get_settings().pay_per_use:
        abort(404)
    training = trainings.managed_session(session_id, current_user)
    if training is None:
        abort(404)
    return training


@bp.route("/<id:session_id>/estimate")
@login_required
def estimate_page(session_id: int):
    """The Estimated session cost page: the same numbers as the live estimate, from the same function."""
    training = _session_or_404(session_id)
    quote = services.quote_for(training)
    return render_template(
        "billing/estimate.html",
        training=training,
        quote=quote,
        live_errors=[],
        balance=services.balance_cents(training, quote),
        budget_left=services.budget_remaining(training),
    )


@bp.route("/<id:session_id>/checkout", methods=["POST"])
@login_required
def checkout(session_id: int):
    training = _session_or_404(session_id)
    try:
        payment = services.checkout(training)
    except services.BillingError as exc:
        flash(str(MESSAGES[exc.code]), "error")
        return redirect(url_for("billing.estimate_page", session_id=training.id), code=303)
    if payment is None:  # nothing to pay: the draft is scheduled or started already
        flash(
            _("Session started.") if training.status == SessionStatus.STARTED else _("Session scheduled."),
            "success",
        )
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    return redirect(url_for("billing.pay", session_id=training.id, payment_id=payment.id), code=303)


@bp.route("/<id:session_id>/pay/<id:payment_id>", methods=["GET", "POST"])
@login_required
def pay(session_id: int, payment_id: int):
    """Billing information and the payment component; the amount is the attempt's, set by the server."""
    training = _session_or_404(session_id)
    payment = get_payment(payment_id)
    if payment is None or not payment.reference.startswith(f"training:{training.id}:"):
        abort(404)
    if payment.status != "pending" and not hosted_checkout_open(payment):
        if request.method == "GET" and payment.checkout_token_id:
            _flash_outcome(payment)  # back from the gateway's own payment page
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    error = None
    if request.method == "POST":
        try:
            payment = services.pay(
                training.id,
                payment.id,
                request.form.get("payment_method_nonce", ""),
                allowed_methods(get_settings()),
            )
        except GoToGateway as exc:
            return redirect_to_gateway(exc)
        except services.BillingError as exc:
            if exc.code == "estimate_changed":  # this page's amount is stale: back to the estimate
                flash(str(MESSAGES[exc.code]), "error")
                return redirect(url_for("billing.estimate_page", session_id=training.id), code=303)
            error = str(MESSAGES[exc.code])
        except PaymentError as exc:
            error = str(ORGANIZER_FAILURES.get(exc.code) or failure_message(exc.code))
        else:
            deliver_queued()
            _flash_outcome(payment)
            if payment.status in ("declined", "gateway_rejected", "failed"):
                # Declined: straight back to a payment form (a new attempt) to try another card.
                return _pay_again(training)
            return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    return render_template(
        "billing/pay.html",
        training=training,
        payment=payment,
        department=training.organizer.department,
        budget_left=services.budget_remaining(training),
        component=component_context(get_settings(), payment.amount_cents, payment.currency),
        payment_error=error,
    ), (422 if error else 200)


def _pay_again(training):
    try:
        retry = services.checkout(training)
    except services.BillingError as exc:  # e.g. the budget changed meanwhile: the estimate says why
        flash(str(MESSAGES[exc.code]), "error")
        return redirect(url_for("billing.estimate_page", session_id=training.id), code=303)
    if retry is None:
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    return redirect(url_for("billing.pay", session_id=training.id, payment_id=retry.id), code=303)


def _flash_outcome(payment) -> None:
    if payment.is_paid:
        flash(_("Payment received."), "success")
    elif payment.status in ("processing", "unknown"):
        flash(failure_message(payment.failure_code), "info")
    else:
        flash(failure_message(payment.failure_code), "error")


@bp.route("/<id:session_id>/start", methods=["POST"])
@login_required
def start(session_id: int):
    training = trainings.managed_session(session_id, current_user) or abort(404)
    if training.status != SessionStatus.SCHEDULED:
        flash(_("Only a scheduled session can be started."), "error")
    else:
        try:
            services.start(training)
            flash(_("Session started."), "success")
        except services.BillingError as exc:
            flash(str(MESSAGES[exc.code]), "error")
    return redirect(url_for("trainings.detail", session_id=training.id), code=303)
