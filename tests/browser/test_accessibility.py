"""Accessibility in a real browser, in English and in French (issue #9, point 4).

- axe-core (WCAG 2.0/2.1 A and AA) finds no serious or critical violation on any main page,
  in the states that matter (a coupon applied and refused, a live estimate, a form's errors);
- the live estimate and the coupon result sit in polite live regions that survive htmx swaps;
- a guest registers, applies a coupon and pays, and an organizer logs in and schedules a
  session, with the keyboard alone (``page.keyboard``: no click, no fill).

French pages are asked for with the language cookie that ``?lang=fr`` sets, so every URL
stays plain; each check first makes sure the page really is in the expected language.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import url_for
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.billing import services as billing
from portal.billing.pricing import AudioType
from portal.coupons.services import CouponInput, create_coupon
from portal.extensions import db
from portal.i18n import LANG_COOKIE
from portal.mail.models import OutboxMessage
from portal.registration.links import manage_token
from portal.trainings.services import SessionDetails, save_draft
from tests.browser.a11y import describe, serious_violations
from tests.browser.test_live_estimate import watch_csp
from tests.conftest import PASSWORD
from tests.factories import enable_ecommerce, make_training, make_user
from tests.reports.history import guest_pays

ADMIN = "admin@example.com"
ORGANIZER = "organizer@example.com"
GOOD = "fake-valid-visa-nonce"
LANGUAGES = ["en", "fr"]
LOCALES = {"en": "en-US", "fr": "fr-FR"}
APP_CSS = Path(__file__).resolve().parents[2] / "portal" / "static" / "css" / "app.css"


def build_site(app) -> dict:
    """Every kind of page has something to show: a paid session with a paying guest, coupons,
    an unpaid pay-per-use draft with its checkout open."""
    with app.app_context():
        settings = enable_ecommerce()
        admin = make_user(ADMIN, role=Role.ADMIN, department=None)
        organizer = make_user(ORGANIZER)
        coupon = create_coupon(
            CouponInput(kind="percent", percent=Decimal("25"), code="SAVE25", max_uses=50), admin
        )
        training = make_training(
            organizer, title="Negotiation basics", fee_cents=4900, capacity=5, expected_attendees=5
        )
        paid = guest_pays(training, "paula@example.com", coupon="SAVE25")
        draft = save_draft(
            organizer,
            SessionDetails(
                title="Budget planning",
                description="",
                start_at=datetime.now(UTC).replace(microsecond=0) + timedelta(days=9),
                timezone="UTC",
                duration_minutes=60,
                capacity=20,
                expected_attendees=10,
                audio=AudioType.INTERNET,
                teleconference_participants=0,
                fee_cents=0,
            ),
            settings,
            "schedule",
        )
        checkout = billing.checkout(draft)
        mail_id = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
        with app.test_request_context():
            return {
                "public": url_for("registration.public_session", token=training.public_token),
                "confirmation": url_for("registration.manage", token=manage_token(paid.id)),
                "session": url_for("trainings.detail", session_id=training.id),
                "registrants": url_for("registrants.list_registrants", session_id=training.id),
                "estimate": url_for("billing.estimate_page", session_id=draft.id),
                "billing_pay": url_for("billing.pay", session_id=draft.id, payment_id=checkout.id),
                "payment": url_for("payments.detail", payment_id=paid.payment.id),
                "coupon": url_for("coupons.detail", coupon_id=coupon.id),
                "mail": url_for("admin.outbox_message", message_id=mail_id),
                "coupon_edit": url_for("coupons.edit", coupon_id=coupon.id),
                "user_edit": url_for("users_admin.edit", user_id=organizer.id),
                "cancel_preview": url_for("registrants.cancel_preview", session_id=training.id),
            }


def language_context(new_context, base_url: str, language: str, **options) -> BrowserContext:
    context = new_context(locale=LOCALES[language], **options)
    context.add_cookies([{"name": LANG_COOKIE, "value": language, "url": base_url}])
    return context


class Audit:
    """Runs axe on each page visited and keeps every serious or critical violation for one report."""

    def __init__(self, page: Page, language: str):
        self.page = page
        self.language = language
        self.reports: list[str] = []
        self.checked: list[str] = []

    def check(self, what: str) -> None:
        expect(self.page.locator("html")).to_have_attribute("lang", self.language)
        violations = serious_violations(self.page)
        self.checked.append(what)
        if violations:
            self.reports.append(f"--- {what} ({self.page.url})\n{describe(violations)}")

    def visit(self, base_url: str, path: str, what: str) -> None:
        response = self.page.goto(base_url + path)
        assert response is not None and response.status == 200, f"{what}: {path} answered {response}"
        self.check(what)

    def assert_clean(self) -> None:
        assert not self.reports, (
            f"serious/critical accessibility violations ({self.language}):\n" + "\n".join(self.reports)
        )


def log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("form.logout")).to_be_visible()


# --- axe on every main page ---------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_guest_pages_have_no_serious_violations(app, live_server, new_context, language):
    urls = build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    audit = Audit(page, language)

    audit.visit(live_server, urls["public"], "public session page")
    # Registration with a mistake: the form's errors.
    page.locator("input[name=email]").fill("not an email")
    page.locator("section.register button[type=submit]").click()
    expect(page.locator("#email-error")).to_be_visible()
    audit.check("registration form with errors")
    page.locator("input[name=name]").fill("Gina Guest")
    page.locator("input[name=email]").fill("gina@example.com")
    page.locator("section.register button[type=submit]").click()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "pending_payment")
    loaded(page)
    audit.check("Payment information (registration result)")

    coupon = page.locator("#checkout input[name=code]")
    coupon.fill("NOSUCHCODE")
    coupon.press("Enter")
    expect(page.locator("#code-error")).to_be_visible()
    settled(page)
    audit.check("Payment information, coupon refused")
    coupon = page.locator("#checkout input[name=code]")
    coupon.fill("save25")
    coupon.press("Enter")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    settled(page)
    assert_same_document(page)
    audit.check("Payment information, coupon applied")

    page.locator("#payment-method-nonce").select_option(GOOD)
    page.locator("#payment-form button.pay").click()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
    audit.check("confirmation page")
    audit.visit(live_server, urls["confirmation"], "confirmation page (another guest)")

    assert problems == []
    audit.assert_clean()


@pytest.mark.parametrize("language", LANGUAGES)
def test_organizer_pages_have_no_serious_violations(app, live_server, new_context, language):
    urls = build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    audit = Audit(page, language)

    audit.visit(live_server, "/login", "login page")
    page.locator("input[name=email]").fill(ORGANIZER)
    page.locator("input[name=password]").fill("wrong password")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main [role=alert]")).to_be_visible()
    audit.check("login page with an error")
    log_in(page, live_server, ORGANIZER)
    audit.check("organizer home")

    audit.visit(live_server, "/sessions/", "sessions list")
    audit.visit(live_server, urls["session"], "organizer's session page")
    audit.visit(live_server, urls["registrants"], "registrants")
    audit.visit(live_server, urls["cancel_preview"], "cancel a session (preview)")
    audit.visit(live_server, "/sessions/new", "scheduling page")
    expect(page.locator("#estimate")).to_have_attribute("data-total", "8.25")
    loaded(page)
    # The live estimate after an edit, then with the panel's error message.
    page.locator("input[name=duration_minutes]").fill("120")
    expect(page.locator("#estimate")).to_have_attribute("data-total", "16.50")
    audit.check("scheduling page, live estimate updated")
    page.locator("input[name=expected_attendees]").fill("25")
    expect(page.locator("#estimate-panel .errors")).to_be_visible()
    audit.check("scheduling page, live estimate with an error")
    page.locator("#session-form button[value=schedule]").click()
    expect(page.locator("#session-form .error").first).to_be_visible()
    audit.check("scheduling page, submitted with errors")

    audit.visit(live_server, urls["estimate"], "Estimated session cost page")
    audit.visit(live_server, urls["billing_pay"], "pay-per-use payment page")
    audit.visit(live_server, "/my/spend", "my spend")

    assert problems == []
    audit.assert_clean()


ADMIN_PAGES = [
    ("/admin/", "administration home"),
    ("/admin/settings", "settings"),
    ("/coupons/", "coupons list"),
    ("/coupons/new", "new coupon"),
    ("/coupons/generate", "generate coupons"),
    ("/coupons/report", "coupon redemptions"),
    ("/coupons/import", "import coupons"),
    ("/coupons/send", "send coupons"),
    ("/coupons/prepaid", "prepaid coupons"),
    ("/admin/users", "users"),
    ("/admin/users/invite", "invite a user"),
    ("/admin/departments", "departments"),
    ("/admin/payments", "payments ledger"),
    ("/admin/audit", "audit log"),
    ("/admin/reports/", "reports"),
    ("/admin/reports/sessions", "revenue per session"),
    ("/admin/reports/organizers", "organizers report"),
    ("/admin/reports/pay-per-use", "pay-per-use report"),
    ("/admin/budgets", "budgets"),
    ("/admin/outbox", "outbox"),
    ("/admin/gateway", "payment gateway"),
    ("/admin/payments/test", "test charge"),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_admin_pages_have_no_serious_violations(app, live_server, new_context, language):
    urls = build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    audit = Audit(page, language)
    log_in(page, live_server, ADMIN)
    for path, what in ADMIN_PAGES:
        audit.visit(live_server, path, what)
    for key, what in [
        ("payment", "payment detail"),
        ("coupon", "coupon detail"),
        ("coupon_edit", "edit a coupon"),
        ("user_edit", "edit a user"),
    ]:
        audit.visit(live_server, urls[key], what)
    audit.visit(live_server, "/sessions/", "all sessions")
    audit.visit(live_server, urls["mail"], "an outbox message")
    assert page.goto(live_server + "/sessions/999999").status == 404
    audit.check("error page (not found)")
    assert problems == []
    audit.assert_clean()


# --- htmx timing and live regions ---------------------------------------------------------


def loaded(page: Page) -> None:
    """Wait until the page's deferred scripts (htmx) have run: a key pressed sooner would post
    the form the plain way, a full page load instead of the swap under test."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__sameDocument = true; }")


def settled(page: Page) -> None:
    """Wait for htmx to finish a swap: it enhances the new content only when it settles (about
    20 ms later), so a key pressed at once would post a new form the plain way."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("() => window.__sameDocument === true"), "a full page load, not an htmx swap"


def mark(page: Page, selector: str) -> None:
    """Tag the element itself: the tag survives only as long as the element stays in the DOM."""
    page.locator(selector).evaluate("(el) => { el.dataset.a11yMarker = 'same element'; }")


def assert_polite_live_region(page: Page, selector: str) -> None:
    region = page.locator(selector)
    expect(region).to_have_attribute("aria-live", "polite")
    expect(region).to_have_attribute("data-a11y-marker", "same element")
    expect(region).to_be_visible()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_live_estimate_is_announced(app, live_server, new_context, language):
    build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    log_in(page, live_server, ORGANIZER)
    page.goto(live_server + "/sessions/new")
    panel = "#estimate-panel"
    expect(page.locator("#estimate")).to_have_attribute("data-total", "8.25")
    loaded(page)
    mark(page, panel)
    assert_polite_live_region(page, panel)
    before = page.locator(panel).inner_text()

    # 60 min x (20 + 1) computers x 0.0125 = 15.75: the announced total follows.
    page.locator("input[name=expected_attendees]").fill("20")
    expect(page.locator("#estimate")).to_have_attribute("data-total", "15.75")
    assert_polite_live_region(page, panel)  # the same element: htmx swapped its content only
    expect(page.locator(panel)).to_contain_text(re.compile(r"15[.,]75"))
    assert page.locator(panel).inner_text() != before

    # A value the estimate cannot price: the reason is announced from the same region.
    page.locator("input[name=expected_attendees]").fill("25")
    expect(page.locator(f"{panel} .errors")).to_be_visible()
    assert_polite_live_region(page, panel)
    assert_same_document(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_coupon_result_is_announced(app, live_server, new_context, language):
    urls = build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    page.goto(live_server + urls["public"])
    page.locator("input[name=name]").fill("Gina Guest")
    page.locator("input[name=email]").fill("gina@example.com")
    page.locator("section.register button[type=submit]").click()
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "49.00")
    loaded(page)
    region = "#checkout"
    mark(page, region)
    assert_polite_live_region(page, region)
    before = page.locator(region).inner_text()

    page.locator("input[name=code]").fill("save25")
    page.locator("input[name=code]").press("Enter")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    settled(page)
    assert_polite_live_region(page, region)
    result = page.locator(f"{region} [role=status]")
    expect(result).to_contain_text(re.compile(r"12[.,]25"))
    after = page.locator(region).inner_text()
    assert after != before

    page.locator("input[name=code]").fill("NOSUCHCODE")
    page.locator("input[name=code]").press("Enter")
    expect(page.locator(f"{region} #code-error")).to_be_visible()
    assert_polite_live_region(page, region)
    assert page.locator(region).inner_text() != after
    assert_same_document(page)


# --- the keyboard alone -------------------------------------------------------------------


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = el ? getComputedStyle(el) : null;
            return {
                tag: el ? el.tagName.toLowerCase() : null,
                html: el ? el.outerHTML.slice(0, 120) : "",
                outline: style ? style.outlineStyle : "none",
                outlineWidth: style ? parseFloat(style.outlineWidth) : 0,
            };
        }"""
    )


def assert_focus_visible(page: Page) -> None:
    state = focused(page)
    assert state["tag"] not in (None, "body"), "focus was lost to the page's body"
    # (A datetime-local's own parts hold focus inside it, so :focus-visible itself is not asked for.)
    assert state["outline"] != "none" and state["outlineWidth"] >= 2, f"no visible focus on {state['html']}"


def is_focused(page: Page, selector: str) -> bool:
    return page.evaluate(
        "(s) => document.activeElement !== null && document.activeElement.matches(s)", selector
    )


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until ``selector`` has focus; every stop on the way shows where focus is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert_focus_visible(page)
        if is_focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def tab_next(page: Page, selector: str) -> None:
    """The very next Tab stop is ``selector`` (a logical order inside a form)."""
    page.keyboard.press("Tab")
    assert_focus_visible(page)
    assert is_focused(page, selector), f"after Tab, focus is on {focused(page)['html']}, not {selector}"


def choose_by_keyboard(page: Page, value: str) -> None:
    """Move a focused <select> to ``value`` with the arrow keys (a closed select changes in place)."""
    select = page.locator("#payment-method-nonce")
    values = select.evaluate("(el) => [...el.options].map((o) => o.value)")
    steps = values.index(value) - values.index(select.input_value())
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    expect(select).to_have_value(value)


def test_app_css_shows_keyboard_focus():
    css = APP_CSS.read_text(encoding="utf-8")
    rule = re.search(r":focus-visible[^{]*\{([^}]*)\}", css)
    assert rule, "app.css has no :focus-visible rule"
    assert re.search(r"outline:\s*\d+px solid", rule.group(1)), rule.group(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_guest_registers_and_pays_with_the_keyboard_alone(app, live_server, new_context, language):
    urls = build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    page.goto(live_server + urls["public"])
    keys = page.keyboard

    # The skip link comes first and leads to the content.
    keys.press("Tab")
    assert_focus_visible(page)
    assert is_focused(page, "a.skip-link")

    tab_to(page, "input[name=name]")
    keys.type("Kim Keys")
    tab_next(page, "input[name=email]")
    keys.type("kim@example.com")
    keys.press("Enter")
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "pending_payment")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "49.00")
    loaded(page)

    # A coupon typed and applied with Enter on "Apply": focus stays on "Apply", not on <body>.
    tab_to(page, "input[name=code]")
    keys.type("save25")
    tab_next(page, "#checkout form.coupon-form button[type=submit]")
    keys.press("Enter")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    expect(page.locator("#discount-line")).to_be_visible()
    settled(page)
    assert_focus_visible(page)
    assert is_focused(page, "#checkout form.coupon-form button[type=submit]"), focused(page)["html"]
    assert_same_document(page)

    # "Remove the coupon" disappears with the coupon: focus goes to the coupon box, which
    # keeps it when the code is typed again and applied with Enter there.
    tab_next(page, "#checkout form[action$='/coupon/remove'] button[type=submit]")
    keys.press("Enter")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "49.00")
    settled(page)
    assert_focus_visible(page)
    assert is_focused(page, "input[name=code]"), focused(page)["html"]
    assert_same_document(page)
    keys.type("save25")
    keys.press("Enter")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
    settled(page)
    assert_focus_visible(page)
    assert is_focused(page, "input[name=code]"), focused(page)["html"]
    assert_same_document(page)

    # The sandbox's test payment method is an ordinary <select>: arrows, then Tab to "Pay", Enter.
    tab_to(page, "#payment-method-nonce")
    choose_by_keyboard(page, "fake-valid-mastercard-nonce")
    tab_next(page, "#payment-form button.pay")
    keys.press("Enter")
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#receipt")).to_contain_text(re.compile(r"36[.,]75"))
    assert problems == []


def datetime_input_order(page: Page) -> tuple[bool, bool]:
    """(month first, 12-hour clock): how this Chromium lays out a datetime-local's parts.

    That follows the browser's own locale, not the page's language nor Playwright's ``locale``,
    so it is probed with the keyboard on a scratch page in the same browser.
    """
    scratch = page.context.new_page()
    try:
        scratch.set_content('<input id="probe" type="datetime-local">')
        scratch.focus("#probe")
        scratch.keyboard.type("01022000")
        scratch.keyboard.press("Tab")
        scratch.keyboard.type("1000")
        twelve_hour = scratch.input_value("#probe") == ""
        if twelve_hour:
            scratch.keyboard.type("A")
        value = scratch.input_value("#probe")
    finally:
        scratch.close()
    assert value in ("2000-01-02T10:00", "2000-02-01T10:00"), f"unexpected datetime-local layout: {value!r}"
    return value == "2000-01-02T10:00", twelve_hour


def type_start(page: Page, start: datetime) -> None:
    """Type 10:00 on ``start``'s day into the focused datetime-local, part by part (Tab moves
    between its parts in Chromium: month, day and hour parts advance by themselves, the year not)."""
    month_first, twelve_hour = datetime_input_order(page)
    page.keyboard.type(start.strftime("%m%d%Y" if month_first else "%d%m%Y"))
    page.keyboard.press("Tab")
    page.keyboard.type("1000" + ("A" if twelve_hour else ""))


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_organizer_schedules_and_pays_with_the_keyboard_alone(app, live_server, new_context, language):
    build_site(app)
    page = language_context(new_context, live_server, language).new_page()
    problems: list[str] = []
    watch_csp(page, problems)
    keys = page.keyboard
    page.goto(live_server + "/login")

    tab_to(page, "input[name=email]")
    keys.type(ORGANIZER)
    tab_next(page, "input[name=password]")
    keys.type(PASSWORD)
    keys.press("Enter")
    expect(page.locator("form.logout")).to_be_visible()
    loaded(page)

    tab_to(page, "nav a[href$='/sessions/new']")
    keys.press("Enter")
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    expect(page.locator("#estimate")).to_have_attribute("data-total", "8.25")
    loaded(page)

    tab_to(page, "input[name=title]")
    keys.type("Keyboard-only planning")
    tab_next(page, "textarea[name=description]")
    keys.type("Scheduled without a mouse.")
    tab_next(page, "input[name=start]")
    start = datetime.now(UTC) + timedelta(days=14)
    type_start(page, start)
    expect(page.locator("input[name=start]")).to_have_value(start.strftime("%Y-%m-%dT10:00"))
    tab_to(page, "select[name=timezone]", limit=4)  # past the start's remaining parts
    tab_next(page, "input[name=duration_minutes]")
    keys.press("ControlOrMeta+a")
    keys.type("90")
    # 90 min x 11 computers = 990 person-minutes x 0.0125 = 12.375 -> 12.38, swapped in live;
    # the swap must not take focus away from the field being typed in.
    expect(page.locator("#estimate")).to_have_attribute("data-total", "12.38")
    settled(page)
    assert_focus_visible(page)
    assert is_focused(page, "input[name=duration_minutes]"), focused(page)["html"]
    assert_same_document(page)

    keys.press("Enter")  # implicit submission: the form's first button, "Schedule"
    expect(page).to_have_url(re.compile(r"/sessions/\d+/estimate$"))
    expect(page.locator("#estimate")).to_have_attribute("data-total", "12.38")
    loaded(page)

    tab_to(page, "form[action$='/checkout'] button[type=submit]")
    keys.press("Enter")
    expect(page.locator("#amount-due")).to_have_attribute("data-amount", "12.38")
    loaded(page)
    tab_to(page, "#payment-method-nonce")
    choose_by_keyboard(page, "fake-valid-visa-nonce")
    tab_next(page, "#payment-form button.pay, button.pay")
    keys.press("Enter")
    expect(page.locator("#session-status")).to_have_attribute("data-status", "scheduled")
    assert problems == []
