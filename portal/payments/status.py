"""Payment statuses and the one table of allowed transitions (pure).

``pending``, ``processing`` and ``unknown`` are ours: an attempt not yet sent,
one being sent right now, and one whose outcome the gateway has not told us
(a timeout or a lost response). Every other status mirrors the gateway.
"""

from enum import StrEnum


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    UNKNOWN = "unknown"
    SUBMITTED = "submitted_for_settlement"
    SETTLED = "settled"
    DECLINED = "declined"
    GATEWAY_REJECTED = "gateway_rejected"
    FAILED = "failed"
    VOIDED = "voided"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    DISPUTED = "disputed"


S = PaymentStatus
_CHARGE_OUTCOMES = {S.SUBMITTED, S.SETTLED, S.DECLINED, S.GATEWAY_REJECTED, S.FAILED}

ALLOWED: dict[PaymentStatus, set[PaymentStatus]] = {
    S.PENDING: {S.PROCESSING, S.FAILED},
    S.PROCESSING: _CHARGE_OUTCOMES | {S.UNKNOWN},
    S.UNKNOWN: _CHARGE_OUTCOMES | {S.VOIDED},
    S.SUBMITTED: {S.SETTLED, S.VOIDED, S.FAILED, S.DISPUTED},
    S.SETTLED: {S.REFUNDED, S.PARTIALLY_REFUNDED, S.DISPUTED},
    S.PARTIALLY_REFUNDED: {S.PARTIALLY_REFUNDED, S.REFUNDED, S.DISPUTED},
    S.DISPUTED: {S.SETTLED, S.PARTIALLY_REFUNDED, S.REFUNDED},
    S.DECLINED: set(),
    S.GATEWAY_REJECTED: set(),
    S.FAILED: set(),
    S.VOIDED: set(),
    S.REFUNDED: set(),
}

# Money was taken (and not wholly given back): the payment counts as paid.
PAID = frozenset({S.SUBMITTED, S.SETTLED, S.PARTIALLY_REFUNDED, S.DISPUTED})
# An attempt that may still become paid: a new attempt for the same purchase must wait.
OPEN = frozenset({S.PENDING, S.PROCESSING, S.UNKNOWN})
# Nothing was charged, or everything was given back: a new attempt may start.
CLOSED = frozenset({S.DECLINED, S.GATEWAY_REJECTED, S.FAILED, S.VOIDED, S.REFUNDED})

# Braintree transaction statuses -> ours.
FROM_BRAINTREE = {
    "authorized": S.SUBMITTED,  # we always submit for settlement with the sale
    "authorizing": S.SUBMITTED,
    "submitted_for_settlement": S.SUBMITTED,
    "settling": S.SUBMITTED,
    "settlement_pending": S.SUBMITTED,
    "settled": S.SETTLED,
    "processor_declined": S.DECLINED,
    "gateway_rejected": S.GATEWAY_REJECTED,
    "failed": S.FAILED,
    "settlement_declined": S.FAILED,
    "authorization_expired": S.FAILED,
    "voided": S.VOIDED,
}


class PaymentTransitionError(ValueError):
    def __init__(self, current, target):
        super().__init__(f"{current} -> {target}")
        self.code = "transition_not_allowed"
        self.current, self.target = current, target


def can_transition(current: str, target: str) -> bool:
    return PaymentStatus(target) in ALLOWED[PaymentStatus(current)]


def transition(current: str, target: str) -> PaymentStatus:
    if not can_transition(current, target):
        raise PaymentTransitionError(current, target)
    return PaymentStatus(target)
