"""The scheduling page's live estimate in a real browser, with JavaScript on and off.

Demo rates (``enable_ecommerce``): 0.0125 per person-minute, 0.09 per toll minute, no tax.
"""

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.factories import enable_ecommerce, make_user

ORGANIZER = "organizer@example.com"


def setup_site(app):
    with app.app_context():
        enable_ecommerce()
        make_user(ORGANIZER)


def watch_csp(page: Page, violations: list[str]) -> None:
    """Collect every Content Security Policy complaint, and every uncaught script error."""

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: violations.append(f"{page.url}: uncaught {error}"))


def log_in(page: Page, base_url: str, email: str = ORGANIZER) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def open_scheduling_page(page: Page) -> None:
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Schedule a session", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    expect(page.get_by_role("heading", name="Schedule a session", level=1)).to_be_visible()


def test_live_estimate_with_javascript(app, live_server, page, new_context):
    setup_site(app)
    csp_violations: list[str] = []
    watch_csp(page, csp_violations)

    log_in(page, live_server)
    open_scheduling_page(page)
    estimate = page.locator("#estimate")
    panel = page.locator("#estimate-panel")
    # The defaults: 60 min x (10 + 1) computers x 0.0125 = 8.25.
    expect(estimate).to_have_attribute("data-total", "8.25")
    expect(estimate).to_have_attribute("data-person-minutes", "660")
    expect(estimate).to_have_attribute("data-teleconference-minutes", "0")

    # Anything below must happen without a page load: a marker on window survives
    # only as long as the document does, and the main frame must not navigate.
    page.evaluate("window.__sameDocument = 'still here'")
    navigations: list[str] = []
    page.on(
        "framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None
    )

    def assert_no_reload():
        assert page.evaluate("window.__sameDocument") == "still here"
        assert navigations == []

    # Type 120 over 60: 120 min x 11 computers = 1320 person-minutes x 0.0125 = 16.50.
    duration = page.get_by_label("Duration (minutes)", exact=True)
    expect(duration).to_have_value("60")
    duration.click()
    duration.press("Control+a")
    duration.press_sequentially("120")
    expect(estimate).to_have_attribute("data-total", "16.50")
    expect(estimate).to_have_attribute("data-person-minutes", "1320")
    expect(estimate).to_have_attribute("data-teleconference-minutes", "0")
    expect(panel).to_contain_text("$16.50")
    assert_no_reload()

    # Toll call-in for 4 participants: 120 x 4 = 480 min x 0.09 = 43.20; 16.50 + 43.20 = 59.70.
    page.get_by_label("Audio", exact=True).select_option(label="Toll call-in")
    participants = page.get_by_label("Teleconference participants", exact=True)
    participants.fill("4")
    expect(estimate).to_have_attribute("data-teleconference-minutes", "480")
    expect(estimate).to_have_attribute("data-total", "59.70")
    expect(estimate).to_have_attribute("data-person-minutes", "1320")
    expect(panel).to_contain_text("$59.70")
    assert_no_reload()

    # Expected attendees above the capacity: the panel says why, and prices nothing.
    attendees = page.get_by_label("Expected attendees", exact=True)
    attendees.fill("25")
    expect(panel.locator(".errors")).to_contain_text("Expected attendees cannot exceed the capacity.")
    expect(page.locator("#estimate[data-total]")).to_have_count(0)
    expect(panel).to_contain_text("Correct the values above to see the estimate.")
    assert_no_reload()

    # Back to a valid value: the estimate returns, the message goes.
    attendees.fill("10")
    expect(estimate).to_have_attribute("data-total", "59.70")
    expect(panel.locator(".errors")).to_have_count(0)
    assert_no_reload()

    # Schedule it (pay-per-use): the Estimated session cost page shows the same numbers.
    title = "Browser-tested negotiation"
    start = (datetime.now(UTC) + timedelta(days=14)).strftime("%Y-%m-%dT10:00")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Start", exact=True).fill(start)
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/estimate$"))
    expect(page.locator("#estimate")).to_have_attribute("data-total", "59.70")
    # "Change" keeps every value; a new duration gives a new total.
    page.get_by_role("link", name="Change").click()
    expect(page.get_by_label("Title", exact=True)).to_have_value(title)
    expect(page.get_by_label("Expected attendees", exact=True)).to_have_value("10")
    page.get_by_label("Duration (minutes)", exact=True).fill("60")
    page.get_by_role("button", name="Schedule", exact=True).click()
    # 60 x 11 x 0.0125 = 8.25 and 60 x 4 x 0.09 = 21.60
    expect(page.locator("#estimate")).to_have_attribute("data-total", "29.85")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "29.85")
    # A decline first: the reason, and a payment form again to try another card.
    page.get_by_label("Test payment method").select_option("fake-processor-declined-visa-nonce")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text("Your card was declined by the bank.")).to_be_visible()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "29.85")
    page.get_by_label("Test payment method").select_option("fake-valid-visa-nonce")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(page.locator("#session-status")).to_have_attribute("data-status", "scheduled")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    public_link = page.locator("#public-link")
    expect(public_link).to_have_attribute("href", re.compile(r"^http://127\.0\.0\.1:\d+/s/\S+$"))
    public_url = public_link.get_attribute("href")

    # A guest (no cookies of the organizer's) opens the public link.
    guest = new_context().new_page()
    watch_csp(guest, csp_violations)
    guest.goto(public_url)
    expect(guest.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(guest.locator("#seats-left")).to_have_attribute("data-seats-left", "20")

    assert csp_violations == []


def test_estimate_updates_without_javascript(app, live_server, nojs_page):
    setup_site(app)
    page = nojs_page
    log_in(page, live_server)
    open_scheduling_page(page)
    estimate = page.locator("#estimate")
    expect(estimate).to_have_attribute("data-total", "8.25")

    page.get_by_label("Duration (minutes)", exact=True).fill("90")
    # The <noscript> button exists only because scripts are off.
    with page.expect_navigation():
        page.get_by_role("button", name="Update estimate", exact=True).click()

    # 90 min x 11 computers = 990 person-minutes x 0.0125 = 12.375 -> half-up 12.38.
    expect(estimate).to_have_attribute("data-total", "12.38")
    expect(estimate).to_have_attribute("data-person-minutes", "990")
    expect(estimate).to_have_attribute("data-teleconference-minutes", "0")
    expect(page.get_by_label("Duration (minutes)", exact=True)).to_have_value("90")
    expect(page.get_by_label("Capacity", exact=True)).to_have_value("20")
    expect(page.get_by_label("Expected attendees", exact=True)).to_have_value("10")
