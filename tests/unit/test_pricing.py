"""The estimated session cost: exact tables and Hypothesis properties.

    computers              = expected attendees + 1
    person-minutes         = duration x computers
    teleconference-minutes = duration x teleconference participants (0 for none / internet)
    subtotal               = person-minutes x person-minute rate
                           + teleconference-minutes x audio rate   (rounded half-up once)
    total                  = exact subtotal x (1 + tax % / 100)    (rounded half-up once)
    tax                    = total - the rounded subtotal          (the lines add up)

Every expected value in the tables below was computed by hand.
"""

import dataclasses
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.billing.pricing import (
    AudioType,
    PricingError,
    Quote,
    Rates,
    Usage,
    estimate,
    validate_usage,
)
from portal.money import minor_digits, round_to_minor

D = Decimal
A = AudioType


def usd(**overrides) -> Rates:
    values = {
        "currency": "USD",
        "person_minute": D("0.0125"),
        "toll": D("0.09"),
        "toll_free": D("0.12"),
        "callback": D("0.15"),
        "tax_percent": None,
    }
    values.update(overrides)
    return Rates(**values)


JPY = Rates(
    currency="JPY",
    person_minute=D("0.25"),
    toll=D("12"),
    toll_free=D("15"),
    callback=D("20"),
    tax_percent=D("10"),
)
BHD = Rates(
    currency="BHD",
    person_minute=D("0.0045"),
    toll=D("0.0375"),
    toll_free=D("0.05"),
    callback=D("0.06"),
    tax_percent=D("10"),
)

# (usage, rates) -> (person_minutes, teleconference_minutes, str(person_line),
#                    str(teleconference_line), subtotal_cents, tax_cents, total_cents)
EXACT_CASES = [
    pytest.param(
        Usage(60, 10, A.INTERNET, 0),
        usd(),
        (660, 0, "8.2500", "0", 825, 0, 825),
        id="internet-60min-10-attendees",
    ),
    pytest.param(
        Usage(60, 10, A.INTERNET, 5),
        usd(),
        (660, 0, "8.2500", "0", 825, 0, 825),
        id="internet-ignores-teleconference-participants",
    ),
    pytest.param(
        Usage(60, 10, A.NONE, 11),
        usd(),
        (660, 0, "8.2500", "0", 825, 0, 825),
        id="no-audio-ignores-teleconference-participants",
    ),
    pytest.param(
        Usage(60, 10, A.TOLL, 4),
        usd(),
        (660, 240, "8.2500", "21.60", 2985, 0, 2985),
        id="toll",
    ),
    pytest.param(
        Usage(30, 5, A.TOLL_FREE, 6),
        usd(),
        (180, 180, "2.2500", "21.60", 2385, 0, 2385),
        id="toll-free-participants-equal-computers",
    ),
    pytest.param(
        # 1.6875 + 20.25 = 21.9375 -> 2193.75 cents -> 2194
        Usage(45, 2, A.CALLBACK, 3),
        usd(),
        (135, 135, "1.6875", "20.25", 2194, 0, 2194),
        id="callback",
    ),
    pytest.param(
        # 2 x 0.0125 = 0.025 = 2.5 cents -> 3 (half-even would give 2)
        Usage(2, 0, A.INTERNET, 0),
        usd(),
        (2, 0, "0.0250", "0", 3, 0, 3),
        id="subtotal-exactly-half-a-cent-rounds-up",
    ),
    pytest.param(
        # 11 x 0.0125 = 0.1375 = 13.75 cents -> 14
        Usage(1, 10, A.INTERNET, 0),
        usd(),
        (11, 0, "0.1375", "0", 14, 0, 14),
        id="one-minute-sub-cent-rate",
    ),
    pytest.param(
        # 0.025 + 0.025 = 0.05 -> 5 cents; rounding each line first would give 3 + 3 = 6
        Usage(2, 0, A.TOLL, 1),
        usd(toll=D("0.0125")),
        (2, 2, "0.0250", "0.0250", 5, 0, 5),
        id="subtotal-rounded-once-not-per-line",
    ),
    pytest.param(
        # 825 x 10 / 100 = 82.5 -> 83
        Usage(60, 10, A.INTERNET, 0),
        usd(tax_percent=D("10")),
        (660, 0, "8.2500", "0", 825, 83, 908),
        id="tax-half-cent-rounds-up",
    ),
    pytest.param(
        # 2985 x 8.25 / 100 = 246.2625 -> 246
        Usage(60, 10, A.TOLL, 4),
        usd(tax_percent=D("8.25")),
        (660, 240, "8.2500", "21.60", 2985, 246, 3231),
        id="tax-8.25-percent",
    ),
    pytest.param(
        # 0.025 x 1.5 = 0.0375 -> 4 cents, rounded once (taxing the rounded 3 cents would give 5);
        # the subtotal line shows 3, the tax line the 1 cent the estimate adds
        Usage(2, 0, A.INTERNET, 0),
        usd(tax_percent=D("50")),
        (2, 0, "0.0250", "0", 3, 1, 4),
        id="taxed-estimate-rounded-once",
    ),
    pytest.param(
        # 54 x 0.0125 = 0.675; x 1.0825 = 0.7306875 -> 73 cents. Rounding twice (0.68, then 5.61
        # cents of tax -> 6) would charge 74.
        Usage(9, 5, A.NONE, 0),
        usd(tax_percent=D("8.25")),
        (54, 0, "0.6750", "0", 68, 5, 73),
        id="tax-rounded-once-not-twice",
    ),
    pytest.param(
        Usage(60, 10, A.INTERNET, 0),
        usd(tax_percent=D("0")),
        (660, 0, "8.2500", "0", 825, 0, 825),
        id="tax-zero-percent",
    ),
    pytest.param(
        # 22.50 + 1080 = 1102.5 yen -> 1103; tax 110.3 -> 110
        Usage(30, 2, A.TOLL, 3),
        JPY,
        (90, 90, "22.50", "1080", 1103, 110, 1213),
        id="jpy-no-minor-unit",
    ),
    pytest.param(
        # 2 x 0.25 = 0.5 yen -> 1; tax 0.1 -> 0
        Usage(2, 0, A.INTERNET, 0),
        JPY,
        (2, 0, "0.50", "0", 1, 0, 1),
        id="jpy-half-yen-rounds-up",
    ),
    pytest.param(
        # 0.09 + 0.75 = 0.84 BHD = 840 fils; tax 84
        Usage(10, 1, A.TOLL, 2),
        BHD,
        (20, 20, "0.0900", "0.7500", 840, 84, 924),
        id="bhd-three-decimals",
    ),
    pytest.param(
        # 4 x 0.000125 = 0.0005 BHD = 0.5 fils -> 1; tax 0.1 -> 0
        Usage(1, 3, A.INTERNET, 0),
        dataclasses.replace(BHD, person_minute=D("0.000125")),
        (4, 0, "0.000500", "0", 1, 0, 1),
        id="bhd-half-fils-rounds-up",
    ),
    pytest.param(
        Usage(1440, 0, A.INTERNET, 0),
        usd(),
        (1440, 0, "18.0000", "0", 1800, 0, 1800),
        id="longest-session",
    ),
    pytest.param(
        Usage(10, 1, A.CALLBACK, 2),
        usd(),
        (20, 20, "0.2500", "3.00", 325, 0, 325),
        id="callback-participants-equal-computers",
    ),
    pytest.param(
        Usage(60, 10, A.TOLL, 4),
        usd(person_minute=D("0"), toll=D("0")),
        (660, 240, "0", "0", 0, 0, 0),
        id="zero-rates-cost-nothing",
    ),
]


@pytest.mark.parametrize(("usage", "rates", "expected"), EXACT_CASES)
def test_estimate_exact_values(usage, rates, expected):
    quote = estimate(usage, rates)
    assert (
        quote.person_minutes,
        quote.teleconference_minutes,
        str(quote.person_line),
        str(quote.teleconference_line),
        quote.subtotal_cents,
        quote.tax_cents,
        quote.total_cents,
    ) == expected
    assert quote.usage is usage
    assert quote.rates is rates
    assert quote.currency == rates.currency


def test_subtotal_rounds_half_up_once():
    quote = estimate(Usage(2, 0, A.TOLL, 1), usd(toll=D("0.0125")))
    # Each line is 2.5 cents; half-up per line would be 6, half-even on the sum 4.
    assert quote.subtotal_cents == 5


def test_line_totals_stay_exact():
    quote = estimate(Usage(45, 2, A.CALLBACK, 3), usd())
    assert isinstance(quote.person_line, Decimal)
    assert isinstance(quote.teleconference_line, Decimal)
    assert quote.person_line == D("1.6875")  # not 1.69
    assert quote.person_line.as_tuple().exponent == -4
    assert quote.teleconference_line == D("20.25")
    assert quote.teleconference_rate == D("0.15")


def test_teleconference_rate_is_the_chosen_audio_types_rate():
    rates = usd()
    assert [estimate(Usage(10, 1, audio, 1), rates).teleconference_rate for audio in AudioType] == [
        D("0"),
        D("0"),
        D("0.09"),
        D("0.12"),
        D("0.15"),
    ]


@pytest.mark.parametrize(
    ("audio", "uses_teleconference", "rate"),
    [
        (A.NONE, False, D("0")),
        (A.INTERNET, False, D("0")),
        (A.TOLL, True, D("0.09")),
        (A.TOLL_FREE, True, D("0.12")),
        (A.CALLBACK, True, D("0.15")),
    ],
)
def test_audio_type_rate_and_teleconference_use(audio, uses_teleconference, rate):
    assert audio.uses_teleconference is uses_teleconference
    assert usd().for_audio(audio) == rate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("none", A.NONE),
        ("internet", A.INTERNET),
        ("toll", A.TOLL),
        ("toll_free", A.TOLL_FREE),
        ("callback", A.CALLBACK),
        ("TOLL", None),
        ("toll-free", None),
        ("", None),
        (None, None),
    ],
)
def test_audio_type_parse_accepts_only_exact_values(value, expected):
    assert AudioType.parse(value) is expected


# --- validation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "codes"),
    [
        (Usage(1, 0, A.INTERNET, 0), []),
        (Usage(1440, 10, A.TOLL, 11), []),
        (Usage(0, 10, A.INTERNET, 0), ["duration_out_of_range"]),
        (Usage(1441, 10, A.INTERNET, 0), ["duration_out_of_range"]),
        (Usage(-5, 10, A.INTERNET, 0), ["duration_out_of_range"]),
        (Usage(60, -1, A.INTERNET, 0), ["attendees_negative"]),
        (Usage(60, 10, A.TOLL, -1), ["teleconference_negative"]),
        (Usage(60, 10, A.TOLL, 12), ["teleconference_above_computers"]),
        (Usage(60, 0, A.CALLBACK, 2), ["teleconference_above_computers"]),
        (Usage(0, 10, A.TOLL, 12), ["duration_out_of_range", "teleconference_above_computers"]),
    ],
)
def test_validate_usage_codes(usage, codes):
    assert validate_usage(usage) == codes


@pytest.mark.parametrize(
    ("usage", "code"),
    [
        (Usage(0, 10, A.INTERNET, 0), "duration_out_of_range"),
        (Usage(1441, 10, A.INTERNET, 0), "duration_out_of_range"),
        (Usage(60, -1, A.INTERNET, 0), "attendees_negative"),
        (Usage(60, 10, A.TOLL, 12), "teleconference_above_computers"),
        (Usage(0, 10, A.TOLL, 12), "duration_out_of_range"),  # the first code
    ],
)
def test_estimate_refuses_invalid_usage(usage, code):
    with pytest.raises(PricingError) as info:
        estimate(usage, usd())
    assert info.value.code == code
    assert str(info.value) == code


@pytest.mark.parametrize("field", ["person_minute", "toll", "toll_free", "callback", "tax_percent"])
@pytest.mark.parametrize("bad", [D("-0.0001"), D("NaN"), D("Infinity"), 0.0125, "0.0125"], ids=repr)
def test_estimate_refuses_bad_rate(field, bad):
    with pytest.raises(PricingError) as info:
        estimate(Usage(60, 10, A.TOLL, 4), usd(**{field: bad}))
    assert info.value.code == "bad_rate"


def test_pricing_error_is_a_value_error():
    assert issubclass(PricingError, ValueError)


# --- snapshot -----------------------------------------------------------------------


def test_snapshot_is_json_and_keeps_rates_as_strings():
    quote = estimate(Usage(60, 10, A.TOLL, 4), usd(tax_percent=D("8.25")))
    snapshot = quote.snapshot()
    assert json.loads(json.dumps(snapshot)) == {
        "usage": {
            "duration_minutes": 60,
            "expected_attendees": 10,
            "audio": "toll",
            "teleconference_participants": 4,
        },
        "rates": {
            "currency": "USD",
            "person_minute": "0.0125",
            "toll": "0.09",
            "toll_free": "0.12",
            "callback": "0.15",
            "tax_percent": "8.25",
        },
        "person_minutes": 660,
        "teleconference_minutes": 240,
        "teleconference_rate": "0.09",
        "person_line": "8.2500",
        "teleconference_line": "21.60",
        "subtotal_cents": 2985,
        "tax_cents": 246,
        "total_cents": 3231,
    }
    assert type(snapshot["rates"]["person_minute"]) is str
    assert type(snapshot["usage"]["audio"]) is str  # not the enum


def test_snapshot_without_tax_records_null_and_never_uses_exponents():
    quote = estimate(Usage(1, 3, A.INTERNET, 0), usd(person_minute=D("0.000001"), toll=D("1E+1")))
    snapshot = quote.snapshot()
    assert snapshot["rates"]["tax_percent"] is None
    assert snapshot["rates"]["person_minute"] == "0.000001"
    assert snapshot["rates"]["toll"] == "10"
    assert snapshot["person_line"] == "0.000004"
    assert json.loads(json.dumps(snapshot))["rates"] == snapshot["rates"]


def test_snapshot_rates_round_trip_to_the_same_decimals():
    rates = usd(tax_percent=D("8.25"))
    snapshot = estimate(Usage(60, 10, A.TOLL, 4), rates).snapshot()
    restored = Rates(
        currency=snapshot["rates"]["currency"],
        **{key: D(value) for key, value in snapshot["rates"].items() if key != "currency"},
    )
    assert restored == rates


def test_quote_is_frozen():
    quote = estimate(Usage(60, 10, A.INTERNET, 0), usd())
    with pytest.raises(dataclasses.FrozenInstanceError):
        quote.total_cents = 0  # type: ignore[misc]


# --- Hypothesis properties ----------------------------------------------------------

CURRENCIES = ["USD", "EUR", "JPY", "BHD"]


def rate_values() -> st.SearchStrategy[Decimal]:
    """Non-negative Decimal rates with 4 to 6 decimal places (never floats)."""
    return st.integers(min_value=4, max_value=6).flatmap(
        lambda places: st.decimals(
            min_value=D(0), max_value=D(5), places=places, allow_nan=False, allow_infinity=False
        )
    )


tax_values = st.none() | st.decimals(
    min_value=D(0), max_value=D(100), places=2, allow_nan=False, allow_infinity=False
)


@st.composite
def rates_strategy(draw) -> Rates:
    return Rates(
        currency=draw(st.sampled_from(CURRENCIES)),
        person_minute=draw(rate_values()),
        toll=draw(rate_values()),
        toll_free=draw(rate_values()),
        callback=draw(rate_values()),
        tax_percent=draw(tax_values),
    )


@st.composite
def usages(draw, audio=st.sampled_from(AudioType)) -> Usage:
    attendees = draw(st.integers(min_value=0, max_value=1000))
    return Usage(
        duration_minutes=draw(st.integers(min_value=1, max_value=1440)),
        expected_attendees=attendees,
        audio=draw(audio),
        teleconference_participants=draw(st.integers(min_value=0, max_value=attendees + 1)),
    )


teleconference_audio = st.sampled_from([A.TOLL, A.TOLL_FREE, A.CALLBACK])


@given(usage=usages(), rates=rates_strategy())
def test_total_is_never_negative(usage, rates):
    quote = estimate(usage, rates)
    assert quote.total_cents >= 0
    assert quote.subtotal_cents >= 0
    assert quote.tax_cents >= 0


@given(usage=usages(), rates=rates_strategy())
def test_total_is_subtotal_plus_tax(usage, rates):
    quote = estimate(usage, rates)
    assert quote.total_cents == quote.subtotal_cents + quote.tax_cents
    assert all(type(value) is int for value in (quote.subtotal_cents, quote.tax_cents, quote.total_cents))


@given(usage=usages(), rates=rates_strategy())
def test_lines_are_exact_products_of_minutes_and_rates(usage, rates):
    quote = estimate(usage, rates)
    assert quote.person_minutes == usage.duration_minutes * (usage.expected_attendees + 1)
    if usage.audio in (A.TOLL, A.TOLL_FREE, A.CALLBACK):
        assert quote.teleconference_minutes == usage.duration_minutes * usage.teleconference_participants
    else:
        assert quote.teleconference_minutes == 0
        assert quote.teleconference_line == 0
    assert quote.person_line == quote.person_minutes * rates.person_minute
    assert quote.teleconference_line == quote.teleconference_minutes * quote.teleconference_rate


@given(usage=usages(), rates=rates_strategy())
def test_subtotal_is_the_exact_sum_rounded_half_up_once(usage, rates):
    quote = estimate(usage, rates)
    exact = (quote.person_line + quote.teleconference_line).scaleb(minor_digits(rates.currency))
    # Half-up for a non-negative amount: subtotal - 1/2 <= exact < subtotal + 1/2.
    assert quote.subtotal_cents - D("0.5") <= exact < quote.subtotal_cents + D("0.5")


@given(usage=usages(), rates=rates_strategy())
def test_the_taxed_estimate_is_rounded_once_and_its_lines_add_up(usage, rates):
    quote = estimate(usage, rates)
    exact = (quote.person_line + quote.teleconference_line) * (1 + (rates.tax_percent or D(0)) / 100)
    exact_minor = exact * 10 ** minor_digits(rates.currency)
    # Half-up: within half a minor unit below, and less than half above.
    assert quote.total_cents - D("0.5") <= exact_minor < quote.total_cents + D("0.5")
    assert quote.subtotal_cents + quote.tax_cents == quote.total_cents


@given(
    usage=usages(),
    rates=rates_strategy(),
    durations=st.lists(st.integers(min_value=1, max_value=1440), min_size=2, max_size=2),
)
def test_total_is_non_decreasing_in_duration(usage, rates, durations):
    shorter, longer = sorted(durations)
    short = estimate(dataclasses.replace(usage, duration_minutes=shorter), rates)
    long = estimate(dataclasses.replace(usage, duration_minutes=longer), rates)
    assert short.total_cents <= long.total_cents


@given(
    usage=usages(),
    rates=rates_strategy(),
    extra_attendees=st.integers(min_value=0, max_value=1000),
)
def test_total_is_non_decreasing_in_expected_attendees(usage, rates, extra_attendees):
    more = dataclasses.replace(usage, expected_attendees=usage.expected_attendees + extra_attendees)
    assert estimate(usage, rates).total_cents <= estimate(more, rates).total_cents


@given(
    usage=usages(audio=teleconference_audio),
    rates=rates_strategy(),
    data=st.data(),
)
def test_total_is_non_decreasing_in_teleconference_participants(usage, rates, data):
    more = data.draw(st.integers(min_value=usage.teleconference_participants, max_value=usage.computers))
    fewer_quote = estimate(usage, rates)
    more_quote = estimate(dataclasses.replace(usage, teleconference_participants=more), rates)
    assert fewer_quote.total_cents <= more_quote.total_cents


@given(usage=usages(), rates=rates_strategy(), data=st.data())
def test_estimate_is_invariant_under_keyword_order(usage, rates, data):
    rate_items = data.draw(st.permutations(list(dataclasses.asdict(rates).items())))
    usage_items = data.draw(st.permutations(list(dataclasses.asdict(usage).items())))
    shuffled = estimate(Usage(**dict(usage_items)), Rates(**dict(rate_items)))
    quote = estimate(usage, rates)
    assert shuffled == quote
    assert shuffled.snapshot() == quote.snapshot()


@given(usage=usages(), rates=rates_strategy())
def test_subtotal_is_the_same_whichever_line_is_added_first(usage, rates):
    quote = estimate(usage, rates)
    assert round_to_minor(quote.person_line + quote.teleconference_line, rates.currency) == (
        quote.subtotal_cents
    )
    assert round_to_minor(quote.teleconference_line + quote.person_line, rates.currency) == (
        quote.subtotal_cents
    )


@given(
    rates=rates_strategy(),
    duration=st.integers(min_value=1, max_value=1440),
    computers=st.integers(min_value=1, max_value=1440),
)
def test_person_minutes_commute_between_duration_and_computers(rates, duration, computers):
    one = estimate(Usage(duration, computers - 1, A.INTERNET, 0), rates)
    other = estimate(Usage(computers, duration - 1, A.INTERNET, 0), rates)
    assert one.person_minutes == other.person_minutes == duration * computers
    assert one.total_cents == other.total_cents


@given(usage=usages(audio=st.sampled_from([A.NONE, A.INTERNET])), rates=rates_strategy())
def test_no_teleconference_audio_ignores_participants_and_audio_rates(usage, rates):
    base = estimate(dataclasses.replace(usage, teleconference_participants=0), rates)
    quote = estimate(usage, dataclasses.replace(rates, toll=D("9.999999"), toll_free=D("9"), callback=D("7")))
    assert quote.total_cents == base.total_cents
    assert quote.teleconference_minutes == 0


def test_rates_strategy_generates_decimals_only():
    # Guard for the strategies above: the properties mean nothing with float rates.
    @given(rates=rates_strategy())
    def check(rates):
        for value in (rates.person_minute, rates.toll, rates.toll_free, rates.callback):
            assert type(value) is Decimal
            assert -value.as_tuple().exponent <= 6
        assert rates.tax_percent is None or type(rates.tax_percent) is Decimal

    check()


def test_quote_type_is_returned():
    assert type(estimate(Usage(60, 10, A.INTERNET, 0), usd())) is Quote
