"""Guest registration: seats held while paying, confirmation, waiting list, cancellation, refunds.

Seats follow the money-safety rules: ``training_sessions.seats_taken`` (held plus
confirmed seats) only moves through conditional UPDATEs, so however many guests
register or pay at once, confirmed and held seats never exceed capacity. No
transaction stays open while the gateway is called: the payments service
commits before and after each call.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import bindparam, case, exists, func, select, text, update
from sqlalchemy.exc import IntegrityError

from portal.admin import audit
from portal.admin.services import get_settings
from portal.coupons import rules as coupon_rules
from portal.coupons import services as coupons
from portal.database import locked_row, utcnow
from portal.extensions import db
from portal.i18n import recipient_locale
from portal.mail import services as mail
from portal.payments import services as payments
from portal.payments.models import Payment, Purpose
from portal.payments.status import OPEN, PAID, PaymentStatus
from portal.registration.calendar import invitation
from portal.registration.links import manage_url
from portal.registration.models import (
    ACTIVE,
    ACTIVE_CONDITION,
    Registration,
    RegistrationStatus,
    reference_of,
)
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus

log = logging.getLogger(__name__)
R = RegistrationStatus


class RegistrationError(Exception):
    """A request that cannot go on; ``code`` maps to a message in the views."""

    def __init__(self, code: str, registration: Registration | None = None):
        super().__init__(code)
        self.code = code
        self.registration = registration


@dataclass(frozen=True)
class GuestDetails:
    name: str
    email: str
    company: str = ""
    phone: str = ""
    timezone: str = "UTC"


# -- seats -------------------------------------------------------------------------


# The hot paths' statements (the public page, every registration), built once: building a
# SELECT costs more Python than SQLite takes to run it. Values come as bound parameters.
# A hold whose payment is being charged, has an unknown outcome, or went through (its confirmation
# not yet committed: a database error or a crash in between) keeps its seat: the guest may have paid.
# Checked per hold through the payment's primary key: a NOT IN list of every paid payment would
# be rebuilt by each query, and grows with the site.
_PAYMENT_KEEPS_HOLD = exists().where(
    Payment.id == Registration.payment_id,
    Payment.status.in_(["processing", "unknown", *(str(s) for s in PAID)]),
)
_RUN_OUT_HOLD = (
    (Registration.training_session_id == bindparam("training_id"))
    & (Registration.status == R.PENDING_PAYMENT)
    & (Registration.hold_expires_at <= bindparam("now"))
    & ~_PAYMENT_KEEPS_HOLD
)
_COUNT_RUN_OUT_HOLDS = select(func.count()).select_from(Registration).where(_RUN_OUT_HOLD)
# Locked in id order (PostgreSQL; SQLite's writers take turns anyway): two registrations ending
# overlapping sets of holds take their locks in one order, and never wait on each other in a circle.
_RUN_OUT_HOLD_IDS = (
    select(Registration.id).where(_RUN_OUT_HOLD).order_by(Registration.id).with_for_update(of=Registration)
)
_TAKE_SEAT = (
    update(TrainingSession)
    .where(
        TrainingSession.id == bindparam("training_id"),
        TrainingSession.seats_taken < TrainingSession.capacity,
        TrainingSession.status.in_([SessionStatus.SCHEDULED, SessionStatus.STARTED]),
    )
    .values(seats_taken=TrainingSession.seats_taken + 1)
    # The count is read again from the row when needed; evaluating it in Python here costs more.
    .execution_options(synchronize_session=False)
)
_ANY_WAITLISTED = (
    select(Registration.id)
    .where(Registration.training_session_id == bindparam("training_id"), Registration.status == R.WAITLISTED)
    .limit(1)
)
_ACTIVE_REGISTRATION_ID = select(Registration.id).where(
    Registration.training_session_id == bindparam("training_id"),
    Registration.email == bindparam("email"),
    text(ACTIVE_CONDITION),  # as the unique index states it, so the lookup uses that index
)


def seats_left(training: TrainingSession, now: datetime | None = None) -> int:
    """Seats a newcomer could take now: free seats plus holds that ran out (and are not being paid)."""
    runout = db.session.scalar(_COUNT_RUN_OUT_HOLDS, {"training_id": training.id, "now": now or utcnow()})
    return max(training.capacity - training.seats_taken + int(runout), 0)


def _take_seat(training_id: int) -> bool:
    return bool(db.session.execute(_TAKE_SEAT, {"training_id": training_id}).rowcount)


def _give_seat_back(training_id: int) -> None:
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == training_id, TrainingSession.seats_taken > 0)
        .values(seats_taken=TrainingSession.seats_taken - 1)
    )


def _expire_holds_of(training_id: int, now: datetime) -> int:
    """End the session's run-out holds (caller's transaction); their seats and coupon uses go back.

    A hold whose payment is being charged right now (or whose outcome is unknown)
    is left alone: the guest may have paid.
    """
    # Ids, not objects: on every registration this query usually finds nothing. Lock order on
    # PostgreSQL, everywhere: a registration's own row, the run-out holds (in id order), the
    # session's seat count, coupons. Ending holds one by one, each followed by its seat,
    # interleaved the last two, and two registrations could deadlock.
    expired = db.session.scalars(_RUN_OUT_HOLD_IDS, {"training_id": training_id, "now": now}).all()
    if not expired:
        return 0
    db.session.execute(
        update(Registration)
        .where(Registration.id.in_(expired))
        # The coupon's use goes back with the hold, so does its discount: the page shows the
        # full fee (the code stays, for the message when the guest takes a seat again).
        .values(status=R.EXPIRED, discount_cents=0, updated_at=now)
    )
    taken = TrainingSession.seats_taken
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == training_id)
        .values(seats_taken=case((taken > len(expired), taken - len(expired)), else_=0))
        .execution_options(synchronize_session=False)
    )
    for registration_id in expired:
        coupons.release(reference_of(registration_id))
    return len(expired)


# -- registering --------------------------------------------------------------------


def _clean(details: GuestDetails, training: TrainingSession) -> GuestDetails:
    name = " ".join((details.name or "").split())
    if not name:
        raise RegistrationError("name_required")
    if len(name) > 200:
        raise RegistrationError("name_too_long")
    try:
        email = validate_email((details.email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise RegistrationError("email_invalid") from None
    company = " ".join((details.company or "").split())[:200]
    phone = " ".join((details.phone or "").split())
    if len(phone) > 40 or (phone and not all(c.isdigit() or c in "+-(). " for c in phone)):
        raise RegistrationError("phone_invalid")
    if training.ask_company == "required" and not company:
        raise RegistrationError("company_required")
    if training.ask_phone == "required" and not phone:
        raise RegistrationError("phone_required")
    return GuestDetails(name=name, email=email, company=company, phone=phone, timezone=details.timezone)


def _has_waitlist(training_id: int) -> bool:
    return db.session.scalar(_ANY_WAITLISTED, {"training_id": training_id}) is not None


def active_registration(training_id: int, email: str) -> Registration | None:
    # The id first: usually there is none, and the object loads its session, organizer and payment.
    registration_id = db.session.scalar(
        _ACTIVE_REGISTRATION_ID, {"training_id": training_id, "email": email.lower()}
    )
    return None if registration_id is None else db.session.get(Registration, registration_id)


def is_open_for_registration(training: TrainingSession, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return training.status in (SessionStatus.SCHEDULED, SessionStatus.STARTED) and training.end_at > now


def _fee_now(training: TrainingSession, settings) -> int:
    """What a seat costs a guest who takes it now (a registration, a seat offered or taken again)."""
    return training.fee_cents if settings.fee_based else 0


def register(training: TrainingSession, details: GuestDetails, waitlist: bool = False) -> Registration:
    """Register a guest: a held seat (paid sessions), a confirmed one (free), or a place in line.

    Submitting again returns the guest's existing active registration.
    """
    details = _clean(details, training)
    existing = active_registration(training.id, details.email)
    if existing is not None:
        return existing
    if not is_open_for_registration(training):
        raise RegistrationError("closed")
    settings = get_settings()
    now = utcnow()
    price = _fee_now(training, settings)
    if _expire_holds_of(training.id, now) or _has_waitlist(training.id):
        # Freed seats go to the waiting list first: a newcomer never jumps the line.
        db.session.commit()
        offer_freed_seats(training.id, now)
    if _take_seat(training.id):
        status = R.PENDING_PAYMENT if price else R.CONFIRMED
    elif waitlist:
        status = R.WAITLISTED
    else:
        db.session.commit()  # keep the expired holds' release
        raise RegistrationError("full")
    registration = Registration(
        training_session_id=training.id,
        email=details.email,
        name=details.name,
        company=details.company,
        phone=details.phone,
        timezone=details.timezone,
        status=status,
        price_cents=price,
        discount_cents=0,
        currency=training.currency,
        hold_expires_at=now + timedelta(minutes=settings.hold_minutes)
        if status == R.PENDING_PAYMENT
        else None,
        confirmed_at=now if status == R.CONFIRMED else None,
    )
    db.session.add(registration)
    try:
        db.session.flush()
    except IntegrityError:
        # The same guest, submitting twice at once: the seat taken above goes back with the rollback.
        db.session.rollback()
        existing = active_registration(training.id, details.email)
        if existing is None:
            raise
        return existing
    if status == R.CONFIRMED:
        _send_confirmation(registration)
    audit.record(f"registration.{status}", registration, email=details.email, session=training.id)
    db.session.commit()
    return registration


def get_registration(registration_id: int) -> Registration | None:
    return db.session.get(Registration, registration_id)


# -- coupons on the Payment information page ----------------------------------------


# An attempt in one of these has sent its sale: being charged, outcome unknown, or paid (its seat
# not confirmed yet). Its price can no longer change.
_SALE_LEFT = sorted(str(status) for status in (OPEN | PAID) - {PaymentStatus.PENDING})


def _require_hold(registration: Registration) -> None:
    if registration.status != R.PENDING_PAYMENT:
        raise RegistrationError("not_awaiting_payment", registration)
    if registration.payment is not None and registration.payment.status in _SALE_LEFT:
        raise RegistrationError("payment_in_progress", registration)


def _attempt_follows_price(registration: Registration) -> None:
    """The registration's open payment attempt pays the new price (or, at zero, nothing), unless its
    sale has already left: then the price must not change, and the caller's change is undone.

    ``payments.pay`` claims an attempt (pending -> processing) with one conditional UPDATE and
    charges the amount it reads after that claim; this is the other conditional UPDATE on the
    same row, so of a coupon and a payment started at the same moment exactly one goes first.
    """
    due = registration.due_cents
    values = {"amount_cents": due} if due else {"status": "failed", "failure_code": "superseded"}
    ours = (Payment.purpose == Purpose.GUEST_FEE, Payment.reference == registration.reference)
    db.session.execute(
        update(Payment).where(*ours, Payment.status == "pending").values(updated_at=utcnow(), **values)
    )
    if db.session.scalar(select(Payment.id).where(*ours, Payment.status.in_(_SALE_LEFT))):
        db.session.rollback()
        raise RegistrationError("payment_in_progress", registration)


def apply_coupon(registration: Registration, code: str):
    """Reserve a coupon use with the seat hold; returns the ``Discount`` or the ``Rejection``."""
    registration = _locked(registration.id)  # a payment reading the price to charge goes first, or after
    _require_hold(registration)
    if registration.hold_expires_at <= utcnow():
        raise RegistrationError("hold_expired", registration)
    outcome = coupons.reserve(
        code,
        registration.training,
        registration.email,
        registration.reference,
        price_cents=registration.price_cents,
    )
    if isinstance(outcome, coupon_rules.Rejection):
        db.session.commit()
        return outcome
    registration.discount_cents = outcome.discount_cents
    registration.coupon_code = coupon_rules.normalize_code(code)
    _attempt_follows_price(registration)
    db.session.commit()
    return coupon_rules.Discount(
        kind=coupon_rules.DiscountKind(outcome.coupon.kind),
        price_cents=outcome.price_cents,
        discount_cents=outcome.discount_cents,
        due_cents=outcome.price_cents - outcome.discount_cents,
        currency=outcome.currency,
    )


def remove_coupon(registration: Registration) -> None:
    registration = _locked(registration.id)
    _require_hold(registration)
    coupons.release(registration.reference)
    registration.discount_cents = 0
    registration.coupon_code = None
    _attempt_follows_price(registration)
    db.session.commit()


# -- paying and confirming ------------------------------------------------------------


def pay(registration_id: int, nonce: str, allowed: payments.AllowedMethods) -> Registration:
    """Charge what is due (computed here, never taken from the browser) and confirm the seat.

    A zero total (a covering coupon) confirms without payment. Raises
    ``PaymentError`` when nothing was charged (decline reasons are on the payment).
    """
    registration = get_registration(registration_id)
    if registration is None:
        raise RegistrationError("not_found")
    if registration.status == R.CONFIRMED:
        return registration
    if registration.status not in (R.PENDING_PAYMENT, R.EXPIRED):
        raise RegistrationError("not_awaiting_payment", registration)
    if registration.payment is not None and registration.payment.status in ("processing", "unknown"):
        raise RegistrationError("payment_in_progress", registration)
    if registration.payment is not None and registration.payment.is_paid:
        # Paid already, but the confirmation never committed (a database error, a crash): finish it.
        return settle_paid(registration_id, registration.payment_id)
    if registration.status == R.EXPIRED:
        # The hold ran out: take a seat again if one is free. Its coupon use went back
        # with the hold, so a changed price is shown again before anything is charged.
        had_coupon = registration.coupon_code
        _retake_seat(registration)
        if had_coupon:
            raise RegistrationError("hold_renewed_price_changed", get_registration(registration_id))
        registration = get_registration(registration_id)
    # The price is read and its attempt opened under the registration's lock: a coupon applied at
    # the same moment waits, then makes the open attempt follow the new price.
    registration = _locked(registration_id)
    if registration.status != R.PENDING_PAYMENT:
        db.session.commit()
        raise RegistrationError("not_awaiting_payment", registration)
    if registration.due_cents == 0:
        return _confirm_without_payment(registration)
    payment = payments.open_attempt(
        Purpose.GUEST_FEE,
        registration.reference,
        registration.due_cents,
        registration.currency,
        training_session_id=registration.training_session_id,
        organizer_id=registration.training.organizer_id,
    )
    registration = get_registration(registration_id)
    if registration.payment_id != payment.id:
        registration.payment_id = payment.id
        db.session.commit()
    payment = payments.pay(payment.id, nonce, allowed)
    if payment.is_paid:
        settle_paid(registration_id, payment.id)
    return get_registration(registration_id)


def free_held_seats() -> int:
    """The site stopped charging guest fees (fee-based training or e-commerce turned off): seats
    held at a price become free, as they are for guests registering now. Their coupon uses go back
    and an attempt not yet sent is never charged; a guest whose payment is already on its way
    pays the price it was sent for. Returns how many holds were freed."""
    held = db.session.scalars(
        select(Registration.id)
        .where(Registration.status == R.PENDING_PAYMENT, Registration.price_cents > 0)
        .order_by(Registration.id)
    ).all()
    freed = 0
    for registration_id in held:
        registration = _locked(registration_id)
        payment = registration.payment
        if (
            registration.status != R.PENDING_PAYMENT
            or not registration.price_cents
            or (payment is not None and payment.status in _SALE_LEFT)
        ):
            db.session.commit()
            continue
        coupons.release(registration.reference)
        registration.price_cents = 0
        registration.discount_cents = 0
        registration.coupon_code = None
        _attempt_follows_price(registration)
        audit.record("registration.fee_waived", registration, email=registration.email)
        db.session.commit()
        freed += 1
    return freed


def _retake_seat(registration: Registration) -> None:
    now = utcnow()
    # Its own row first, as settle_paid and cancel take it: then the other holds, then the seats.
    registration = _locked(registration.id)
    if registration.status != R.EXPIRED:
        db.session.rollback()
        raise RegistrationError("not_awaiting_payment", registration)
    _expire_holds_of(registration.training_session_id, now)
    if not _take_seat(registration.training_session_id):
        db.session.commit()
        raise RegistrationError("full", registration)
    settings = get_settings()
    registration.status = R.PENDING_PAYMENT
    registration.hold_expires_at = now + timedelta(minutes=settings.hold_minutes)
    # At the fee of now: the organizer may have changed it (or guest fees were turned off) since.
    registration.price_cents = _fee_now(registration.training, settings)
    registration.discount_cents = 0
    registration.coupon_code = None
    db.session.commit()


def _confirm_without_payment(registration: Registration) -> Registration:
    if registration.status == R.EXPIRED:
        _retake_seat(registration)
        registration = get_registration(registration.id)
        if registration.due_cents:  # the coupon went back with the expired hold
            return registration
    open_attempt_id = registration.payment_id
    confirmed = db.session.execute(
        update(Registration)
        .where(Registration.id == registration.id, Registration.status == R.PENDING_PAYMENT)
        .values(status=R.CONFIRMED, confirmed_at=utcnow(), hold_expires_at=None, payment_id=None)
    ).rowcount
    if confirmed and open_attempt_id:
        # An attempt opened before the coupon covered the fee must never be charged now.
        db.session.execute(
            update(Payment)
            .where(Payment.id == open_attempt_id, Payment.status == "pending")
            .values(status="failed", failure_code="superseded")
        )
    if confirmed:
        coupons.commit(registration.reference)
        registration = get_registration(registration.id)
        _send_confirmation(registration)
        audit.record("registration.confirmed", registration, email=registration.email, paid_cents=0)
    db.session.commit()
    return get_registration(registration.id)


def _locked(registration_id: int) -> Registration:
    """The registration, row-locked on PostgreSQL (SQLite's BEGIN IMMEDIATE already serializes)."""
    return locked_row(Registration, registration_id)


def settle_paid(registration_id: int, payment_id: int | None = None) -> Registration:
    """A guest payment went through: confirm the seat it paid for, or give the money back at once.

    Idempotent and safe when the payer's request and the reconciler race (the
    registration row is locked). The payment confirms only if it paid exactly
    what is due now (a coupon applied meanwhile changes that) while the session
    is open; a hold that expired takes a seat again if one is free. Otherwise the
    payment is voided or refunded and the guest is told by email.
    """
    registration = _locked(registration_id)
    payment = payments.get_payment(payment_id) if payment_id else registration.payment
    if payment is None or not payment.is_paid:
        db.session.commit()
        return registration
    if registration.status == R.CONFIRMED and registration.payment_id == payment.id:
        db.session.commit()
        return registration  # this payment confirmed it already
    now = utcnow()
    coupon_held = (
        registration.discount_cents == 0 or coupons.live_redemption(registration.reference) is not None
    )
    pays_what_is_due = (
        registration.payment_id == payment.id
        and payment.amount_cents == registration.due_cents
        and coupon_held
    )
    session_open = registration.training.status in (SessionStatus.SCHEDULED, SessionStatus.STARTED)
    confirmed = False
    if pays_what_is_due and session_open and registration.status == R.PENDING_PAYMENT:
        confirmed = True
    elif pays_what_is_due and session_open and registration.status == R.EXPIRED:
        _expire_holds_of(registration.training_session_id, now)
        confirmed = _take_seat(registration.training_session_id)
    if confirmed:
        registration.status = R.CONFIRMED
        registration.confirmed_at = now
        registration.hold_expires_at = None
        coupons.commit(registration.reference)
        _send_confirmation(registration)
        audit.record(
            "registration.confirmed",
            registration,
            email=registration.email,
            payment=payment.order_id,
            paid_cents=payment.amount_cents,
        )
        db.session.commit()
        return registration
    # This payment has no seat to buy: the session filled up or was cancelled, the guest
    # cancelled, or a coupon changed the price meanwhile. The money goes back.
    if registration.status == R.PENDING_PAYMENT and not session_open:
        _give_seat_back(registration.training_session_id)  # the hold still counted a seat
        coupons.release(registration.reference)
        registration.status = R.CANCELLED
        registration.cancelled_at = now
    elif registration.status == R.EXPIRED:
        registration.status = R.CANCELLED
        registration.cancelled_at = now
    audit.record("registration.paid_without_seat", registration, payment=payment.order_id)
    db.session.commit()
    log.warning(
        "registration %s: payment %s bought no seat; giving it back", registration_id, payment.order_id
    )
    refunded = 0
    try:
        refunded = payments.refund(payment.id, reason="no seat for this payment").amount_cents
    except payments.PaymentError as exc:
        log.error(
            "registration %s: payment %s not given back yet: %s", registration_id, payment.order_id, exc.code
        )
    registration = get_registration(registration_id)
    if registration.status not in (R.CONFIRMED, R.PENDING_PAYMENT):
        # It ended (the session closed, the hold ran out and the seats went): tell the guest. One
        # still held (the price changed while paying) stays open: its page says to pay again.
        if refunded and registration.status == R.CANCELLED:
            registration.status = R.REFUNDED
        _send_mail(registration, "cancelled", refunded_cents=refunded, no_seat=True)
    db.session.commit()
    return registration


def _registration_for(payment: Payment) -> Registration | None:
    kind, _, number = (payment.reference or "").partition(":")
    return get_registration(int(number)) if kind == "registration" and number.isdigit() else None


def registration_page_of(payment: Payment) -> str | None:
    """The guest's own registration page, where they land back from the gateway's payment page."""
    registration = _registration_for(payment)
    return manage_url(registration.id) if registration else None


def on_guest_payment(payment: Payment) -> None:
    """Told by the payments service when a guest fee payment is paid (now, or later by the reconciler)."""
    registration = _registration_for(payment)
    if registration is not None and payment.is_paid:
        settle_paid(registration.id, payment.id)


def on_guest_payment_given_back(payment: Payment) -> None:
    """A guest payment was voided or fully refunded (e.g. from the payments ledger): the seat goes too."""
    registration = _registration_for(payment)
    if registration is None or registration.payment_id != payment.id:
        return
    if registration.status == R.CONFIRMED:
        try:
            cancel(registration.id, refund_cents=0, notify=True)
        except RegistrationError:
            return
        registration = get_registration(registration.id)
    if registration.status == R.CANCELLED:
        registration.status = R.REFUNDED
        db.session.commit()


# -- expiry and the waiting list -------------------------------------------------------


def settle_paid_holds() -> int:
    """Confirm (or give back) payments that went through but whose confirmation never committed.

    The charge's outcome is recorded first, then the seat is confirmed in a second transaction:
    a database error or a crash in between leaves a paid payment on a hold. Returns how many.
    """
    found = db.session.execute(
        select(Registration.id, Registration.payment_id)
        .join(Payment, Payment.id == Registration.payment_id)
        .where(
            Registration.status.in_([R.PENDING_PAYMENT, R.EXPIRED]),
            Payment.status.in_([str(s) for s in PAID]),
        )
    ).all()
    db.session.rollback()
    for registration_id, payment_id in found:
        settle_paid(registration_id, payment_id)
    return len(found)


def expire_holds(now: datetime | None = None) -> int:
    """Release every run-out hold and offer the freed seats to the waiting lists."""
    now = now or utcnow()
    settle_paid_holds()
    sessions = db.session.scalars(
        select(Registration.training_session_id)
        .where(Registration.status == R.PENDING_PAYMENT, Registration.hold_expires_at <= now)
        .distinct()
    ).all()
    released = 0
    for training_id in sessions:
        released += _expire_holds_of(training_id, now)
        db.session.commit()
        offer_freed_seats(training_id, now)
    return released


def offer_freed_seats(training_id: int, now: datetime | None = None) -> int:
    """Offer free seats to the waiting list, first come first served; each offer holds its seat."""
    now = now or utcnow()
    settings = get_settings()
    offered = 0
    while True:
        first = db.session.scalar(
            select(Registration)
            .where(Registration.training_session_id == training_id, Registration.status == R.WAITLISTED)
            .order_by(Registration.created_at, Registration.id)
            .limit(1)
        )
        if first is None or not _take_seat(training_id):
            db.session.commit()
            return offered
        moved = db.session.execute(
            update(Registration)
            .where(Registration.id == first.id, Registration.status == R.WAITLISTED)
            .values(
                status=R.PENDING_PAYMENT,
                offered_at=now,
                hold_expires_at=now + timedelta(minutes=settings.offer_minutes),
                # At the fee of now, not of when the guest joined the line.
                price_cents=_fee_now(first.training, settings),
                discount_cents=0,
            )
        ).rowcount
        if not moved:
            db.session.rollback()
            continue
        registration = get_registration(first.id)
        _send_mail(registration, "offer")
        audit.record("registration.offered", registration, email=registration.email)
        db.session.commit()
        offered += 1


# -- cancelling --------------------------------------------------------------------------


def guest_refund_cents(registration: Registration, now: datetime | None = None) -> int:
    """What the site's policy refunds when the guest cancels now."""
    now = now or utcnow()
    payment = registration.payment
    if payment is None or not payment.is_paid:
        return 0
    hours = get_settings().refund_until_hours
    if hours is None or now > registration.training.start_at - timedelta(hours=hours):
        return 0
    return payment.refundable_cents


def cancel(
    registration_id: int,
    refund_cents: int | None = 0,
    by_guest: bool = False,
    notify: bool = True,
    session_cancelled: bool = False,
):
    """Cancel a registration: its seat (or place in line) goes back, and ``refund_cents`` is refunded.

    ``refund_cents=None`` refunds in full. The registration is cancelled first
    (one conditional write), then the refund is sent with no transaction open; a
    refund that fails is recorded on the payment and can be retried.
    """
    registration = get_registration(registration_id)
    if registration is None or registration.status not in ACTIVE:
        raise RegistrationError("not_cancellable", registration)
    if by_guest and registration.training.start_at <= utcnow():
        raise RegistrationError("already_started", registration)
    payment = registration.payment
    if payment is not None and payment.status in ("processing", "unknown"):
        raise RegistrationError("payment_in_progress", registration)
    had_seat = registration.status in (R.PENDING_PAYMENT, R.CONFIRMED)
    cancelled = db.session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.status == registration.status)
        .values(status=R.CANCELLED, cancelled_at=utcnow(), hold_expires_at=None)
    ).rowcount
    if not cancelled:
        db.session.rollback()
        raise RegistrationError("not_cancellable", registration)
    if had_seat:
        _give_seat_back(registration.training_session_id)
    # The coupon use comes back too (a prepaid guest keeps what they paid for).
    coupons.release(registration.reference, committed_too=True)
    audit.record("registration.cancelled", registration, email=registration.email, by_guest=by_guest)
    db.session.commit()
    try:
        return _refund_cancelled(registration_id, payment, refund_cents, notify, session_cancelled)
    finally:
        if had_seat:
            offer_freed_seats(registration.training_session_id)


def _refund_cancelled(
    registration_id: int, payment, refund_cents: int | None, notify: bool, session_cancelled: bool = False
):
    refunded = 0
    if payment is not None and payment.is_paid and refund_cents != 0:
        owed = payment.refundable_cents if refund_cents is None else refund_cents
        try:
            record = payments.refund(payment.id, refund_cents, reason="registration cancelled")
            refunded = record.amount_cents
        except payments.PaymentError as exc:
            log.error("registration %s: refund failed: %s", registration_id, exc.code)
            registration = get_registration(registration_id)
            if notify:
                # The organizer retries it (the guest is emailed when it goes through): say it is owed.
                _send_mail(
                    registration,
                    "cancelled",
                    refunded_cents=0,
                    refund_owed_cents=owed,
                    session_cancelled=session_cancelled,
                )
                db.session.commit()
            raise RegistrationError(f"refund_failed:{exc.code}", registration) from exc
    registration = get_registration(registration_id)
    if refunded:
        registration.status = R.REFUNDED
    if notify:
        _send_mail(registration, "cancelled", refunded_cents=refunded, session_cancelled=session_cancelled)
    db.session.commit()
    return get_registration(registration_id)


def refund_cancelled(registration_id: int, amount_cents: int | None = None):
    """Refund (again) a cancelled registration: a failed refund's retry, or more money back later.

    Raises ``PaymentError`` when the gateway refuses; the guest is emailed when it works.
    """
    registration = get_registration(registration_id)
    payment = registration.payment if registration else None
    if registration is None or registration.status not in (R.CANCELLED, R.REFUNDED) or payment is None:
        raise RegistrationError("nothing_to_refund", registration)
    record = payments.refund(payment.id, amount_cents, reason="refund retried by the organizer")
    db.session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.status == R.CANCELLED)
        .values(status=R.REFUNDED)
    )
    registration = get_registration(registration_id)
    audit.record(
        "registration.refunded",
        registration,
        email=registration.email,
        payment=payment.order_id,
        refunded_cents=record.amount_cents,
    )
    _send_mail(registration, "cancelled", refunded_cents=record.amount_cents)
    db.session.commit()
    return record


def session_cancellation_plan(training: TrainingSession) -> list[tuple[Registration, int]]:
    """The dry run: every active registration and the full refund it would get."""
    registrations = db.session.scalars(
        select(Registration)
        .where(
            Registration.training_session_id == training.id, Registration.status.in_([str(s) for s in ACTIVE])
        )
        .order_by(Registration.id)
    ).all()
    return [
        (r, r.payment.refundable_cents if r.payment is not None and r.payment.is_paid else 0)
        for r in registrations
    ]


def cancel_session_registrations(training: TrainingSession) -> list[tuple[int, str]]:
    """Cancel every active registration with a full refund and an email; returns failures to retry."""
    failures = []
    for registration, _refund in session_cancellation_plan(training):
        try:
            cancel(registration.id, refund_cents=None, session_cancelled=True)
        except RegistrationError as exc:
            failures.append((registration.id, exc.code))
    return failures


# -- mail ----------------------------------------------------------------------------------


def _send_confirmation(registration: Registration) -> None:
    _send_mail(registration, "confirmation", attachments=[invitation(registration)])


def notify_session_changed(training: TrainingSession) -> int:
    """The session's time, length or meeting link changed: every confirmed guest is told, with an
    invitation that replaces theirs (same event, a higher SEQUENCE). Returns how many."""
    sequence = int(utcnow().timestamp())  # grows with every change; a first invitation has 0
    guests = db.session.scalars(
        select(Registration)
        .where(Registration.training_session_id == training.id, Registration.status == R.CONFIRMED)
        .order_by(Registration.id)
    ).all()
    for registration in guests:
        _send_mail(registration, "updated", attachments=[invitation(registration, sequence)])
    db.session.commit()
    return len(guests)


def _subject(kind: str, title: str) -> str:
    if kind == "confirmation":
        return _("Registration confirmed: %(title)s", title=title)
    if kind == "updated":
        return _("Session changed: %(title)s", title=title)
    if kind == "offer":
        return _("A seat is free for you: %(title)s", title=title)
    return _("Registration cancelled: %(title)s", title=title)


def _send_mail(registration: Registration, kind: str, attachments=None, **context) -> None:
    """Queue a guest email in the caller's transaction (sent after commit by the outbox).

    In the guest's language, whoever's request (or job) sends it.
    """
    training = registration.training
    with recipient_locale(registration.locale):
        body = render_template(
            f"registration/email/{kind}.txt",
            registration=registration,
            training=training,
            payment=registration.payment,
            manage_url=manage_url(registration.id),
            **context,
        )
        subject = _subject(kind, training.title)
    mail.queue(
        registration.email,
        subject,
        body,
        kind=f"registration_{kind}",
        to_name=registration.name,
        reference=registration.reference,
        attachments=attachments,
    )
