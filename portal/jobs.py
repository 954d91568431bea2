"""Periodic jobs inside the app process (the payments reconciler).

Started by ``create_app`` only when ``PORTAL_RUN_JOBS`` is true (``make run``
sets it); tests call the jobs directly. Running them once across several
workers is issue 8's work: until then enable them on one process only.
"""

import logging
import threading

from flask import Flask

log = logging.getLogger(__name__)


def start_jobs(app: Flask) -> threading.Event:
    """Run the reconciler every ``RECONCILE_INTERVAL`` seconds in a daemon thread; set the event to stop."""
    stop = threading.Event()
    interval = int(app.config["RECONCILE_INTERVAL"])

    def loop():
        from portal.extensions import db
        from portal.payments.services import reconcile

        while not stop.wait(interval):
            with app.app_context():
                try:
                    counts = reconcile()
                    if any(counts.values()):
                        log.info("reconciler: %s", counts)
                except Exception:  # a failed round must not kill the loop
                    log.exception("reconciler round failed")
                finally:
                    db.session.remove()

    threading.Thread(target=loop, name="portal-jobs", daemon=True).start()
    return stop
