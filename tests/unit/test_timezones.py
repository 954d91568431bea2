"""Wall times across daylight-saving changes (portal/timezones.py): skipped, repeated, durations."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.timezones import (
    WallTime,
    end_of,
    is_repeated_instant,
    is_second_occurrence,
    local_to_utc,
    wall_time_kind,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def wall(text: str) -> datetime:
    """A naive wall-clock time, as typed in a form (no zone yet)."""
    return datetime.fromisoformat(text)


ZONES = [PARIS, NEW_YORK, ZoneInfo("Australia/Sydney"), ZoneInfo("Asia/Kolkata"), ZoneInfo("UTC")]


@pytest.mark.parametrize(
    ("zone", "wall", "kind"),
    [
        # Paris: clocks go forward 02:00 -> 03:00 on 2027-03-28, back 03:00 -> 02:00 on 2027-10-31.
        (PARIS, wall("2027-03-28T01:59"), WallTime.NORMAL),
        (PARIS, wall("2027-03-28T02:00"), WallTime.SKIPPED),
        (PARIS, wall("2027-03-28T02:30"), WallTime.SKIPPED),
        (PARIS, wall("2027-03-28T03:00"), WallTime.NORMAL),
        (PARIS, wall("2027-10-31T01:59"), WallTime.NORMAL),
        (PARIS, wall("2027-10-31T02:30"), WallTime.REPEATED),
        (PARIS, wall("2027-10-31T03:00"), WallTime.NORMAL),
        # New York: forward 02:00 -> 03:00 on 2027-03-14, back 02:00 -> 01:00 on 2027-11-07.
        (NEW_YORK, wall("2027-03-14T02:30"), WallTime.SKIPPED),
        (NEW_YORK, wall("2027-03-14T03:30"), WallTime.NORMAL),
        (NEW_YORK, wall("2027-11-07T00:59"), WallTime.NORMAL),
        (NEW_YORK, wall("2027-11-07T01:00"), WallTime.REPEATED),
        (NEW_YORK, wall("2027-11-07T01:30"), WallTime.REPEATED),
        (NEW_YORK, wall("2027-11-07T02:00"), WallTime.NORMAL),
        (NEW_YORK, wall("2027-07-01T10:00"), WallTime.NORMAL),
    ],
)
def test_wall_times_on_clock_change_days_are_normal_skipped_or_repeated(zone, wall, kind):
    assert wall_time_kind(wall, zone) == kind


@pytest.mark.parametrize(
    ("zone", "wall"),
    [(PARIS, wall("2027-03-28T02:30")), (NEW_YORK, wall("2027-03-14T02:30"))],
)
def test_a_skipped_wall_time_has_no_instant(zone, wall):
    assert local_to_utc(wall, zone) is None
    assert local_to_utc(wall.replace(fold=1), zone) is None


@pytest.mark.parametrize(
    ("zone", "wall", "first"),
    [
        (PARIS, wall("2027-10-31T02:30"), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),  # CEST
        (NEW_YORK, wall("2027-11-07T01:30"), datetime(2027, 11, 7, 5, 30, tzinfo=UTC)),  # EDT
    ],
)
def test_a_repeated_wall_time_means_the_first_of_the_two(zone, wall, first):
    assert local_to_utc(wall, zone) == first
    assert local_to_utc(wall.replace(fold=1), zone) == first  # whatever fold the input carries
    assert is_repeated_instant(first, zone) and not is_second_occurrence(first, zone)
    second = first + timedelta(hours=1)
    assert is_repeated_instant(second, zone) and is_second_occurrence(second, zone)


def test_a_plain_wall_time_converts_with_the_offset_of_that_day():
    assert local_to_utc(wall("2027-01-15T10:00"), NEW_YORK) == datetime(2027, 1, 15, 15, 0, tzinfo=UTC)
    assert local_to_utc(wall("2027-07-15T10:00"), NEW_YORK) == datetime(2027, 7, 15, 14, 0, tzinfo=UTC)
    assert not is_repeated_instant(datetime(2027, 7, 15, 14, 0, tzinfo=UTC), NEW_YORK)


@pytest.mark.parametrize(
    ("zone", "start_wall", "minutes", "end_wall"),
    [
        # 120 real minutes from 01:00 EDT on fall-back night end at 02:00 EST (the clock moved 1 h).
        (NEW_YORK, wall("2027-11-07T01:00"), 120, wall("2027-11-07T02:00")),
        # 60 real minutes from 01:30 CET on spring-forward night end at 03:30 CEST.
        (PARIS, wall("2027-03-28T01:30"), 60, wall("2027-03-28T03:30")),
        (PARIS, wall("2027-10-31T01:30"), 120, wall("2027-10-31T02:30")),  # the second 02:30
        (NEW_YORK, wall("2027-03-14T01:00"), 90, wall("2027-03-14T03:30")),
    ],
)
def test_a_duration_across_a_clock_change_is_real_minutes(zone, start_wall, minutes, end_wall):
    start = local_to_utc(start_wall, zone)
    end = end_of(start, minutes)
    assert end - start == timedelta(minutes=minutes)
    assert end.astimezone(zone).replace(tzinfo=None) == end_wall


@given(
    typed=st.datetimes(min_value=wall("2026-01-01T00:00"), max_value=wall("2032-12-31T00:00")),
    zone=st.sampled_from(ZONES),
)
def test_every_wall_time_is_refused_or_round_trips_to_its_earliest_instant(typed, zone):
    utc = local_to_utc(typed, zone)
    kind = wall_time_kind(typed, zone)
    if utc is None:
        assert kind == WallTime.SKIPPED
        return
    assert utc.tzinfo is UTC
    assert utc.astimezone(zone).replace(tzinfo=None) == typed
    candidates = {typed.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)}
    assert utc == min(candidates)
    assert (kind == WallTime.REPEATED) == (len(candidates) == 2)


@given(
    start=st.datetimes(
        min_value=wall("2026-01-01T00:00"), max_value=wall("2032-12-31T00:00"), timezones=st.just(UTC)
    ),
    minutes=st.integers(1, 1440),
    zone=st.sampled_from(ZONES),
)
def test_end_is_start_plus_real_minutes_in_any_zone(start, minutes, zone):
    local_start = start.astimezone(zone)
    end = end_of(local_start, minutes)
    assert end.astimezone(UTC) - start == timedelta(minutes=minutes)
