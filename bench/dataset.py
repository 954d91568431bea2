"""A generated site for benchmarks: organizers, sessions, registrations, payments and coupons.

``--scale full`` is issue 8's data set: 10,000 sessions, 1,000,000 registrations and
100,000 coupons (one in ten registrations paid through a payment row). Rows are
written with bulk INSERTs, consistent with what the services would have made
(seats taken = confirmed registrations, committed coupon uses counted), so every
page shows real data. The benchmark's own fixtures (a session whose public page is
read, registrations waiting on the Payment information page with a coupon applied,
a session for the seat rush) are made through the real services.
"""

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, update

from portal.accounts.models import Role
from portal.accounts.passwords import hash_password
from portal.accounts.services import get_or_create_department
from portal.admin.services import SETTING_FIELDS, get_settings, update_settings
from portal.billing.pricing import AudioType
from portal.coupons.models import Coupon
from portal.coupons.services import CouponInput, create_coupon
from portal.database import utcnow
from portal.demo import DEMO_SETTINGS
from portal.extensions import db
from portal.payments.models import Payment
from portal.registration import services as registration
from portal.registration.links import manage_token
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from portal.trainings.services import SessionDetails, schedule_session

PASSWORD = "bench-password"
BATCH = 20_000


@dataclass(frozen=True)
class Scale:
    organizers: int
    sessions: int
    registrations: int
    coupons: int


SCALES = {
    "small": Scale(organizers=20, sessions=500, registrations=20_000, coupons=5_000),
    "full": Scale(organizers=200, sessions=10_000, registrations=1_000_000, coupons=100_000),
}


def _users(scale: Scale) -> list[int]:
    from portal.accounts.models import User

    departments = [get_or_create_department(f"Department {n}") for n in range(10)]
    db.session.commit()
    password_hash = hash_password(PASSWORD)  # one hash for all: argon2 per row would take minutes
    now = utcnow()
    rows = [
        {
            "email": f"organizer{n}@bench.example",
            "name": f"Organizer {n}",
            "password_hash": password_hash,
            "role": Role.ORGANIZER,
            "department_id": departments[n % len(departments)].id,
            "timezone": "Europe/Paris",
            "active": True,
            "session_version": 1,
            "created_at": now,
        }
        for n in range(scale.organizers)
    ]
    rows.append({**rows[0], "email": "admin@bench.example", "name": "Admin", "role": Role.ADMIN})
    db.session.execute(insert(User), rows)
    db.session.commit()
    return list(db.session.scalars(select(User.id).where(User.role == Role.ORGANIZER).order_by(User.id)))


def _sessions(scale: Scale, organizers: list[int]) -> list[tuple[int, int, datetime]]:
    """(id, fee_cents, start_at) of each generated session."""
    rng = random.Random(8)
    now = utcnow().replace(microsecond=0)
    rows = []
    for n in range(scale.sessions):
        start = now + timedelta(days=rng.randint(-180, 180), hours=rng.randint(0, 23))
        capacity = max(20, 2 * scale.registrations // scale.sessions)
        rows.append(
            {
                "organizer_id": organizers[n % len(organizers)],
                "public_token": uuid.uuid4().hex + uuid.uuid4().hex[:11],
                "title": f"Session {n}: negotiation, part {n % 7 + 1}",
                "description": "",
                "start_at": start,
                "end_at": start + timedelta(minutes=60),
                "timezone": "Europe/Paris",
                "duration_minutes": 60,
                "capacity": capacity,
                "expected_attendees": min(10, capacity),
                "audio": AudioType.INTERNET,
                "teleconference_participants": 0,
                "fee_cents": rng.choice([0, 1500, 4900, 9900]),
                "seats_taken": 0,
                "paid_cents": 0,
                "refund_owed_cents": 0,
                "ask_company": "off",
                "ask_phone": "off",
                "meeting_url": "",
                "currency": "USD",
                "status": "scheduled",
                "estimate_cents": 0,
                "estimate_snapshot": {},
                "created_at": now,
                "updated_at": now,
            }
        )
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(TrainingSession), rows[start : start + BATCH])
    db.session.commit()
    return list(
        db.session.execute(
            select(TrainingSession.id, TrainingSession.fee_cents, TrainingSession.start_at).order_by(
                TrainingSession.id
            )
        )
    )


def _registrations(scale: Scale, sessions: list[tuple[int, int, datetime]]) -> None:
    """Confirmed registrations spread over the sessions; one in ten paid with a settled payment.

    Each comes in the two months before its session, or for a session further away, in
    the two months before now, as on a site that has run for a year: a day's and a
    month's figures cover a day and a month, not the whole set.
    """
    rng = random.Random(9)
    now = utcnow()
    per_session = scale.registrations // len(sessions)
    taken: dict[int, int] = {}
    pending_regs: list[dict] = []
    pending_payments: list[dict] = []
    number = 0
    for session_id, fee, start_at in sessions:
        for _ in range(per_session):
            number += 1
            at = start_at - timedelta(minutes=rng.randint(60, 60 * 24 * 60))
            if at > now:
                # A session still months away: its guests registered over the last two months
                # (not all "now", which piled a third of the set into today's figures).
                at = now - timedelta(minutes=rng.randint(1, 60 * 24 * 60))
            paid = fee > 0 and number % 10 == 0
            pending_regs.append(
                {
                    "training_session_id": session_id,
                    "email": f"guest{number}@bench.example",
                    "name": f"Guest {number}",
                    "company": "",
                    "phone": "",
                    "timezone": "UTC",
                    "status": "confirmed",
                    "price_cents": fee if paid else 0,
                    "discount_cents": 0,
                    "currency": "USD",
                    "confirmed_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            if paid:
                pending_payments.append(
                    {
                        "order_id": "pay_" + uuid.uuid4().hex,
                        "purpose": "guest_fee",
                        "reference": f"bench:{number}",
                        "training_session_id": session_id,
                        "amount_cents": fee,
                        "currency": "USD",
                        "status": "settled",
                        "gateway": "braintree",
                        "method": "credit_card",
                        "card_brand": "Visa",
                        "card_last4": "1111",
                        "refunded_cents": 0,
                        "created_at": at,
                        "updated_at": at,
                        "paid_at": at,
                    }
                )
            taken[session_id] = taken.get(session_id, 0) + 1
        if len(pending_regs) >= BATCH:
            db.session.execute(insert(Registration), pending_regs)
            pending_regs.clear()
        if len(pending_payments) >= BATCH // 10:
            db.session.execute(insert(Payment), pending_payments)
            pending_payments.clear()
    if pending_regs:
        db.session.execute(insert(Registration), pending_regs)
    if pending_payments:
        db.session.execute(insert(Payment), pending_payments)
    for session_id, count in taken.items():
        db.session.execute(
            update(TrainingSession).where(TrainingSession.id == session_id).values(seats_taken=count)
        )
    db.session.execute(
        update(Payment)
        .where(Payment.training_session_id.is_not(None), Payment.organizer_id.is_(None))
        .values(
            organizer_id=select(TrainingSession.organizer_id)
            .where(TrainingSession.id == Payment.training_session_id)
            .scalar_subquery()
        )
    )
    db.session.commit()


def _coupons(scale: Scale, admin_id: int) -> None:
    now = utcnow()
    rows = [
        {
            "code": f"BENCH{n:07d}",
            "kind": "percent",
            "percent": Decimal("10"),
            "max_uses": 5,
            "uses": 0,
            "batch": f"batch-{n // 1000}",
            "note": "",
            "active": True,
            "created_by_id": admin_id,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(scale.coupons)
    ]
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(Coupon), rows[start : start + BATCH])
    db.session.commit()


def _bench_fixtures(admin, organizer_id: int, holds: int) -> dict:
    """Through the real services: what the scenarios read and write."""
    from portal.accounts.models import User

    organizer = db.session.get(User, organizer_id)
    start_in = utcnow().replace(microsecond=0) + timedelta(days=30)

    def scheduled(title: str, fee: int, capacity: int) -> TrainingSession:
        details = SessionDetails(
            title=title,
            description="A session the benchmark reads.",
            start_at=start_in,
            timezone="Europe/Paris",
            duration_minutes=90,
            capacity=capacity,
            expected_attendees=10,
            audio=AudioType.INTERNET,
            teleconference_participants=0,
            fee_cents=fee,
        )
        return schedule_session(organizer, details, get_settings())

    public = scheduled("Negotiation basics", 4900, 500)
    for n in range(20):
        registration.register(public, registration.GuestDetails(f"Reader {n}", f"reader{n}@bench.example"))
    create_coupon(
        CouponInput(kind="percent", percent=Decimal("25"), code="BENCH25", max_uses=holds + 10), admin
    )
    pay_page = scheduled("Coupon page", 4900, holds + 10)
    manage = []
    for n in range(holds):
        held = registration.register(
            pay_page, registration.GuestDetails(f"Payer {n}", f"payer{n}@bench.example")
        )
        registration.apply_coupon(registration.get_registration(held.id), "BENCH25")
        manage.append(manage_token(held.id))
    flow = scheduled("Registration and payment", 4900, 1_000_000)
    rush = scheduled("The last seats", 4900, 1_000_000)
    return {
        "public_token": public.public_token,
        "pay_tokens": manage,
        "flow_token": flow.public_token,
        "rush_token": rush.public_token,
        "rush_session_id": rush.id,
        "organizer_email": organizer.email,
        "admin_email": "admin@bench.example",
        "password": PASSWORD,
    }


def load(scale_name: str, out_path: str) -> dict:
    """Generate the site (inside an app context) and write what the scenarios need to ``out_path``."""
    from portal.accounts.models import User

    scale = SCALES[scale_name]
    current = get_settings()
    values = {field: getattr(current, field) for field in SETTING_FIELDS}
    # Holds outlive the run, so the Payment information pages stay readable.
    values.update({**DEMO_SETTINGS, "tax_percent": None, "hold_minutes": 24 * 60})
    update_settings(values)
    organizers = _users(scale)
    admin = db.session.scalar(select(User).where(User.email == "admin@bench.example"))
    sessions = _sessions(scale, organizers)
    _registrations(scale, sessions)
    _coupons(scale, admin.id)
    fixtures = _bench_fixtures(admin, organizers[0], holds=200)
    fixtures["scale"] = scale_name
    with open(out_path, "w") as handle:
        json.dump(fixtures, handle)
    return fixtures
