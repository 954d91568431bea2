"""No card data at rest (issue #10, point 4): after a full guest path in the browser, a scan of the
database, the logs and the outbox finds no card number and no CVV.

The browser suite's own tests each use a fresh database that is gone when they end, so this
file drives the whole guest path itself, in Chromium, into one database: every payment method
the sandbox's payment form offers (approved ones and each failing one), a coupon, JavaScript on
and off, a guest cancelling with a refund, and a hostile browser posting a raw card number and a
CVV instead of a nonce. Then it scans what the portal keeps:

- every column of every table (text, JSON, long integers), the outbox rows included;
- every log record of the run at DEBUG (the portal's, the access log, the sandbox's request log,
  the SDK's and urllib3's, werkzeug's), message, extra fields and tracebacks;
- every .eml file the outbox wrote, raw and MIME-decoded.

Not scanned: the sandbox's own store (its SQLite file). It plays the processor, Braintree's side
of the wire, where card data is supposed to be; the portal never reads it.

``test_the_scanner_finds_*`` plant a card number and CVVs where the scan looks, so it can fail.
"""

import base64
import logging
import re
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import Role
from portal.coupons.services import CouponInput, create_coupon
from portal.extensions import db
from portal.jobs import run_round
from portal.mail import services as mail
from portal.mail.models import OutboxMessage
from portal.payments.component import TEST_PAYMENT_METHODS
from portal.payments.models import Payment
from portal.registration.models import Registration
from tests.browser import conftest as browser_fixtures
from tests.factories import enable_ecommerce, make_training, make_user
from tests.security.card_scan import (
    card_numbers_in,
    cvvs_in,
    scan_database,
    scan_email,
    scan_eml_files,
    scan_log_records,
    scan_value,
)

APPROVED = [nonce for method, nonce, _label in TEST_PAYMENT_METHODS if method is not None]
FAILING = [nonce for method, nonce, _label in TEST_PAYMENT_METHODS if method is None]
# Chromium through Playwright, as in tests/browser (the one session-wide browser of tests/conftest.py).
new_context = browser_fixtures.new_context

VISA = "4111 1111 1111 1111"  # the sandbox's test Visa; Luhn-valid


# -- the scanner can fail ------------------------------------------------------------------------------


def test_the_scanner_tells_card_numbers_from_other_numbers():
    for number in [VISA, "4111111111111111", "5555-5555-5555-4444", "378282246310005", "6011111111111117"]:
        assert card_numbers_in(f"paid with {number}.") == [number.replace(" ", "").replace("-", "")]
    not_cards = [
        "4111111111111112",  # Luhn-invalid
        "1764287416123 1764287416123",  # millisecond timestamps (start with 1)
        "fake-valid-visa-nonce tokencc_bc_abc123",  # nonces stand for a card, they are not one
        "pay_6e464745f5be427589a8a66dab2c5a51",  # an order id
        "2026-11-27 23:50:16.123456",  # a timestamp
        "41111111111111114111",  # 20 digits
        "x4111111111111111",  # glued to a word
        "411111111111",  # 12 digits
    ]
    for text in not_cards:
        assert card_numbers_in(text) == [], text
    for text in ['{"cvv": "123"}', "cvv=123", "security_code: 1234", "<cvv>123</cvv>", "CVC2 = 999"]:
        assert cvvs_in(text), text
    for text in ["cvv_required=true", "cvv: not given", "security_code=12345", "cvv=12"]:
        assert cvvs_in(text) == [], text


def test_the_scanner_finds_card_data_planted_in_a_json_column_a_log_line_and_a_mail_file(
    app, caplog, tmp_path
):
    with app.app_context():
        # Flushed, never committed: the suite checks every table after every test.
        db.session.add(
            OutboxMessage(
                kind="planted",
                to_email="x@example.com",
                subject="s",
                body="nothing here",
                attachments=[{"filename": "a.txt", "content_type": "text/plain", "content": f"card {VISA}"}],
                status="pending",
                attempts=0,
            )
        )
        db.session.add(
            OutboxMessage(
                kind="planted",
                to_email="y@example.com",
                subject="s",
                body="nothing here either",
                attachments=[{"card": {"security_code": "737"}}],
                status="pending",
                attempts=0,
            )
        )
        db.session.flush()
        findings = scan_database(db.session, db.metadata)
        db.session.rollback()
        assert any(f.kind == "card number" and f.value == "4111111111111111" for f in findings), findings
        assert any(f.kind == "cvv" and "security_code" in f.value for f in findings), findings
        assert all("outbox_messages.attachments" in f.where for f in findings), findings
        assert scan_database(db.session, db.metadata) == []  # gone with the rollback

    with caplog.at_level(logging.DEBUG):
        # Not a "portal" logger: the suite's own log guard (tests/conftest.py) would rightly fail.
        logging.getLogger("tests.security.planted").info("charging %s", VISA)
        logging.getLogger("tests.security.planted").debug("form", extra={"form": {"cvv": "123"}})
    findings = scan_log_records(caplog.records)
    assert [f.kind for f in findings] == ["card number", "cvv"], findings

    email = EmailMessage()
    email["Subject"] = "receipt"
    email.set_content(f"Card: {VISA}\nCVV: 123\n", cte="base64")  # invisible in the raw file
    (tmp_path / "000001.eml").write_bytes(bytes(email))
    assert base64.b64encode(VISA.encode()).decode()[:8] not in VISA
    found = {(f.kind, f.value) for f in scan_eml_files(tmp_path)}
    assert ("card number", "4111111111111111") in found and ("cvv", "CVV: 123") in found, found
    # The email package's random numbers (Message-ID, MIME boundaries) are not card data.
    noise = (
        b"Message-ID: <176428741612.4242.5492435546721415017@localhost>\n\n"
        b"--===============5492435546721415017==\n"
    )
    assert scan_email(noise, "noise") == []
    assert scan_value("GET /nonces/4111%201111%201111%201111?cvv=123", "url")
    assert scan_value("number=4111+1111+1111+1111", "form")
    assert scan_value({"payment": {"cvc": 4321}}, "json") and not scan_value({"cvc": "n/a"}, "json")


# -- the guest path in a browser ----------------------------------------------------------------------


@pytest.fixture
def shop(app):
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        create_coupon(CouponInput(kind="percent", percent=Decimal("25"), code="SAVE25", max_uses=50), admin)
        training = make_training(
            organizer, title="Card safety", fee_cents=4900, capacity=20, expected_attendees=5
        )
        return f"/s/{training.public_token}"


def register(page: Page, url: str, name: str, email: str) -> None:
    page.goto(url)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.get_by_role("heading", name="Payment information", level=1)).to_be_visible()


def pay_with(page: Page, nonce: str) -> None:
    page.get_by_label("Test payment method", exact=True).select_option(nonce)
    page.get_by_role("button", name="Pay", exact=True).click()


def pay_with_a_raw_card(page: Page, number: str) -> None:
    """A hostile or broken client: a card number where the nonce goes, and CVV and expiry fields."""
    page.evaluate(
        """([number]) => {
            const select = document.querySelector('select[name="payment_method_nonce"]');
            select.add(new Option("raw card", number)); select.value = number;
            const form = document.getElementById("payment-form");
            const extra = [["cvv", "123"], ["card_number", number], ["expiration_date", "12/30"]];
            for (const [name, value] of extra) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value; form.append(input);
            }
        }""",
        [number],
    )
    page.get_by_role("button", name="Pay", exact=True).click()


@pytest.mark.browser
def test_after_the_guest_path_in_a_browser_no_card_data_is_kept(
    app, shop, live_server_url, new_context, caplog
):
    caplog.set_level(logging.DEBUG)
    url = live_server_url + shop
    assert len(APPROVED) >= 6 and len(FAILING) >= 4

    # Every approved method, each by its own guest; the first one also meets every failing method
    # (and a raw card number) first, another uses a coupon, the last one has JavaScript off.
    for index, nonce in enumerate(APPROVED):
        javascript = index != len(APPROVED) - 1
        page = new_context(java_script_enabled=javascript).new_page()
        register(page, url, f"Guest {index}", f"guest{index}@example.com")
        if index == 0:
            for number in (VISA, VISA.replace(" ", ""), VISA.replace(" ", "-")):
                pay_with_a_raw_card(page, number)
                expect(page.locator("#registration-status")).to_have_attribute(
                    "data-status", "pending_payment"
                )
            for failing in FAILING:
                pay_with(page, failing)
                expect(page.locator("#payment-error")).to_be_visible()
        if index == 1:
            page.get_by_label("Coupon code", exact=True).fill("SAVE25")
            page.get_by_role("button", name="Apply", exact=True).click()
            expect(page.locator("#amount-due")).to_have_attribute("data-amount", "36.75")
        pay_with(page, nonce)
        expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")
        if index == 2:  # this guest cancels: the payment is voided, a mail says so
            page.get_by_role("button", name="Cancel my registration").click()
            expect(page.locator("#registration-status")).to_have_attribute(
                "data-status", re.compile("cancelled|refunded")
            )

    assert run_round(app)  # the jobs: reconciler, expiry, outbox
    with app.app_context():
        statuses = sorted(db.session.scalars(select(Registration.status)))
        assert statuses.count("confirmed") == len(APPROVED) - 1, statuses
        paid = db.session.scalars(select(Payment).where(Payment.card_last4.is_not(None))).all()
        assert {p.card_last4 for p in paid} and all(len(p.card_last4) == 4 for p in paid)
        messages = db.session.scalars(select(OutboxMessage)).all()
        assert len(messages) >= len(APPROVED) and {m.status for m in messages} == {"sent"}

        findings = scan_database(db.session, db.metadata)
        # Each message as it would go out over SMTP, attachments (the .ics) included.
        for message in messages:
            findings += scan_email(bytes(mail.build_email(message)), f"outbox message {message.id}")
        db.session.remove()
    outbox = Path(app.instance_path) / "outbox"
    assert len(list(outbox.glob("*.eml"))) == len(messages)
    findings += scan_eml_files(outbox)
    records = list(caplog.records)
    names = {record.name for record in records}
    assert {"portal.access", "portal.payments.sandbox.server"} <= names, names  # the logs were captured
    findings += scan_log_records(records)
    assert not findings, "\n".join(map(str, findings[:20]))
