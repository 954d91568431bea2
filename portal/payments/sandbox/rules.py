"""Pure outcome rules: what Braintree's sandbox answers for a nonce, a card number or an amount.

No I/O and no clock here, so every rule is easy to test and to read next to
Braintree's testing docs (notes §4). Divergences from the real sandbox, kept on
purpose so that the offline demo can show every case without special amounts:

* ``fake-processor-declined-{visa,mastercard,amex,discover}-nonce`` decline a *sale*
  with 2000 Do Not Honor. In Braintree's sandbox they only fail card *verification*;
  a sale's outcome there depends on the amount alone.
* The verification-failure card numbers 4000111111111115, 5105105105105100 and
  6011000990139424 decline a sale with 2000 for the same reason. The Amex one
  (378734493671000) is also the SDK's everyday ``CreditCardNumbers.Amex``, so it approves.
* ``fake-gateway-rejected-*`` nonces and the fraud card 4000111111111511 are rejected
  without any fraud-tool configuration.
* A card number whose expiration date has passed declines with 2004 Expired Card.
* Only cards and PayPal are simulated: other instruments' test nonces (Apple Pay,
  Venmo, ACH, ...) answer 91577 "Merchant account does not support payment instrument",
  as a merchant account without those enabled would. 3-D Secure nonces are plain Visa cards.
"""

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import get_currency_precision

from portal.payments.sandbox._bt import braintree

# --- outcomes ------------------------------------------------------------------------

# Braintree's published decline list (code, text, hard/soft); other 2xxx codes read
# "Processor Declined".
_DECLINES = {
    2000: ("Do Not Honor", "soft"),
    2001: ("Insufficient Funds", "soft"),
    2002: ("Limit Exceeded", "soft"),
    2003: ("Cardholder's Activity Limit Exceeded", "soft"),
    2004: ("Expired Card", "hard"),
    2005: ("Invalid Credit Card Number", "hard"),
    2006: ("Invalid Expiration Date", "hard"),
    2007: ("No Account", "hard"),
    2008: ("Card Account Length Error", "hard"),
    2009: ("No Such Issuer", "hard"),
    2010: ("Card Issuer Declined CVV", "hard"),
    2011: ("Voice Authorization Required", "hard"),
    2012: ("Processor Declined - Possible Lost Card", "hard"),
    2013: ("Processor Declined - Possible Stolen Card", "hard"),
    2014: ("Processor Declined - Fraud Suspected", "hard"),
    2015: ("Transaction Not Allowed", "hard"),
    2016: ("Duplicate Transaction", "soft"),
    2017: ("Cardholder Stopped Billing", "hard"),
    2018: ("Cardholder Stopped All Billing", "hard"),
    2019: ("Invalid Transaction", "hard"),
    2020: ("Violation", "hard"),
    2021: ("Security Violation", "hard"),
    2022: ("Declined - Updated Cardholder Available", "hard"),
    2023: ("Processor Does Not Support This Feature", "hard"),
    2024: ("Card Type Not Enabled", "hard"),
    2025: ("Set Up Error - Merchant", "soft"),
    2026: ("Invalid Merchant ID", "soft"),
    2027: ("Set Up Error - Amount", "hard"),
    2028: ("Set Up Error - Hierarchy", "hard"),
    2029: ("Set Up Error - Card", "soft"),
    2030: ("Set Up Error - Terminal", "soft"),
    2031: ("Encryption Error", "hard"),
    2032: ("Surcharge Not Permitted", "hard"),
    2033: ("Inconsistent Data", "soft"),
    2034: ("No Action Taken", "soft"),
    2035: ("Partial Approval For Amount In Group III Version", "soft"),
    2036: ("Authorization could not be found", "hard"),
    2037: ("Already Reversed", "hard"),
    2038: ("Processor Declined", "soft"),
    2039: ("Invalid Authorization Code", "hard"),
    2040: ("Invalid Store", "soft"),
    2041: ("Declined - Call For Approval", "hard"),
    2042: ("Invalid Client ID", "soft"),
    2043: ("Error - Do Not Retry, Call Issuer", "hard"),
    2044: ("Declined - Call Issuer", "hard"),
    2045: ("Invalid Merchant Number", "hard"),
    2046: ("Declined", "soft"),
    2047: ("Call Issuer. Pick Up Card", "hard"),
    2048: ("Invalid Amount", "soft"),
    2049: ("Invalid SKU Number", "hard"),
    2050: ("Invalid Credit Plan", "hard"),
    2051: ("Credit Card Number does not match method of payment", "hard"),
    2053: ("Card reported as lost or stolen", "hard"),
    2054: ("Reversal amount does not match authorization amount", "soft"),
    2055: ("Invalid Transaction Division Number", "soft"),
    2056: ("Transaction amount exceeds the transaction division limit", "soft"),
    2057: ("Issuer or Cardholder has put a restriction on the card", "soft"),
    2058: ("Merchant not Mastercard SecureCode enabled", "hard"),
    2059: ("Address Verification Failed", "soft"),
    2060: ("Address Verification and Card Security Code Failed", "soft"),
    2061: ("Invalid Transaction Data", "soft"),
    2062: ("Invalid Tax Amount", "soft"),
    2064: ("Invalid Currency Code", "hard"),
    2065: ("Refund Time Limit Exceeded", "hard"),
    2067: ("Authorization Expired", "hard"),
    2099: ("Cardholder Authentication Required", "soft"),
}
PROCESSOR_UNAVAILABLE = "Processor Network Unavailable - Try Again"


@dataclass(frozen=True)
class Outcome:
    """How the processor (or the gateway's own checks) answers an authorization."""

    status: str  # authorized | processor_declined | failed | gateway_rejected
    code: str | None = None
    text: str | None = None
    response_type: str | None = None  # approved | soft_declined | hard_declined
    rejection_reason: str | None = None

    @property
    def approved(self) -> bool:
        return self.status == "authorized"

    @property
    def message(self) -> str:
        """The ``<message>`` of Braintree's 422 answer for this outcome."""
        if self.status == "gateway_rejected":
            return f"Gateway Rejected: {self.rejection_reason}"
        return self.text or "Processor Declined"


APPROVED = Outcome("authorized", "1000", "Approved", "approved")
FAILED = Outcome("failed", "3000", PROCESSOR_UNAVAILABLE, "soft_declined")
REFUND_PROCESSED = Outcome("submitted_for_settlement", "1002", "Processed", "approved")


def declined(code: int) -> Outcome:
    text, kind = _DECLINES.get(code, ("Processor Declined", "soft"))
    return Outcome("processor_declined", str(code), text, f"{kind}_declined")


def rejected(reason: str) -> Outcome:
    return Outcome("gateway_rejected", rejection_reason=reason)


def amount_outcome(amount: Decimal, instrument_kind: str) -> Outcome:
    """Braintree's test amounts (notes §4.1): the amount decides a sale's authorization."""
    if Decimal("2000") <= amount < Decimal("3000"):
        return declined(int(amount))
    if Decimal("3000") <= amount < Decimal("3001"):
        return FAILED
    if amount == Decimal("5001.00"):
        return rejected("application_incomplete")
    if amount == Decimal("5001.01") and instrument_kind == "paypal_account":
        return declined(2038)
    return APPROVED


def settlement_status(amount: Decimal, instrument_kind: str) -> str:
    """What settling leads to; PayPal's special settlement amounts (notes §4.1), cards always settle."""
    if instrument_kind == "paypal_account":
        if Decimal("4001") <= amount < Decimal("4002"):
            return "settlement_declined"
        if Decimal("4002") <= amount < Decimal("4003"):
            return "settlement_pending"
    return "settled"


# --- validation errors -----------------------------------------------------------------

MESSAGES = {
    "81501": "Amount cannot be negative.",
    "81502": "Amount is required.",
    "81503": "Amount is an invalid format.",
    "81527": "Custom field is too long.",
    "81528": "Amount is too large.",
    "81531": "Amount must be greater than zero.",
    "81707": "CVV must be 4 digits for American Express and 3 digits for other card types.",
    "81709": "Expiration date is required.",
    "81710": "Expiration date is invalid.",
    "81712": "Expiration month is invalid.",
    "81713": "Expiration year is invalid.",
    "81714": "Credit card number is required.",
    "81715": "Credit card number is invalid.",
    "81716": "Credit card number must be 12-19 digits.",
    "91501": "Order ID is too long.",
    "91504": "Transaction can only be voided if status is authorized, submitted_for_settlement, "
    "or - for PayPal - settlement_pending.",
    "91505": "Cannot refund credit",
    "91506": "Cannot refund transaction unless it is settled.",
    "91507": "Cannot submit for settlement unless status is authorized.",
    "91508": "Cannot determine payment method.",
    "91512": "Transaction has already been fully refunded.",
    "91513": "Merchant account ID is invalid.",
    "91515": "Cannot provide more than one of payment_method_token, payment_method_nonce, "
    "credit_card attributes.",
    "91518": "Payment instrument token is invalid.",
    "91521": "Refund amount is too large.",
    "91522": "Settlement amount is too large.",
    "91523": "Transaction type is invalid.",
    "91564": "Cannot use a payment_method_nonce more than once.",
    "91565": "Unknown or expired payment_method_nonce.",
    "91575": "Cannot simulate transaction settlement unless the transaction is submitted for settlement.",
    "91577": "Merchant account does not support payment instrument.",
    "915282": "Transaction cannot be reversed at this time.",
    "92804": "Customer specified by customer_id does not exist",
    "92807": "Merchant account does not exist",
}


@dataclass(frozen=True)
class FieldError:
    """One ``<error>`` of a validation failure; ``path`` is its nesting (``transaction``, ``credit_card``)."""

    code: str
    attribute: str
    path: tuple[str, ...] = ("transaction",)

    @property
    def message(self) -> str:
        return MESSAGES[self.code]


def card_error(code: str, attribute: str) -> FieldError:
    return FieldError(code, attribute, ("transaction", "credit_card"))


# --- amounts ---------------------------------------------------------------------------

MAX_AMOUNT = Decimal("10000000000")  # the sandbox's own processor limit (81528)


def currency_exponent(currency: str) -> int:
    return get_currency_precision(currency)


def format_amount(value: Decimal, currency: str) -> str:
    return str(value.quantize(Decimal(1).scaleb(-currency_exponent(currency))))


def parse_amount(
    raw: object, currency: str, attribute: str = "amount"
) -> tuple[Decimal | None, FieldError | None]:
    """Braintree's amount rules: required, ``10`` or ``10.00`` (no decimals for JPY-like currencies), > 0."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, FieldError("81502", attribute)
    if isinstance(raw, bool):
        return None, FieldError("81503", attribute)
    text = str(raw).strip()
    exponent = currency_exponent(currency)
    pattern = r"\d+" + (rf"(\.\d{{1,{exponent}}})?" if exponent else "")
    negative = text.startswith("-")
    if not re.fullmatch(pattern, text[1:] if negative else text):
        return None, FieldError("81503", attribute)
    if negative:
        return None, FieldError("81501", attribute)
    value = Decimal(text)
    if value == 0:
        return None, FieldError("81531", attribute)
    if value >= MAX_AMOUNT:
        return None, FieldError("81528", attribute)
    return value.quantize(Decimal(1).scaleb(-exponent)), None


# --- payment instruments ---------------------------------------------------------------

INDICATORS = (
    "debit",
    "prepaid",
    "prepaid_reloadable",
    "commercial",
    "healthcare",
    "payroll",
    "durbin_regulated",
    "business",
    "consumer",
    "corporate",
    "purchase",
)


@dataclass(frozen=True)
class Card:
    """What the gateway knows about a card: never its number, only BIN, last four and indicators."""

    bin: str
    last_4: str
    card_type: str
    expiration_month: str
    expiration_year: str
    indicators: dict = field(default_factory=dict)  # name -> "Yes" | "No" | "Unknown"
    country_of_issuance: str = "USA"
    issuing_bank: str = "Unknown"
    unique_number_identifier: str = ""
    kind = "credit_card"

    def indicator(self, name: str) -> str:
        return self.indicators.get(name, "Unknown")


@dataclass(frozen=True)
class PayPal:
    payer_email: str
    payer_id: str
    payer_first_name: str = "John"
    payer_last_name: str = "Doe"
    billing_agreement_id: str | None = None
    kind = "paypal_account"


Instrument = Card | PayPal


def card_type_of(number: str) -> str:
    """The brand by BIN range (the names are ``braintree.CreditCard.CardType``'s)."""
    n2, n3, n4, n6 = int(number[:2]), int(number[:3]), int(number[:4]), int(number[:6])
    if n2 in (34, 37):
        return "American Express"
    if number.startswith("4"):
        return "Visa"
    if n6 == 506699:
        return "Elo"
    if n6 == 637095:
        return "Hiper"
    if n6 == 606282:
        return "Hipercard"
    if 51 <= n2 <= 55 or 2221 <= n4 <= 2720:
        return "MasterCard"
    if n4 == 6011 or 644 <= n3 <= 649 or n2 == 65 or 622126 <= n6 <= 622925:
        return "Discover"
    if 3528 <= n4 <= 3589:
        return "JCB"
    if 300 <= n3 <= 305 or n2 in (36, 38, 39):
        return "Diners Club"
    if n2 in (50, 56, 57, 58) or n4 in (6304, 6759, 6761, 6762, 6763):
        return "Maestro"
    if n2 == 62:
        return "UnionPay"
    return "Unknown"


def luhn_valid(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def make_card(number: str, month: str, year: str, **overrides) -> Card:
    return Card(
        bin=number[:6],
        last_4=number[-4:],
        card_type=card_type_of(number),
        expiration_month=month,
        expiration_year=year,
        unique_number_identifier=hashlib.sha256(b"sandbox-card:" + number.encode()).hexdigest()[:32],
        **overrides,
    )


def _yes(*names: str) -> dict:
    return {name: "Yes" for name in names}


_ALL_NO = {name: "No" for name in INDICATORS}

# Braintree's test card numbers (braintree.test.credit_card_numbers) and what they carry.
_CARD_NUMBERS: dict[str, dict] = {
    "4117101010101010": {"indicators": _yes("debit")},
    "4111111111111210": {"indicators": _yes("prepaid")},
    "4500600000000061": {"indicators": _yes("prepaid")},
    "4229989900000002": {"indicators": _yes("prepaid", "prepaid_reloadable")},
    "4111111111131010": {"indicators": _yes("commercial")},
    "4111161010101010": {"indicators": _yes("durbin_regulated")},
    "4111111510101010": {"indicators": _yes("healthcare")},
    "4111111114101010": {"indicators": _yes("payroll")},
    "4229989800000003": {"indicators": _yes("business")},
    "4229989700000004": {"indicators": _yes("consumer")},
    "4229989100000000": {"indicators": _yes("corporate")},
    "4229989500000006": {"indicators": _yes("purchase")},
    "4111111141010101": {"issuing_bank": "NETWORK ONLY"},
    "4111111111121102": {"country_of_issuance": "USA"},
    "4111111111310101": {"indicators": _ALL_NO},
}
_DECLINING_NUMBERS = {"4000111111111115", "5105105105105100", "6011000990139424"}
_FRAUD_NUMBERS = {"4000111111111511"}


@dataclass(frozen=True)
class PaymentSource:
    """A nonce or card resolved: the instrument, or the validation error it causes, and any forced outcome."""

    instrument: Instrument | None = None
    outcome: Outcome | None = None  # None: the amount decides
    error: FieldError | None = None


def card_from_params(params: dict, today_year: int, today_month: int) -> PaymentSource:
    """A sale's ``credit_card`` block, checked as Braintree's gateway checks it."""
    number = str(params.get("number") or "").strip()
    if not number:
        return PaymentSource(error=card_error("81714", "number"))
    if not number.isdigit():
        return PaymentSource(error=card_error("81715", "number"))
    if not 12 <= len(number) <= 19:
        return PaymentSource(error=card_error("81716", "number"))
    if not luhn_valid(number):
        return PaymentSource(error=card_error("81715", "number"))
    expiry, error = _expiry(params)
    if error:
        return PaymentSource(error=error)
    month, year = expiry
    card_type = card_type_of(number)
    cvv = params.get("cvv")
    if cvv not in (None, "") and not re.fullmatch(
        r"\d{4}" if card_type == "American Express" else r"\d{3}", str(cvv)
    ):
        return PaymentSource(error=card_error("81707", "cvv"))
    card = make_card(number, f"{month:02d}", str(year), **_CARD_NUMBERS.get(number, {}))
    if number in _DECLINING_NUMBERS:
        return PaymentSource(card, declined(2000))
    if number in _FRAUD_NUMBERS:
        return PaymentSource(card, rejected("fraud"))
    if (year, month) < (today_year, today_month):
        return PaymentSource(card, declined(2004))
    return PaymentSource(card)


def _expiry(params: dict) -> tuple[tuple[int, int] | None, FieldError | None]:
    date = str(params.get("expiration_date") or "").strip()
    month = str(params.get("expiration_month") or "").strip()
    year = str(params.get("expiration_year") or "").strip()
    if date:
        m = re.fullmatch(r"(\d{1,2})\s*/\s*(\d{2}|\d{4})", date)
        if not m:
            return None, card_error("81710", "expiration_date")
        month, year = m.groups()
    elif not (month or year):
        return None, card_error("81709", "expiration_date")
    if not month.isdigit() or not 1 <= int(month) <= 12:
        return None, card_error("81712", "expiration_month")
    if not re.fullmatch(r"\d{2}|\d{4}", year):
        return None, card_error("81713", "expiration_year")
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    return (int(month), full_year), None


# --- test nonces (notes §4.2, braintree.test.nonces) ------------------------------------

_BRAND_NUMBERS = {
    "visa": "4012888888881881",
    "mastercard": "5555555555554444",
    "amex": "378282246310005",
    "discover": "6011111111111117",
    "jcb": "3530111333300000",
    "maestro": "6304000000000000",
    "dinersclub": "36259600000004",
}

# nonce -> (card number, extra Card fields, forced outcome)
_CARD_NONCES: dict[str, tuple[str, dict, Outcome | None]] = {
    "fake-valid-nonce": (_BRAND_NUMBERS["visa"], {}, None),
    "fake-valid-no-billing-address-nonce": (_BRAND_NUMBERS["visa"], {}, None),
    **{f"fake-valid-{brand}-nonce": (number, {}, None) for brand, number in _BRAND_NUMBERS.items()},
    "fake-valid-debit-nonce": ("4117101010101010", {"indicators": {**_ALL_NO, "debit": "Yes"}}, None),
    "fake-pinless-debit-visa-nonce": ("4117101010101010", {"indicators": {**_ALL_NO, "debit": "Yes"}}, None),
    "fake-valid-prepaid-nonce": ("4111111111111210", {"indicators": {**_ALL_NO, "prepaid": "Yes"}}, None),
    "fake-valid-prepaid-reloadable-nonce": (
        "4229989900000002",
        {"indicators": {**_ALL_NO, "prepaid": "Yes", "prepaid_reloadable": "Yes"}},
        None,
    ),
    **{
        f"fake-valid-{name.replace('_', '-')}-nonce": (number, {"indicators": {**_ALL_NO, name: "Yes"}}, None)
        for name, number in (
            ("commercial", "4111111111131010"),
            ("durbin_regulated", "4111161010101010"),
            ("healthcare", "4111111510101010"),
            ("payroll", "4111111114101010"),
            ("business", "4229989800000003"),
            ("consumer", "4229989700000004"),
            ("corporate", "4229989100000000"),
            ("purchase", "4229989500000006"),
        )
    },
    "fake-valid-no-indicators-nonce": ("4111111111310101", {"indicators": _ALL_NO}, None),
    "fake-valid-unknown-indicators-nonce": ("4111111111112101", {}, None),
    "fake-valid-country-of-issuance-usa-nonce": ("4111111111121102", {"country_of_issuance": "USA"}, None),
    "fake-valid-country-of-issuance-cad-nonce": ("4111111111121102", {"country_of_issuance": "CAN"}, None),
    "fake-valid-issuing-bank-network-only-nonce": (
        "4111111141010101",
        {"issuing_bank": "NETWORK ONLY"},
        None,
    ),
    "fake-processor-declined-visa-nonce": ("4000111111111115", {}, declined(2000)),
    "fake-processor-declined-mastercard-nonce": ("5105105105105100", {}, declined(2000)),
    "fake-processor-declined-amex-nonce": ("378734493671000", {}, declined(2000)),
    "fake-processor-declined-discover-nonce": ("6011000990139424", {}, declined(2000)),
    "fake-processor-failure-jcb-nonce": ("3566002020360505", {}, FAILED),
    "fake-gateway-rejected-fraud-nonce": ("4000111111111511", {}, rejected("fraud")),
    "fake-gateway-rejected-risk-thresholds-nonce": ("4111111111111111", {}, rejected("risk_threshold")),
}

_PAYPAL_NONCES = {
    "fake-paypal-one-time-nonce": {},
    "fake-paypal-billing-agreement-nonce": {"billing_agreement_id": "B-SANDBOX0000000000"},
}

LUHN_INVALID_NONCE = "fake-luhn-invalid-nonce"
CONSUMED_NONCE = "fake-consumed-nonce"


def _other_instrument_nonces() -> frozenset[str]:
    """Every test nonce the SDK knows that is neither a card nor PayPal here (-> 91577)."""
    known = {
        v
        for k, v in vars(braintree.test.nonces.Nonces).items()
        if not k.startswith("_") and isinstance(v, str)
    }
    return frozenset(
        n for n in known if n not in _CARD_NONCES and n not in _PAYPAL_NONCES and "three-d-secure" not in n
    )


_OTHER_NONCES = _other_instrument_nonces() - {LUHN_INVALID_NONCE, CONSUMED_NONCE}


def is_test_nonce(nonce: str) -> bool:
    """One of Braintree's static test nonces (reusable in Braintree's sandbox, never consumed)."""
    return (
        nonce in _CARD_NONCES
        or nonce in _PAYPAL_NONCES
        or nonce in _OTHER_NONCES
        or nonce in (LUHN_INVALID_NONCE, CONSUMED_NONCE)
        or nonce.startswith("fake-three-d-secure-")
    )


def resolve_nonce(nonce: str, expiration_year: int) -> PaymentSource | None:
    """The payment source behind a test nonce; ``None`` for a nonce Braintree would not know."""
    if nonce in _CARD_NONCES or nonce.startswith("fake-three-d-secure-"):
        number, extra, outcome = _CARD_NONCES.get(nonce, (_BRAND_NUMBERS["visa"], {}, None))
        return PaymentSource(make_card(number, "12", str(expiration_year), **extra), outcome)
    if nonce in _PAYPAL_NONCES:
        return PaymentSource(PayPal("payer@example.com", "PAYER0SANDBOX", **_PAYPAL_NONCES[nonce]))
    if nonce == LUHN_INVALID_NONCE:
        return PaymentSource(error=card_error("81715", "number"))
    if nonce == CONSUMED_NONCE:
        return PaymentSource(error=FieldError("91564", "payment_method_nonce"))
    if nonce in _OTHER_NONCES:
        return PaymentSource(error=FieldError("91577", "payment_method_nonce"))
    return None
