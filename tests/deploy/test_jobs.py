"""Scheduled jobs run once across workers: one round at a time holds the lock."""

import threading

from portal import create_app
from portal.extensions import db
from portal.jobs import exclusive, run_round
from tests.conftest import make_config


def test_a_round_runs_only_when_no_other_worker_holds_the_lock(app, migrated_url, payments_sandbox, tmp_path):
    app.instance_path = str(tmp_path)
    # A second "worker": another app on the same database (and instance folder).
    other = create_app(make_config(migrated_url, payments_sandbox))
    other.instance_path = str(tmp_path)
    assert run_round(app) is True
    holding, release = threading.Event(), threading.Event()

    def hold():
        with other.app_context(), exclusive(other) as held:
            assert held
            holding.set()
            release.wait(10)

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert holding.wait(10)
        assert run_round(app) is False  # the other worker is running its round: skip
    finally:
        release.set()
        worker.join(10)
    assert run_round(app) is True
    with other.app_context():
        db.engine.dispose()
