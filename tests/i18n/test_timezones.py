"""Time zones, in English and French (issue #9, point 3).

- Guests see starts in their zone and can change it without JavaScript (?tz=, remembered in a
  cookie marked as their own choice).
- Organizers schedule in the zone they pick: typed wall time -> stored UTC -> shown back.
- The confirmation email and the .ics carry the guest's zone (TZID + VTIMEZONE) and the right instant.
- Daylight-saving days: a skipped wall time is a form error; a repeated one is the first of the two
  (fold=0) and pages say so with the UTC offset; durations are real minutes.
"""

import email
import re
from datetime import UTC, datetime
from email import policy
from http.cookies import SimpleCookie

import icalendar
import pytest

from portal.extensions import db
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from tests.conftest import csrf_from, login
from tests.factories import enable_ecommerce, make_training, make_user, set_settings
from tests.registration.helpers import manage_path, pay, register

NBSP = "\u00a0"
NNBSP = "\u202f"  # Babel's narrow no-break space before AM/PM


# --- helpers -------------------------------------------------------------------------------------


def set_cookies(response) -> dict[str, SimpleCookie]:
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        for name, morsel in cookie.items():
            found[name] = morsel
    return found


def mails_to(tmp_path, address):
    found = []
    for path in sorted((tmp_path / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in message["To"]:
            found.append(message)
    return found


def body_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def invitation_of(message) -> tuple[str, icalendar.Calendar]:
    (attachment,) = list(message.iter_attachments())
    text = attachment.get_content()
    return text, icalendar.Calendar.from_ical(text)


def the_event(calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


def as_utc(value: datetime) -> datetime:
    # Aware datetimes whose wall time is repeated never compare equal across zones (PEP 495):
    # convert before comparing.
    return value.astimezone(UTC)


def session_on(app, start_at: datetime, zone: str, **overrides) -> dict:
    with app.app_context():
        enable_ecommerce()
        organizer = make_user("organizer@example.com", timezone=zone)
        training = make_training(organizer, start_at=start_at, timezone=zone, **overrides)
        return {"token": training.public_token, "id": training.id}


def confirmed_guest(client, token, zone=None, language=None, address="guest@example.com") -> str:
    """A guest who picked ``zone`` (and ``language``) on the public page, then registered."""
    query = "&".join(f"{key}={value}" for key, value in (("tz", zone), ("lang", language)) if value)
    client.get(f"/s/{token}?{query}")
    return manage_path(register(client, token, email=address))


# --- 1. guests change their zone, without JavaScript ----------------------------------------------


@pytest.fixture
def public(app, tmp_path):
    app.instance_path = str(tmp_path)
    return session_on(app, datetime(2027, 6, 15, 14, 0, tzinfo=UTC), "America/New_York", fee_cents=4900)


def picker(html: str) -> str:
    match = re.search(r'<form method="get"[^>]*class="timezone-picker">.*?</form>', html, re.S)
    assert match, "no time-zone picker on the page"
    return match.group(0)


def selected_zone(html: str) -> str | None:
    match = re.search(r'<option value="([^"]+)" selected>', picker(html))
    return match.group(1) if match else None


def test_the_public_page_has_a_labelled_time_zone_picker(client, public):
    form = picker(client.get(f"/s/{public['token']}").text)
    assert '<label for="viewer-timezone">Your time zone</label>' in form
    assert '<select id="viewer-timezone" name="tz"' in form
    assert '<option value="Europe/Paris">Europe/Paris</option>' in form
    assert '<option value="America/New_York">America/New York</option>' in form
    assert ">Show times</button>" in form
    assert 'value="auto"' not in form  # nothing chosen yet: nothing to go back from


def test_the_picker_is_french_on_the_french_page(client, public):
    html = client.get(f"/s/{public['token']}?lang=fr").text
    form = picker(html)
    assert '<label for="viewer-timezone">Votre fuseau horaire</label>' in form
    assert ">Afficher les heures</button>" in form
    # The GET form keeps the page's other parameters (here the language).
    assert '<input type="hidden" name="lang" value="fr">' in form


def test_choosing_a_zone_shows_the_start_in_it_and_remembers_it(client, public):
    token = public["token"]
    first = client.get(f"/s/{token}")
    assert selected_zone(first.text) == "UTC" and "2:00" in first.text  # the site default, no cookie
    chosen = client.get(f"/s/{token}?tz=Europe/Paris")
    assert f"Tuesday, June 15, 2027, 4:00{NNBSP}PM (France Time)" in chosen.text
    assert selected_zone(chosen.text) == "Europe/Paris"
    cookies = set_cookies(chosen)
    for name, value in (("portal_tz", "Europe/Paris"), ("portal_tz_chosen", "1")):
        morsel = cookies[name]
        assert morsel.value == value
        assert morsel["path"] == "/" and morsel["samesite"] == "Lax" and morsel["max-age"] == "31536000"
        assert not morsel["secure"]  # plain HTTP in tests
    again = client.get(f"/s/{token}").text  # no parameter: the cookie speaks
    assert f"4:00{NNBSP}PM (France Time)" in again and selected_zone(again) == "Europe/Paris"
    assert '<option value="auto">Automatic (your browser' in picker(again)


def test_a_detected_zone_cookie_is_read_even_percent_encoded(client, public):
    client.set_cookie("portal_tz", "Asia%2FTokyo")  # what app.js wrote before it stored names as they are
    assert f"11:00{NNBSP}PM (Japan Time)" in client.get(f"/s/{public['token']}").text


def test_the_zone_cookies_are_secure_behind_https(app, public):
    app.config["HTTPS"] = True
    client = app.test_client()
    response = client.get(f"/s/{public['token']}?tz=Europe/Paris", base_url="https://localhost")
    cookies = set_cookies(response)
    assert cookies["portal_tz"]["secure"] and cookies["portal_tz_chosen"]["secure"]


def test_an_unknown_zone_is_ignored_and_sets_nothing(client, public):
    for bad in ("Mars/Olympus_Mons", "localtime", "../etc", "posix/Europe/Paris", ""):
        response = client.get(f"/s/{public['token']}", query_string={"tz": bad})
        assert response.status_code == 200
        assert "portal_tz" not in set_cookies(response) and "portal_tz_chosen" not in set_cookies(response)


def test_automatic_forgets_the_choice(client, public):
    client.get(f"/s/{public['token']}?tz=Asia/Tokyo")
    response = client.get(f"/s/{public['token']}?tz=auto")
    cookies = set_cookies(response)
    assert cookies["portal_tz"]["max-age"] == "0" and cookies["portal_tz_chosen"]["max-age"] == "0"
    assert selected_zone(response.text) == "UTC"  # back to the default until app.js detects the zone
    assert "data-detect-timezone" in picker(response.text)


def test_the_registration_and_payment_pages_have_the_picker_too(client, public):
    manage = confirmed_guest(client, public["token"])  # pending payment: /r/<token>/pay
    pay_page = client.get(f"{manage}/pay?tz=Asia/Tokyo")
    assert "Payment information" in pay_page.text
    assert selected_zone(pay_page.text) == "Asia/Tokyo"
    assert f"Tuesday, June 15, 2027, 11:00{NNBSP}PM (Japan Time)" in pay_page.text
    pay(client, manage)
    page = client.get(f"{manage}?tz=Europe/Paris&lang=fr").text
    assert 'data-status="confirmed"' in page
    assert selected_zone(page) == "Europe/Paris"
    assert "mardi 15 juin 2027, 16:00" in page


# --- 2. organizers schedule in their chosen zone ---------------------------------------------------


@pytest.fixture
def new_yorker(app, client):
    with app.app_context():
        enable_ecommerce()
        set_settings(pay_per_use_enabled=False)  # scheduled at once (pay-per-use: tests/billing)
        make_user("organizer@example.com", timezone="America/New_York")
    login(client, "organizer@example.com")
    return client


def schedule(client, start: str, zone: str = "America/New_York", **changes):
    token = csrf_from(client.get("/sessions/new").text)
    data = {
        "title": "Negotiation basics",
        "start": start,
        "timezone": zone,
        "duration_minutes": "60",
        "capacity": "20",
        "expected_attendees": "10",
        "audio": "internet",
        "teleconference_participants": "0",
        "session_fee": "0",
        "intent": "schedule",
        "csrf_token": token,
        **changes,
    }
    return client.post("/sessions/new", data=data)


def only_session(app) -> TrainingSession:
    with app.app_context():
        (training,) = db.session.scalars(db.select(TrainingSession))
        db.session.expunge(training)
        return training


def test_the_scheduling_form_offers_the_organizers_own_zone(new_yorker):
    page = new_yorker.get("/sessions/new").text
    assert re.search(
        r'<option selected value="America/New_York">|<option value="America/New_York" selected', page
    )


@pytest.mark.parametrize(
    ("day", "utc_hour", "paris"),
    [
        ("2027-06-15", 14, f"Tuesday, June 15, 2027, 4:00{NNBSP}PM (France Time)"),  # EDT / CEST
        # The US is on summer time from 14 March, France only from 28 March: 6 hours apart, not 5.
        ("2027-03-20", 14, f"Saturday, March 20, 2027, 3:00{NNBSP}PM (France Time)"),
        ("2027-11-02", 14, f"Tuesday, November 2, 2027, 3:00{NNBSP}PM (France Time)"),
        ("2027-12-01", 15, f"Wednesday, December 1, 2027, 4:00{NNBSP}PM (France Time)"),  # EST / CET
    ],
)
def test_a_new_york_organizer_schedules_10_and_a_paris_guest_sees_it_in_paris(
    app, new_yorker, day, utc_hour, paris
):
    response = schedule(new_yorker, f"{day}T10:00")
    assert response.status_code == 303
    training = only_session(app)
    year, month, date_ = map(int, day.split("-"))
    assert training.start_at == datetime(year, month, date_, utc_hour, 0, tzinfo=UTC)
    assert training.timezone == "America/New_York"
    # Shown back to the organizer in New York, on the detail page and the edit form.
    detail = new_yorker.get(f"/sessions/{training.id}").text
    assert f", 10:00{NNBSP}AM (United States (New York) Time)" in detail
    edit = new_yorker.get(f"/sessions/{training.id}/edit").text
    assert f'value="{day}T10:00"' in edit
    # A guest in Paris (another browser) sees it in Paris, the zone named.
    guest = app.test_client()
    assert paris in guest.get(f"/s/{training.public_token}?tz=Europe/Paris").text


def test_the_organizer_sees_the_sessions_zone_when_viewing_from_another(app, new_yorker):
    schedule(new_yorker, "2027-06-15T10:00")
    training = only_session(app)
    detail = new_yorker.get(f"/sessions/{training.id}?tz=Europe/Paris").text
    assert f"4:00{NNBSP}PM (France Time)" in detail
    assert f"(Tuesday, June 15, 2027, 10:00{NNBSP}AM (United States (New York) Time) in the session" in detail


def test_a_french_guest_sees_the_start_in_french_with_the_zone_named(app, new_yorker):
    schedule(new_yorker, "2027-06-15T10:00")
    training = only_session(app)
    page = app.test_client().get(f"/s/{training.public_token}?tz=Europe/Paris&lang=fr").text
    assert "mardi 15 juin 2027, 16:00 (heure : France)" in page
    montreal = app.test_client().get(f"/s/{training.public_token}?tz=America/Toronto&lang=fr").text
    assert "mardi 15 juin 2027, 10:00 (heure" in montreal and "Toronto" in montreal


# --- 3. the email and the .ics carry the guest's zone ----------------------------------------------


def test_the_confirmation_email_and_ics_are_in_the_guests_zone(app, client, public, tmp_path):
    manage = confirmed_guest(client, public["token"], zone="Europe/Paris")
    assert pay(client, manage).status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(Registration.timezone)) == "Europe/Paris"
    (message,) = mails_to(tmp_path, "guest@example.com")
    assert f"Starts: Tuesday, June 15, 2027, 4:00{NNBSP}PM (France Time)" in body_of(message)
    text, calendar = invitation_of(message)
    assert "DTSTART;TZID=Europe/Paris:20270615T160000" in text
    assert "DTEND;TZID=Europe/Paris:20270615T170000" in text
    (vtimezone,) = calendar.walk("VTIMEZONE")
    assert vtimezone["TZID"] == "Europe/Paris"
    event = the_event(calendar)
    assert as_utc(event.decoded("dtstart")) == datetime(2027, 6, 15, 14, 0, tzinfo=UTC)
    assert as_utc(event.decoded("dtend")) == datetime(2027, 6, 15, 15, 0, tzinfo=UTC)


def test_the_french_confirmation_names_the_zone_in_french(app, client, public, tmp_path):
    manage = confirmed_guest(client, public["token"], zone="Asia/Tokyo", language="fr")
    pay(client, manage)
    (message,) = mails_to(tmp_path, "guest@example.com")
    assert f"Début{NBSP}: mardi 15 juin 2027, 23:00 (heure : Japon)" in body_of(message)
    text, calendar = invitation_of(message)
    assert "DTSTART;TZID=Asia/Tokyo:20270615T230000" in text
    assert as_utc(the_event(calendar).decoded("dtstart")) == datetime(2027, 6, 15, 14, 0, tzinfo=UTC)


def test_a_guest_in_utc_gets_utc_times_in_the_ics(app, client, public, tmp_path):
    manage = confirmed_guest(client, public["token"])  # no cookie, no account: the site default, UTC
    pay(client, manage)
    (message,) = mails_to(tmp_path, "guest@example.com")
    assert f"2:00{NNBSP}PM (UTC)" in body_of(message)
    text, calendar = invitation_of(message)
    assert "DTSTART:20270615T140000Z" in text and "VTIMEZONE" not in text


# --- 4. daylight-saving days -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "start"), [("Europe/Paris", "2027-03-28T02:30"), ("America/New_York", "2027-03-14T02:30")]
)
def test_a_wall_time_skipped_by_spring_forward_is_a_form_error(app, new_yorker, zone, start):
    response = schedule(new_yorker, start, zone)
    assert response.status_code == 422
    assert "This time does not exist in the chosen time zone (the clocks change then)." in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(TrainingSession)) == 0


def test_the_skipped_time_error_is_french_in_french(new_yorker):
    new_yorker.get("/sessions/new?lang=fr")
    response = schedule(new_yorker, "2027-03-28T02:30", "Europe/Paris")
    assert response.status_code == 422
    assert '<html lang="fr">' in response.text
    assert "This time does not exist" not in response.text
    assert 'id="start-error"' in response.text


@pytest.mark.parametrize(
    ("zone", "start", "first_utc", "offset"),
    [
        ("America/New_York", "2027-11-07T01:30", datetime(2027, 11, 7, 5, 30, tzinfo=UTC), "GMT-04:00"),
        ("Europe/Paris", "2027-10-31T02:30", datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "GMT+02:00"),
    ],
)
def test_a_repeated_wall_time_is_the_first_and_the_page_says_so(
    app, new_yorker, zone, start, first_utc, offset
):
    assert schedule(new_yorker, start, zone).status_code == 303
    training = only_session(app)
    assert training.start_at == first_utc
    detail = new_yorker.get(f"/sessions/{training.id}?tz={zone}").text
    note = re.search(r'<p class="hint" id="start-dst-note">(.*?)</p>', detail).group(1)
    assert "happens twice that night as the clocks go back: this is the first one, before the change" in note
    assert f"({offset})" in note
    assert f", {offset})" in detail  # the start itself names the offset too


def test_the_form_says_which_repeated_time_it_means_in_french(new_yorker):
    new_yorker.get("/sessions/new?lang=fr")
    # An error elsewhere re-renders the form: the start's hint explains the repeated 01:30.
    response = schedule(new_yorker, "2027-11-07T01:30", title="")
    assert response.status_code == 422
    hint = re.search(r'<p class="hint" id="start-hint">(.*?)</p>', response.text).group(1)
    assert hint.startswith("01:30 a lieu deux fois cette nuit-là")
    assert "c&#39;est la première, avant le changement (UTC-04:00)" in hint
    assert 'aria-describedby="start-hint"' in response.text


def test_a_plain_time_has_no_dst_note(app, new_yorker):
    schedule(new_yorker, "2027-11-08T01:30")
    training = only_session(app)
    detail = new_yorker.get(f"/sessions/{training.id}").text
    assert 'id="start-dst-note"' not in detail and "GMT-05:00" not in detail


def test_a_session_across_fall_back_lasts_its_real_minutes_in_email_and_ics(app, new_yorker, tmp_path):
    app.instance_path = str(tmp_path)
    schedule(new_yorker, "2027-11-07T01:00", duration_minutes="120")
    training = only_session(app)
    assert training.start_at == datetime(2027, 11, 7, 5, 0, tzinfo=UTC)  # 01:00 EDT, the first
    assert training.end_at == datetime(2027, 11, 7, 7, 0, tzinfo=UTC)  # 02:00 EST: 120 real minutes
    guest = app.test_client()
    manage = confirmed_guest(guest, training.public_token, zone="America/New_York")
    assert 'data-status="confirmed"' in guest.get(manage).text  # free: confirmed at once
    (message,) = mails_to(tmp_path, "guest@example.com")
    body = body_of(message)
    assert (
        f"Starts: Sunday, November 7, 2027, 1:00{NNBSP}AM (United States (New York) Time, GMT-04:00)" in body
    )
    assert "Duration: 120 minutes" in body
    text, calendar = invitation_of(message)
    assert "DTSTART;TZID=America/New_York:20271107T010000" in text
    assert "DTEND;TZID=America/New_York:20271107T020000" in text
    event = the_event(calendar)
    assert (
        as_utc(event.decoded("dtend")) - as_utc(event.decoded("dtstart"))
        == training.end_at - training.start_at
    )
    assert as_utc(event.decoded("dtstart")) == training.start_at


def test_a_session_across_spring_forward_in_paris(app, client, tmp_path):
    app.instance_path = str(tmp_path)
    # 01:30 CET on 28 March 2027, 60 minutes: ends at 03:30 CEST (02:00-03:00 never happens).
    session = session_on(app, datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "Europe/Paris")
    manage = confirmed_guest(client, session["token"], zone="Europe/Paris", language="fr")
    assert 'data-status="confirmed"' in client.get(manage).text
    (message,) = mails_to(tmp_path, "guest@example.com")
    assert f"Début{NBSP}: dimanche 28 mars 2027, 01:30 (heure : France)" in body_of(message)
    text, calendar = invitation_of(message)
    assert "DTSTART;TZID=Europe/Paris:20270328T013000" in text
    assert "DTEND;TZID=Europe/Paris:20270328T033000" in text
    event = the_event(calendar)
    assert as_utc(event.decoded("dtend")) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_the_second_of_two_repeated_times_is_written_in_utc_in_the_ics(app, client, tmp_path):
    """01:30 EST (the second 01:30) as a TZID local time would be read as 01:30 EDT: use UTC."""
    app.instance_path = str(tmp_path)
    session = session_on(app, datetime(2027, 11, 7, 6, 30, tzinfo=UTC), "UTC")
    manage = confirmed_guest(client, session["token"], zone="America/New_York")
    page = client.get(manage).text
    assert f"1:30{NNBSP}AM (United States (New York) Time, GMT-05:00)" in page
    (message,) = mails_to(tmp_path, "guest@example.com")
    assert f"1:30{NNBSP}AM (United States (New York) Time, GMT-05:00)" in body_of(message)
    text, calendar = invitation_of(message)
    assert "DTSTART:20271107T063000Z" in text
    assert "DTEND;TZID=America/New_York:20271107T023000" in text  # 02:30 EST is not repeated
    event = the_event(calendar)
    assert as_utc(event.decoded("dtstart")) == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)
    assert as_utc(event.decoded("dtend")) == datetime(2027, 11, 7, 7, 30, tzinfo=UTC)


def test_the_organizers_detail_names_the_second_repeated_time(app, client):
    with app.app_context():
        enable_ecommerce()
        organizer = make_user("organizer@example.com", timezone="America/New_York")
        training = make_training(
            organizer, start_at=datetime(2027, 11, 7, 6, 30, tzinfo=UTC), timezone="America/New_York"
        )
        training_id = training.id
    login(client, "organizer@example.com")
    detail = client.get(f"/sessions/{training_id}").text
    note = re.search(r'<p class="hint" id="start-dst-note">(.*?)</p>', detail).group(1)
    assert "this is the second one, after the change (GMT-05:00)" in note
