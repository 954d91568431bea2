from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.trainings.models import TrainingSession
from tests.conftest import csrf_from, login
from tests.factories import enable_ecommerce, make_user, set_settings

FUTURE = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT10:00")
NEXT_YEAR = datetime.now(UTC).year + 1


def last_sunday_of_march(year: int) -> int:
    day = 31
    while date(year, 3, day).weekday() != 6:
        day -= 1
    return day


def form_data(**changes):
    data = {
        "title": "Negotiation basics",
        "description": "Learn to negotiate.",
        "start": FUTURE,
        "timezone": "Europe/Paris",
        "duration_minutes": "60",
        "capacity": "20",
        "expected_attendees": "10",
        "audio": "toll",
        "teleconference_participants": "4",
        "session_fee": "49.00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def organizer(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("organizer@example.com")
    login(client, "organizer@example.com")
    return client


def post(client, url="/sessions/new", htmx=False, **data):
    token = csrf_from(client.get(url).text)
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(url, data={**data, "csrf_token": token}, headers=headers)


def saved(app) -> list[TrainingSession]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(TrainingSession)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_scheduling_page_has_the_stable_labels_and_buttons(organizer):
    page = organizer.get("/sessions/new").text
    for label in (
        "Title",
        "Description",
        "Start",
        "Time zone",
        "Duration (minutes)",
        "Capacity",
        "Expected attendees",
        "Audio",
        "Teleconference participants",
        "Session fee",
    ):
        assert f">{label}</label>" in page, label
    for option in ("None", "Internet audio", "Toll call-in", "Toll-free call-in", "Call-back"):
        assert f">{option}</option>" in page
    assert ">Schedule</button>" in page and ">Start now</button>" in page
    assert "<noscript>" in page and ">Update estimate</button>" in page


def test_htmx_estimate_request_gets_only_the_fragment(organizer):
    response = post(organizer, htmx=True, intent="estimate", **form_data())
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="estimate"')
    # 60 x 11 x 0.0125 = 8.25 ; 60 x 4 x 0.09 = 21.60 ; total 29.85
    assert 'data-total="29.85"' in response.text
    assert 'data-person-minutes="660"' in response.text
    assert 'data-teleconference-minutes="240"' in response.text


def test_estimate_without_htmx_renders_the_full_page_with_values_kept(organizer):
    response = post(organizer, intent="estimate", **form_data(duration_minutes="90"))
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" in response.text
    # 90 x 11 x 0.0125 = 12.375 and 90 x 4 x 0.09 = 32.40: 44.775 rounds half-up once to 44.78
    assert 'data-total="44.78"' in response.text
    assert 'value="90"' in response.text and 'value="Negotiation basics"' in response.text


def test_tax_is_added_and_the_estimate_rounded_once(app, organizer):
    with app.app_context():
        set_settings(tax_percent=Decimal("8.25"))
    response = post(organizer, htmx=True, intent="estimate", **form_data())
    # 29.85 x 1.0825 = 32.312625 -> 32.31; the tax line is what it adds: 2.46
    assert 'data-total="32.31"' in response.text
    assert "$2.46" in response.text and "$32.31" in response.text
    assert "Tax (8.25%)" in response.text


def test_a_tax_rate_shows_every_digit_it_was_set_with(app, organizer):
    with app.app_context():
        set_settings(tax_percent=Decimal("8.1234"))
    response = post(organizer, htmx=True, intent="estimate", **form_data())
    # 29.85 x 1.081234 = 32.2748349 -> 32.27
    assert "Tax (8.1234%)" in response.text and 'data-total="32.27"' in response.text


def test_estimate_panel_shows_rates_and_line_totals(organizer):
    text = post(organizer, htmx=True, intent="estimate", **form_data()).text
    assert "$0.0125 per minute" in text
    assert "$0.09 per minute" in text
    assert "$8.25" in text and "$21.60" in text and "$29.85" in text


def test_internet_audio_has_no_teleconference_minutes(organizer):
    response = post(organizer, htmx=True, intent="estimate", **form_data(audio="internet"))
    assert 'data-teleconference-minutes="0"' in response.text
    assert 'data-total="8.25"' in response.text


INVALID = [
    ({"teleconference_participants": "12"}, "Teleconference participants cannot exceed the 11 computers"),
    ({"duration_minutes": "0"}, "The duration must be between 1 and 1440 minutes."),
    ({"duration_minutes": "1441"}, "The duration must be between 1 and 1440 minutes."),
    ({"expected_attendees": "21"}, "Expected attendees cannot exceed the capacity."),
    ({"session_fee": "-5"}, "Enter zero or a positive amount."),
    ({"session_fee": "10.555"}, "USD amounts have at most 2 decimal places."),
    ({"start": "2001-01-01T10:00"}, "The start cannot be in the past."),
    ({"duration_minutes": "abc"}, "Not a valid integer value."),
    ({"capacity": "0"}, "The capacity must be between 1 and 100000."),
]


@pytest.mark.parametrize("changes, message", INVALID)
def test_invalid_values_show_inline_in_the_estimate_fragment(organizer, changes, message):
    response = post(organizer, htmx=True, intent="estimate", **form_data(**changes))
    assert response.status_code == 200
    assert message in response.text
    assert "<html" not in response.text


@pytest.mark.parametrize("changes, message", INVALID)
def test_invalid_values_block_saving_and_keep_every_value(app, organizer, changes, message):
    response = post(organizer, intent="schedule", **form_data(**changes))
    assert response.status_code == 422
    assert message in response.text
    assert 'value="Negotiation basics"' in response.text
    assert "Learn to negotiate.</textarea>" in response.text
    for value in changes.values():
        assert f'value="{value}"' in response.text
    assert saved(app) == []


def test_estimate_is_hidden_while_cost_inputs_are_invalid(organizer):
    response = post(organizer, htmx=True, intent="estimate", **form_data(teleconference_participants="50"))
    assert "data-total" not in response.text


def test_schedule_saves_the_session_in_utc_with_its_estimate_snapshot(app, organizer):
    with app.app_context():
        set_settings(pay_per_use_enabled=False)  # scheduled directly; pay-per-use: tests/billing
    response = post(organizer, intent="schedule", **form_data(start=f"{NEXT_YEAR}-07-01T10:00"))
    assert response.status_code == 303
    (training,) = saved(app)
    assert response.headers["Location"] == f"/sessions/{training.id}"
    assert training.status == "scheduled"
    # 10:00 in Paris in July (CEST, UTC+2) is 08:00 UTC.
    assert training.start_at == datetime(NEXT_YEAR, 7, 1, 8, 0, tzinfo=UTC)
    assert training.end_at == datetime(NEXT_YEAR, 7, 1, 9, 0, tzinfo=UTC)
    assert training.fee_cents == 4900 and training.currency == "USD"
    assert training.estimate_cents == 2985
    assert training.estimate_snapshot["rates"]["person_minute"] == "0.0125"
    assert training.estimate_snapshot["total_cents"] == 2985


def test_a_later_rate_change_never_rewrites_a_saved_estimate(app, organizer):
    post(organizer, intent="schedule", **form_data())
    with app.app_context():
        set_settings(person_minute_rate=Decimal("1"))
    (training,) = saved(app)
    assert training.estimate_cents == 2985
    assert training.estimate_snapshot["rates"]["person_minute"] == "0.0125"


def test_start_now_starts_the_session_immediately(app, organizer):
    with app.app_context():
        set_settings(pay_per_use_enabled=False)
    before = datetime.now(UTC)
    response = post(organizer, intent="start", **form_data(start=""))
    assert response.status_code == 303
    (training,) = saved(app)
    assert training.status == "started"
    assert before - timedelta(seconds=1) <= training.start_at <= datetime.now(UTC)


def test_a_wall_time_skipped_by_daylight_saving_is_refused(app, organizer):
    # Clocks in Paris jump from 02:00 to 03:00 on the last Sunday of March.
    day = last_sunday_of_march(NEXT_YEAR)
    response = post(organizer, intent="schedule", **form_data(start=f"{NEXT_YEAR}-03-{day}T02:30"))
    assert response.status_code == 422
    assert "does not exist in the chosen time zone" in response.text
    assert saved(app) == []


def test_tampered_audio_and_time_zone_are_refused(app, organizer):
    response = post(organizer, intent="schedule", **form_data(audio="free-calls", timezone="Mars/Base"))
    assert response.status_code == 422
    assert '<p class="error" id="audio-error">Not a valid choice.</p>' in response.text
    assert '<p class="error" id="timezone-error">Not a valid choice.</p>' in response.text
    assert "does not exist" not in response.text
    assert saved(app) == []


def test_teleconference_participants_are_ignored_for_internet_audio(app, organizer):
    post(organizer, intent="schedule", **form_data(audio="internet", teleconference_participants="3"))
    (training,) = saved(app)
    assert training.teleconference_participants == 0
    assert training.estimate_cents == 825


def test_an_absurd_fee_is_refused_instead_of_overflowing(app, organizer):
    response = post(organizer, intent="schedule", **form_data(session_fee="100000000"))
    assert response.status_code == 422
    assert "This value is too large." in response.text
    assert saved(app) == []


def test_largest_inputs_at_the_highest_rates_are_stored_exactly(app, organizer):
    with app.app_context():
        set_settings(person_minute_rate=Decimal("1000"), callback_rate=Decimal("1000"))
    response = post(
        organizer,
        intent="schedule",
        **form_data(
            duration_minutes="1440",
            capacity="100000",
            expected_attendees="100000",
            audio="callback",
            teleconference_participants="100001",
            session_fee="99999999.99",
        ),
    )
    assert response.status_code == 303
    (training,) = saved(app)
    # 1440 x 100001 x 1000 twice, in cents
    assert training.estimate_cents == 2 * 1440 * 100001 * 1000 * 100
    assert training.fee_cents == 9999999999


def test_editing_cannot_skip_the_past_start_rule_with_a_tampered_intent(app, organizer):
    with app.app_context():
        set_settings(pay_per_use_enabled=False)
    post(organizer, intent="schedule", **form_data())
    (training,) = saved(app)
    url = f"/sessions/{training.id}/edit"
    response = post(organizer, url, intent="start", **form_data(start="2001-01-01T10:00"))
    assert response.status_code == 200  # treated as a re-estimate, nothing saved
    response = post(organizer, url, intent="save", **form_data(start="2001-01-01T10:00"))
    assert response.status_code == 422
    assert "The start cannot be in the past." in response.text
    (after,) = saved(app)
    assert after.start_at == training.start_at


def test_the_edit_pages_live_estimate_reads_only_the_cost_fields_and_saving_still_checks_them_all(
    app, organizer
):
    post(organizer, intent="schedule", **form_data())
    (draft,) = saved(app)  # pay-per-use: an unpaid draft
    url = f"/sessions/{draft.id}/edit"
    # The panel alone: an empty title or a bad link is not an error while estimating.
    fragment = post(
        organizer,
        url,
        htmx=True,
        intent="estimate",
        **form_data(title="", meeting_url="x", duration_minutes="90"),
    )
    assert fragment.text.lstrip().startswith('<section id="estimate"')
    assert 'data-total="44.78"' in fragment.text and "errors" not in fragment.text
    # The same values submitted (a draft is scheduled): every field is checked, on the whole page.
    page = post(organizer, url, intent="schedule", **form_data(title="", duration_minutes="90"))
    assert page.status_code == 422 and "<html" in page.text and "This field is required." in page.text
    # htmx restoring history wants the whole page, not the panel.
    restored = organizer.get(url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in restored.text and 'id="estimate"' in restored.text


@pytest.mark.parametrize("start", ["0001-01-01T00:00", "9999-12-31T23:59", "2999-01-01T10:00"])
def test_far_away_starts_are_refused_not_crashing(app, organizer, start):
    for htmx, intent in ((True, "estimate"), (False, "schedule")):
        response = post(
            organizer, htmx=htmx, intent=intent, **form_data(start=start, timezone="America/New_York")
        )
        assert response.status_code == (200 if htmx else 422)
        assert "The start must be within the next 5 years." in response.text
    assert saved(app) == []


@pytest.mark.parametrize("fee", ["--1", "+-1", "1..2", "1e5", "١٢"])
def test_malformed_fees_are_refused_not_crashing(organizer, fee):
    response = post(organizer, intent="schedule", **form_data(session_fee=fee))
    assert response.status_code == 422
    assert "Enter a number, such as 12.50." in response.text


def test_a_fee_keeps_its_currency_when_the_site_currency_changes(app, organizer):
    post(organizer, intent="schedule", **form_data(session_fee="49.00"))
    (training,) = saved(app)
    with app.app_context():
        set_settings(currency="JPY")
    url = f"/sessions/{training.id}/edit"
    page = organizer.get(url).text
    assert 'value="49.00"' in page and "in USD" in page
    post(organizer, url, intent="save", **form_data(session_fee="49.00"))
    (after,) = saved(app)
    assert (after.fee_cents, after.currency) == (4900, "USD")


def test_no_live_estimate_endpoint_while_pay_per_use_is_off(app, organizer):
    with app.app_context():
        set_settings(pay_per_use_enabled=False)
    response = post(organizer, htmx=True, intent="estimate", **form_data())
    assert response.status_code == 404


def test_estimating_without_javascript_does_not_nag_about_the_title(organizer):
    response = post(organizer, intent="estimate", **form_data(title=""))
    assert response.status_code == 200
    assert "This field is required." not in response.text


def test_htmx_request_after_sign_out_redirects_the_whole_page(app, organizer):
    token = csrf_from(organizer.get("/sessions/new").text)
    with app.app_context():
        from portal.accounts.models import User
        from portal.accounts.services import revoke_sessions

        revoke_sessions(db.session.scalar(db.select(User)))
    response = organizer.post(
        "/sessions/new",
        data={**form_data(), "intent": "estimate", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login?next=/sessions/new")


def test_htmx_request_with_an_expired_csrf_token_reloads_the_page(organizer):
    response = organizer.post(
        "/sessions/new",
        data={**form_data(), "intent": "estimate", "csrf_token": "expired"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert response.headers["HX-Refresh"] == "true"
