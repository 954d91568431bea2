"""Scheduling, editing and cancelling training sessions (no request, no templates)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from portal.accounts.models import User
from portal.admin.models import SiteSettings
from portal.billing.pricing import AudioType, Quote, Usage, estimate, rates_for
from portal.database import utcnow
from portal.extensions import db
from portal.trainings.models import TrainingSession
from portal.trainings.status import SessionStatus, transition


class TrainingError(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class SessionDetails:
    """What the scheduling form collects, already validated."""

    title: str
    description: str
    start_at: datetime | None  # aware UTC; None with "Start now"
    timezone: str
    duration_minutes: int
    capacity: int
    expected_attendees: int
    audio: AudioType
    teleconference_participants: int
    fee_cents: int
    ask_company: str = "off"
    ask_phone: str = "off"
    meeting_url: str = ""

    @property
    def usage(self) -> Usage:
        return Usage(
            duration_minutes=self.duration_minutes,
            expected_attendees=self.expected_attendees,
            audio=self.audio,
            teleconference_participants=self.teleconference_participants,
        )


def _apply(training: TrainingSession, details: SessionDetails, settings: SiteSettings) -> Quote:
    # A new session takes the site's currency and rates; one created before a currency change keeps
    # its own, and one paid for keeps the rates it was paid at (billing.session_rates).
    rates = rates_for(
        training.currency, training.estimate_snapshot, settings.rates(), paid=bool(training.paid_cents)
    )
    quote = estimate(details.usage, rates)
    training.title = details.title
    training.description = details.description
    training.timezone = details.timezone
    training.duration_minutes = details.duration_minutes
    training.capacity = details.capacity
    training.expected_attendees = details.expected_attendees
    training.audio = details.audio.value
    training.teleconference_participants = details.teleconference_participants
    training.ask_company = details.ask_company
    training.ask_phone = details.ask_phone
    training.meeting_url = details.meeting_url
    if settings.fee_based:
        # In the session's own currency, fixed when it was created.
        training.fee_cents = details.fee_cents
    # The estimate with those rates, recorded: a later rate change never rewrites it.
    training.estimate_cents = quote.total_cents
    training.estimate_snapshot = quote.snapshot()
    return quote


def schedule_session(
    organizer: User, details: SessionDetails, settings: SiteSettings, start_now: bool = False
) -> TrainingSession:
    training = TrainingSession(
        organizer_id=organizer.id, currency=settings.currency, fee_cents=0, seats_taken=0
    )
    _apply(training, details, settings)
    if start_now:
        training.set_times(utcnow())
        training.status = transition(SessionStatus.DRAFT, SessionStatus.STARTED)
    else:
        training.set_times(details.start_at)
        training.status = transition(SessionStatus.DRAFT, SessionStatus.SCHEDULED)
    db.session.add(training)
    db.session.commit()
    return training


def save_draft(
    organizer: User, details: SessionDetails, settings: SiteSettings, intent: str, training=None
) -> TrainingSession:
    """Pay-per-use: keep the session as an unpaid draft that becomes scheduled (or started) once paid."""
    if training is None:
        training = TrainingSession(
            organizer_id=organizer.id,
            currency=settings.currency,
            fee_cents=0,
            seats_taken=0,
            status=SessionStatus.DRAFT,
        )
        db.session.add(training)
    elif training.status != SessionStatus.DRAFT:
        raise TrainingError("not_a_draft")
    _apply(training, details, settings)
    training.set_times(utcnow() if intent == "start" else details.start_at)
    training.pending_intent = intent
    db.session.commit()
    return training


def update_session(training: TrainingSession, details: SessionDetails, settings: SiteSettings) -> bool:
    """Save an edit; True when what a guest's calendar holds changed (time, length, title, link)."""
    if not training.is_editable:
        raise TrainingError("not_editable")
    if details.capacity < training.seats_taken:
        raise TrainingError("capacity_below_seats_taken")
    before = _calendar_facts(training)
    _apply(training, details, settings)
    training.set_times(details.start_at if details.start_at else training.start_at)
    changed = _calendar_facts(training) != before
    db.session.commit()
    return changed


def _calendar_facts(training: TrainingSession) -> tuple:
    return training.start_at, training.duration_minutes, training.title, training.meeting_url


def publish(training: TrainingSession, intent: str) -> None:
    """A draft becomes scheduled, or started now (``intent`` "start"). The caller commits."""
    if intent == "start":
        training.status = transition(training.status, SessionStatus.STARTED)
        training.set_times(utcnow())
    else:
        training.status = transition(training.status, SessionStatus.SCHEDULED)
    training.pending_intent = None


def cancel_session(training: TrainingSession) -> None:
    training.status = transition(training.status, SessionStatus.CANCELLED)
    training.cancelled_at = utcnow()
    db.session.commit()


def managed_session(session_id: int, user: User) -> TrainingSession | None:
    """The session if ``user`` may manage it; None otherwise (views answer 404 either way)."""
    query = select(TrainingSession).where(TrainingSession.id == session_id)
    if not user.is_admin:
        query = query.where(TrainingSession.organizer_id == user.id)
    return db.session.scalar(query)


# Built once: the public page's lookup runs on every guest's visit. Guests' pages never show the
# organizer, so the session comes alone (the model joins its organizer and department otherwise;
# the calendar invitation sent on confirming loads the organizer when it needs it).
_BY_PUBLIC_TOKEN = (
    select(TrainingSession)
    .where(TrainingSession.public_token == bindparam("token"))
    .options(lazyload(TrainingSession.organizer))
)


def public_session(token: str) -> TrainingSession | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(_BY_PUBLIC_TOKEN, {"token": token})


def seats_left(training: TrainingSession) -> int:
    from portal.registration.services import seats_left as registration_seats_left

    return registration_seats_left(training)
