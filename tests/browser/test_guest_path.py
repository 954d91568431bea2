"""A guest's whole path in a real browser: public link, register, coupon, a declined card, a good one.

The session's fee is 49.00 USD; SAVE25 takes 25 % off (36.75), ALLFREE 100 %.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from portal.accounts.models import Role
from portal.coupons.services import CouponInput, create_coupon
from tests.browser.test_live_estimate import watch_csp
from tests.factories import enable_ecommerce, make_training, make_user

DECLINED = "fake-processor-declined-visa-nonce"
GOOD = "fake-valid-visa-nonce"


def paid_session(app) -> str:
    """A 49.00 session and its coupons; returns the public link's path."""
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        create_coupon(CouponInput(kind="percent", percent=Decimal("25"), code="SAVE25", max_uses=5), admin)
        create_coupon(CouponInput(kind="percent", percent=Decimal("100"), code="ALLFREE", max_uses=5), admin)
        training = make_training(
            organizer, title="Negotiation basics", fee_cents=4900, capacity=5, expected_attendees=5
        )
        return f"/s/{training.public_token}"


def register(page: Page, url: str, name: str, email: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Negotiation basics", level=1)).to_be_visible()
    expect(page.locator("#seats-left")).to_have_attribute("data-seats-left", "5")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("heading", name="Payment information", level=1)).to_be_visible()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "pending_payment")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "49.00")


def apply_coupon(page: Page, code: str) -> None:
    page.get_by_label("Coupon code", exact=True).fill(code)
    page.get_by_role("button", name="Apply", exact=True).click()


def pay_with(page: Page, nonce: str) -> None:
    page.get_by_label("Test payment method", exact=True).select_option(nonce)
    page.get_by_role("button", name="Pay", exact=True).click()


def test_guest_registers_applies_a_coupon_live_is_declined_then_pays(app, live_server, page):
    url = live_server + paid_session(app)
    problems: list[str] = []
    watch_csp(page, problems)
    register(page, url, "Gina Guest", "gina@example.com")

    # Applying the coupon swaps the amount in place: the document (and its marker) survives.
    page.evaluate("window.__sameDocument = 'still here'")
    navigations: list[str] = []
    page.on(
        "framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None
    )
    apply_coupon(page, "save25")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    expect(page.locator("#amount-due")).to_have_text("$36.75")
    expect(page.locator("#discount-line")).to_contain_text("SAVE25")
    expect(page.locator("#discount-line")).to_contain_text("−$12.25")
    expect(page.get_by_text("Coupon applied: $12.25 off.")).to_be_visible()
    assert page.evaluate("window.__sameDocument") == "still here"
    assert navigations == []

    # A code that does not exist: the reason, in place, and the total stays.
    apply_coupon(page, "NOSUCHCODE")
    expect(page.get_by_text("This coupon code is not valid.")).to_be_visible()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    assert page.evaluate("window.__sameDocument") == "still here"
    assert navigations == []

    # A declined card: the bank's reason; the seat is still held at the discounted total.
    pay_with(page, DECLINED)
    expect(page.locator("#payment-error")).to_be_visible()
    expect(page.locator("#payment-error")).to_contain_text("Your card was declined by the bank.")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "pending_payment")

    # Then a good one.
    pay_with(page, GOOD)
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#receipt")).to_contain_text("$36.75")
    expect(page.locator("#receipt")).to_contain_text("SAVE25")
    assert problems == []


def test_guest_path_works_without_javascript(app, live_server, nojs_page):
    page = nojs_page
    url = live_server + paid_session(app)
    register(page, url, "Nils NoScript", "nils@example.com")

    # Apply posts the form: a full page comes back with the exact numbers.
    with page.expect_navigation():
        apply_coupon(page, "SAVE25")
    expect(page.get_by_role("heading", name="Payment information", level=1)).to_be_visible()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    expect(page.locator("#amount-due")).to_have_text("$36.75")
    expect(page.locator("#discount-line")).to_contain_text("−$12.25")

    with page.expect_navigation():
        pay_with(page, DECLINED)
    expect(page.locator("#payment-error")).to_contain_text("Your card was declined by the bank.")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")

    with page.expect_navigation():
        pay_with(page, GOOD)
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#receipt")).to_contain_text("$36.75")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_a_full_coupon_confirms_without_payment(app, live_server, new_context, javascript):
    url = live_server + paid_session(app)
    page = new_context(java_script_enabled=javascript).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    register(page, url, "Fran Free", "fran@example.com")
    apply_coupon(page, "ALLFREE")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "0.00")
    expect(page.locator("#discount-line")).to_contain_text("−$49.00")
    # Nothing to pay: no payment method to choose, only a confirmation.
    expect(page.get_by_text("Nothing to pay: your coupon covers the whole fee.")).to_be_visible()
    expect(page.get_by_label("Test payment method")).to_have_count(0)
    expect(page.get_by_role("button", name="Pay", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Confirm registration", exact=True).click()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
    expect(page).to_have_url(re.compile(r"/r/[^/]+$"))
    assert problems == []


def test_too_many_coupon_tries_leave_the_payment_form_in_place(app, live_server, page):
    url = live_server + paid_session(app)
    register(page, url, "Tess Tries", "tess@example.com")
    tries = int(app.config["COUPON_RATE_LIMIT"].split()[0])  # "10 per minute"
    for _ in range(tries):
        apply_coupon(page, "NOSUCHCODE")
        expect(page.get_by_text("This coupon code is not valid.")).to_be_visible()
    apply_coupon(page, "NOSUCHCODE")
    expect(page.locator("#coupon-limit")).to_contain_text("Too many attempts. Wait a minute and try again.")
    # Only the coupon box says so: the amount and the payment form are still there, and paying works.
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "49.00")
    pay_with(page, GOOD)
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
