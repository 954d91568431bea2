"""The pure outcome rules, without a server."""

from decimal import Decimal

import pytest
from braintree.test.credit_card_numbers import CreditCardNumbers
from hypothesis import given
from hypothesis import strategies as st

from portal.payments.sandbox import rules

cents = st.integers(min_value=1, max_value=10**11 - 1).map(lambda n: Decimal(n).scaleb(-2))


@given(cents)
def test_any_two_decimal_amount_parses_back_to_itself(amount):
    value, error = rules.parse_amount(str(amount), "USD")
    assert error is None and value == amount and str(value) == str(amount)


@given(st.integers(min_value=1, max_value=10**9))
def test_yen_amounts_have_no_decimals(n):
    assert rules.parse_amount(str(n), "JPY") == (Decimal(n), None)
    assert rules.parse_amount(f"{n}.0", "JPY")[1].code == "81503"
    assert rules.format_amount(Decimal(n), "JPY") == str(n)


def test_three_decimal_currencies():
    assert rules.parse_amount("1.234", "BHD") == (Decimal("1.234"), None)
    assert rules.format_amount(Decimal("1.5"), "BHD") == "1.500"


@given(cents)
def test_every_amount_has_exactly_one_outcome_following_the_test_amount_table(amount):
    outcome = rules.amount_outcome(amount, "credit_card")
    if Decimal("2000") <= amount < Decimal("3000"):
        assert (outcome.status, outcome.code) == ("processor_declined", str(int(amount)))
    elif Decimal("3000") <= amount < Decimal("3001"):
        assert (outcome.status, outcome.code) == ("failed", "3000")
    elif amount == Decimal("5001"):
        assert (outcome.status, outcome.rejection_reason) == ("gateway_rejected", "application_incomplete")
    else:
        assert outcome == rules.APPROVED


@pytest.mark.parametrize(
    "number",
    [
        CreditCardNumbers.Visa,
        CreditCardNumbers.MasterCard,
        CreditCardNumbers.Amex,
        CreditCardNumbers.Discover,
        CreditCardNumbers.CardTypeIndicators.Debit,
        CreditCardNumbers.CardTypeIndicators.Prepaid,
        CreditCardNumbers.FailsSandboxVerification.Visa,
        "4111111111111111",
        "378282246310005",
    ],
)
def test_braintree_test_numbers_pass_luhn(number):
    assert rules.luhn_valid(number)


@given(st.integers(min_value=10**11, max_value=10**19 - 1).map(str), st.integers(min_value=0, max_value=18))
def test_luhn_catches_every_single_digit_change(number, position):
    check = next(d for d in "0123456789" if rules.luhn_valid(number[:-1] + d))
    valid = number[:-1] + check
    position = min(position, len(valid) - 1)
    changed = valid[:position] + str((int(valid[position]) + 1) % 10) + valid[position + 1 :]
    assert rules.luhn_valid(valid) and not rules.luhn_valid(changed)


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4111111111111111", "Visa"),
        ("5555555555554444", "MasterCard"),
        ("2221000000000009", "MasterCard"),
        ("378282246310005", "American Express"),
        ("6011111111111117", "Discover"),
        ("6500000000000002", "Discover"),
        ("3530111333300000", "JCB"),
        ("36259600000004", "Diners Club"),
        ("6304000000000000", "Maestro"),
        ("5066991111111118", "Elo"),
        ("6200000000000005", "UnionPay"),
        ("9000000000000000", "Unknown"),
    ],
)
def test_card_brands_by_bin(number, brand):
    assert rules.card_type_of(number) == brand


def test_every_declined_code_has_a_text_and_a_type():
    assert rules.declined(2001) == rules.Outcome(
        "processor_declined", "2001", "Insufficient Funds", "soft_declined"
    )
    assert rules.declined(2052).text == "Processor Declined"
    assert rules.declined(2004).response_type == "hard_declined"


def test_every_error_code_has_a_message():
    assert all(rules.FieldError(code, "x").message for code in rules.MESSAGES)


def test_test_nonces_are_recognised_but_unknown_ones_are_not():
    assert rules.is_test_nonce("fake-valid-nonce") and rules.is_test_nonce("fake-apple-pay-visa-nonce")
    assert rules.resolve_nonce("tokencc_made_up", 2030) is None and not rules.is_test_nonce("tokencc_made_up")
