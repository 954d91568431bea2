import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from portal.accounts.models import Role
from portal.accounts.services import find_user_by_email
from portal.database import utcnow
from portal.extensions import db
from portal.trainings.models import TrainingSession
from tests.conftest import count_queries, csrf_from, login
from tests.factories import enable_ecommerce, make_training, make_user


@pytest.fixture
def two_organizers(app):
    with app.app_context():
        enable_ecommerce()
        mine = make_user("organizer@example.com")
        theirs = make_user("organizer2@example.com", department="Engineering")
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        ids = {
            "mine": make_training(mine, title="My upcoming").id,
            "mine_past": make_training(mine, title="My finished", start_in=timedelta(days=-2)).id,
            "theirs": make_training(theirs, title="Their session").id,
        }
    return ids


def test_organizer_lists_only_their_own_upcoming_and_past_sessions(client, two_organizers):
    login(client, "organizer@example.com")
    upcoming = client.get("/sessions/").text
    past = client.get("/sessions/?when=past").text
    assert "My upcoming" in upcoming and "My finished" not in upcoming
    assert "My finished" in past and "My upcoming" not in past
    assert "Their session" not in upcoming + past
    assert ">Schedule a session</a>" in upcoming and ">My sessions</a>" in upcoming


def test_admin_sees_every_organizers_sessions(client, two_organizers):
    login(client, "admin@example.com")
    upcoming = client.get("/sessions/").text
    assert "My upcoming" in upcoming and "Their session" in upcoming
    assert client.get(f"/sessions/{two_organizers['theirs']}").status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/sessions/{id}"),
        ("get", "/sessions/{id}/edit"),
        ("post", "/sessions/{id}/edit"),
        ("post", "/sessions/{id}/cancel"),
    ],
)
def test_another_organizers_session_answers_404(client, two_organizers, method, path):
    login(client, "organizer@example.com")
    token = csrf_from(client.get("/sessions/").text)
    url = path.format(id=two_organizers["theirs"])
    response = getattr(client, method)(url, data={"csrf_token": token} if method == "post" else None)
    assert response.status_code == 404
    login_again = client.get(f"/sessions/{two_organizers['theirs']}")
    assert login_again.status_code == 404


def test_unknown_session_id_answers_404(client, two_organizers):
    login(client, "organizer@example.com")
    assert client.get("/sessions/999999").status_code == 404


def test_session_page_shows_status_and_public_link(client, two_organizers):
    login(client, "organizer@example.com")
    page = client.get(f"/sessions/{two_organizers['mine']}").text
    assert 'id="session-status" data-status="scheduled"' in page
    assert 'id="public-link" href="http://localhost/s/' in page


def test_edit_keeps_values_and_saves_changes(app, client, two_organizers):
    login(client, "organizer@example.com")
    url = f"/sessions/{two_organizers['mine']}/edit"
    page = client.get(url).text
    assert 'value="My upcoming"' in page and 'value="60"' in page
    response = client.post(
        url,
        data={
            "csrf_token": csrf_from(page),
            "intent": "save",
            "title": "Renamed",
            "start": f"{datetime.now(UTC).year + 1}-05-01T09:00",
            "timezone": "Europe/Paris",
            "duration_minutes": "120",
            "capacity": "20",
            "expected_attendees": "10",
            "audio": "internet",
            "teleconference_participants": "0",
            "session_fee": "12.50",
        },
    )
    assert response.status_code == 303
    from portal.trainings.models import TrainingSession

    with app.app_context():
        training = db.session.get(TrainingSession, two_organizers["mine"])
        assert (training.title, training.duration_minutes, training.fee_cents) == ("Renamed", 120, 1250)
        assert training.estimate_cents == 1650  # 120 x 11 x 0.0125


def test_cancelling_closes_the_public_page(app, client, two_organizers):
    login(client, "organizer@example.com")
    page = client.get(f"/sessions/{two_organizers['mine']}")
    response = client.post(
        f"/sessions/{two_organizers['mine']}/cancel", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303
    detail = client.get(f"/sessions/{two_organizers['mine']}").text
    assert 'data-status="cancelled"' in detail
    assert "/edit" not in detail
    from portal.trainings.models import TrainingSession

    with app.app_context():
        token = db.session.get(TrainingSession, two_organizers["mine"]).public_token
    public = client.get(f"/s/{token}")
    assert public.status_code == 410
    assert "This session has been cancelled." in public.text
    # A cancelled session cannot be edited any more.
    assert client.get(f"/sessions/{two_organizers['mine']}/edit").status_code == 303


def bulk_sessions(app, owner_email: str, count: int, past: bool = False, title: str = "Bulk") -> list[int]:
    """``count`` scheduled sessions in one INSERT, one hour apart (soonest first); their ids in that order."""
    with app.app_context():
        owner = find_user_by_email(owner_email)
        first = utcnow().replace(microsecond=0) + (timedelta(days=-30) if past else timedelta(days=2))
        sessions = []
        for number in range(count):
            training = TrainingSession(
                organizer_id=owner.id,
                title=f"{title} {number:03d}",
                timezone="Europe/Paris",
                duration_minutes=60,
                capacity=20,
                expected_attendees=10,
                audio="internet",
                currency="USD",
                status="scheduled",
            )
            training.set_times(first + timedelta(hours=number))
            sessions.append(training)
        db.session.add_all(sessions)
        db.session.commit()
        return [training.id for training in sessions]


def titles_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/sessions/\d+">([^<]+)</a>', html)


def pager_links(html: str) -> dict[str, str]:
    return {rel: unescape(href) for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html)}


def test_session_list_query_count_does_not_grow_with_sessions(app, client, two_organizers):
    """The admin's list shows each organizer: joined in the same query, never one query per row."""
    login(client, "admin@example.com")
    few = count_queries(app, client, "/sessions/")
    few_past = count_queries(app, client, "/sessions/?when=past")
    bulk_sessions(app, "organizer@example.com", 70)
    bulk_sessions(app, "organizer2@example.com", 70, title="Theirs")
    bulk_sessions(app, "organizer2@example.com", 60, past=True, title="Old")
    many = count_queries(app, client, "/sessions/")
    assert many == few
    assert count_queries(app, client, "/sessions/?page=3") == few
    assert count_queries(app, client, "/sessions/?when=past&page=2") == few_past
    page = client.get("/sessions/?page=2").text
    assert len(titles_listed(page)) == 50
    assert "organizer@example.com" in page and "organizer2@example.com" in page


def test_the_session_list_is_paged_soonest_first_and_the_pager_keeps_the_tab(app, client, two_organizers):
    upcoming = bulk_sessions(app, "organizer@example.com", 60)
    bulk_sessions(app, "organizer2@example.com", 10, title="Theirs")  # another organizer's: never listed
    bulk_sessions(app, "organizer@example.com", 55, past=True, title="Old")
    login(client, "organizer@example.com")
    titles = [f"Bulk {number:03d}" for number in range(60)]  # soonest first
    # "My upcoming" (in three days) falls between Bulk 023 and Bulk 024 (from two days on, an hour apart).
    soonest_first = [*titles[:24], "My upcoming", *titles[24:]]
    first = client.get("/sessions/").text
    assert titles_listed(first) == soonest_first[:50]
    assert "Page 1 of 2" in first and pager_links(first) == {"next": "/sessions/?page=2"}
    second = client.get("/sessions/?page=2").text
    assert titles_listed(second) == soonest_first[50:]
    assert pager_links(second) == {"prev": "/sessions/?page=1"}
    assert len(upcoming) == 60

    # Past sessions: latest first; the pager keeps the tab.
    past_titles = ["My finished", *(f"Old {number:03d}" for number in reversed(range(55)))]
    past = client.get("/sessions/?when=past").text
    assert titles_listed(past) == past_titles[:50]
    assert pager_links(past) == {"next": "/sessions/?when=past&page=2"}
    past_two = client.get("/sessions/?when=past&page=2")
    assert titles_listed(past_two.text) == past_titles[50:]
    assert pager_links(past_two.text) == {"prev": "/sessions/?when=past&page=1"}
    assert 'aria-current="page">Past</a>' in past_two.text

    # The fragment for htmx carries the same pager: real links (no JavaScript needed) that htmx boosts.
    fragment = client.get("/sessions/?when=past&page=2", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "HX-Request" in fragment.headers["Vary"]
    assert titles_listed(fragment.text) == past_titles[50:]
    assert pager_links(fragment.text) == {"prev": "/sessions/?when=past&page=1"}
    assert 'hx-boost="true" hx-target="#session-list"' in fragment.text
    assert "HX-Request" in client.get("/sessions/").headers["Vary"]

    beyond = client.get("/sessions/?page=40")
    assert beyond.status_code == 200 and titles_listed(beyond.text) == []
    assert "No sessions on this page." in beyond.text


@pytest.mark.parametrize("session_id", ["2147483648", "9223372036854775808", "0"])
def test_out_of_range_session_ids_answer_404(client, two_organizers, session_id):
    login(client, "organizer@example.com")
    assert client.get(f"/sessions/{session_id}").status_code == 404
    assert client.get(f"/sessions/{session_id}/edit").status_code == 404
