"""The portal under gunicorn, as in production: one worker with threads on SQLite, several on PostgreSQL.

A rush of guests for the last seats goes through real HTTP to real worker processes;
the counts must be exact, no request may fail, every log line is JSON with a request
id, and SIGTERM stops the server gracefully.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import func, select

from portal.deployment import ServingError, check_serving, problems, serving_plan
from portal.extensions import db
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from tests.conftest import SANDBOX_KEYS, csrf_from
from tests.factories import make_training, make_user

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"
SEATS = 5
GUESTS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(app, migrated_url, payments_sandbox, backend, tmp_path):
    """gunicorn serving the test database: (base URL, process, log path)."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": migrated_url,
        "PORTAL_SECRET_KEY": "gunicorn-test-" + "k" * 40,
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_PAYMENTS_SANDBOX_URL": payments_sandbox.url,
        "PORTAL_PAYMENTS_SANDBOX_MERCHANT_ID": SANDBOX_KEYS["merchant_id"],
        "PORTAL_PAYMENTS_SANDBOX_PUBLIC_KEY": SANDBOX_KEYS["public_key"],
        "PORTAL_PAYMENTS_SANDBOX_PRIVATE_KEY": SANDBOX_KEYS["private_key"],
        "PORTAL_THREADS": "8",
        "PORTAL_LOG_FORMAT": "json",
    }
    if backend == "postgresql":
        redis.Redis.from_url(REDIS_URL).flushdb()
        env.update(PORTAL_WORKERS="3", PORTAL_RATELIMIT_STORAGE_URI=REDIS_URL)
    else:
        env.update(PORTAL_WORKERS="1")
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "app:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still starting
                pass
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "gunicorn did not become ready:\n" + log_path.read_text()
            time.sleep(0.2)
        yield base, process, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def register(base: str, token: str, number: int) -> int:
    with requests.Session() as browser:
        page = browser.get(f"{base}/s/{token}", timeout=30)
        response = browser.post(
            f"{base}/s/{token}/register",
            data={
                "name": f"Guest {number}",
                "email": f"guest{number}@example.com",
                "csrf_token": csrf_from(page.text),
            },
            allow_redirects=False,
            timeout=30,
        )
        return response.status_code


def test_a_rush_for_the_last_seats_gives_exact_counts_under_gunicorn(app, served, backend):
    base, process, log_path = served
    with app.app_context():
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, fee_cents=0, capacity=SEATS, expected_attendees=SEATS)
        token, training_id = training.public_token, training.id

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda n: register(base, token, n), range(GUESTS)))
    assert statuses.count(303) == SEATS  # confirmed, sent to their registration
    assert statuses.count(409) == GUESTS - SEATS  # "full", a clear answer
    with app.app_context():
        assert db.session.get(TrainingSession, training_id).seats_taken == SEATS
        confirmed = db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.training_session_id == training_id, Registration.status == "confirmed")
        )
        assert confirmed == SEATS

    health = requests.get(base + "/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["database"] == "ok"

    # Graceful stop: SIGTERM, exit status 0.
    process.send_signal(signal.SIGTERM)
    assert process.wait(40) == 0
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "portal.access"]
    assert len(access) >= 2 * GUESTS
    assert all(re.fullmatch(r"[0-9a-f]{32}", line["request_id"]) for line in access)
    workers = {line["pid"] for line in access}
    assert len(workers) == 1 if backend == "sqlite" else 1 <= len(workers) <= 3


def test_serving_plans_follow_the_database():
    sqlite = serving_plan({}, cpus=2)
    assert (sqlite.database, sqlite.workers, sqlite.threads) == ("sqlite", 1, 8)
    postgres = serving_plan({"PORTAL_DATABASE_URL": "postgresql://db/portal"}, cpus=2)
    assert (postgres.database, postgres.workers, postgres.threads) == ("postgresql", 5, 4)


def test_several_workers_need_postgresql_and_shared_rate_limits():
    assert problems("postgresql", 3, "redis://127.0.0.1:6379/0") == []
    assert problems("sqlite", 1, "memory://") == []
    [sqlite_problem, limiter_problem] = problems("sqlite", 2, "memory://")
    assert "PORTAL_WORKERS=1" in sqlite_problem and "PORTAL_RATELIMIT_STORAGE_URI" in limiter_problem
    env = {"PORTAL_DATABASE_URL": "postgresql://db/portal", "PORTAL_WORKERS": "4"}
    with pytest.raises(ServingError, match="shared rate-limit counters"):
        check_serving(env, serving_plan(env, cpus=2))


def test_the_app_refuses_to_start_with_several_workers_and_per_process_limits(migrated_url):
    from portal import create_app
    from portal.config import ConfigurationError
    from tests.conftest import make_config

    with pytest.raises(ConfigurationError, match="PORTAL_RATELIMIT_STORAGE_URI"):
        create_app(make_config(migrated_url, WORKERS=3))


def test_gunicorn_refuses_sqlite_with_several_workers(tmp_path):
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "PORTAL_WORKERS": "2"}
    env.pop("PORTAL_RATELIMIT_STORAGE_URI", None)
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--check-config", "app:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "SQLite is served by one worker" in done.stderr + done.stdout


def test_a_worker_freezes_the_loaded_app_out_of_the_cyclic_collector(tmp_path):
    # Run in a process of its own: loading gunicorn.conf.py sets PORTAL_WORKERS in the environment.
    probe = (
        "import gc, runpy; config = runpy.run_path('gunicorn.conf.py'); "
        "before = gc.get_freeze_count(); config['post_worker_init'](None); "
        "print(gc.get_threshold()[0], before, gc.get_freeze_count())"
    )
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    threshold, frozen_before, frozen_after = map(int, done.stdout.split())
    assert threshold == 10_000 and frozen_before == 0 and frozen_after > 10_000
