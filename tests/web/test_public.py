from datetime import UTC, datetime

import pytest

from portal.extensions import db
from tests.factories import enable_ecommerce, make_training, make_user, set_settings


@pytest.fixture
def public(app):
    with app.app_context():
        enable_ecommerce()
        owner = make_user("organizer@example.com")
        training = make_training(owner, title="Negotiation basics", fee_cents=4900, capacity=25)
        training.set_times(datetime(2099, 7, 1, 8, 0, tzinfo=UTC))
        db.session.commit()
        return {"token": training.public_token, "id": training.id}


def test_public_page_shows_title_fee_and_seats_left(client, public):
    page = client.get(f"/s/{public['token']}")
    assert page.status_code == 200
    assert "<h1>Negotiation basics</h1>" in page.text
    assert 'id="seats-left" data-seats-left="25"' in page.text
    assert "$49.00" in page.text
    assert "60 minutes" in page.text


def test_public_link_is_unguessable_and_not_the_database_id(public):
    token = public["token"]
    assert len(token) >= 43  # 32 random bytes in URL-safe base64: 256 bits
    assert str(public["id"]) != token


def test_unknown_public_link_answers_404(client, public):
    assert client.get("/s/not-a-real-token").status_code == 404
    assert client.get(f"/s/{public['token'][:-1]}").status_code == 404


def test_start_is_shown_in_the_guests_time_zone(client, public):
    tokyo = client.get(f"/s/{public['token']}?tz=Asia/Tokyo").text
    assert "Wednesday, July 1, 2099, 5:00" in tokyo and "PM" in tokyo  # 08:00 UTC = 17:00 JST
    client.set_cookie("portal_tz", "America/New_York")
    new_york = client.get(f"/s/{public['token']}").text
    assert "Wednesday, July 1, 2099, 4:00" in new_york and "AM" in new_york  # EDT, UTC-4
    assert 'datetime="2099-07-01T08:00:00+00:00"' in new_york


def test_start_is_formatted_for_the_guests_language(client, public):
    page = client.get(f"/s/{public['token']}?tz=Europe/Paris", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert 'lang="fr"' in page.text
    assert "mercredi 1 juillet 2099" in page.text and "10:00" in page.text


def test_fee_is_absent_when_fee_based_training_is_off(app, client, public):
    with app.app_context():
        set_settings(fee_based_enabled=False)
    page = client.get(f"/s/{public['token']}").text
    assert "$49.00" not in page and "Fee" not in page
