"""The organizer's registrants page: who registered, what they paid, totals and CSV; cancelling and refunding.

Only the session's organizer and administrators get here (others: 404). The
list is shown a page at a time and every page costs a fixed number of queries
whatever the number of registrants: the page's registrations come with their
payment (joined) and its refunds (selectin), and the totals are SQL aggregates
over the whole session. The CSV streams every registration, a thousand at a time.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import case, func, select
from sqlalchemy.orm import lazyload
from wtforms.validators import ValidationError

from portal import money
from portal.billing import services as billing
from portal.csvutil import stream_csv
from portal.database import stream_objects
from portal.extensions import db
from portal.fields import MoneyField
from portal.i18n import format_money
from portal.mail.services import deliver_queued
from portal.pagination import page_of, requested_page
from portal.payments import services as payments
from portal.payments.messages import failure_message
from portal.payments.models import Payment, Refund, RefundStatus
from portal.payments.status import PaymentStatus
from portal.registration import services as registrations
from portal.registration.messages import registration_message
from portal.registration.models import ACTIVE, Registration, RegistrationStatus
from portal.trainings import services as trainings

bp = Blueprint("registrants", __name__, url_prefix="/sessions")
R = RegistrationStatus

# The order statuses are listed in, on the page and in the totals.
STATUS_ORDER = [str(status) for status in RegistrationStatus]


# -- money per registration and in total -----------------------------------------------


def _was_charged():
    """SQL: the registration's payment took money (paid at some point; a declined settlement did not)."""
    return Payment.paid_at.is_not(None) & (Payment.status != PaymentStatus.FAILED)


def paid_cents(registration: Registration) -> int:
    """What the guest was charged (the same rule as ``_was_charged``)."""
    payment = registration.payment
    if payment is None or payment.paid_at is None or payment.status == PaymentStatus.FAILED:
        return 0
    return payment.amount_cents


def refunded_cents(registration: Registration) -> int:
    """What went back to the guest: succeeded refunds and voids (a duplicate sale's do not count)."""
    if not paid_cents(registration):
        return 0
    return sum(
        refund.amount_cents
        for refund in registration.payment.refunds
        if refund.status == RefundStatus.SUCCEEDED and not refund.duplicate
    )


def last_refund_failed(registration: Registration) -> bool:
    payment = registration.payment
    if payment is None or not payment.refundable_cents:
        return False
    own = [refund for refund in payment.refunds if not refund.duplicate]
    return bool(own) and own[-1].status == RefundStatus.FAILED


def refunds_in_flight(registration: Registration) -> bool:
    payment = registration.payment
    return payment is not None and any(
        refund.status in (RefundStatus.PENDING, RefundStatus.UNKNOWN) for refund in payment.refunds
    )


@dataclass(frozen=True)
class Totals:
    currency: str
    by_status: dict[str, int]
    gross_cents: int
    discount_cents: int
    refunded_cents: int

    @property
    def count(self) -> int:
        return sum(self.by_status.values())

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.refunded_cents


def session_totals(training) -> Totals:
    """Registrations by status, and the money, in two aggregate queries.

    Gross: what guests were charged. Discounts: what coupons took off registrations
    confirmed now (the revenue report's rule: one cancelled since no longer counts).
    Refunded: succeeded refunds and voids. Net: gross - refunded.
    """
    counts = dict(
        db.session.execute(
            select(Registration.status, func.count())
            .where(Registration.training_session_id == training.id)
            .group_by(Registration.status)
        ).all()
    )
    refunded = (
        select(func.coalesce(func.sum(Refund.amount_cents), 0))
        .join(Payment, Refund.payment_id == Payment.id)
        .join(Registration, Registration.payment_id == Payment.id)
        .where(
            Registration.training_session_id == training.id,
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.duplicate.is_(False),
            _was_charged(),
        )
        .scalar_subquery()
    )
    gross, discounts, refunded_total = db.session.execute(
        select(
            func.coalesce(func.sum(case((_was_charged(), Payment.amount_cents), else_=0)), 0),
            func.coalesce(
                func.sum(
                    case(
                        (Registration.status == RegistrationStatus.CONFIRMED, Registration.discount_cents),
                        else_=0,
                    )
                ),
                0,
            ),
            refunded,
        )
        .select_from(Registration)
        .outerjoin(Payment, Registration.payment_id == Payment.id)
        .where(Registration.training_session_id == training.id)
    ).one()
    return Totals(
        currency=training.currency,
        by_status={status: int(counts[status]) for status in STATUS_ORDER if counts.get(status)},
        gross_cents=int(gross),
        discount_cents=int(discounts),
        refunded_cents=int(refunded_total),
    )


def registrations_query(training):
    """The session's registrations in the order they came, each with its payment and refunds.

    ``payment`` is joined and its ``refunds`` selectin-loaded (the models' defaults); the session
    is the page's own, so it is not joined again to every row.
    """
    return (
        select(Registration)
        .options(lazyload(Registration.training))
        .where(Registration.training_session_id == training.id)
        .order_by(Registration.created_at, Registration.id)
    )


# -- forms -------------------------------------------------------------------------------


class RefundField(MoneyField):
    """``full``, ``none``, ``partial`` (the amount is in the form's ``amount``), or an amount itself."""

    KEYWORDS = ("full", "none", "partial")

    def pre_validate(self, form):
        text = ((self.raw_data[0] if self.raw_data else "") or "").strip()
        if text.lower() in self.KEYWORDS:
            self.data = text.lower()
            return
        if not text:
            self.data = None
            raise ValidationError(_l("Choose a full refund, no refund, or an amount."))
        super().pre_validate(form)


class RefundForm(FlaskForm):
    refund = RefundField(_l("Refund"))
    amount = MoneyField(_l("Amount to refund"))


def _refund_choice(form: RefundForm, registration: Registration, allow_none: bool) -> int | None:
    """The refund asked for, in minor units (``None``: in full); raises ``ValueError`` with the message."""
    payment = registration.payment
    refundable = payment.refundable_cents if payment is not None else 0
    form.refund.currency = form.amount.currency = registration.currency
    if not form.validate():
        errors = form.refund.errors or form.amount.errors or [_("Check the refund.")]
        raise ValueError(" ".join(str(error) for error in errors))
    choice = form.refund.data
    if choice == "none":
        if not allow_none:
            raise ValueError(_("Choose a full refund or an amount."))
        return 0
    if choice == "full":
        return None if refundable else 0
    amount = form.amount.data if choice == "partial" else choice
    if not refundable:
        raise ValueError(_("Nothing was paid for this registration: there is nothing to refund."))
    if not amount:
        raise ValueError(_("Enter an amount above zero, or choose a full refund."))
    if amount > refundable:
        raise ValueError(
            _("At most %(amount)s can be refunded.", amount=format_money(refundable, registration.currency))
        )
    if payment.status == PaymentStatus.SUBMITTED and amount != refundable:
        raise ValueError(failure_message("partial_refund_needs_settlement"))
    return amount


# A payment message that reads wrong for a refund ("Nothing was charged").
REFUND_MESSAGES = {
    "gateway_unavailable": _l("The payment service could not be reached: nothing was refunded."),
}


def refund_failure_message(code: str) -> str:
    return str(REFUND_MESSAGES[code]) if code in REFUND_MESSAGES else failure_message(code)


# -- views -------------------------------------------------------------------------------


def _managed_or_404(session_id: int):
    training = trainings.managed_session(session_id, current_user)
    if training is None:
        abort(404)
    return training


def _registration_or_404(training, registration_id: int) -> Registration:
    registration = registrations.get_registration(registration_id)
    if registration is None or registration.training_session_id != training.id:
        abort(404)
    return registration


def _page_arg() -> dict:
    """The list's page the request came from (forms post it back, redirects return to it)."""
    page = requested_page()
    return {"page": page} if page > 1 else {}


def _list_url(training, **args) -> str:
    return url_for("registrants.list_registrants", session_id=training.id, **args)


def _page(training, status=200, error=None, failed=None):
    """The registrants page; ``failed`` is (registration id, form) to show again with its values.

    Also rendered in answer to a refused POST: the pager's links (``page_url``) and the forms' actions
    then still lead to the list's pages.
    """
    return render_template(
        "trainings/registrants.html",
        training=training,
        page=page_of(registrations_query(training)),
        page_url=lambda number: _list_url(training, page=number),
        page_arg=_page_arg(),
        totals=session_totals(training),
        status_order=STATUS_ORDER,
        active=[str(s) for s in ACTIVE],
        paid_cents=paid_cents,
        refunded_cents=refunded_cents,
        last_refund_failed=last_refund_failed,
        refunds_in_flight=refunds_in_flight,
        error=error,
        failed=failed,
    ), status


@bp.route("/<id:session_id>/registrants")
@login_required
def list_registrants(session_id: int):
    training = _managed_or_404(session_id)
    if request.args.get("format") == "csv":
        return _csv(training)
    return _page(training)


def _when(value) -> str:
    return value.isoformat() if value is not None else ""


CSV_COLUMNS = [
    "registration_id",
    "name",
    "email",
    "company",
    "phone",
    "status",
    "currency",
    "fee",
    "discount",
    "coupon",
    "paid",
    "refunded",
    "net",
    "payment_status",
    "transaction_id",
    "registered_at",
    "confirmed_at",
    "cancelled_at",
]


def csv_rows(training) -> Iterator[list]:
    """One CSV line per registration, read a thousand at a time (with their payments and refunds)."""
    for registration in stream_objects(registrations_query(training)):
        currency = registration.currency
        paid, refunded = paid_cents(registration), refunded_cents(registration)
        payment = registration.payment
        yield [
            registration.id,
            registration.name,
            registration.email,
            registration.company,
            registration.phone,
            registration.status,
            currency,
            money.plain_amount(registration.price_cents, currency),
            money.plain_amount(registration.discount_cents, currency),
            registration.coupon_code or "",
            money.plain_amount(paid, currency),
            money.plain_amount(refunded, currency),
            money.plain_amount(paid - refunded, currency),
            payment.status if payment is not None else "",
            (payment.gateway_transaction_id or "") if payment is not None else "",
            _when(registration.created_at),
            _when(registration.confirmed_at),
            _when(registration.cancelled_at),
        ]


def _csv(training):
    # Every cell goes through csvutil.cell: a guest's name a spreadsheet would run gets a leading quote.
    response = stream_csv(f"registrants-session-{training.id}.csv", CSV_COLUMNS, csv_rows(training))
    response.headers["Cache-Control"] = "no-store"  # guests' personal data
    return response


@bp.route("/<id:session_id>/registrants/<id:registration_id>/cancel", methods=["POST"])
@login_required
def cancel_registration(session_id: int, registration_id: int):
    """Cancel one registration with a full, partial or no refund; the guest is emailed."""
    training = _managed_or_404(session_id)
    registration = _registration_or_404(training, registration_id)
    form = RefundForm()
    if registration.status not in ACTIVE:
        return _page(training, 409, registration_message("not_cancellable"))
    try:
        refund = _refund_choice(form, registration, allow_none=True)
    except ValueError as exc:
        return _page(
            training,
            422,
            _("%(name)s: %(problem)s", name=registration.name, problem=exc),
            (registration.id, form),
        )
    try:
        registrations.cancel(registration.id, refund_cents=refund, notify=True)
    except registrations.RegistrationError as exc:
        deliver_queued()
        if exc.code.startswith("refund_failed"):
            code = exc.code.partition(":")[2]
            flash(
                _(
                    "%(name)s's registration is cancelled, but the refund failed: %(reason)s Retry it below.",
                    name=registration.name,
                    reason=refund_failure_message(code),
                ),
                "error",
            )
            return redirect(_list_url(training, **_page_arg()), code=303)
        return _page(
            training,
            409,
            _("%(name)s: %(problem)s", name=registration.name, problem=registration_message(exc.code)),
        )
    deliver_queued()
    registration = registrations.get_registration(registration.id)
    refunded = refunded_cents(registration)
    if refunded:
        flash(
            _(
                "%(name)s's registration is cancelled; %(amount)s refunded in all.",
                name=registration.name,
                amount=format_money(refunded, registration.currency),
            ),
            "success",
        )
    else:
        flash(_("%(name)s's registration is cancelled.", name=registration.name), "success")
    return redirect(_list_url(training, **_page_arg()), code=303)


@bp.route("/<id:session_id>/registrants/<id:registration_id>/refund", methods=["POST"])
@login_required
def refund_registration(session_id: int, registration_id: int):
    """Refund (again) a cancelled registration whose payment still holds money: a failed refund's retry."""
    training = _managed_or_404(session_id)
    registration = _registration_or_404(training, registration_id)
    payment = registration.payment
    if (
        registration.status not in (R.CANCELLED, R.REFUNDED)
        or payment is None
        or not payment.refundable_cents
    ):
        return _page(training, 409, _("%(name)s: nothing is left to refund.", name=registration.name))
    form = RefundForm()
    try:
        amount = _refund_choice(form, registration, allow_none=False)
    except ValueError as exc:
        return _page(
            training,
            422,
            _("%(name)s: %(problem)s", name=registration.name, problem=exc),
            (registration.id, form),
        )
    try:
        record = registrations.refund_cancelled(registration.id, amount)
    except payments.PaymentError as exc:
        reason = refund_failure_message(exc.code)
        flash(_("%(name)s: the refund failed: %(reason)s", name=registration.name, reason=reason), "error")
        return redirect(_list_url(training, **_page_arg()), code=303)
    deliver_queued()
    flash(
        _(
            "%(name)s: %(amount)s refunded.",
            name=registration.name,
            amount=format_money(record.amount_cents, registration.currency),
        ),
        "success",
    )
    return redirect(_list_url(training, **_page_arg()), code=303)


@bp.route("/<id:session_id>/cancel")
@login_required
def cancel_preview(session_id: int):
    """The dry run of cancelling the session: who is refunded what; the form posts to ``trainings.cancel``."""
    training = _managed_or_404(session_id)
    if not training.is_editable:
        flash(_("This session can no longer be cancelled."), "error")
        return redirect(url_for("trainings.detail", session_id=training.id), code=303)
    plan = registrations.session_cancellation_plan(training)
    return render_template(
        "trainings/cancel.html",
        training=training,
        plan=plan,
        total_cents=sum(refund for _registration, refund in plan),
        pay_per_use_refund_cents=billing.cancel_refund_cents(training),
        in_flight=lambda r: r.payment is not None and r.payment.status in ("processing", "unknown"),
    )
