from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal.billing.pricing import Rates
from portal.database import DecimalText, UTCDateTime, utcnow
from portal.extensions import db


class SiteSettings(db.Model):
    """The site's one row of settings (id 1). Everything e-commerce is off on a new site."""

    __tablename__ = "site_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("length(currency) = 3", name="currency_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    ecommerce_enabled: Mapped[bool] = mapped_column(default=False)
    fee_based_enabled: Mapped[bool] = mapped_column(default=False)
    coupons_enabled: Mapped[bool] = mapped_column(default=False)
    pay_per_use_enabled: Mapped[bool] = mapped_column(default=False)
    credit_cards_enabled: Mapped[bool] = mapped_column(default=False)
    debit_cards_enabled: Mapped[bool] = mapped_column(default=False)
    paypal_enabled: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    person_minute_rate = mapped_column(DecimalText, default=Decimal("0"), nullable=False)
    toll_rate = mapped_column(DecimalText, default=Decimal("0"), nullable=False)
    toll_free_rate = mapped_column(DecimalText, default=Decimal("0"), nullable=False)
    callback_rate = mapped_column(DecimalText, default=Decimal("0"), nullable=False)
    tax_percent = mapped_column(DecimalText, nullable=True)
    # Guests: how long a seat is held while paying, how long a waiting-list offer lasts,
    # and until how many hours before the start a cancelled paid seat is refunded (None: never).
    hold_minutes: Mapped[int] = mapped_column(default=15)
    offer_minutes: Mapped[int] = mapped_column(default=60)
    refund_until_hours: Mapped[int | None] = mapped_column(default=24)
    # Pay-per-use: is a paid session refunded when cancelled before it starts; may a
    # department pay beyond its monthly budget.
    pay_per_use_refundable: Mapped[bool] = mapped_column(default=True)
    allow_budget_overrun: Mapped[bool] = mapped_column(default=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    # A feature is on only while e-commerce as a whole is on.
    @property
    def fee_based(self) -> bool:
        return self.ecommerce_enabled and self.fee_based_enabled

    @property
    def coupons(self) -> bool:
        return self.ecommerce_enabled and self.coupons_enabled

    @property
    def pay_per_use(self) -> bool:
        return self.ecommerce_enabled and self.pay_per_use_enabled

    def rates(self) -> Rates:
        return Rates(
            currency=self.currency,
            person_minute=self.person_minute_rate,
            toll=self.toll_rate,
            toll_free=self.toll_free_rate,
            callback=self.callback_rate,
            tax_percent=self.tax_percent,
        )


class AuditEntry(db.Model):
    """One admin action or money movement: who, when, what, from where. Append-only."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # Kept as written: the entry stays readable if the account changes later.
    actor_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str | None] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))
