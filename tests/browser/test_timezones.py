"""The guest's time zone in a real browser: detected by app.js, changeable, the explicit choice wins.

The session starts on 2027-06-15 at 14:00 UTC: 23:00 in Tokyo, 16:00 in Paris.
"""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.registration.models import Registration
from tests.factories import enable_ecommerce, make_training, make_user


@pytest.fixture
def public_url(app, live_server) -> str:
    with app.app_context():
        enable_ecommerce()
        organizer = make_user("organizer@example.com", timezone="America/New_York")
        training = make_training(organizer, start_at=datetime(2027, 6, 15, 14, 0, tzinfo=UTC), fee_cents=0)
        return f"{live_server}/s/{training.public_token}"


def cookies_of(context) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in context.cookies()}


def stored_zone(app, address: str) -> str:
    with app.app_context():
        return db.session.scalar(db.select(Registration.timezone).where(Registration.email == address))


def register(page, address: str) -> None:
    page.get_by_label("Name", exact=True).fill("Gina Guest")
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_role("button", name="Register", exact=True).click()
    expect(page.locator("#registration-status")).to_have_attribute("data-status", "confirmed")


def test_the_browsers_zone_is_detected_and_used(app, public_url, new_context):
    context = new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(public_url)
    start = page.locator("time[data-local-time]")
    expect(start).to_contain_text("11:00")  # rewritten in the browser's zone on the first visit
    expect(start).to_contain_text("Asia/Tokyo")
    expect(page.get_by_label("Your time zone")).to_have_value("Asia/Tokyo")
    assert cookies_of(context)["portal_tz"] == "Asia/Tokyo"
    assert "portal_tz_chosen" not in cookies_of(context)
    # From the next request on, the server itself renders in the detected zone.
    assert "11:00\u202fPM (Japan Time)" in context.request.get(public_url).text()
    register(page, "tokyo@example.com")
    assert stored_zone(app, "tokyo@example.com") == "Asia/Tokyo"  # the zone its email uses


def test_an_explicit_choice_wins_over_detection(app, public_url, new_context):
    context = new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(public_url)
    expect(page.get_by_label("Your time zone")).to_have_value("Asia/Tokyo")
    page.get_by_label("Your time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Show times").click()
    start = page.locator("time[data-local-time]")
    expect(start).to_contain_text("4:00")
    expect(start).to_contain_text("France Time")
    assert cookies_of(context)["portal_tz"] == "Europe/Paris"
    # Back later, without the parameter: app.js still sees Tokyo but leaves the choice alone.
    page.goto(public_url)
    expect(start).to_contain_text("4:00")
    expect(start).to_contain_text("France Time")
    expect(page.get_by_label("Your time zone")).to_have_value("Europe/Paris")
    assert cookies_of(context)["portal_tz"] == "Europe/Paris"
    assert cookies_of(context)["portal_tz_chosen"] == "1"
    register(page, "paris@example.com")
    assert stored_zone(app, "paris@example.com") == "Europe/Paris"
    expect(page.locator("time[data-local-time]")).to_contain_text("France Time")  # the manage page too


def test_going_back_to_automatic_lets_detection_speak_again(public_url, new_context):
    context = new_context(timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(public_url + "?tz=Europe/Paris")
    page.get_by_label("Your time zone").select_option("auto")
    page.get_by_role("button", name="Show times").click()
    expect(page.locator("time[data-local-time]")).to_contain_text("Asia/Tokyo")
    assert cookies_of(context)["portal_tz"] == "Asia/Tokyo"
    assert "portal_tz_chosen" not in cookies_of(context)


def test_without_javascript_a_french_guest_picks_a_zone(public_url, new_context):
    context = new_context(java_script_enabled=False, timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(public_url + "?lang=fr")
    start = page.locator("time[data-local-time]")
    expect(start).to_contain_text("14:00 (UTC)")  # no script, no cookie: the site's default zone
    page.get_by_label("Votre fuseau horaire").select_option("Europe/Paris")
    page.get_by_role("button", name="Afficher les heures").click()
    expect(start).to_have_text("mardi 15 juin 2027, 16:00 (heure : France)")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert cookies_of(context)["portal_tz"] == "Europe/Paris"
