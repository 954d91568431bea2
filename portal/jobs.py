"""Periodic jobs inside the app process (payments reconciler, seat-hold expiry, mail outbox).

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
        from portal.billing.services import settle_owed_refunds
        from portal.extensions import db
        from portal.mail.services import deliver_pending
        from portal.payments.services import reconcile
        from portal.registration.services import expire_holds

        while not stop.wait(interval):
            with app.app_context():
                for job in (reconcile, expire_holds, settle_owed_refunds, deliver_pending):
                    try:
                        outcome = job()
                        if outcome and (not isinstance(outcome, dict) or any(outcome.values())):
                            log.info("%s: %s", job.__name__, outcome)
                    except Exception:  # a failed round must not kill the loop
                        log.exception("%s round failed", job.__name__)
                    finally:
                        db.session.remove()

    threading.Thread(target=loop, name="portal-jobs", daemon=True).start()
    return stop
