"""Sales through the real SDK: test nonces, test amounts, card numbers, validation errors."""

import base64
import json
import threading
from decimal import Decimal

import pytest
import requests
from braintree.exceptions import NotFoundError
from braintree.test.nonces import Nonces

from portal.payments.sandbox import SandboxServer, sandbox_gateway
from tests.sandbox.helpers import KEYS, sale


def only_error(result):
    """The single validation error of a result with no transaction."""
    assert not result.is_success and result.transaction is None
    (error,) = result.errors.deep_errors
    return error


# --- test nonces ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "nonce, card_type, bin_, debit, prepaid",
    [
        ("fake-valid-nonce", "Visa", "401288", "Unknown", "Unknown"),
        ("fake-valid-visa-nonce", "Visa", "401288", "Unknown", "Unknown"),
        ("fake-valid-mastercard-nonce", "MasterCard", "555555", "Unknown", "Unknown"),
        ("fake-valid-amex-nonce", "American Express", "378282", "Unknown", "Unknown"),
        ("fake-valid-discover-nonce", "Discover", "601111", "Unknown", "Unknown"),
        ("fake-valid-jcb-nonce", "JCB", "353011", "Unknown", "Unknown"),
        ("fake-valid-maestro-nonce", "Maestro", "630400", "Unknown", "Unknown"),
        ("fake-valid-dinersclub-nonce", "Diners Club", "362596", "Unknown", "Unknown"),
        ("fake-valid-debit-nonce", "Visa", "411710", "Yes", "No"),
        ("fake-valid-prepaid-nonce", "Visa", "411111", "No", "Yes"),
        ("fake-valid-prepaid-reloadable-nonce", "Visa", "422998", "No", "Yes"),
        ("fake-valid-no-indicators-nonce", "Visa", "411111", "No", "No"),
        ("fake-valid-unknown-indicators-nonce", "Visa", "411111", "Unknown", "Unknown"),
    ],
)
def test_card_nonces_approve_with_their_card(gateway, nonce, card_type, bin_, debit, prepaid):
    result = sale(gateway, "10.00", nonce, order_id=f"order-{nonce}", custom_fields={"tier": "gold"})
    assert result.is_success
    t = result.transaction
    assert (t.status, t.type, t.amount, t.currency_iso_code) == (
        "submitted_for_settlement",
        "sale",
        Decimal("10.00"),
        "USD",
    )
    assert (t.order_id, t.merchant_account_id, t.custom_fields) == (
        f"order-{nonce}",
        "sandbox_merchant",
        {"tier": "gold"},
    )
    assert (t.processor_response_code, t.processor_response_text, t.processor_response_type) == (
        "1000",
        "Approved",
        "approved",
    )
    assert len(t.processor_authorization_code) == 6 and t.gateway_rejection_reason is None
    assert t.payment_instrument_type == "credit_card"
    card = t.credit_card_details
    assert (card.card_type, card.bin, card.debit, card.prepaid) == (card_type, bin_, debit, prepaid)
    assert len(card.last_4) == 4 and card.expiration_month == "12"
    assert [(e.status, e.amount) for e in t.status_history] == [
        ("authorized", Decimal("10.00")),
        ("submitted_for_settlement", Decimal("10.00")),
    ]
    assert t.refund_ids == [] and t.refunded_transaction_id is None and t.created_at == t.updated_at


@pytest.mark.parametrize(
    "nonce", sorted(v for v in vars(Nonces).values() if str(v).startswith("fake-valid-"))
)
def test_every_fake_valid_nonce_of_the_sdk_approves(gateway, nonce):
    result = sale(gateway, "12.34", nonce)
    assert result.is_success and result.transaction.payment_instrument_type == "credit_card"


@pytest.mark.parametrize(
    "nonce, indicator, country, bank",
    [
        ("fake-valid-commercial-nonce", "commercial", "USA", "Unknown"),
        ("fake-valid-healthcare-nonce", "healthcare", "USA", "Unknown"),
        ("fake-valid-payroll-nonce", "payroll", "USA", "Unknown"),
        ("fake-valid-durbin-regulated-nonce", "durbin_regulated", "USA", "Unknown"),
        ("fake-valid-country-of-issuance-cad-nonce", None, "CAN", "Unknown"),
        ("fake-valid-issuing-bank-network-only-nonce", None, "USA", "NETWORK ONLY"),
    ],
)
def test_indicator_nonces_carry_their_indicator(gateway, nonce, indicator, country, bank):
    card = sale(gateway, "5.00", nonce).transaction.credit_card_details
    if indicator:
        assert getattr(card, indicator) == "Yes" and card.debit == "No"
    assert (card.country_of_issuance, card.issuing_bank) == (country, bank)


@pytest.mark.parametrize("nonce", ["fake-paypal-one-time-nonce", "fake-paypal-billing-agreement-nonce"])
def test_paypal_nonces_make_paypal_sales(gateway, nonce):
    t = sale(gateway, "20.00", nonce).transaction
    assert (t.status, t.payment_instrument_type) == ("submitted_for_settlement", "paypal_account")
    assert t.paypal_details.payer_email == "payer@example.com"
    assert not hasattr(t, "credit_card_details")


@pytest.mark.parametrize("brand", ["visa", "mastercard", "amex", "discover"])
def test_processor_declined_nonces_decline_with_do_not_honor(gateway, brand):
    result = sale(gateway, "10.00", f"fake-processor-declined-{brand}-nonce", order_id=f"declined-{brand}")
    assert not result.is_success and result.message == "Do Not Honor"
    assert result.errors.deep_errors == []
    t = result.transaction
    assert (t.status, t.processor_response_code, t.processor_response_text) == (
        "processor_declined",
        "2000",
        "Do Not Honor",
    )
    assert (t.processor_response_type, t.order_id) == ("soft_declined", f"declined-{brand}")
    assert t.processor_authorization_code is None
    assert [e.status for e in t.status_history] == ["processor_declined"]


def test_processor_failure_nonce_fails_with_3000(gateway):
    result = sale(gateway, "10.00", "fake-processor-failure-jcb-nonce")
    assert not result.is_success and result.message == "Processor Network Unavailable - Try Again"
    t = result.transaction
    assert (t.status, t.processor_response_code, t.credit_card_details.card_type) == ("failed", "3000", "JCB")


@pytest.mark.parametrize(
    "nonce, reason",
    [
        ("fake-gateway-rejected-fraud-nonce", "fraud"),
        ("fake-gateway-rejected-risk-thresholds-nonce", "risk_threshold"),
    ],
)
def test_gateway_rejected_nonces(gateway, nonce, reason):
    result = sale(gateway, "10.00", nonce)
    assert not result.is_success and result.message == f"Gateway Rejected: {reason}"
    t = result.transaction
    assert (t.status, t.gateway_rejection_reason, t.processor_response_code) == (
        "gateway_rejected",
        reason,
        None,
    )


def test_luhn_invalid_nonce_is_a_validation_error_on_the_card_number(gateway):
    result = sale(gateway, "10.00", "fake-luhn-invalid-nonce")
    error = only_error(result)
    assert (error.code, error.attribute, error.message) == (
        "81715",
        "number",
        "Credit card number is invalid.",
    )
    assert result.errors.for_object("transaction").for_object("credit_card").on("number")[0].code == "81715"
    assert result.message == "Credit card number is invalid."


@pytest.mark.parametrize(
    "nonce, code, message",
    [
        ("fake-consumed-nonce", "91564", "Cannot use a payment_method_nonce more than once."),
        ("not-a-nonce", "91565", "Unknown or expired payment_method_nonce."),
        ("fake-apple-pay-visa-nonce", "91577", "Merchant account does not support payment instrument."),
        ("fake-venmo-account-nonce", "91577", "Merchant account does not support payment instrument."),
    ],
)
def test_nonces_refused_before_any_authorization(gateway, server, nonce, code, message):
    before = len(server.transactions())
    result = sale(gateway, "10.00", nonce)
    error = only_error(result)
    assert (error.code, error.attribute, error.message) == (code, "payment_method_nonce", message)
    assert result.errors.for_object("transaction").on("payment_method_nonce")[0].code == code
    assert len(server.transactions()) == before


# --- single use ------------------------------------------------------------------------------


def test_static_test_nonces_are_reusable_like_in_braintrees_sandbox(gateway):
    assert all(sale(gateway, "3.00", "fake-valid-visa-nonce").is_success for _ in range(3))


def test_a_minted_nonce_is_single_use(gateway, server):
    nonce = server.mint_nonce("fake-valid-debit-nonce")
    first = sale(gateway, "10.00", nonce)
    assert first.is_success and first.transaction.credit_card_details.debit == "Yes"
    assert only_error(sale(gateway, "10.00", nonce)).code == "91564"


def test_a_decline_consumes_the_nonce_but_a_validation_error_does_not(gateway, server):
    declining = server.mint_nonce("fake-processor-declined-visa-nonce")
    assert sale(gateway, "10.00", declining).transaction.status == "processor_declined"
    assert only_error(sale(gateway, "10.00", declining)).code == "91564"
    nonce = server.mint_nonce()
    assert only_error(sale(gateway, None, nonce)).code == "81502"
    assert sale(gateway, "10.00", nonce).is_success


def test_concurrent_sales_with_one_nonce_charge_once(gateway, server):
    nonce, order_id = server.mint_nonce(), "concurrent-nonce"
    results, barrier = [], threading.Barrier(6)

    def attempt():
        barrier.wait()
        results.append(sale(gateway, "10.00", nonce, order_id=order_id))

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.is_success for r in results) == [False] * 5 + [True]
    assert {r.errors.deep_errors[0].code for r in results if not r.is_success} == {"91564"}
    assert [t["order_id"] for t in server.transactions()].count(order_id) == 1


def test_static_nonces_can_be_made_single_use():
    with SandboxServer(single_use_test_nonces=True, **KEYS) as strict:
        gateway = sandbox_gateway(strict.url, **KEYS)
        try:
            assert sale(gateway, "10.00", "fake-valid-nonce").is_success
            assert only_error(sale(gateway, "10.00", "fake-valid-nonce")).code == "91564"
            assert gateway.payment_method_nonce.find("fake-valid-nonce").consumed is True
        finally:
            gateway.config.close()


def test_minting_needs_a_known_test_nonce(server):
    with pytest.raises(ValueError, match="unknown test nonce"):
        server.mint_nonce("made-up-nonce")


# --- payment method nonce lookup ----------------------------------------------------------------


def test_find_a_card_nonce_shows_its_bin_data(gateway):
    found = gateway.payment_method_nonce.find("fake-valid-debit-nonce")
    assert (found.nonce, found.type, found.consumed) == ("fake-valid-debit-nonce", "CreditCard", False)
    assert (found.details["card_type"], found.details["last_four"], found.details["bin"]) == (
        "Visa",
        "1010",
        "411710",
    )
    assert (found.bin_data.debit, found.bin_data.prepaid) == ("Yes", "No")
    assert gateway.payment_method_nonce.find("fake-valid-prepaid-nonce").bin_data.prepaid == "Yes"


def test_find_a_paypal_nonce(gateway):
    found = gateway.payment_method_nonce.find("fake-paypal-one-time-nonce")
    assert (found.type, found.details["email"], found.bin_data) == (
        "PayPalAccount",
        "payer@example.com",
        None,
    )


def test_find_a_minted_nonce_before_and_after_use(gateway, server):
    nonce = server.mint_nonce("fake-valid-mastercard-nonce")
    assert gateway.payment_method_nonce.find(nonce).consumed is False
    sale(gateway, "10.00", nonce)
    found = gateway.payment_method_nonce.find(nonce)
    assert (found.consumed, found.details["card_type"]) == (True, "MasterCard")


def test_find_an_unknown_nonce_is_not_found(gateway):
    with pytest.raises(NotFoundError):
        gateway.payment_method_nonce.find("no-such-nonce")


# --- test amounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, code, text, kind",
    [
        ("2000.00", "2000", "Do Not Honor", "soft_declined"),
        ("2001.00", "2001", "Insufficient Funds", "soft_declined"),
        ("2004.00", "2004", "Expired Card", "hard_declined"),
        ("2010.00", "2010", "Card Issuer Declined CVV", "hard_declined"),
        ("2015.00", "2015", "Transaction Not Allowed", "hard_declined"),
        ("2046.99", "2046", "Declined", "soft_declined"),
        ("2500.50", "2500", "Processor Declined", "soft_declined"),
        ("2999.99", "2999", "Processor Declined", "soft_declined"),
    ],
)
def test_amounts_2000_to_2999_decline_with_that_code(gateway, amount, code, text, kind):
    result = sale(gateway, amount, "fake-valid-visa-nonce")
    assert not result.is_success and result.message == text and result.errors.deep_errors == []
    t = result.transaction
    assert (
        t.status,
        t.amount,
        t.processor_response_code,
        t.processor_response_text,
        t.processor_response_type,
    ) == (
        "processor_declined",
        Decimal(amount),
        code,
        text,
        kind,
    )


@pytest.mark.parametrize("amount", ["3000.00", "3000.99"])
def test_amounts_3000_fail(gateway, amount):
    t = sale(gateway, amount).transaction
    assert (t.status, t.processor_response_code, t.processor_response_text) == (
        "failed",
        "3000",
        "Processor Network Unavailable - Try Again",
    )


def test_amount_5001_is_gateway_rejected_as_application_incomplete(gateway):
    result = sale(gateway, "5001.00")
    assert result.message == "Gateway Rejected: application_incomplete"
    assert (result.transaction.status, result.transaction.gateway_rejection_reason) == (
        "gateway_rejected",
        "application_incomplete",
    )


@pytest.mark.parametrize("amount", ["0.01", "1999.99", "3001.00", "4000.99", "5001.01", "5002.00"])
def test_other_amounts_approve(gateway, amount):
    assert sale(gateway, amount).transaction.status == "submitted_for_settlement"


def test_amount_5001_01_declines_paypal_with_2038(gateway):
    t = sale(gateway, "5001.01", "fake-paypal-one-time-nonce").transaction
    assert (t.status, t.processor_response_code, t.processor_response_text) == (
        "processor_declined",
        "2038",
        "Processor Declined",
    )


def test_a_decline_nonce_wins_over_an_approving_amount(gateway):
    assert (
        sale(gateway, "1.00", "fake-processor-declined-amex-nonce").transaction.status == "processor_declined"
    )


def test_without_submit_for_settlement_a_sale_stays_authorized(gateway):
    t = sale(gateway, "10.00", submit=False).transaction
    assert t.status == "authorized" and [e.status for e in t.status_history] == ["authorized"]


def test_amount_may_be_a_decimal_or_an_integer(gateway):
    assert sale(gateway, Decimal("12.5")).transaction.amount == Decimal("12.50")
    assert sale(gateway, 7).transaction.amount == Decimal("7.00")


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, code, message",
    [
        (None, "81502", "Amount is required."),
        ("", "81502", "Amount is required."),
        ("ten", "81503", "Amount is an invalid format."),
        ("10.001", "81503", "Amount is an invalid format."),
        ("1e3", "81503", "Amount is an invalid format."),
        ("0.00", "81531", "Amount must be greater than zero."),
        ("-5.00", "81501", "Amount cannot be negative."),
        ("99999999999.00", "81528", "Amount is too large."),
    ],
)
def test_amount_validation(gateway, amount, code, message):
    result = sale(gateway, amount)
    error = only_error(result)
    assert (error.code, error.attribute, error.message) == (code, "amount", message)
    assert result.errors.for_object("transaction").on("amount")[0].code == code
    assert result.message == message


def test_order_id_longer_than_255_characters_is_refused(gateway):
    assert only_error(sale(gateway, order_id="x" * 256)).code == "91501"
    assert sale(gateway, order_id="x" * 255).transaction.order_id == "x" * 255


def test_all_validation_errors_come_together(gateway):
    result = sale(gateway, None, "not-a-nonce", order_id="y" * 300)
    assert sorted(e.code for e in result.errors.deep_errors) == ["81502", "91501", "91565"]
    assert result.message.split("\n") == [
        "Amount is required.",
        "Order ID is too long.",
        "Unknown or expired payment_method_nonce.",
    ]


def test_merchant_accounts_decide_the_currency(gateway):
    eur = sale(gateway, "10.00", merchant_account_id="eur_account").transaction
    assert (eur.currency_iso_code, eur.merchant_account_id) == ("EUR", "eur_account")
    jpy = sale(gateway, "1500", merchant_account_id="jpy_account").transaction
    assert (jpy.currency_iso_code, jpy.amount) == ("JPY", Decimal("1500"))
    assert only_error(sale(gateway, "1500.50", merchant_account_id="jpy_account")).code == "81503"


def test_an_unknown_merchant_account_is_refused(gateway):
    error = only_error(sale(gateway, merchant_account_id="nope"))
    assert (error.code, error.attribute) == ("91513", "merchant_account_id")


def test_jpy_amounts_are_rendered_without_decimals(server, gateway):
    t = sale(gateway, "2500", merchant_account_id="jpy_account").transaction  # a test amount in yen too
    assert (t.status, t.processor_response_code) == ("processor_declined", "2500")
    (row,) = [r for r in server.transactions() if r["id"] == t.id]
    assert str(row["amount"]) == "2500"


def test_a_payment_method_is_required_and_only_one(gateway):
    assert only_error(sale(gateway, nonce=None)).code == "91508"
    both = gateway.transaction.sale(
        {
            "amount": "1.00",
            "payment_method_nonce": "fake-valid-nonce",
            "credit_card": {"number": "4111111111111111"},
        }
    )
    assert only_error(both).code == "91515"


# --- card numbers (server-side integrations and suites written against Braintree's sandbox) ---------


def card_sale(gateway, number, amount="10.00", **card):
    return gateway.transaction.sale(
        {
            "amount": amount,
            "credit_card": {"number": number, "expiration_date": "12/2031", "cvv": "123", **card},
        }
    )


@pytest.mark.parametrize(
    "number, card_type, debit, prepaid",
    [
        ("4111111111111111", "Visa", "Unknown", "Unknown"),
        ("4012888888881881", "Visa", "Unknown", "Unknown"),
        ("5555555555554444", "MasterCard", "Unknown", "Unknown"),
        ("2223000048400011", "MasterCard", "Unknown", "Unknown"),
        ("6011111111111117", "Discover", "Unknown", "Unknown"),
        ("3530111333300000", "JCB", "Unknown", "Unknown"),
        ("4117101010101010", "Visa", "Yes", "Unknown"),
        ("4111111111111210", "Visa", "Unknown", "Yes"),
    ],
)
def test_test_card_numbers_approve(gateway, number, card_type, debit, prepaid):
    t = card_sale(gateway, number).transaction
    card = t.credit_card_details
    assert (t.status, card.card_type, card.debit, card.prepaid) == ("authorized", card_type, debit, prepaid)
    assert (card.bin, card.last_4, card.expiration_date) == (number[:6], number[-4:], "12/2031")


def test_amex_takes_a_four_digit_cvv(gateway):
    assert (
        card_sale(gateway, "378282246310005", cvv="1234").transaction.credit_card_details.card_type
        == "American Express"
    )
    assert only_error(card_sale(gateway, "378282246310005", cvv="123")).code == "81707"


@pytest.mark.parametrize("number", ["4000111111111115", "5105105105105100", "6011000990139424"])
def test_verification_failure_numbers_decline(gateway, number):
    t = card_sale(gateway, number).transaction
    assert (t.status, t.processor_response_code, t.processor_response_text) == (
        "processor_declined",
        "2000",
        "Do Not Honor",
    )


def test_test_amounts_apply_to_card_numbers(gateway):
    assert card_sale(gateway, "4111111111111111", "2001.00").transaction.processor_response_code == "2001"


@pytest.mark.parametrize(
    "card, code, attribute",
    [
        ({"number": "4111111111111112"}, "81715", "number"),
        ({"number": "4111-1111-1111-1111"}, "81715", "number"),
        ({"number": "41111111"}, "81716", "number"),
        ({"number": ""}, "81714", "number"),
        ({"expiration_date": None}, "81709", "expiration_date"),
        ({"expiration_date": "december"}, "81710", "expiration_date"),
        ({"expiration_date": "13/2031"}, "81712", "expiration_month"),
        ({"cvv": "12"}, "81707", "cvv"),
    ],
)
def test_card_validation_errors(gateway, card, code, attribute):
    result = card_sale(gateway, card.pop("number", "4111111111111111"), **card)
    error = only_error(result)
    assert (error.code, error.attribute) == (code, attribute)
    assert result.errors.for_object("transaction").for_object("credit_card").on(attribute)[0].code == code


def test_expiration_month_and_year_are_accepted(gateway):
    result = gateway.transaction.sale(
        {
            "amount": "1.00",
            "credit_card": {
                "number": "4111111111111111",
                "expiration_month": "05",
                "expiration_year": "2032",
            },
        }
    )
    assert result.transaction.credit_card_details.expiration_date == "05/2032"


def test_an_expired_card_declines_with_2004(gateway):
    t = card_sale(gateway, "4111111111111111", expiration_date="01/2020").transaction
    assert (t.status, t.processor_response_code) == ("processor_declined", "2004")


def test_the_card_number_is_never_stored_or_returned(gateway, server):
    t = card_sale(gateway, "4111111111111111").transaction
    assert t.credit_card_details.masked_number == "411111******1111"
    raw = requests.Session()
    raw.trust_env = False
    with raw:
        xml = raw.get(
            f"{server.url}/merchants/sandbox_merchant/transactions/{t.id}",
            auth=(KEYS["public_key"], KEYS["private_key"]),
        ).text
    assert "4111111111111111" not in xml and "<last-4>1111</last-4>" in xml


# --- client token ------------------------------------------------------------------------------


def test_client_token_is_base64_json_pointing_at_the_sandbox(gateway, server):
    token = json.loads(base64.b64decode(gateway.client_token.generate()))
    assert (token["environment"], token["merchantId"], token["version"]) == ("offline", "sandbox_merchant", 2)
    assert token["configUrl"] == f"{server.url}/merchants/sandbox_merchant/client_api/v1/configuration"
    raw = requests.Session()
    raw.trust_env = False
    with raw:
        config = raw.get(token["configUrl"]).json()
    assert (config["environment"], config["merchantId"]) == ("offline", "sandbox_merchant")


def test_client_token_for_an_unknown_merchant_account_is_refused(gateway):
    assert gateway.client_token.generate({"merchant_account_id": "eur_account"})
    with pytest.raises(ValueError, match="Merchant account does not exist"):
        gateway.client_token.generate({"merchant_account_id": "nope"})


def test_transaction_ids_are_eight_lowercase_alphanumerics(gateway):
    ids = {sale(gateway).transaction.id for _ in range(5)}
    assert len(ids) == 5 and all(len(i) == 8 and i.isalnum() and i == i.lower() for i in ids)
