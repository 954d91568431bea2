"""SQLite: one process-wide write lock orders the threads' transactions; it is always given back."""

import threading

import flask_migrate
import pytest
from sqlalchemy import text

from portal import create_app
from portal.database import _write_lock_for
from portal.extensions import db
from tests.conftest import make_config
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
