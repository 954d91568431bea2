"""Money histories for the reports, made through the real services against the offline sandbox."""

from datetime import timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.admin.services import get_settings
from portal.billing import services as billing
from portal.billing.pricing import AudioType
from portal.database import utcnow
from portal.extensions import db
from portal.payments import services as payments
from portal.payments.models import Payment
from portal.registration import services as registration
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from portal.trainings.services import SessionDetails, save_draft

ALL = payments.AllowedMethods(True, True, True)
VISA = "fake-valid-visa-nonce"
DECLINED = "fake-processor-declined-visa-nonce"


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def guest_pays(
    training: TrainingSession, email: str, nonce: str = VISA, coupon: str | None = None
) -> Registration:
    """A guest registers, may apply a coupon, and pays (a declined nonce leaves the seat held)."""
    training = db.session.get(TrainingSession, training.id)
    held = registration.register(training, registration.GuestDetails(email.split("@")[0], email))
    if coupon:
        registration.apply_coupon(registration.get_registration(held.id), coupon)
    return registration.pay(held.id, nonce, ALL)


def settle_payment(payment_id: int) -> Payment:
    """The sandbox settles the sale, and the portal learns it: refunds may then be partial."""
    payment = db.session.get(Payment, payment_id)
    if payment.status == "submitted_for_settlement":
        payments.gateway().settle(payment.gateway_transaction_id)
        payments.refresh_payment(payment.id)
    return db.session.get(Payment, payment_id)


def pay_per_use_session(
    email: str, duration: int = 60, attendees: int = 10, title="Negotiation", must_pay: bool = True
) -> TrainingSession:
    """Draft, checkout and pay: duration x (attendees + 1) x 0.0125 at the demo rates (60 x 11 -> 8.25)."""
    details = SessionDetails(
        title=title,
        description="",
        start_at=utcnow().replace(microsecond=0) + timedelta(days=5),
        timezone="UTC",
        duration_minutes=duration,
        capacity=50,
        expected_attendees=attendees,
        audio=AudioType.INTERNET,
        teleconference_participants=0,
        fee_cents=0,
    )
    training = save_draft(user(email), details, get_settings(), "schedule")
    payment = billing.checkout(training)
    paid = billing.pay(training.id, payment.id, VISA, ALL)
    assert paid.is_paid or not must_pay, paid.status
    return db.session.get(TrainingSession, training.id)
