"""The test cards a payer can pick on the hosted checkout page, and what each one does.

Only the brand and the last four digits exist here: the sandbox never holds a full card
number, so none can leak into its pages, its store, its logs or its silent posts.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxCard:
    key: str
    brand: str
    last4: str
    card_type: str  # Payflow's CARDTYPE: 0 Visa, 1 Mastercard, 2 Discover, 3 American Express
    result: int  # Payflow's RESULT: 0 approved, anything else a decline
    respmsg: str
    label: str

    @property
    def approved(self) -> bool:
        return self.result == 0


def _approved(key: str, brand: str, kind: str, last4: str, card_type: str) -> SandboxCard:
    return SandboxCard(key, brand, last4, card_type, 0, "Approved", f"{brand} {kind} •••• {last4} — approved")


def _declined(key: str, last4: str, result: int, respmsg: str, label: str) -> SandboxCard:
    return SandboxCard(key, "Visa", last4, "0", result, respmsg, f"{label} (Visa •••• {last4})")


# Approved cards first, then the declines: the order of the page's list.
CARDS: dict[str, SandboxCard] = {
    card.key: card
    for card in (
        _approved("visa", "Visa", "credit card", "1111", "0"),
        _approved("mastercard", "Mastercard", "credit card", "4444", "1"),
        _approved("amex", "American Express", "card", "8431", "3"),
        _approved("discover", "Discover", "card", "1117", "2"),
        _approved("visa_debit", "Visa", "debit card", "0004", "0"),
        _declined("declined", "0002", 12, "Declined", "Card declined by the bank"),
        _declined("invalid_number", "4241", 23, "Invalid account number", "Card number rejected as invalid"),
        _declined("expired", "0069", 24, "Invalid expiration date", "Card expired"),
        _declined("fraud", "0019", 125, "Declined by Fraud Service", "Payment blocked by the fraud check"),
    )
}
