from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portal.accounts.models import Role
from portal.admin.models import SiteSettings
from portal.extensions import db
from tests.conftest import csrf_from, login
from tests.factories import enable_ecommerce, make_user

VALID = {
    "ecommerce_enabled": "y",
    "fee_based_enabled": "y",
    "pay_per_use_enabled": "y",
    "credit_cards_enabled": "y",
    "currency": "eur",
    "person_minute_rate": "0.0125",
    "toll_rate": "0.09",
    "toll_free_rate": "0.12",
    "callback_rate": "0.15",
    "tax_percent": "20",
    "hold_minutes": "15",
    "offer_minutes": "60",
    "refund_until_hours": "24",
    "pay_per_use_refundable": "y",
}


@pytest.fixture
def admin_client(app, client):
    with app.app_context():
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "admin@example.com")
    return client


def post_settings(client, **changes):
    page = client.get("/admin/settings")
    data = {**VALID, **changes, "csrf_token": csrf_from(page.text)}
    return client.post("/admin/settings", data={k: v for k, v in data.items() if v is not None})


def stored(app) -> SiteSettings:
    with app.app_context():
        settings = db.session.get(SiteSettings, 1)
        db.session.expunge(settings)
        return settings


def test_a_new_site_has_every_feature_off_and_usd(app):
    settings = stored(app)
    assert not any(
        getattr(settings, name)
        for name in (
            "ecommerce_enabled",
            "fee_based_enabled",
            "coupons_enabled",
            "pay_per_use_enabled",
            "credit_cards_enabled",
            "debit_cards_enabled",
            "paypal_enabled",
        )
    )
    assert settings.currency == "USD"


def test_settings_page_has_the_stable_labels(admin_client):
    page = admin_client.get("/admin/settings").text
    for label in (
        "Currency",
        "Person-minute rate",
        "Toll call-in rate",
        "Toll-free call-in rate",
        "Call-back rate",
        "Tax rate (%)",
        "Enable e-commerce",
        "Fee-based training",
        "Coupons",
        "Pay-per-use",
        "Credit cards",
        "Debit cards",
        "PayPal",
    ):
        assert f">{label}</label>" in page, label
    assert ">Save</button>" in page


def test_saving_keeps_sub_cent_rates_exactly(app, admin_client):
    response = post_settings(admin_client)
    assert response.status_code == 303
    settings = stored(app)
    assert settings.currency == "EUR"
    assert settings.person_minute_rate == Decimal("0.0125")
    assert str(settings.person_minute_rate) == "0.0125"
    assert settings.tax_percent == Decimal("20")
    assert settings.ecommerce_enabled and settings.fee_based_enabled and settings.pay_per_use_enabled
    assert not settings.coupons_enabled and not settings.paypal_enabled


def test_empty_tax_rate_means_no_tax(app, admin_client):
    assert post_settings(admin_client, tax_percent="").status_code == 303
    assert stored(app).tax_percent is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("person_minute_rate", "-0.01", "Enter zero or a positive amount."),
        ("toll_rate", "abc", "Enter a number, such as 12.50."),
        ("toll_free_rate", "NaN", "Enter a number, such as 12.50."),
        ("callback_rate", "0.12345678", "Use at most 6 decimal places."),
        ("person_minute_rate", "", "This field is required."),
        ("tax_percent", "101", "Enter at most 100."),
        ("currency", "XYZ", "Enter a three-letter ISO 4217 currency code"),
        ("currency", "dollars", "Enter a three-letter ISO 4217 currency code"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message_and_nothing_saved(
    app, admin_client, field, value, message
):
    before = stored(app)
    response = post_settings(admin_client, **{field: value})
    assert response.status_code == 422
    assert message in response.text
    after = stored(app)
    assert (after.currency, after.person_minute_rate, after.ecommerce_enabled) == (
        before.currency,
        before.person_minute_rate,
        before.ecommerce_enabled,
    )
    # The typed values are kept for correction.
    assert 'value="0.09"' in response.text or field == "toll_rate"


def test_organizers_get_404_on_admin_pages(app, client):
    with app.app_context():
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    assert client.get("/admin/settings").status_code == 404
    assert client.post("/admin/settings", data=VALID).status_code in (400, 404)


def test_with_fee_based_training_off_no_fee_box_and_no_fee_can_be_set(app, client):
    with app.app_context():
        enable_ecommerce(fee_based_enabled=False)
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    page = client.get("/sessions/new")
    assert "Session fee" not in page.text
    response = client.post(
        "/sessions/new",
        data={
            "csrf_token": csrf_from(page.text),
            "intent": "schedule",
            "title": "Free one",
            "start": f"{datetime.now(UTC).year + 1}-01-01T10:00",
            "timezone": "UTC",
            "duration_minutes": "60",
            "capacity": "10",
            "expected_attendees": "5",
            "audio": "internet",
            "teleconference_participants": "0",
            "session_fee": "99.00",
        },
    )
    assert response.status_code == 303
    detail = client.get(response.headers["Location"])
    assert "99.00" not in detail.text and "Session fee" not in detail.text
    from portal.trainings.models import TrainingSession

    with app.app_context():
        assert db.session.scalar(db.select(TrainingSession.fee_cents)) == 0


def test_with_ecommerce_off_every_feature_is_off_even_if_its_switch_is_on(app, client):
    with app.app_context():
        enable_ecommerce(ecommerce_enabled=False)
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    page = client.get("/sessions/new").text
    assert "Session fee" not in page
    assert 'id="estimate"' not in page and "hx-post" not in page


def test_with_pay_per_use_off_there_is_no_estimate(app, client):
    with app.app_context():
        enable_ecommerce(pay_per_use_enabled=False)
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    page = client.get("/sessions/new").text
    assert 'id="estimate"' not in page
    assert "Session fee" in page


def test_rates_above_the_maximum_are_refused(admin_client):
    response = post_settings(admin_client, toll_rate="1000.01")
    assert response.status_code == 422
    assert "Enter at most 1000." in response.text


def test_settings_changes_are_audited_with_old_and_new_values(app, admin_client):
    from portal.admin.models import AuditEntry

    post_settings(admin_client)
    with app.app_context():
        query = db.select(AuditEntry).where(AuditEntry.action == "settings.updated")
        (entry,) = db.session.scalars(query).all()
        assert entry.actor_email == "admin@example.com"
        assert entry.ip == "127.0.0.1"
        assert entry.details["changes"]["person_minute_rate"] == ["0", "0.0125"]
        assert entry.details["changes"]["currency"] == ["USD", "EUR"]
