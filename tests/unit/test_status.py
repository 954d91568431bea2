"""Session status transitions: the whole table, every pair of statuses."""

import itertools

import pytest

from portal.trainings.status import ALLOWED, SessionStatus, TransitionError, transition

S = SessionStatus

# The complete expected table, written out by hand: (current, target) -> allowed?
EXPECTED = {
    (S.DRAFT, S.DRAFT): False,
    (S.DRAFT, S.SCHEDULED): True,
    (S.DRAFT, S.STARTED): True,
    (S.DRAFT, S.CANCELLED): True,
    (S.SCHEDULED, S.DRAFT): False,
    (S.SCHEDULED, S.SCHEDULED): False,
    (S.SCHEDULED, S.STARTED): True,
    (S.SCHEDULED, S.CANCELLED): True,
    (S.STARTED, S.DRAFT): False,
    (S.STARTED, S.SCHEDULED): False,
    (S.STARTED, S.STARTED): False,
    (S.STARTED, S.CANCELLED): False,
    (S.CANCELLED, S.DRAFT): False,
    (S.CANCELLED, S.SCHEDULED): False,
    (S.CANCELLED, S.STARTED): False,
    (S.CANCELLED, S.CANCELLED): False,
}


def test_statuses_are_exactly_the_four_known_values():
    assert [status.value for status in SessionStatus] == ["draft", "scheduled", "started", "cancelled"]


def test_expected_table_covers_every_pair_of_statuses():
    assert set(EXPECTED) == set(itertools.product(SessionStatus, repeat=2))


def test_allowed_table_matches_expected_table():
    assert {
        (current, target): target in ALLOWED[current]
        for current, target in itertools.product(SessionStatus, repeat=2)
    } == EXPECTED


@pytest.mark.parametrize(
    ("current", "target"), [pair for pair, ok in EXPECTED.items() if ok], ids=lambda s: str(s)
)
def test_allowed_transition_returns_target_status(current, target):
    result = transition(current, target)
    assert result is target
    assert type(result) is SessionStatus


@pytest.mark.parametrize(
    ("current", "target"), [pair for pair, ok in EXPECTED.items() if not ok], ids=lambda s: str(s)
)
def test_forbidden_transition_raises_transition_error(current, target):
    with pytest.raises(TransitionError) as info:
        transition(current, target)
    assert info.value.code == "transition_not_allowed"
    assert info.value.current is current
    assert info.value.target is target
    assert str(info.value) == f"{current.value} -> {target.value}"


@pytest.mark.parametrize(("current", "target"), list(EXPECTED), ids=lambda s: str(s))
def test_transition_accepts_plain_strings_like_enum_members(current, target):
    if EXPECTED[(current, target)]:
        assert transition(current.value, target.value) is target
    else:
        with pytest.raises(TransitionError):
            transition(current.value, target.value)


def test_started_and_cancelled_are_terminal():
    assert ALLOWED[S.STARTED] == set()
    assert ALLOWED[S.CANCELLED] == set()


@pytest.mark.parametrize(("current", "target"), [("draft", "paid"), ("archived", "draft")])
def test_unknown_status_is_refused(current, target):
    with pytest.raises(ValueError) as info:
        transition(current, target)
    assert not isinstance(info.value, TransitionError)
