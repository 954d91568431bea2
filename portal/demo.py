"""Demo data: the accounts and sessions named in PRODUCT.md's stable hooks."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import Role, User
from portal.accounts.services import create_user, get_or_create_department
from portal.admin.services import get_settings, update_settings
from portal.billing.pricing import AudioType
from portal.coupons.services import CouponInput, create_coupon
from portal.database import utcnow
from portal.extensions import db
from portal.trainings.services import SessionDetails, schedule_session

DEMO_SETTINGS = {
    "ecommerce_enabled": True,
    "fee_based_enabled": True,
    "coupons_enabled": True,
    "pay_per_use_enabled": True,
    "credit_cards_enabled": True,
    "debit_cards_enabled": True,
    "paypal_enabled": True,
    "currency": "USD",
    "person_minute_rate": Decimal("0.0125"),
    "toll_rate": Decimal("0.09"),
    "toll_free_rate": Decimal("0.12"),
    "callback_rate": Decimal("0.15"),
    "tax_percent": Decimal("8.25"),
    "hold_minutes": 15,
    "offer_minutes": 60,
    "refund_until_hours": 24,
    "pay_per_use_refundable": True,
    "allow_budget_overrun": False,
}


def load_demo_data(password: str) -> bool:
    """Create the demo site; return False when it already exists."""
    if db.session.scalar(select(User).where(User.email == "admin@example.com")):
        return False
    update_settings(DEMO_SETTINGS)
    settings = get_settings()
    sales = get_or_create_department("Sales")
    engineering = get_or_create_department("Engineering")
    create_user("admin@example.com", password, role=Role.ADMIN, name="Ada Admin")
    organizer = create_user(
        "organizer@example.com",
        password,
        name="Olivia Organizer",
        department=sales,
        timezone="America/New_York",
    )
    organizer2 = create_user(
        "organizer2@example.com",
        password,
        name="Oscar Organizer",
        department=engineering,
        timezone="Europe/Paris",
    )
    db.session.commit()
    day = utcnow().replace(hour=14, minute=0, second=0, microsecond=0)
    samples = [
        (organizer, "Negotiation basics", 5, 90, 25, 20, AudioType.TOLL, 4, 4900),
        (organizer, "Product demo for new customers", 12, 45, 100, 60, AudioType.INTERNET, 0, 0),
        (organizer2, "Kubernetes for beginners", 7, 120, 30, 25, AudioType.TOLL_FREE, 6, 9900),
    ]
    for owner, title, days, minutes, capacity, attendees, audio, phones, fee in samples:
        schedule_session(
            owner,
            SessionDetails(
                title=title,
                description=f"{title}: a live online training session.",
                start_at=day + timedelta(days=days),
                timezone=owner.timezone,
                duration_minutes=minutes,
                capacity=capacity,
                expected_attendees=attendees,
                audio=audio,
                teleconference_participants=phones,
                fee_cents=fee,
            ),
            settings,
        )
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    create_coupon(
        CouponInput(kind="percent", code="WELCOME25", percent=Decimal("25"), max_uses=100, batch="Demo"),
        admin,
    )
    create_coupon(CouponInput(kind="free", code="FREEPASS", max_uses=20, batch="Demo"), admin)
    return True
