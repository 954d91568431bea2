"""The payment status transition table, written out by hand and checked pair by pair."""

import pytest

from portal.payments.status import (
    CLOSED,
    FROM_BRAINTREE,
    OPEN,
    PAID,
    PaymentStatus,
    PaymentTransitionError,
    transition,
)

S = PaymentStatus
EXPECTED = {
    S.PENDING: {S.PROCESSING, S.FAILED},
    S.PROCESSING: {S.SUBMITTED, S.SETTLED, S.DECLINED, S.GATEWAY_REJECTED, S.FAILED, S.UNKNOWN},
    S.UNKNOWN: {S.SUBMITTED, S.SETTLED, S.DECLINED, S.GATEWAY_REJECTED, S.FAILED, S.VOIDED},
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
PAIRS = [(current, target) for current in S for target in S]


@pytest.mark.parametrize("current, target", PAIRS, ids=[f"{c}->{t}" for c, t in PAIRS])
def test_transition_is_allowed_exactly_as_the_table_says(current, target):
    if target in EXPECTED[current]:
        assert transition(current, target) is target
    else:
        with pytest.raises(PaymentTransitionError):
            transition(current, target)


def test_every_status_is_open_paid_or_closed_and_only_one_of_them():
    for status in S:
        assert [status in OPEN, status in PAID, status in CLOSED].count(True) == 1, status


def test_a_closed_payment_never_moves_again():
    for status in CLOSED:
        assert EXPECTED[status] == set()


@pytest.mark.parametrize(
    "braintree_status, ours",
    [
        ("submitted_for_settlement", S.SUBMITTED),
        ("authorized", S.SUBMITTED),
        ("settling", S.SUBMITTED),
        ("settlement_pending", S.SUBMITTED),
        ("settled", S.SETTLED),
        ("processor_declined", S.DECLINED),
        ("gateway_rejected", S.GATEWAY_REJECTED),
        ("failed", S.FAILED),
        ("settlement_declined", S.FAILED),
        ("voided", S.VOIDED),
    ],
)
def test_braintree_statuses_map_to_ours(braintree_status, ours):
    assert FROM_BRAINTREE[braintree_status] is ours
