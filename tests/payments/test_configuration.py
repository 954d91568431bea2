"""Choosing the gateway from configuration, the real-Braintree payment component, the reconcile command."""

import threading
from datetime import timedelta

import pytest

from portal.accounts.models import Role
from portal.config import ConfigurationError
from portal.database import utcnow
from portal.extensions import db
from portal.payments import services
from portal.payments.gateway import Mode, PaymentGateway, build_gateway
from portal.payments.models import Payment, Purpose
from portal.payments.sandbox import sandbox_gateway
from tests.conftest import SANDBOX_KEYS, csrf_from, login
from tests.factories import enable_ecommerce, make_user, set_settings

BASE = {"BRAINTREE_TIMEOUT": 5, "PAYMENTS_SANDBOX_URL": "http://127.0.0.1:8790"} | {
    f"PAYMENTS_SANDBOX_{key.upper()}": value for key, value in SANDBOX_KEYS.items()
}


def test_no_credentials_means_the_offline_sandbox():
    gateway = build_gateway(BASE)
    assert gateway.mode == Mode.OFFLINE
    assert gateway.merchant_id == "test_merchant"


@pytest.mark.parametrize(
    "environment, host",
    [("sandbox", "api.sandbox.braintreegateway.com"), ("production", "api.braintreegateway.com")],
)
def test_real_braintree_is_only_a_matter_of_four_variables(environment, host):
    gateway = build_gateway(
        BASE
        | {
            "BRAINTREE_ENVIRONMENT": environment,
            "BRAINTREE_MERCHANT_ID": "acme",
            "BRAINTREE_PUBLIC_KEY": "pub",
            "BRAINTREE_PRIVATE_KEY": "priv",
            "BRAINTREE_MERCHANT_ACCOUNTS": {"EUR": "acme_eur"},
        }
    )
    assert gateway.mode == Mode(environment)
    assert gateway.merchant_accounts == {"EUR": "acme_eur"}
    assert gateway._gateway.config.base_url() == f"https://{host}:443"


@pytest.mark.parametrize(
    "extra",
    [
        {"BRAINTREE_ENVIRONMENT": "sandbox"},
        {"BRAINTREE_MERCHANT_ID": "acme", "BRAINTREE_PUBLIC_KEY": "pub", "BRAINTREE_PRIVATE_KEY": "priv"},
        {
            "BRAINTREE_ENVIRONMENT": "live",
            "BRAINTREE_MERCHANT_ID": "a",
            "BRAINTREE_PUBLIC_KEY": "b",
            "BRAINTREE_PRIVATE_KEY": "c",
        },
        {"BRAINTREE_MERCHANT_ACCOUNTS": "EUR=acme"},
    ],
)
def test_half_configured_braintree_refuses_to_start_with_a_clear_message(extra):
    with pytest.raises(ConfigurationError, match="PORTAL_BRAINTREE"):
        build_gateway(BASE | extra)


def test_merchant_account_per_currency_is_sent_with_the_sale(app, payments_sandbox):
    with app.app_context():
        app.extensions["payments"].merchant_accounts = {"USD": "test_merchant"}
        payment = services.open_attempt(Purpose.TEST, "test:account", 1000, "USD")
        payment = services.pay(payment.id, "fake-valid-visa-nonce", services.AllowedMethods(True, True, True))
        (sale,) = [t for t in payments_sandbox.transactions() if t["order_id"] == payment.order_id]
        assert sale["merchant_account_id"] == "test_merchant" == payment.merchant_account_id


@pytest.fixture
def admin(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "admin@example.com")
    return client


def open_pay_page(client):
    page = client.get("/admin/payments/test")
    response = client.post(
        "/admin/payments/test", data={"amount": "20.00", "csrf_token": csrf_from(page.text)}
    )
    return client.get(response.headers["Location"])


def test_with_real_braintree_the_component_uses_hosted_fields_and_paypal(app, admin, payments_sandbox):
    # A gateway in "sandbox" mode whose SDK talks to our offline sandbox: real client token, no network.
    sdk = sandbox_gateway(payments_sandbox.url, **SANDBOX_KEYS)
    app.extensions["payments"] = PaymentGateway(sdk, Mode.SANDBOX, {})
    page = open_pay_page(admin)
    html = page.text
    assert 'id="braintree-hosted"' in html and 'data-client-token="' in html
    assert 'data-client-token=""' not in html
    for script in (
        "braintree-web-3.144.0/client.js",
        "braintree-web-3.144.0/hosted-fields.js",
        "braintree-web-3.144.0/paypal-checkout.js",
        "js/payments.js",
    ):
        assert script in html
    assert "Test payment method" not in html and "fake-" not in html
    csp = page.headers["Content-Security-Policy"]
    assert "frame-src https://assets.braintreegateway.com" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    # Other pages keep the strict policy.
    assert "braintreegateway" not in admin.get("/admin/payments").headers["Content-Security-Policy"]


def test_with_real_braintree_and_paypal_off_no_paypal_script(app, admin, payments_sandbox):
    with app.app_context():
        set_settings(paypal_enabled=False)
    app.extensions["payments"] = PaymentGateway(
        sandbox_gateway(payments_sandbox.url, **SANDBOX_KEYS), Mode.SANDBOX, {}
    )
    html = open_pay_page(admin).text
    assert "paypal-checkout.js" not in html and 'data-paypal="false"' in html


def test_with_every_payment_method_off_there_is_nothing_to_pay_with(app, admin):
    with app.app_context():
        set_settings(credit_cards_enabled=False, debit_cards_enabled=False, paypal_enabled=False)
    html = open_pay_page(admin).text
    assert "No payment method is switched on" in html
    assert ">Pay</button>" not in html


def test_reconcile_command_settles_unknown_attempts(app, runner, payments_sandbox):
    with app.app_context():
        payment = services.open_attempt(Purpose.TEST, "test:cli", 4200, "USD")
        payments_sandbox.set_faults(lose_response=True, times=2, only=["sale", "search"])
        paid = services.pay(payment.id, "fake-valid-visa-nonce", services.AllowedMethods(True, True, True))
        assert paid.status == "unknown"
    payments_sandbox.clear_faults()
    with app.app_context():  # the attempt was sent five minutes ago
        db.session.execute(
            db.update(Payment).where(Payment.id == payment.id).values(sent_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    result = runner.invoke(args=["portal", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "resolved: 1" in result.output
    with app.app_context():
        assert db.session.get(Payment, payment.id).status == "submitted_for_settlement"


def test_two_tabs_opening_the_same_purchase_share_one_attempt(app):
    ids, barrier = [], threading.Barrier(4)

    def open_tab():
        with app.app_context():
            barrier.wait()
            ids.append(services.open_attempt(Purpose.TEST, "test:tabs", 5000, "USD").id)
            db.session.remove()

    threads = [threading.Thread(target=open_tab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(ids) == 4 and len(set(ids)) == 1
