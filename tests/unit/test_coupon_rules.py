"""Coupon rules: exact discounts, every rejection and its order, validation, codes.

    percent  discount = price x percent / 100, rounded half-up once to the minor unit
    fixed    discount = min(amount, price)      (only for sessions in the coupon's currency)
    free     discount = price
    due      = price - discount,   0 <= discount <= price

Checks, first failure wins: unknown -> inactive -> not yet valid -> expired ->
not valid for session -> bound to other email -> used up -> used up for email.
Every expected amount below was computed by hand.
"""

import dataclasses
import itertools
import secrets
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.coupons.rules import (
    CHECK_ORDER,
    CODE_ALPHABET,
    CouponError,
    CouponTerms,
    Discount,
    DiscountKind,
    Rejection,
    RejectReason,
    SessionFacts,
    applies_to,
    discount_for,
    evaluate,
    generate_code,
    normalize_code,
    normalize_email,
    validate_code,
    validate_coupon_terms,
    validate_terms,
)

D = Decimal
K = DiscountKind
R = RejectReason
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
TRAINING = SessionFacts(session_id=7, organizer_id=3, price_cents=4900, currency="USD")
GUEST = "guest@example.org"


def terms(**overrides) -> CouponTerms:
    values = {
        "code": "SUMMER25",
        "kind": K.PERCENT,
        "percent": D("15"),
        "max_uses": 10,
        "uses": 3,
        "max_uses_per_email": 2,
        "uses_by_email": 1,
    }
    values.update(overrides)
    return CouponTerms(**values)


# ---- amounts -------------------------------------------------------------------------------------------

# (kind, value, price_cents, currency) -> (discount_cents, due_cents)
AMOUNT_CASES = [
    pytest.param(K.PERCENT, D("15"), 4900, "USD", (735, 4165), id="percent-15-of-4900"),
    pytest.param(K.PERCENT, D("12.5"), 999, "USD", (125, 874), id="percent-124.875-rounds-up"),
    pytest.param(K.PERCENT, D("2.5"), 100, "USD", (3, 97), id="percent-exact-half-rounds-up-not-even"),
    pytest.param(K.PERCENT, D("66.67"), 999, "USD", (666, 333), id="percent-666.0333-rounds-down"),
    pytest.param(K.PERCENT, D("0.01"), 4900, "USD", (0, 4900), id="percent-0.49-cent-rounds-to-zero"),
    pytest.param(K.PERCENT, D("0.01"), 5000, "USD", (1, 4999), id="percent-0.5-cent-rounds-up"),
    pytest.param(K.PERCENT, D("0"), 4900, "USD", (0, 4900), id="percent-zero"),
    pytest.param(K.PERCENT, D("100"), 4900, "USD", (4900, 0), id="percent-hundred"),
    pytest.param(K.PERCENT, 20, 4900, "USD", (980, 3920), id="percent-as-int"),
    pytest.param(K.PERCENT, D("33.33"), 100, "JPY", (33, 67), id="percent-jpy-whole-yen"),
    pytest.param(K.PERCENT, D("50"), 1, "JPY", (1, 0), id="percent-half-a-yen-rounds-up"),
    pytest.param(K.PERCENT, D("33.33"), 12345, "BHD", (4115, 8230), id="percent-bhd-three-decimals"),
    pytest.param(K.FIXED, 500, 4900, "USD", (500, 4400), id="fixed-below-price"),
    pytest.param(K.FIXED, 1500, 1500, "USD", (1500, 0), id="fixed-equal-to-price"),
    pytest.param(K.FIXED, 2000, 1500, "USD", (1500, 0), id="fixed-above-price-never-below-zero"),
    pytest.param(K.FIXED, 0, 1500, "USD", (0, 1500), id="fixed-zero"),
    pytest.param(K.FIXED, 1000, 3000, "JPY", (1000, 2000), id="fixed-jpy"),
    pytest.param(K.FREE, None, 4900, "USD", (4900, 0), id="free"),
    pytest.param(K.FREE, None, 0, "USD", (0, 0), id="free-on-a-free-session"),
    pytest.param(K.PERCENT, D("15"), 0, "USD", (0, 0), id="percent-on-a-free-session"),
]


@pytest.mark.parametrize(("kind", "value", "price_cents", "currency", "expected"), AMOUNT_CASES)
def test_discount_for_gives_exact_amounts(kind, value, price_cents, currency, expected):
    discount_cents, due_cents = expected
    assert discount_for(kind, value, price_cents, currency) == Discount(
        kind=kind,
        price_cents=price_cents,
        discount_cents=discount_cents,
        due_cents=due_cents,
        currency=currency,
    )


def test_discount_for_accepts_the_kind_as_its_string_code():
    result = discount_for("percent", D("10"), 4900, "USD")
    assert result.kind is K.PERCENT
    assert (result.discount_cents, result.due_cents) == (490, 4410)


@pytest.mark.parametrize(
    ("kind", "value", "price_cents", "code"),
    [
        pytest.param(K.PERCENT, D("100.01"), 4900, "percent_out_of_range", id="percent-above-100"),
        pytest.param(K.PERCENT, D("-1"), 4900, "percent_out_of_range", id="percent-negative"),
        pytest.param(K.PERCENT, D("NaN"), 4900, "percent_out_of_range", id="percent-nan"),
        pytest.param(K.PERCENT, D("12.345"), 4900, "percent_too_precise", id="percent-three-decimals"),
        pytest.param(K.PERCENT, None, 4900, "percent_missing", id="percent-missing"),
        pytest.param(K.FIXED, -1, 4900, "amount_negative", id="amount-negative"),
        pytest.param(K.FIXED, None, 4900, "amount_missing", id="amount-missing"),
        pytest.param(K.FREE, None, -1, "price_negative", id="price-negative"),
    ],
)
def test_discount_for_refuses_impossible_values_with_a_code(kind, value, price_cents, code):
    with pytest.raises(CouponError) as raised:
        discount_for(kind, value, price_cents, "USD")
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("kind", "value", "price_cents"),
    [
        pytest.param(K.PERCENT, 15.0, 4900, id="float-percent"),
        pytest.param(K.FIXED, 500.0, 4900, id="float-amount"),
        pytest.param(K.FIXED, D("500"), 4900, id="decimal-amount"),
        pytest.param(K.FREE, None, 4900.0, id="float-price"),
        pytest.param(K.FREE, None, True, id="bool-price"),
    ],
)
def test_discount_for_refuses_floats_and_non_integer_minor_units(kind, value, price_cents):
    with pytest.raises(TypeError):
        discount_for(kind, value, price_cents, "USD")


def test_terms_value_is_the_field_named_for_the_kind():
    assert terms(kind=K.PERCENT, percent=D("15"), amount_cents=500).value == D("15")
    assert terms(kind=K.FIXED, percent=D("15"), amount_cents=500).value == 500
    assert terms(kind=K.FREE, percent=D("15"), amount_cents=500).value is None


# ---- evaluate: accepted --------------------------------------------------------------------------------


def test_valid_coupon_gives_the_discount_on_the_session_price():
    assert evaluate(terms(), TRAINING, GUEST, NOW) == Discount(
        kind=K.PERCENT, price_cents=4900, discount_cents=735, due_cents=4165, currency="USD"
    )


def test_fixed_coupon_in_the_session_currency_applies():
    result = evaluate(terms(kind=K.FIXED, amount_cents=2000, currency="USD"), TRAINING, GUEST, NOW)
    assert result == Discount(
        kind=K.FIXED, price_cents=4900, discount_cents=2000, due_cents=2900, currency="USD"
    )


def test_free_coupon_leaves_nothing_due():
    result = evaluate(terms(kind=K.FREE, percent=None), TRAINING, GUEST, NOW)
    assert result == Discount(kind=K.FREE, price_cents=4900, discount_cents=4900, due_cents=0, currency="USD")


def test_result_types_say_whether_the_coupon_was_accepted():
    assert Discount.ok is True
    assert Rejection.ok is False
    assert evaluate(terms(), TRAINING, GUEST, NOW).ok is True
    rejection = evaluate(None, TRAINING, GUEST, NOW)
    assert rejection.ok is False
    assert rejection.code == "unknown"


# ---- evaluate: each rejection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coupon", "email", "reason"),
    [
        pytest.param(None, GUEST, R.UNKNOWN, id="unknown"),
        pytest.param(terms(active=False), GUEST, R.INACTIVE, id="inactive"),
        pytest.param(terms(valid_from=NOW + SECOND), GUEST, R.NOT_YET_VALID, id="not-yet-valid"),
        pytest.param(terms(valid_until=NOW - SECOND), GUEST, R.EXPIRED, id="expired"),
        pytest.param(
            terms(session_ids=frozenset({8, 9})), GUEST, R.NOT_VALID_FOR_SESSION, id="other-sessions"
        ),
        pytest.param(terms(organizer_id=4), GUEST, R.NOT_VALID_FOR_SESSION, id="other-organizer"),
        pytest.param(
            terms(kind=K.FIXED, amount_cents=500, currency="EUR"),
            GUEST,
            R.NOT_VALID_FOR_SESSION,
            id="fixed-amount-in-another-currency",
        ),
        pytest.param(terms(bound_email="other@example.org"), GUEST, R.BOUND_TO_OTHER_EMAIL, id="bound"),
        pytest.param(terms(uses=10), GUEST, R.USED_UP, id="used-up"),
        pytest.param(terms(uses=11), GUEST, R.USED_UP, id="more-uses-than-maximum"),
        pytest.param(terms(uses_by_email=2), GUEST, R.USED_UP_FOR_EMAIL, id="used-up-for-email"),
    ],
)
def test_each_failed_check_rejects_with_its_stable_code(coupon, email, reason):
    assert evaluate(coupon, TRAINING, email, NOW) == Rejection(reason)


def test_reason_codes_are_stable_strings():
    assert [reason.value for reason in RejectReason] == [
        "unknown",
        "inactive",
        "not_yet_valid",
        "expired",
        "not_valid_for_session",
        "bound_to_other_email",
        "used_up",
        "used_up_for_email",
    ]


def test_check_order_is_the_documented_order():
    assert CHECK_ORDER == (
        R.UNKNOWN,
        R.INACTIVE,
        R.NOT_YET_VALID,
        R.EXPIRED,
        R.NOT_VALID_FOR_SESSION,
        R.BOUND_TO_OTHER_EMAIL,
        R.USED_UP,
        R.USED_UP_FOR_EMAIL,
    )


# One way to fail each check; combined, they must report the earliest in CHECK_ORDER.
BREAKERS = {
    R.INACTIVE: {"active": False},
    R.NOT_YET_VALID: {"valid_from": NOW + SECOND},
    R.EXPIRED: {"valid_until": NOW},
    R.NOT_VALID_FOR_SESSION: {"session_ids": frozenset({99})},
    R.BOUND_TO_OTHER_EMAIL: {"bound_email": "other@example.org"},
    R.USED_UP: {"uses": 10},
    R.USED_UP_FOR_EMAIL: {"uses_by_email": 2},
}
SUBSETS = [
    frozenset(subset)
    for size in range(1, len(CHECK_ORDER) + 1)
    for subset in itertools.combinations(CHECK_ORDER, size)
]


@pytest.mark.parametrize("failing", SUBSETS, ids=lambda subset: "+".join(sorted(subset)))
def test_when_several_checks_fail_the_earliest_in_check_order_is_reported(failing):
    overrides = {}
    for reason in failing - {R.UNKNOWN}:
        overrides.update(BREAKERS[reason])
    coupon = None if R.UNKNOWN in failing else terms(**overrides)
    expected = next(reason for reason in CHECK_ORDER if reason in failing)
    assert evaluate(coupon, TRAINING, GUEST, NOW) == Rejection(expected)


def test_fixing_checks_one_by_one_reveals_each_reason_in_order():
    coupon = terms(**{key: value for change in BREAKERS.values() for key, value in change.items()})
    seen = [evaluate(None, TRAINING, GUEST, NOW).reason]
    base = terms()
    for reason in CHECK_ORDER[1:]:
        seen.append(evaluate(coupon, TRAINING, GUEST, NOW).reason)
        coupon = dataclasses.replace(coupon, **{key: getattr(base, key) for key in BREAKERS[reason]})
    assert seen == list(CHECK_ORDER)
    assert evaluate(coupon, TRAINING, GUEST, NOW).discount_cents == 735


# ---- validity window ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(NOW - SECOND, Rejection(R.NOT_YET_VALID), id="a-second-before-valid-from"),
        pytest.param(NOW, 735, id="exactly-at-valid-from-is-valid"),
        pytest.param(NOW + timedelta(days=1) - SECOND, 735, id="a-second-before-valid-until"),
        pytest.param(NOW + timedelta(days=1), Rejection(R.EXPIRED), id="exactly-at-valid-until-is-expired"),
    ],
)
def test_window_includes_valid_from_and_excludes_valid_until(moment, expected):
    coupon = terms(valid_from=NOW, valid_until=NOW + timedelta(days=1))
    result = evaluate(coupon, TRAINING, GUEST, moment)
    assert (result.discount_cents if isinstance(result, Discount) else result) == expected


def test_window_compares_instants_not_wall_clock_times():
    paris = datetime(2025, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert paris == NOW
    assert evaluate(terms(valid_until=paris), TRAINING, GUEST, NOW) == Rejection(R.EXPIRED)
    assert evaluate(terms(valid_from=paris), TRAINING, GUEST, NOW).discount_cents == 735


def test_open_ended_window_is_always_valid():
    far = datetime(2999, 1, 1, tzinfo=UTC)
    assert evaluate(terms(valid_from=NOW - timedelta(days=3650)), TRAINING, GUEST, far).discount_cents == 735


def test_naive_moment_is_refused():
    with pytest.raises(CouponError) as raised:
        evaluate(terms(), TRAINING, GUEST, datetime(2025, 6, 1, 12, 0))  # noqa: DTZ001
    assert raised.value.code == "moment_not_aware"


# ---- session restriction -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "applies"),
    [
        pytest.param({}, True, id="no-restriction"),
        pytest.param({"session_ids": frozenset({7, 8})}, True, id="chosen-sessions-include-it"),
        pytest.param({"session_ids": frozenset({8})}, False, id="chosen-sessions-exclude-it"),
        pytest.param({"session_ids": frozenset()}, False, id="empty-choice-restricts-to-no-session"),
        pytest.param({"organizer_id": 3}, True, id="organizer-matches"),
        pytest.param({"organizer_id": 4}, False, id="organizer-differs"),
        pytest.param({"session_ids": frozenset({7}), "organizer_id": 3}, True, id="both-hold"),
        pytest.param({"session_ids": frozenset({7}), "organizer_id": 4}, False, id="organizer-differs-too"),
        pytest.param({"session_ids": frozenset({8}), "organizer_id": 3}, False, id="session-differs-too"),
        pytest.param({"kind": K.FIXED, "amount_cents": 1, "currency": "USD"}, True, id="fixed-same-currency"),
        pytest.param({"kind": K.FIXED, "amount_cents": 1, "currency": "JPY"}, False, id="fixed-in-jpy"),
        pytest.param({"kind": K.FIXED, "amount_cents": 1, "currency": None}, False, id="fixed-no-currency"),
        pytest.param({"currency": "JPY"}, True, id="percent-ignores-currency"),
        pytest.param({"kind": K.FREE, "currency": "JPY"}, True, id="free-ignores-currency"),
    ],
)
def test_session_restriction_and_fixed_amount_currency(overrides, applies):
    assert applies_to(terms(**overrides), TRAINING) is applies


# ---- email binding and per-email limit -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bound_email", "email", "reason"),
    [
        pytest.param("guest@example.org", "guest@example.org", None, id="same"),
        pytest.param("Guest@Example.ORG", "  guest@example.org ", None, id="case-and-spaces-ignored"),
        pytest.param(" guest@example.org\t", "GUEST@EXAMPLE.ORG", None, id="bound-email-trimmed"),
        pytest.param("guest@example.org", "guest2@example.org", R.BOUND_TO_OTHER_EMAIL, id="other"),
        pytest.param("guest@example.org", "", R.BOUND_TO_OTHER_EMAIL, id="no-email-typed"),
        pytest.param(None, "anyone@example.org", None, id="not-bound"),
        pytest.param("  ", "anyone@example.org", None, id="blank-bound-email-is-not-bound"),
    ],
)
def test_email_binding_is_case_insensitive_and_trimmed(bound_email, email, reason):
    result = evaluate(terms(bound_email=bound_email), TRAINING, email, NOW)
    assert result == (Rejection(reason) if reason else discount_for(K.PERCENT, D("15"), 4900, "USD"))


def test_normalize_email_trims_and_folds_case():
    assert normalize_email("  Anna.Muster@Example.ORG\n") == "anna.muster@example.org"
    assert normalize_email(None) == ""


@pytest.mark.parametrize(
    ("max_uses_per_email", "uses_by_email", "reason"),
    [
        pytest.param(None, 9, None, id="no-per-email-limit"),
        pytest.param(2, 1, None, id="one-use-left-for-email"),
        pytest.param(2, 2, R.USED_UP_FOR_EMAIL, id="limit-reached-for-email"),
        pytest.param(1, 1, R.USED_UP_FOR_EMAIL, id="single-use-per-email"),
    ],
)
def test_per_email_limit(max_uses_per_email, uses_by_email, reason):
    coupon = terms(max_uses_per_email=max_uses_per_email, uses_by_email=uses_by_email)
    result = evaluate(coupon, TRAINING, GUEST, NOW)
    assert result == (Rejection(reason) if reason else discount_for(K.PERCENT, D("15"), 4900, "USD"))


@pytest.mark.parametrize(
    ("uses", "reason"),
    [
        pytest.param(0, None, id="unused"),
        pytest.param(9, None, id="last-use-left"),
        pytest.param(10, R.USED_UP, id="maximum-reached"),
    ],
)
def test_maximum_uses(uses, reason):
    result = evaluate(terms(uses=uses), TRAINING, GUEST, NOW)
    assert result == (Rejection(reason) if reason else discount_for(K.PERCENT, D("15"), 4900, "USD"))


def test_evaluate_refuses_terms_whose_value_is_invalid():
    with pytest.raises(CouponError) as raised:
        evaluate(terms(percent=D("150")), TRAINING, GUEST, NOW)
    assert raised.value.code == "percent_out_of_range"


# ---- validation of admin input -------------------------------------------------------------------------

LATER = NOW + timedelta(days=30)


@pytest.mark.parametrize(
    ("kind", "value", "options", "codes"),
    [
        pytest.param(K.PERCENT, D("15"), {}, [], id="percent-ok"),
        pytest.param(K.PERCENT, D("0"), {}, [], id="percent-zero-ok"),
        pytest.param(K.PERCENT, D("100.00"), {}, [], id="percent-hundred-ok"),
        pytest.param(K.PERCENT, D("12.50"), {}, [], id="percent-two-decimals-ok"),
        pytest.param(K.PERCENT, D("12.500"), {}, [], id="trailing-zero-is-not-a-third-decimal"),
        pytest.param(K.PERCENT, D("12.345"), {}, ["percent_too_precise"], id="percent-three-decimals"),
        pytest.param(K.PERCENT, D("100.01"), {}, ["percent_out_of_range"], id="percent-above-100"),
        pytest.param(K.PERCENT, D("-0.01"), {}, ["percent_out_of_range"], id="percent-negative"),
        pytest.param(K.PERCENT, D("Infinity"), {}, ["percent_out_of_range"], id="percent-infinite"),
        pytest.param(K.PERCENT, None, {}, ["percent_missing"], id="percent-missing"),
        pytest.param(K.FIXED, 1500, {"currency": "USD"}, [], id="fixed-ok"),
        pytest.param(K.FIXED, 0, {"currency": "JPY"}, [], id="fixed-zero-ok"),
        pytest.param(K.FIXED, -1, {"currency": "USD"}, ["amount_negative"], id="amount-negative"),
        pytest.param(K.FIXED, None, {"currency": "USD"}, ["amount_missing"], id="amount-missing"),
        pytest.param(K.FIXED, 1500, {}, ["currency_unknown"], id="fixed-without-currency"),
        pytest.param(K.FIXED, 1500, {"currency": "usd"}, ["currency_unknown"], id="fixed-lowercase-currency"),
        pytest.param(K.FIXED, 1500, {"currency": "XAU"}, ["currency_unknown"], id="fixed-gold"),
        pytest.param(K.FREE, None, {}, [], id="free-ok"),
        pytest.param(K.FREE, None, {"max_uses": 0}, ["max_uses_below_one"], id="max-uses-zero"),
        pytest.param(K.FREE, None, {"max_uses": 5, "max_uses_per_email": 5}, [], id="per-email-equal-max"),
        pytest.param(
            K.FREE,
            None,
            {"max_uses": 5, "max_uses_per_email": 6},
            ["per_email_above_max"],
            id="per-email-above-max",
        ),
        pytest.param(K.FREE, None, {"max_uses_per_email": 0}, ["per_email_below_one"], id="per-email-zero"),
        pytest.param(K.FREE, None, {"valid_from": NOW, "valid_until": LATER}, [], id="window-ok"),
        pytest.param(K.FREE, None, {"valid_from": NOW}, [], id="only-valid-from"),
        pytest.param(K.FREE, None, {"valid_until": LATER}, [], id="only-valid-until"),
        pytest.param(
            K.FREE, None, {"valid_from": NOW, "valid_until": NOW}, ["window_inverted"], id="empty-window"
        ),
        pytest.param(
            K.FREE, None, {"valid_from": LATER, "valid_until": NOW}, ["window_inverted"], id="inverted-window"
        ),
        pytest.param(
            K.FREE,
            None,
            {"valid_from": datetime(2025, 6, 1)},  # noqa: DTZ001
            ["window_not_aware"],
            id="naive-window",
        ),
        pytest.param(
            K.PERCENT,
            D("101"),
            {"max_uses": 0, "max_uses_per_email": 0, "valid_from": LATER, "valid_until": NOW},
            ["percent_out_of_range", "max_uses_below_one", "per_email_below_one", "window_inverted"],
            id="every-problem-reported",
        ),
    ],
)
def test_validate_terms_reports_stable_codes(kind, value, options, codes):
    assert validate_terms(kind, value, **options) == codes


def test_validate_terms_refuses_floats():
    with pytest.raises(TypeError):
        validate_terms(K.PERCENT, 12.5)


def test_validate_coupon_terms_checks_the_code_and_the_settings():
    assert validate_coupon_terms(terms()) == []
    assert validate_coupon_terms(terms(code="", percent=D("0.001"), max_uses=1)) == [
        "code_required",
        "percent_too_precise",
        "per_email_above_max",
    ]


# ---- codes ---------------------------------------------------------------------------------------------


def test_code_alphabet_has_no_ambiguous_symbols():
    assert CODE_ALPHABET == "23456789ACDEFGHJKMNPQRTUVWXY"
    assert len(set(CODE_ALPHABET)) == 28
    assert set(CODE_ALPHABET) & set("0O1IL2Z5S8B") == {"2", "5", "8"}  # of look-alikes, digits stay


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        pytest.param("summer25", "SUMMER25", id="lower-case"),
        pytest.param("  SuMmEr25 \n", "SUMMER25", id="trimmed"),
        pytest.param("ABCD-EFGH-JK", "ABCDEFGHJK", id="dashes"),
        pytest.param("abcd efgh\tjk", "ABCDEFGHJK", id="spaces-and-tabs"),
        pytest.param("ABCD\u2013EFGH\u2212JK", "ABCDEFGHJK", id="en-dash-and-minus-sign"),
        pytest.param("\uff21\uff22\uff23\uff11\uff12", "ABC12", id="full-width-characters"),
        pytest.param("", "", id="empty"),
        pytest.param(None, "", id="none"),
    ],
)
def test_normalize_code_makes_codes_case_insensitive(typed, normalized):
    assert normalize_code(typed) == normalized


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        pytest.param("SUMMER25", [], id="ok"),
        pytest.param("summer-25", [], id="typed-form-ok"),
        pytest.param("O0I1L", [], id="ambiguous-symbols-allowed-in-chosen-codes"),
        pytest.param("  - ", ["code_required"], id="blank"),
        pytest.param("SUMMER_25", ["code_bad_characters"], id="underscore"),
        pytest.param("ÉTÉ25", ["code_bad_characters"], id="accented-letters"),
        pytest.param("A" * 40, [], id="forty-characters"),
        pytest.param("A" * 41, ["code_too_long"], id="forty-one-characters"),
    ],
)
def test_validate_code_reports_stable_codes(text, codes):
    assert validate_code(text) == codes


class FirstSymbol:
    """A deterministic chooser: always the first symbol."""

    @staticmethod
    def choice(seq: str) -> str:
        return seq[0]


def test_generate_code_uses_the_normalized_prefix_and_the_given_rng():
    assert generate_code(8, prefix="vip-", rng=FirstSymbol) == "VIP22222222"
    assert generate_code(rng=FirstSymbol) == "2222222222"


def test_generated_codes_use_the_alphabet_and_the_length():
    for length in (8, 10, 16):
        code = generate_code(length, prefix="SPRING")
        assert code.startswith("SPRING")
        assert len(code) == 6 + length
        assert set(code[6:]) <= set(CODE_ALPHABET)
        assert normalize_code(code) == code
        assert validate_code(code) == []


def test_generated_codes_are_unique_over_1000_draws():
    codes = {generate_code() for _ in range(1000)}
    assert len(codes) == 1000


def test_generate_code_draws_from_secrets_by_default():
    assert generate_code.__defaults__ == (10, "", secrets)


@pytest.mark.parametrize(
    ("length", "prefix", "code"),
    [
        pytest.param(7, "", "code_too_short", id="random-part-below-8"),
        pytest.param(8, "VIP_", "code_bad_characters", id="bad-prefix"),
        pytest.param(33, "VIPVIPVI", "code_too_long", id="longer-than-40"),
    ],
)
def test_generate_code_refuses_bad_settings(length, prefix, code):
    with pytest.raises(CouponError) as raised:
        generate_code(length, prefix=prefix)
    assert raised.value.code == code


# ---- properties ----------------------------------------------------------------------------------------

prices = st.integers(min_value=0, max_value=10**10)
percents = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
amounts = st.integers(min_value=0, max_value=10**11)
currencies = st.sampled_from(["USD", "EUR", "JPY", "BHD"])
values_by_kind = st.one_of(
    st.tuples(st.just(K.PERCENT), percents),
    st.tuples(st.just(K.FIXED), amounts),
    st.tuples(st.just(K.FREE), st.none()),
)


@given(values_by_kind, prices, currencies)
def test_discount_is_between_zero_and_the_price_and_due_is_the_rest(kind_value, price, currency):
    kind, value = kind_value
    result = discount_for(kind, value, price, currency)
    assert 0 <= result.discount_cents <= price
    assert result.due_cents + result.discount_cents == price
    assert result.due_cents >= 0
    assert (result.price_cents, result.currency, result.kind) == (price, currency, kind)


@given(prices, currencies)
def test_free_always_leaves_zero_due(price, currency):
    result = discount_for(K.FREE, None, price, currency)
    assert result.due_cents == 0
    assert result.discount_cents == price


@given(percents, percents, prices)
def test_percent_discount_is_monotonic_in_the_percent(first, second, price):
    low, high = sorted((first, second))
    assert (
        discount_for(K.PERCENT, low, price, "USD").discount_cents
        <= discount_for(K.PERCENT, high, price, "USD").discount_cents
    )


@given(percents, prices)
def test_percent_discount_is_within_half_a_minor_unit_of_the_exact_share(percent, price):
    discount = discount_for(K.PERCENT, percent, price, "USD").discount_cents
    exact = D(price) * percent / 100
    assert -D("0.5") < discount - exact <= D("0.5")


@given(amounts, prices)
def test_fixed_discount_is_the_amount_capped_at_the_price(amount, price):
    assert discount_for(K.FIXED, amount, price, "USD").discount_cents == min(amount, price)
