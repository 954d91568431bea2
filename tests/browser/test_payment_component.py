"""Paying on the payment component in a real browser, against the offline sandbox."""

import re

from playwright.sync_api import expect

from portal.accounts.models import Role
from tests.browser.test_live_estimate import log_in, watch_csp
from tests.factories import enable_ecommerce, make_user

ADMIN = "admin@example.com"


def start_test_charge(page, base_url, amount):
    page.goto(base_url + "/admin/payments/test")
    page.get_by_label("Amount").fill(amount)
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", amount)


def test_sale_decline_and_void_on_the_payment_component(app, live_server, page):
    with app.app_context():
        enable_ecommerce()
        make_user(ADMIN, role=Role.ADMIN, department=None)
    problems: list[str] = []
    watch_csp(page, problems)
    log_in(page, live_server, ADMIN)

    # A decline: a plain reason and a way to try another method.
    start_test_charge(page, live_server, "25.00")
    page.get_by_label("Test payment method").select_option("fake-processor-declined-visa-nonce")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "declined")
    expect(page.get_by_text("Your card was declined by the bank.")).to_be_visible()
    page.get_by_role("button", name="Try another payment method").click()

    # The retry succeeds with PayPal, on a new attempt.
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "25.00")
    page.get_by_label("Test payment method").select_option("fake-paypal-one-time-nonce")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "submitted_for_settlement")
    expect(page.get_by_text(re.compile(r"PayPal \(.+@.+\)"))).to_be_visible()

    # Void it before settlement.
    page.get_by_role("button", name="Void").click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "voided")
    assert problems == []


def test_payment_component_works_without_javascript(app, live_server, new_context):
    with app.app_context():
        enable_ecommerce()
        make_user(ADMIN, role=Role.ADMIN, department=None)
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, live_server, ADMIN)
    start_test_charge(page, live_server, "12.34")
    page.get_by_label("Test payment method").select_option("fake-valid-debit-nonce")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "submitted_for_settlement")
    expect(page.locator("#payment-amount")).to_have_attribute("data-amount", "12.34")
    expect(page.get_by_text(re.compile(r"debit card ···· \d{4}"))).to_be_visible()


def test_refund_in_part_then_in_full_in_the_browser(app, live_server, page):
    from portal.extensions import db
    from portal.payments import services
    from portal.payments.models import Payment

    with app.app_context():
        enable_ecommerce()
        make_user(ADMIN, role=Role.ADMIN, department=None)
    log_in(page, live_server, ADMIN)
    start_test_charge(page, live_server, "30.00")
    page.get_by_label("Test payment method").select_option("fake-valid-mastercard-nonce")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "submitted_for_settlement")
    payment_id = int(page.url.rstrip("/").split("/")[-1])
    with app.app_context():  # the bank settles the sale overnight
        services.gateway().settle(db.session.get(Payment, payment_id).gateway_transaction_id)
        services.refresh_payment(payment_id)
    page.reload()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "settled")
    page.get_by_label("Amount to refund").fill("12.50")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "partially_refunded")
    page.get_by_role("button", name=re.compile(r"Refund in full \(\$17\.50\)")).click()
    expect(page.locator("#payment-status")).to_have_attribute("data-status", "refunded")
