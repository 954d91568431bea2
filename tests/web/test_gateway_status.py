"""The payment gateway's status page and its "Test connection" button, against the offline sandbox.

No mock: the button asks the real braintree SDK for a client token from the sandbox over HTTP,
from an unreachable address, with refused keys, or while the sandbox is too slow to answer.
"""

import re
import socket

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts.models import Role
from portal.admin.models import AuditEntry
from portal.extensions import db
from portal.payments.gateway import Mode, PaymentGateway
from portal.payments.sandbox import sandbox_gateway
from tests.conftest import SANDBOX_KEYS, csrf_from, login, make_config, reset_database
from tests.factories import enable_ecommerce, make_user, set_settings

PAGE = "/admin/gateway"
TEST = "/admin/gateway/test"
# A client token is base64 of a JSON object that starts with {"version": ...
TOKEN = re.compile(r"eyJ[A-Za-z0-9+/=]{16,}")
SECRETS = (SANDBOX_KEYS["public_key"], SANDBOX_KEYS["private_key"], "authorizationFingerprint")


def sign_in_admin(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "admin@example.com")
    return client


@pytest.fixture
def admin(app, client):
    return sign_in_admin(app, client)


@pytest.fixture
def other_app(migrated_url):
    """An app with its own configuration, on the test database (reset first, disposed after)."""
    made = []

    def build(sandbox=None, **extra):
        app = create_app(make_config(migrated_url, sandbox, **extra))
        with app.app_context():
            reset_database()
        made.append(app)
        return app

    yield build
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def press_test_connection(client):
    page = client.get(PAGE)
    response = client.post(TEST, data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    return client.get(PAGE)


def result_of(html: str) -> dict:
    match = re.search(r'id="gateway-test-result"[^>]*data-ok="(\w+)" data-reason="(\w*)"', html)
    assert match, "no test result on the page"
    return {"ok": match.group(1) == "true", "reason": match.group(2)}


def gateway_checks(app, action="gateway.tested") -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    assert not TOKEN.search(text), TOKEN.search(text).group(0)


# -- the page --------------------------------------------------------------------------------------


def test_the_page_shows_the_offline_sandbox_its_merchant_and_what_is_switched_on(
    app, admin, payments_sandbox
):
    page = admin.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert 'id="gateway-mode" data-mode="offline">Offline sandbox<' in html
    assert 'id="gateway-merchant-id">test_merchant<' in html
    assert payments_sandbox.url in html  # the sandbox's address (no secret in it)
    assert "None: every sale uses the default merchant account." in html
    for switch in ("ecommerce", "credit_cards", "debit_cards", "paypal"):
        assert f'data-switch="{switch}" data-on="true"' in html
    assert "Read from the environment only, and never shown." in html
    assert 'id="gateway-test-result"' not in html  # never tested yet
    assert_no_secret(html)
    with app.app_context():
        set_settings(paypal_enabled=False, debit_cards_enabled=False)
    html = admin.get(PAGE).text
    assert 'data-switch="paypal" data-on="false"' in html
    assert 'data-switch="debit_cards" data-on="false"' in html
    assert 'data-switch="credit_cards" data-on="true"' in html
    with app.app_context():
        set_settings(ecommerce_enabled=False)
    html = admin.get(PAGE).text
    assert 'data-switch="ecommerce" data-on="false"' in html
    assert "While e-commerce is off, no payment method is offered." in html


def test_the_settings_page_links_to_the_gateway_page(admin):
    assert f'href="{PAGE}"' in admin.get("/admin/settings").text


def test_test_connection_succeeds_against_the_sandbox_and_is_audited(app, admin):
    page = press_test_connection(admin)
    assert page.status_code == 200
    assert result_of(page.text) == {"ok": True, "reason": "ok"}
    assert re.search(r"Connection works: the gateway issued a client token in \d+ ms\.", page.text)
    assert "by admin@example.com (offline)" in page.text
    assert_no_secret(page.text)
    (entry,) = gateway_checks(app)
    assert entry.actor_email == "admin@example.com" and entry.ip == "127.0.0.1"
    assert entry.details["ok"] is True and entry.details["reason"] == "ok"
    assert entry.details["mode"] == "offline" and entry.details["merchant_id"] == "test_merchant"
    assert entry.details["currency"] == "USD"
    assert isinstance(entry.details["elapsed_ms"], int) and entry.details["elapsed_ms"] >= 0
    assert_no_secret(str(entry.details))


def test_braintree_mode_never_shows_its_keys_or_the_token(other_app, client, payments_sandbox):
    keys = {
        "BRAINTREE_ENVIRONMENT": "sandbox",
        "BRAINTREE_MERCHANT_ID": SANDBOX_KEYS["merchant_id"],
        "BRAINTREE_PUBLIC_KEY": SANDBOX_KEYS["public_key"],
        "BRAINTREE_PRIVATE_KEY": SANDBOX_KEYS["private_key"],
        "BRAINTREE_MERCHANT_ACCOUNTS": {"EUR": "test_merchant_eur"},
    }
    app = other_app(**keys)
    admin = sign_in_admin(app, app.test_client())
    html = admin.get(PAGE).text
    assert 'data-mode="sandbox">Braintree sandbox<' in html
    assert '<li data-currency="EUR">EUR: test_merchant_eur</li>' in html
    assert "Sandbox address" not in html
    assert_no_secret(html)
    # The same credentials, but the SDK talks to the offline sandbox: a real token comes back.
    sdk = sandbox_gateway(payments_sandbox.url, **SANDBOX_KEYS)
    assert TOKEN.fullmatch(sdk.client_token.generate())  # what a token looks like
    app.extensions["payments"] = PaymentGateway(sdk, Mode.SANDBOX, keys["BRAINTREE_MERCHANT_ACCOUNTS"])
    page = press_test_connection(admin)
    assert result_of(page.text)["ok"] is True
    assert "(sandbox)" in page.text
    assert_no_secret(page.text)
    (entry,) = gateway_checks(app)
    assert entry.details["mode"] == "sandbox"
    assert_no_secret(str(entry.details))
    app.extensions["payments"] = PaymentGateway(sdk, Mode.PRODUCTION, {})
    assert 'data-mode="production">Braintree production<' in admin.get(PAGE).text


def test_a_closed_port_reads_connection_refused(other_app):
    port = closed_port()
    # Whatever someone writes into the address, only scheme, host and port are shown.
    app = other_app(PAYMENTS_SANDBOX_URL=f"http://operator:hunter2@127.0.0.1:{port}/ignored")
    admin = sign_in_admin(app, app.test_client())
    page = press_test_connection(admin)
    assert page.status_code == 200
    assert f"<code>http://127.0.0.1:{port}</code>" in page.text and "hunter2" not in page.text
    assert result_of(page.text) == {"ok": False, "reason": "connection_refused"}
    assert "Connection refused: nothing answers at the gateway&#39;s address." in page.text
    (entry,) = gateway_checks(app)
    assert entry.details["ok"] is False and entry.details["reason"] == "connection_refused"
    assert entry.actor_email == "admin@example.com"


def test_refused_keys_read_authentication_failed(other_app, payments_sandbox):
    app = other_app(
        payments_sandbox,
        PAYMENTS_SANDBOX_PUBLIC_KEY="wrong_public",
        PAYMENTS_SANDBOX_PRIVATE_KEY="wrong_private",
    )
    admin = sign_in_admin(app, app.test_client())
    page = press_test_connection(admin)
    assert result_of(page.text) == {"ok": False, "reason": "authentication_failed"}
    assert "Authentication failed: the gateway refused the merchant ID or the API keys." in page.text
    assert "wrong_public" not in page.text and "wrong_private" not in page.text


def test_an_unknown_merchant_account_is_refused_in_the_gateways_words(app, admin, payments_sandbox):
    sdk = sandbox_gateway(payments_sandbox.url, **SANDBOX_KEYS)
    app.extensions["payments"] = PaymentGateway(sdk, Mode.SANDBOX, {"USD": "no_such_account"})
    page = press_test_connection(admin)
    assert result_of(page.text) == {"ok": False, "reason": "refused"}
    assert "The gateway refused the request: " in page.text
    (entry,) = gateway_checks(app)
    assert entry.details["currency"] == "USD" and entry.details["message"]
    assert_no_secret(page.text)


def test_a_slow_gateway_reads_timeout(app, admin, payments_sandbox):
    # The test configuration waits 2 s for an answer.
    payments_sandbox.set_faults(latency_ms=3500, times=1, only="client_token")
    page = press_test_connection(admin)
    assert result_of(page.text) == {"ok": False, "reason": "timeout"}
    assert "Timeout: the gateway did not answer in time." in page.text


def test_a_gateway_error_is_told_in_plain_words_not_a_500(app, admin, payments_sandbox):
    payments_sandbox.set_faults(status=503, times=1, only="client_token")
    page = press_test_connection(admin)
    assert result_of(page.text) == {"ok": False, "reason": "gateway_error"}
    assert "The gateway answered with a server error: try again later." in page.text


def test_the_latest_test_is_the_one_shown(app, admin, payments_sandbox):
    payments_sandbox.set_faults(status=503, times=1, only="client_token")
    assert result_of(press_test_connection(admin).text)["ok"] is False
    assert result_of(press_test_connection(admin).text)["ok"] is True
    assert [entry.details["ok"] for entry in gateway_checks(app)] == [False, True]


# -- access and CSRF --------------------------------------------------------------------------------


def test_test_connection_without_a_csrf_token_is_refused(app, admin):
    assert admin.post(TEST).status_code == 400
    assert admin.post(TEST, data={"csrf_token": "forged"}).status_code == 400
    assert gateway_checks(app) == []


def test_organizers_get_404(app, client):
    with app.app_context():
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    assert client.get(PAGE).status_code == 404
    token = csrf_from(client.get("/sessions/new").text)
    assert client.post(TEST, data={"csrf_token": token}).status_code == 404
    assert gateway_checks(app) == []


def test_anonymous_visitors_go_to_login(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    token = csrf_from(client.get("/login").text)
    response = client.post(TEST, data={"csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
