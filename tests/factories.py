"""Test data through the real services (no hand-written rows that skip validation)."""

from datetime import timedelta

from portal.accounts.models import Role
from portal.accounts.services import create_user, get_or_create_department
from portal.admin.services import SETTING_FIELDS, get_settings, update_settings
from portal.billing.pricing import AudioType
from portal.database import utcnow
from portal.demo import DEMO_SETTINGS
from portal.extensions import db
from portal.trainings.services import SessionDetails, schedule_session
from tests.conftest import PASSWORD

# The demo site's switches and rates, without tax so totals stay easy to check by hand.
ECOMMERCE_ON = {**DEMO_SETTINGS, "tax_percent": None}


def set_settings(**overrides):
    current = get_settings()
    values = {field: getattr(current, field) for field in SETTING_FIELDS}
    values.update(overrides)
    update_settings(values)
    return get_settings()


def enable_ecommerce(**overrides):
    return set_settings(**{**ECOMMERCE_ON, **overrides})


def make_user(email="organizer@example.com", role=Role.ORGANIZER, department="Sales", **kw):
    dept = get_or_create_department(department) if department else None
    user = create_user(email, PASSWORD, role=role, department=dept, **kw)
    db.session.commit()
    return user


def make_training(organizer, start_in=timedelta(days=3), start_now=False, **overrides):
    fields = dict(
        title="Negotiation basics",
        description="How to negotiate.",
        start_at=utcnow().replace(microsecond=0) + start_in,
        timezone="Europe/Paris",
        duration_minutes=60,
        capacity=20,
        expected_attendees=10,
        audio=AudioType.INTERNET,
        teleconference_participants=0,
        fee_cents=0,
    )
    fields.update(overrides)
    return schedule_session(organizer, SessionDetails(**fields), get_settings(), start_now=start_now)
