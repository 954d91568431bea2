"""The guest's path: public session page, registration, Payment information, confirmation, cancellation."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.admin.services import get_settings
from portal.coupons import rules as coupon_rules
from portal.database import persisted_id
from portal.extensions import limiter
from portal.i18n import format_money, select_timezone
from portal.mail.services import deliver_queued
from portal.payments.component import allowed_methods, component_context, redirect_to_gateway
from portal.payments.gateway import Mode
from portal.payments.messages import failure_message
from portal.payments.services import (
    GoToGateway,
    PaymentError,
    gateway,
    gateway_of,
    hosted_checkout_open,
    resume_hosted_checkout,
)
from portal.registration import services
from portal.registration.forms import CouponForm, RegistrationForm
from portal.registration.links import manage_token, registration_id_from
from portal.registration.messages import coupon_message, registration_message
from portal.registration.models import RegistrationStatus
from portal.trainings import services as trainings
from portal.trainings.status import SessionStatus
from portal.web import allow_in_csp, is_htmx, render_page_or_fragment

bp = Blueprint("registration", __name__)
R = RegistrationStatus


def _public_or_404(token: str):
    training = trainings.public_session(token)
    if training is None or training.status == SessionStatus.DRAFT:
        abort(404)
    return training


def _registration_or_404(token: str):
    registration_id = registration_id_from(token)
    registration = services.get_registration(registration_id) if registration_id else None
    if registration is None:
        abort(404)
    return registration


def _session_page(training, form, status=200, message=None):
    return render_template(
        "registration/session.html",
        training=training,
        seats_left=services.seats_left(training),
        open=services.is_open_for_registration(training),
        form=form,
        message=message,
    ), status


@bp.route("/s/<token>")
def public_session(token: str):
    training = _public_or_404(token)
    if training.is_cancelled:
        return render_template("registration/cancelled.html", training=training), 410
    return _session_page(training, RegistrationForm(training=training))


@bp.route("/s/<token>/register", methods=["POST"])
def register(token: str):
    training = _public_or_404(token)
    if training.is_cancelled:
        return render_template("registration/cancelled.html", training=training), 410
    form = RegistrationForm(training=training)
    if not form.validate():
        return _session_page(training, form, 422)
    details = services.GuestDetails(
        name=form.name.data,
        email=form.email.data,
        company=form.company.data if "company" in form else "",
        phone=form.phone.data if "phone" in form else "",
        timezone=select_timezone(),
    )
    try:
        registration = services.register(training, details, waitlist=request.form.get("waitlist") == "1")
    except services.RegistrationError as exc:
        return _session_page(
            training, form, 409 if exc.code in ("full", "closed") else 422, registration_message(exc.code)
        )
    deliver_queued()
    return redirect(url_for("registration.manage", token=manage_token(persisted_id(registration))), code=303)


@bp.route("/r/<token>")
def manage(token: str):
    """The guest's registration: its status, the receipt, and cancelling."""
    registration = _registration_or_404(token)
    if registration.status == R.PENDING_PAYMENT and not _payment_in_flight(registration):
        return redirect(url_for("registration.pay", token=token), code=303)
    payment = registration.payment
    checkout_open = payment is not None and hosted_checkout_open(payment)
    if checkout_open or (_payment_in_flight(registration) and payment.checkout_token_id):
        message = failure_message("checkout_in_progress")
        # "Continue to the payment page" posts here, and the answer redirects to the gateway's page.
        if checkout_open:
            allow_in_csp({"form-action": [gateway_of(payment).checkout_origin()]})
    elif _payment_in_flight(registration):  # a card being charged right now: the page reloads itself
        message = registration_message("payment_in_progress")
    else:
        message = failure_message(registration.payment.failure_code) if registration.payment else ""
    return render_template(
        "registration/manage.html",
        registration=registration,
        training=registration.training,
        token=token,
        refund_cents=services.guest_refund_cents(registration),
        in_flight=_payment_in_flight(registration),
        checkout_open=checkout_open,
        payment_message=message,
    )


def _payment_in_flight(registration) -> bool:
    return registration.payment is not None and registration.payment.status in ("processing", "unknown")


def _hosted_failure(registration) -> str | None:
    """Why the last try on the gateway's own page failed: the payer lands here after it, on a GET."""
    payment = registration.payment
    if payment is None or not payment.checkout_token_id or payment.is_paid or payment.is_open:
        return None
    return failure_message(payment.failure_code) or None


def _pay_page(registration, token, status=200, payment_error=None, coupon_result=None, coupon_form=None):
    settings = get_settings()
    component = None
    if registration.due_cents:
        component = component_context(settings, registration.due_cents, registration.currency)
    return render_page_or_fragment(
        "registration/pay.html",
        "registration/_checkout.html",
        status=status,
        registration=registration,
        training=registration.training,
        token=token,
        component=component,
        payment_error=payment_error,
        coupon_result=coupon_result,
        coupon_form=coupon_form or CouponForm(formdata=None),
        coupons_on=settings.coupons,
    )


@bp.route("/r/<token>/pay", methods=["GET", "POST"])
def pay(token: str):
    """The Payment information page. The amount is the server's; nothing the browser sends changes it."""
    registration = _registration_or_404(token)
    if request.method == "POST" and _payment_in_flight(registration):
        try:  # the payer left the gateway's payment page while it is still open: back to it
            resume_hosted_checkout(registration.payment)
        except GoToGateway as exc:
            return redirect_to_gateway(exc)
    if registration.status == R.CONFIRMED or _payment_in_flight(registration):
        return redirect(url_for("registration.manage", token=token), code=303)
    if registration.status not in (R.PENDING_PAYMENT, R.EXPIRED):
        return redirect(url_for("registration.manage", token=token), code=303)
    if request.method == "GET":
        return _pay_page(registration, token, payment_error=_hosted_failure(registration))
    try:
        registration = services.pay(
            registration.id, request.form.get("payment_method_nonce", ""), allowed_methods(get_settings())
        )
    except GoToGateway as exc:
        return redirect_to_gateway(exc)
    except PaymentError as exc:
        return _pay_page(services.get_registration(registration.id), token, 422, failure_message(exc.code))
    except services.RegistrationError as exc:
        return _pay_page(
            services.get_registration(registration.id), token, 409, registration_message(exc.code)
        )
    deliver_queued()
    payment = registration.payment
    declined = payment is not None and not payment.is_paid and payment.status not in ("processing", "unknown")
    if registration.status == R.PENDING_PAYMENT and declined:
        # The seat is still held; the guest tries another method (or, given back, pays the new price).
        given_back = payment.status in ("voided", "refunded")
        message = (
            registration_message("given_back_price_changed")
            if given_back
            else failure_message(payment.failure_code)
        )
        return _pay_page(registration, token, 422, message)
    return redirect(url_for("registration.manage", token=token), code=303)


def _coupon_limit() -> str:
    return current_app.config["COUPON_RATE_LIMIT"]


@bp.route("/r/<token>/coupon", methods=["POST"])
@limiter.limit(_coupon_limit, scope="coupon-attempts")
def apply_coupon(token: str):
    """Apply a coupon: the htmx fragment with the new total or the reason; a full page without JavaScript."""
    registration = _registration_or_404(token)
    if not get_settings().coupons:
        abort(404)
    form = CouponForm()
    result = None
    status = 200
    if not form.validate():
        status = 422
    else:
        try:
            outcome = services.apply_coupon(registration, form.code.data)
        except services.RegistrationError as exc:
            if exc.code == "not_awaiting_payment":
                # A stale tab (paid, cancelled or offered elsewhere since): the registration's own page.
                return _to_registration_page(token, registration_message(exc.code))
            form.code.errors.append(registration_message(exc.code))
            status = 409
        else:
            if isinstance(outcome, coupon_rules.Rejection):
                form.code.errors.append(coupon_message(outcome.code))
                status = 422
            else:
                result = outcome
    registration = services.get_registration(registration.id)
    if result is not None and not is_htmx():
        flash(
            _("Coupon applied: %(amount)s off.", amount=format_money(result.discount_cents, result.currency)),
            "success",
        )
        return redirect(url_for("registration.pay", token=token), code=303)  # Post/Redirect/Get
    if result is not None and gateway().mode != Mode.OFFLINE:
        # Braintree's fields and PayPal's button are set up by script for one amount: reload the page.
        return "", 200, {"HX-Refresh": "true"}
    # htmx swaps the fragment whatever the status (see the htmx-config responseHandling).
    return _pay_page(registration, token, status, coupon_result=result, coupon_form=form)


def _to_registration_page(token: str, message: str):
    flash(message, "info")
    target = url_for("registration.manage", token=token)
    if is_htmx():
        return "", 200, {"HX-Redirect": target}  # htmx would swap a followed redirect into the panel
    return redirect(target, code=303)


@bp.route("/r/<token>/coupon/remove", methods=["POST"])
def remove_coupon(token: str):
    registration = _registration_or_404(token)
    try:
        services.remove_coupon(registration)
    except services.RegistrationError as exc:
        flash(registration_message(exc.code), "error")
    if is_htmx() and gateway().mode == Mode.OFFLINE:
        return _pay_page(services.get_registration(registration.id), token)
    if is_htmx():
        return "", 200, {"HX-Refresh": "true"}
    return redirect(url_for("registration.pay", token=token), code=303)


@bp.route("/r/<token>/cancel", methods=["POST"])
def cancel(token: str):
    registration = _registration_or_404(token)
    try:
        services.cancel(
            registration.id, refund_cents=services.guest_refund_cents(registration) or 0, by_guest=True
        )
        flash(_("Your registration is cancelled."), "success")
    except services.RegistrationError as exc:
        flash(registration_message(exc.code), "error")
    deliver_queued()
    return redirect(url_for("registration.manage", token=token), code=303)
