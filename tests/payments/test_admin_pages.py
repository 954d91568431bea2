import logging

import pytest

from portal.accounts.models import Role
from portal.extensions import db
from tests.conftest import assert_no_card_data_stored, card_data_in, csrf_from, login
from tests.factories import enable_ecommerce, make_user, set_settings


@pytest.fixture
def admin(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "admin@example.com")
    return client


def start_test_charge(client, amount="49.00"):
    page = client.get("/admin/payments/test")
    response = client.post(
        "/admin/payments/test", data={"amount": amount, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303
    return response.headers["Location"]


def pay(client, pay_url, nonce):
    page = client.get(pay_url)
    return client.post(pay_url, data={"payment_method_nonce": nonce, "csrf_token": csrf_from(page.text)})


def test_payment_component_offers_the_sites_test_methods(app, admin):
    pay_url = start_test_charge(admin)
    page = admin.get(pay_url).text
    assert 'id="amount-due" data-amount="49.00"' in page
    assert '<label for="payment-method-nonce">Test payment method</label>' in page
    for nonce in (
        "fake-valid-visa-nonce",
        "fake-valid-debit-nonce",
        "fake-paypal-one-time-nonce",
        "fake-processor-declined-visa-nonce",
    ):
        assert f'value="{nonce}"' in page
    assert ">Pay</button>" in page
    with app.app_context():
        set_settings(credit_cards_enabled=False, paypal_enabled=False)
    page = admin.get(pay_url).text
    assert 'value="fake-valid-debit-nonce"' in page
    assert 'value="fake-valid-visa-nonce"' not in page and 'value="fake-paypal-one-time-nonce"' not in page


def test_sale_then_void_end_to_end(admin):
    response = pay(admin, start_test_charge(admin), "fake-valid-visa-nonce")
    assert response.status_code == 303
    detail_url = response.headers["Location"]
    detail = admin.get(detail_url).text
    assert 'id="payment-status" data-status="submitted_for_settlement"' in detail
    assert "Visa credit card ···· " in detail
    void = admin.post(detail_url + "/void", data={"csrf_token": csrf_from(detail)})
    assert void.status_code == 303
    assert 'data-status="voided"' in admin.get(detail_url).text


def test_decline_shows_the_reason_and_offers_another_method(admin):
    response = pay(admin, start_test_charge(admin), "fake-processor-declined-visa-nonce")
    detail_url = response.headers["Location"]
    detail = admin.get(detail_url).text
    assert 'data-status="declined"' in detail
    assert "Your card was declined by the bank." in detail
    retry = admin.post(detail_url + "/retry", data={"csrf_token": csrf_from(detail)})
    assert retry.status_code == 303 and retry.headers["Location"].endswith("/pay")
    again = pay(admin, retry.headers["Location"], "fake-paypal-one-time-nonce")
    assert 'data-status="submitted_for_settlement"' in admin.get(again.headers["Location"]).text


def test_a_refused_method_stays_on_the_payment_page_with_a_message(app, admin):
    with app.app_context():
        set_settings(credit_cards_enabled=False, paypal_enabled=False)
    pay_url = start_test_charge(admin)
    response = pay(admin, pay_url, "fake-valid-visa-nonce")
    assert response.status_code == 422
    assert "Credit cards are not accepted here" in response.text


def test_refund_after_settlement_from_the_admin_page(app, admin):
    from portal.payments import services
    from portal.payments.models import Payment

    detail_url = pay(admin, start_test_charge(admin, "30.00"), "fake-valid-visa-nonce").headers["Location"]
    payment_id = int(detail_url.rstrip("/").split("/")[-1])
    with app.app_context():
        services.gateway().settle(db.session.get(Payment, payment_id).gateway_transaction_id)
        services.refresh_payment(payment_id)
    detail = admin.get(detail_url).text
    assert 'data-status="settled"' in detail
    # An empty or zero amount never means "everything".
    for amount in ("", "0"):
        admin.post(
            detail_url + "/refund",
            data={"amount": amount, "scope": "partial", "csrf_token": csrf_from(detail)},
        )
        assert 'data-status="settled"' in admin.get(detail_url).text
    admin.post(
        detail_url + "/refund", data={"amount": "10.00", "scope": "partial", "csrf_token": csrf_from(detail)}
    )
    detail = admin.get(detail_url).text
    assert 'data-status="partially_refunded"' in detail
    assert "$10.00" in detail
    assert "Refund in full ($20.00)" in detail
    admin.post(detail_url + "/refund", data={"scope": "full", "csrf_token": csrf_from(detail)})
    assert 'data-status="refunded"' in admin.get(detail_url).text


def test_payment_pages_are_admin_only_and_follow_the_ecommerce_switch(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("organizer@example.com")
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "organizer@example.com")
    assert client.get("/admin/payments").status_code == 404
    assert client.get("/admin/payments/test").status_code == 404
    admin = app.test_client()
    login(admin, "admin@example.com")
    with app.app_context():
        set_settings(ecommerce_enabled=False)
    assert admin.get("/admin/payments/test").status_code == 404


def test_no_card_number_nonce_or_cvv_is_stored_or_logged(app, admin, caplog):
    """Every payment path here; the suite-wide checks in tests/conftest.py cover every other test too."""
    caplog.set_level(logging.DEBUG, logger="portal")
    for nonce in (
        "fake-valid-visa-nonce",
        "fake-valid-debit-nonce",
        "fake-processor-declined-visa-nonce",
        "fake-paypal-one-time-nonce",
        "fake-luhn-invalid-nonce",
    ):
        pay(admin, start_test_charge(admin), nonce)
    with app.app_context():
        assert_no_card_data_stored()
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("portal") and not record.name.startswith("portal.payments.sandbox")
    )
    assert "sale pay_" in logged  # the decline was logged, with its ids
    assert card_data_in(logged) == []
    assert "cvv" not in logged.lower()


def test_the_card_data_scan_can_see_a_card_number_and_a_nonce():
    assert card_data_in("paid with 4111111111111111 via fake-valid-visa-nonce") == [
        "4111111111111111",
        "fake-valid-visa-nonce",
    ]
    assert card_data_in("order pay_4111111111111111abc at 2026-11-27 12:00:00.123456") == []
