"""SQLite: one process-wide write lock orders the threads' transactions; it is always given back."""

import threading
from datetime import UTC, datetime

import flask_migrate
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.database import _write_lock_for
from portal.extensions import db
from tests.conftest import csrf_from, login, make_config
from tests.factories import make_user


@pytest.fixture
def sqlite_app(tmp_path, payments_sandbox):
    """The write lock is SQLite's (PostgreSQL has row locks): an app on a SQLite file of its own."""
    app = create_app(make_config(f"sqlite:///{tmp_path}/lock.db", payments_sandbox))
    with app.app_context():
        flask_migrate.upgrade()  # the migrations create the settings row too
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def lock_of(app):
    with app.app_context():
        return _write_lock_for(db.engine)


def test_the_lock_is_held_for_a_transaction_and_given_back_however_it_ends(sqlite_app, caplog):
    lock = lock_of(sqlite_app)
    with sqlite_app.app_context():
        db.session.execute(text("SELECT 1"))
        assert lock.locked()
        db.session.commit()
        assert not lock.locked()
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        assert not lock.locked()
        db.session.execute(text("SELECT 1"))
        db.session.remove()  # the connection goes back to the pool mid-transaction
        assert not lock.locked()
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert not lock.locked()  # closed without commit
    # A read-only connection (exports) never takes it.
    from portal.database import stream_rows

    with sqlite_app.app_context():
        rows = stream_rows(text("SELECT 1"))
        assert list(rows) == [(1,)]
        assert not lock.locked()
    # The pool's own hooks ran cleanly (an error there is only logged, and would keep the lock).
    assert [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy.pool")] == []


def test_a_second_writer_waits_its_turn_instead_of_failing(sqlite_app):
    order: list[str] = []
    first_holds, second_trying, second_done = threading.Event(), threading.Event(), threading.Event()

    def first():
        with sqlite_app.app_context():
            make_user("first@example.com")  # committed
            db.session.execute(text("UPDATE users SET name = 'First' WHERE email = 'first@example.com'"))
            first_holds.set()
            second_trying.wait(5)
            # While this transaction is open the second writer cannot finish: it waits, it does not fail.
            assert not second_done.wait(0.3)
            order.append("first commits")
            db.session.commit()

    def second():
        first_holds.wait(5)
        with sqlite_app.app_context():
            second_trying.set()
            make_user("second@example.com")
            order.append("second committed")
        second_done.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert order == ["first commits", "second committed"]
    assert not lock_of(sqlite_app).locked()


def _schedule_form(csrf: str, intent: str, title: str) -> dict:
    return {
        "csrf_token": csrf,
        "intent": intent,
        "title": title,
        "start": f"{datetime.now(UTC).year + 1}-01-01T10:00",
        "timezone": "UTC",
        "duration_minutes": "60",
        "capacity": "10",
        "expected_attendees": "5",
        "audio": "internet",
        "teleconference_participants": "0",
    }


def _in_thread(work) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        outcome["status"] = work().status_code

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_requests_that_only_read_are_served_while_a_writer_holds_the_lock(sqlite_app):
    """GETs and the live estimate begin deferred transactions: a long write does not stall them."""
    with sqlite_app.app_context():
        make_user("organizer@example.com")
    client = sqlite_app.test_client()
    login(client, "organizer@example.com")
    csrf = csrf_from(client.get("/sessions/new").text)
    writer = sqlite_app.test_client()
    login(writer, "organizer@example.com")
    writer_csrf = csrf_from(writer.get("/sessions/new").text)
    lock = lock_of(sqlite_app)
    with sqlite_app.app_context():
        db.session.execute(text("UPDATE users SET name = 'Busy' WHERE email = 'organizer@example.com'"))
        assert lock.locked()
        for work in (
            lambda: client.get("/sessions/new"),
            lambda: client.post("/sessions/new", data=_schedule_form(csrf, "estimate", "Only a quote")),
        ):
            thread, outcome = _in_thread(work)
            thread.join(5)  # the write lock's own wait is 10 s: finishing here means it was not waited for
            assert not thread.is_alive() and outcome["status"] == 200
        # Scheduling writes: it waits for the lock, then goes through.
        scheduling, outcome = _in_thread(
            lambda: writer.post("/sessions/new", data=_schedule_form(writer_csrf, "schedule", "Written"))
        )
        scheduling.join(0.3)
        assert scheduling.is_alive()
        db.session.commit()
    scheduling.join(10)
    assert outcome["status"] == 303
    with sqlite_app.app_context():
        titles = db.session.scalars(text("SELECT title FROM training_sessions")).all()
    assert titles == ["Written"]  # the estimate stored nothing
    assert not lock.locked()


def test_a_get_that_writes_fails_loudly_and_the_connection_writes_again_afterwards(sqlite_app):
    @sqlite_app.route("/test/writes-on-get")
    def writes_on_get():
        db.session.execute(text("UPDATE users SET name = 'Changed by a GET'"))
        db.session.commit()
        return "written"

    with sqlite_app.app_context():
        make_user("organizer@example.com")
    client = sqlite_app.test_client()
    with pytest.raises(OperationalError, match="readonly database"):
        client.get("/test/writes-on-get")
    # The same pooled connections serve writers again: query_only is turned off for them.
    assert login(client, "organizer@example.com").status_code == 303
    csrf = csrf_from(client.get("/sessions/new").text)
    assert client.post("/sessions/new", data=_schedule_form(csrf, "schedule", "After")).status_code == 303
    with sqlite_app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM users WHERE name = 'Changed by a GET'")) == 0
        assert db.session.scalar(text("SELECT count(*) FROM training_sessions")) == 1
    assert not lock_of(sqlite_app).locked()
