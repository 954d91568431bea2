"""The calendar invitation (.ics) attached to a confirmation, built with the icalendar package."""

from datetime import timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from portal.database import utcnow
from portal.i18n import recipient_locale
from portal.registration.links import manage_url


def invitation(registration) -> dict:
    """An outbox attachment: a METHOD:REQUEST calendar with one event for the session."""
    training = registration.training
    calendar = Calendar()
    calendar.add("prodid", "-//Training portal//Registration//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"registration-{registration.id}@training-portal")
    event.add("dtstamp", utcnow())
    event.add("dtstart", training.start_at)
    event.add("dtend", training.start_at + timedelta(minutes=training.duration_minutes))
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
    return {
        "filename": "invitation.ics",
        "content_type": "text/calendar; method=REQUEST",
        "content": calendar.to_ical().decode(),
    }
