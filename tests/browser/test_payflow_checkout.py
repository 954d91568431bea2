"""A guest paying through PayPal Payflow Pro's hosted checkout page (the offline Payflow sandbox's
imitation of it), in Chromium: a coupon, a declined card, Cancel, then a good card; JavaScript on
and off. The card is chosen on the gateway's page; nothing about it is typed on ours.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from portal.coupons.services import CouponInput, create_coupon
from portal.extensions import db
from portal.payments.models import Payment
from tests.browser.a11y import assert_accessible
from tests.browser.test_live_estimate import watch_csp
from tests.factories import enable_ecommerce, make_training, make_user


@pytest.fixture
def app(payflow_app):
    return payflow_app


def paid_session(app) -> str:
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        create_coupon(CouponInput(kind="percent", percent=Decimal("25"), code="SAVE25", max_uses=5), admin)
        training = make_training(organizer, fee_cents=4900, capacity=5, expected_attendees=5)
        return f"/s/{training.public_token}"


def register(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_label("Name", exact=True).fill("Paula Payflow")
    page.get_by_label("Email", exact=True).fill("paula@example.com")
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("heading", name="Payment information", level=1)).to_be_visible()
    expect(page.locator("#hosted-checkout-hint")).to_be_visible()
    expect(page.get_by_label("Test payment method")).to_have_count(0)  # that is Braintree's component


def pay_on_the_hosted_page(page: Page, sandbox_url: str, card: str, amount: str) -> None:
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(sandbox_url + "/checkout?*")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Pay {amount} USD")
    page.get_by_label("Test card", exact=True).select_option(card)
    page.get_by_role("button", name="Pay", exact=True).click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_a_guest_pays_on_payflows_hosted_page(app, live_server, payflow_sandbox, new_context, javascript):
    page = new_context(java_script_enabled=javascript).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    register(page, live_server + paid_session(app))
    page.get_by_label("Coupon code", exact=True).fill("save25")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")

    # A declined card: back on the Payment information page with the reason, the seat still held.
    pay_on_the_hosted_page(page, payflow_sandbox.url, "declined", "36.75")
    if not javascript:  # with JavaScript the result page sends the payer back by itself
        expect(page.get_by_role("heading", level=1)).to_have_text("Payment declined: Declined")
        page.get_by_role("button", name="Return to the merchant").click()
    expect(page.get_by_role("heading", name="Payment information", level=1)).to_be_visible()
    expect(page.locator("#payment-error")).to_have_text(
        "Your card was declined by the bank. Try another card or payment method."
    )
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")

    if javascript:
        assert_accessible(page, "Payment information, Payflow")

    # Cancel on the gateway's page: nothing changes, and the same page can be taken up again.
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(payflow_sandbox.url + "/checkout?*")
    if javascript:
        assert_accessible(page, "the Payflow sandbox's hosted checkout page")
    first_page = page.url
    page.get_by_role("button", name="Cancel and return to the merchant").click()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "pending_payment")
    if javascript:
        assert_accessible(page, "registration with an open Payflow checkout")
    page.get_by_role("button", name="Continue to the payment page").click()
    page.wait_for_url(payflow_sandbox.url + "/checkout?*")
    assert page.url == first_page

    page.get_by_label("Test card", exact=True).select_option("mastercard")
    page.get_by_role("button", name="Pay", exact=True).click()
    if not javascript:
        page.get_by_role("button", name="Return to the merchant").click()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#receipt")).to_contain_text("$36.75")
    assert problems == [], problems
    with app.app_context():
        paid = db.session.scalars(db.select(Payment).where(Payment.status == "submitted_for_settlement"))
        paid = paid.one()
        assert (paid.gateway, paid.amount_cents, paid.card_brand, paid.card_last4) == (
            "payflow",
            3675,
            "MasterCard",
            "4444",
        )
        sales = [t for t in payflow_sandbox.transactions() if t["custref"] == paid.order_id]
        assert [(t["trxtype"], t["amount"], t["result"]) for t in sales] == [("S", "36.75", 0)]
