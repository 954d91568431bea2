"""The database pool keeps a connection for every serving thread: none is opened per request."""

import threading

import flask_migrate
from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from tests.conftest import make_config

THREADS = 8


def test_concurrent_requests_reuse_pooled_connections(tmp_path, payments_sandbox):
    app = create_app({**make_config(f"sqlite:///{tmp_path}/pool.db", payments_sandbox), "THREADS": THREADS})
    with app.app_context():
        flask_migrate.upgrade()
        engine = db.engine
    assert engine.pool.size() == THREADS + 4
    opened = []
    event.listen(engine, "connect", lambda *_: opened.append(1))

    def one_round():
        start = threading.Barrier(THREADS)
        statuses = []

        def visit():
            client = app.test_client()
            start.wait(10)
            statuses.append(client.get("/login").status_code)

        threads = [threading.Thread(target=visit) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert statuses == [200] * THREADS

    one_round()  # fills the pool
    warmed = len(opened)
    for _ in range(3):
        one_round()
    # A pool smaller than the threads would open (and close) connections on every round.
    assert len(opened) == warmed
    with app.app_context():
        db.engine.dispose()
