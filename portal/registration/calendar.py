"""The calendar invitation (.ics) attached to a confirmation, built with the icalendar package."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from portal.database import utcnow
from portal.i18n import is_timezone, recipient_locale
from portal.registration.links import manage_url
from portal.timezones import end_of, is_second_occurrence


def _in_zone(instant: datetime, zone: str) -> datetime:
    """``instant`` as a local time with a TZID, or in UTC where a local time would be wrong.

    RFC 5545 reads a wall time that happens twice as the first of the two, so the second one
    (after the clocks go back) is written in UTC: calendar apps always get the right instant.
    """
    tz = ZoneInfo(zone)
    if zone == "UTC" or is_second_occurrence(instant, tz):
        return instant.astimezone(UTC)
    return instant.astimezone(tz)


def invitation(registration, sequence: int = 0) -> dict:
    """An outbox attachment: a METHOD:REQUEST calendar with one event for the session.

    ``sequence`` (RFC 5545 SEQUENCE) grows with each change of the session's time: the guest's
    calendar replaces the event it has (same UID) instead of adding a second one.
    """
    training = registration.training
    calendar = Calendar()
    calendar.add("prodid", "-//Training portal//Registration//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"registration-{registration.id}@training-portal")
    event.add("dtstamp", utcnow())
    event.add("sequence", sequence)
    # In the guest's zone (the one their email uses), with its VTIMEZONE; the end is the start plus
    # the duration in real minutes, whatever the clocks do in between.
    zone = next((z for z in (registration.timezone, training.timezone) if is_timezone(z)), "UTC")
    start = training.start_at
    end = end_of(start, training.duration_minutes)
    event.add("dtstart", _in_zone(start, zone))
    event.add("dtend", _in_zone(end, zone))
    event.add("summary", training.title)
    description = training.description or training.title
    with recipient_locale(registration.locale):  # the guest's language, whoever's request sends it
        manage = _("Manage your registration: %(url)s", url=manage_url(registration.id))
    event.add("description", f"{description}\n\n{manage}")
    if training.meeting_url:
        event.add("location", training.meeting_url)
        event.add("url", training.meeting_url)
    organizer = vCalAddress(f"mailto:{training.organizer.email}")
    organizer.params["cn"] = vText(training.organizer.name or training.organizer.email)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{registration.email}")
    attendee.params["cn"] = vText(registration.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    event.add("attendee", attendee)
    calendar.add_component(event)
    # Only the transitions around the session, not 1970-2038 (keeps the attachment small).
    calendar.add_missing_timezones(
        first_date=date(start.year - 1, 1, 1), last_date=date(end.year + 1, 12, 31)
    )
    return {
        "filename": "invitation.ics",
        "content_type": "text/calendar; method=REQUEST",
        "content": calendar.to_ical().decode(),
    }
