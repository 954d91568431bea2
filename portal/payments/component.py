"""The one payment component every checkout renders (template ``payments/_component.html``)."""

from flask import g, redirect, request
from flask_babel import lazy_gettext as _l

from portal.payments.gateway import Mode
from portal.payments.models import Method
from portal.payments.services import AllowedMethods, GoToGateway, client_token, gateway
from portal.web import allow_in_csp

# Offline sandbox only: Braintree's documented test nonces, as a payer would choose a method.
TEST_PAYMENT_METHODS = [
    (Method.CREDIT_CARD, "fake-valid-visa-nonce", _l("Visa credit card — approved")),
    (Method.CREDIT_CARD, "fake-valid-mastercard-nonce", _l("Mastercard credit card — approved")),
    (Method.CREDIT_CARD, "fake-valid-amex-nonce", _l("American Express — approved")),
    (Method.CREDIT_CARD, "fake-valid-discover-nonce", _l("Discover — approved")),
    (Method.DEBIT_CARD, "fake-valid-debit-nonce", _l("Visa debit card — approved")),
    (Method.PAYPAL, "fake-paypal-one-time-nonce", _l("PayPal account — approved")),
    (None, "fake-processor-declined-visa-nonce", _l("Card declined by the bank")),
    (None, "fake-gateway-rejected-fraud-nonce", _l("Card refused by fraud checks")),
    (None, "fake-processor-failure-jcb-nonce", _l("Card network failure")),
    (None, "fake-luhn-invalid-nonce", _l("Invalid card number")),
]

# Where Braintree's Hosted Fields and PayPal load from (real Braintree only).
BRAINTREE_CSP = {
    "frame-src": ["https://assets.braintreegateway.com", "https://*.paypal.com"],
    "connect-src": [
        "https://api.braintreegateway.com",
        "https://api.sandbox.braintreegateway.com",
        "https://client-analytics.braintreegateway.com",
        "https://client-analytics.sandbox.braintreegateway.com",
        "https://*.braintree-api.com",
        "https://*.paypal.com",
    ],
    "script-src": ["https://www.paypal.com", "https://js.braintreegateway.com"],
    "img-src": ["https://assets.braintreegateway.com", "https://*.paypal.com", "https://*.paypalobjects.com"],
}


def allowed_methods(settings) -> AllowedMethods:
    return AllowedMethods(
        credit_card=settings.credit_cards_enabled,
        debit_card=settings.debit_cards_enabled,
        paypal=settings.paypal_enabled,
    )


def component_context(settings, amount_cents: int, currency: str) -> dict:
    """What ``payments/_component.html`` needs for this site and amount."""
    allowed = allowed_methods(settings)
    current = gateway()
    mode = current.mode
    context = {
        "mode": mode.value,
        "hosted": current.hosted,
        "allowed": allowed,
        "amount_cents": amount_cents,
        "currency": currency,
        "client_token": None,
        "test_methods": [],
    }
    if current.hosted:
        # Pay posts here, and we answer with a redirect to the gateway's page: the form may go there.
        allow_in_csp({"form-action": [current.checkout_origin()]})
        if not (allowed.credit_card or allowed.debit_card):
            context["allowed"] = AllowedMethods(False, False, False)  # the hosted page takes cards only
    elif mode == Mode.OFFLINE:
        cards = allowed.credit_card or allowed.debit_card
        context["test_methods"] = [
            (nonce, label)
            for method, nonce, label in TEST_PAYMENT_METHODS
            if (allowed.allows(method) if method else cards)
        ]
    else:
        context["client_token"] = client_token(currency)
        allow_in_csp(BRAINTREE_CSP)
        # PayPal's checkout window talks back to this page through window.opener.
        g.cross_origin_opener_policy = "same-origin-allow-popups"
    return context


def redirect_to_gateway(exc: GoToGateway):
    """Send the browser to the gateway's payment page (htmx follows HX-Redirect instead)."""
    if request.headers.get("HX-Request") == "true":
        return "", 204, {"HX-Redirect": exc.url}
    return redirect(exc.url, code=303)
