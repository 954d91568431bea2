"""The one function that prices a session: the estimated session cost.

Pure module (no Flask, no SQLAlchemy). The live estimate, the Estimated session
cost page, the pay-per-use checkout and the charge all call ``estimate``.

    computers              = expected attendees + 1 (the organizer)
    person-minutes         = duration x computers
    teleconference-minutes = duration x teleconference participants (0 for none / internet audio)
    subtotal               = person-minutes x person-minute rate
                           + teleconference-minutes x rate of the audio type
    estimate               = subtotal x (1 + tax rate / 100)

Line totals stay exact, and the estimate is rounded half-up once, to the currency's minor
unit (PRODUCT.md). The lines shown beside it add up to it: the subtotal is the exact
subtotal rounded, and the tax line is what the rounded estimate adds to it.
"""

from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum

from portal.money import round_to_minor


class AudioType(StrEnum):
    NONE = "none"
    INTERNET = "internet"
    TOLL = "toll"
    TOLL_FREE = "toll_free"
    CALLBACK = "callback"

    @classmethod
    def parse(cls, value: str | None) -> "AudioType | None":
        return next((member for member in cls if member.value == value), None)

    @property
    def uses_teleconference(self) -> bool:
        return self in (AudioType.TOLL, AudioType.TOLL_FREE, AudioType.CALLBACK)


class PricingError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Rates:
    """The site's rates at one moment; snapshotted with every estimate."""

    currency: str
    person_minute: Decimal
    toll: Decimal
    toll_free: Decimal
    callback: Decimal
    tax_percent: Decimal | None = None

    @classmethod
    def from_snapshot(cls, data: dict) -> "Rates":
        """The rates an earlier quote was priced with (``Quote.snapshot()["rates"]``)."""
        tax = data.get("tax_percent")
        return cls(
            currency=data["currency"],
            person_minute=Decimal(data["person_minute"]),
            toll=Decimal(data["toll"]),
            toll_free=Decimal(data["toll_free"]),
            callback=Decimal(data["callback"]),
            tax_percent=None if tax is None else Decimal(tax),
        )

    def for_audio(self, audio: AudioType) -> Decimal:
        return {
            AudioType.TOLL: self.toll,
            AudioType.TOLL_FREE: self.toll_free,
            AudioType.CALLBACK: self.callback,
        }.get(audio, Decimal(0))


@dataclass(frozen=True)
class Usage:
    """What the organizer plans: the inputs of the estimate."""

    duration_minutes: int
    expected_attendees: int
    audio: AudioType
    teleconference_participants: int = 0

    @property
    def computers(self) -> int:
        return self.expected_attendees + 1


@dataclass(frozen=True)
class Quote:
    usage: Usage
    rates: Rates
    person_minutes: int
    teleconference_minutes: int
    teleconference_rate: Decimal
    person_line: Decimal  # exact, before rounding
    teleconference_line: Decimal  # exact, before rounding
    subtotal_cents: int
    tax_cents: int
    total_cents: int

    @property
    def currency(self) -> str:
        return self.rates.currency

    def snapshot(self) -> dict:
        """A JSON-ready record of inputs, rates and results (Decimals as strings)."""
        data = asdict(self)
        return _stringify(data)


def rates_for(currency: str, snapshot: dict | None, site: Rates, paid: bool = False) -> Rates:
    """The rates a session in ``currency`` is priced with.

    A session its organizer has paid for keeps the rates it was paid at (``snapshot``, its last
    quote's record): a later rate change neither bills the difference nor refunds, and an edit
    is priced at those rates too. Otherwise the site's rates, when they are in the session's
    currency. A session keeps the currency it was created in (its fee, its payments); after the
    site's currency changed, the site's rates are in another one, so it keeps the rates it was
    last priced with.
    """
    rates = (snapshot or {}).get("rates")
    if paid and rates and rates.get("currency") == currency:
        return Rates.from_snapshot(rates)
    if site.currency == currency:
        return site
    if not rates or rates.get("currency") != currency:
        raise PricingError("no_rates_in_currency")
    return Rates.from_snapshot(rates)


def validate_usage(usage: Usage) -> list[str]:
    """Stable error codes for impossible inputs; empty when the usage can be priced."""
    errors = []
    if not 1 <= usage.duration_minutes <= 1440:
        errors.append("duration_out_of_range")
    if usage.expected_attendees < 0:
        errors.append("attendees_negative")
    if usage.teleconference_participants < 0:
        errors.append("teleconference_negative")
    elif usage.teleconference_participants > usage.computers:
        errors.append("teleconference_above_computers")
    return errors


def estimate(usage: Usage, rates: Rates) -> Quote:
    errors = validate_usage(usage)
    if errors:
        raise PricingError(errors[0])
    tax = () if rates.tax_percent is None else (rates.tax_percent,)
    for rate in (rates.person_minute, rates.toll, rates.toll_free, rates.callback, *tax):
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
            raise PricingError("bad_rate")
    person_minutes = usage.duration_minutes * usage.computers
    teleconference_minutes = (
        usage.duration_minutes * usage.teleconference_participants if usage.audio.uses_teleconference else 0
    )
    teleconference_rate = rates.for_audio(usage.audio)
    person_line = person_minutes * rates.person_minute
    teleconference_line = teleconference_minutes * teleconference_rate
    subtotal = person_line + teleconference_line
    subtotal_cents = round_to_minor(subtotal, rates.currency)
    total_cents = subtotal_cents
    if rates.tax_percent:
        # Taxed exactly, then rounded once: rounding the subtotal first could add a cent.
        total_cents = round_to_minor(subtotal * (1 + rates.tax_percent / 100), rates.currency)
    return Quote(
        usage=usage,
        rates=rates,
        person_minutes=person_minutes,
        teleconference_minutes=teleconference_minutes,
        teleconference_rate=teleconference_rate,
        person_line=person_line,
        teleconference_line=teleconference_line,
        subtotal_cents=subtotal_cents,
        tax_cents=total_cents - subtotal_cents,
        total_cents=total_cents,
    )


def _stringify(value):
    if isinstance(value, dict):
        return {key: _stringify(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, StrEnum):
        return value.value
    return value
