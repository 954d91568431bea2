"""Wall-clock times in IANA zones across daylight-saving changes (pure: zoneinfo only).

The rules the portal follows:

- a wall time that a spring-forward change skips (02:30 in Paris on 2027-03-28) does not exist:
  scheduling it is refused with a form error, never silently moved;
- a wall time that a fall-back change repeats (01:30 in New York on 2027-11-07) means the first
  of the two (``fold=0``, still on daylight time), and pages name the UTC offset so nobody has
  to guess which one;
- a duration is real elapsed minutes: the end is the start plus the duration in UTC, so a
  session of 120 minutes from 01:00 on a fall-back day ends at 02:00 on the new local time.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class WallTime(StrEnum):
    NORMAL = "normal"
    SKIPPED = "skipped"  # in the gap of a spring-forward change
    REPEATED = "repeated"  # in the overlap of a fall-back change


def wall_time_kind(local: datetime, zone: ZoneInfo) -> WallTime:
    """Whether the naive wall time ``local`` exists once, never or twice in ``zone``."""
    naive = local.replace(tzinfo=None, fold=0)
    first = naive.replace(tzinfo=zone)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return WallTime.SKIPPED
    if first.utcoffset() != naive.replace(tzinfo=zone, fold=1).utcoffset():
        return WallTime.REPEATED
    return WallTime.NORMAL


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime | None:
    """The naive wall time ``local`` in ``zone`` as an aware UTC datetime.

    None when the time does not exist there (skipped by a spring-forward change); the first of the
    two instants when it happens twice (a fall-back change), whatever ``fold`` the input carries.
    """
    if wall_time_kind(local, zone) == WallTime.SKIPPED:
        return None
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def is_repeated_instant(instant: datetime, zone: ZoneInfo) -> bool:
    """Whether the wall time of the aware ``instant`` in ``zone`` happens twice that day."""
    return wall_time_kind(instant.astimezone(zone), zone) == WallTime.REPEATED


def is_second_occurrence(instant: datetime, zone: ZoneInfo) -> bool:
    """The instant is the second of two with the same wall time (after the clocks went back)."""
    local = instant.astimezone(zone)
    return is_repeated_instant(instant, zone) and local.fold == 1


def end_of(start: datetime, duration_minutes: int) -> datetime:
    """The end of something that lasts ``duration_minutes`` real minutes (UTC arithmetic)."""
    return (start.astimezone(UTC) + timedelta(minutes=duration_minutes)).astimezone(start.tzinfo)
