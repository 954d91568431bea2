"""Periodic jobs (payments reconciler, seat-hold expiry, owed refunds, mail outbox), once across workers.

Started by ``create_app`` when ``PORTAL_RUN_JOBS`` is true (``make run`` sets it):
every worker runs the loop, but each round first takes a lock that only one
process can hold - a PostgreSQL advisory lock, or on SQLite (one machine) an
exclusive file lock in the instance folder - and a worker that does not get it
skips the round. Tests call ``run_round`` and the jobs directly.
"""

import fcntl
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import text

log = logging.getLogger(__name__)

# pg_advisory_lock key: any fixed 64-bit number, the same in every worker ("portal-j" in ASCII).
ADVISORY_KEY = 0x706F7274616C2D6A


@contextmanager
def exclusive(app: Flask) -> Iterator[bool]:
    """Yields True when this process holds the jobs lock for the block (one holder across workers)."""
    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            held = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar()
            try:
                yield bool(held)
            finally:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
        return
    with open(Path(app.instance_path) / "jobs.lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _jobs():
    from portal.billing.services import settle_owed_refunds
    from portal.mail.services import deliver_pending
    from portal.payments.services import reconcile
    from portal.registration.services import expire_holds

    return (reconcile, expire_holds, settle_owed_refunds, deliver_pending)


def run_round(app: Flask) -> bool:
    """One round of every job, if no other worker is running one; True when it ran."""
    from portal.extensions import db

    with app.app_context(), exclusive(app) as held:
        if not held:
            return False
        for job in _jobs():
            try:
                outcome = job()
                if outcome and (not isinstance(outcome, dict) or any(outcome.values())):
                    log.info("%s: %s", job.__name__, outcome)
            except Exception:  # a failed job must not stop the others or the loop
                log.exception("%s round failed", job.__name__)
            finally:
                db.session.remove()
        return True


def start_jobs(app: Flask) -> threading.Event:
    """Run a round every ``RECONCILE_INTERVAL`` seconds in a daemon thread; set the event to stop."""
    stop = threading.Event()
    interval = int(app.config["RECONCILE_INTERVAL"])

    def loop():
        while not stop.wait(interval):
            try:
                run_round(app)
            except Exception:  # the lock itself failed (database down): try again next time
                log.exception("jobs round could not start")

    threading.Thread(target=loop, name="portal-jobs", daemon=True).start()
    return stop
