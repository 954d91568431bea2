from decimal import Decimal

from flask import g

from portal.admin import audit
from portal.admin.models import SiteSettings
from portal.extensions import db

SETTING_FIELDS = (
    "ecommerce_enabled",
    "fee_based_enabled",
    "coupons_enabled",
    "pay_per_use_enabled",
    "credit_cards_enabled",
    "debit_cards_enabled",
    "paypal_enabled",
    "currency",
    "person_minute_rate",
    "toll_rate",
    "toll_free_rate",
    "callback_rate",
    "tax_percent",
    "hold_minutes",
    "offer_minutes",
    "refund_until_hours",
    "pay_per_use_refundable",
    "allow_budget_overrun",
)


def _defaults() -> SiteSettings:
    zero = Decimal("0")
    return SiteSettings(
        id=1,
        ecommerce_enabled=False,
        fee_based_enabled=False,
        coupons_enabled=False,
        pay_per_use_enabled=False,
        credit_cards_enabled=False,
        debit_cards_enabled=False,
        paypal_enabled=False,
        currency="USD",
        person_minute_rate=zero,
        toll_rate=zero,
        toll_free_rate=zero,
        callback_rate=zero,
        tax_percent=None,
        hold_minutes=15,
        offer_minutes=60,
        refund_until_hours=24,
        pay_per_use_refundable=True,
        allow_budget_overrun=False,
    )


def get_settings() -> SiteSettings:
    """The site's settings, read once per request."""
    if "site_settings" not in g:
        g.site_settings = db.session.get(SiteSettings, 1) or _defaults()
    return g.site_settings


def update_settings(values: dict) -> dict:
    """Store new settings; return ``{field: (old, new)}`` for what changed."""
    settings = db.session.get(SiteSettings, 1)
    if settings is None:
        settings = _defaults()
        db.session.add(settings)
    changes = {}
    for field in SETTING_FIELDS:
        old, new = getattr(settings, field), values[field]
        if old != new:
            changes[field] = (old, new)
            setattr(settings, field, new)
    if changes:
        audit.record("settings.updated", settings, changes=changes)
    db.session.commit()
    g.pop("site_settings", None)
    return changes
