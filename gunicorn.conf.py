"""Production serving: ``gunicorn -c gunicorn.conf.py app:app``.

Read from the environment (the same ``PORTAL_*`` variables as the app):
- ``PORTAL_BIND`` (default ``127.0.0.1:8000``);
- ``PORTAL_DATABASE_URL``: SQLite (or unset) runs ONE worker with ``PORTAL_THREADS``
  threads (default 8) - SQLite has one writer, and the app's process-wide write lock
  only orders the threads of one process; PostgreSQL runs ``PORTAL_WORKERS`` workers
  (default 2 x cores + 1) with ``PORTAL_THREADS`` threads each (default 4);
- ``PORTAL_GRACEFUL_TIMEOUT`` seconds for requests in flight at SIGTERM (default 30).
Several workers need shared rate-limit counters: ``PORTAL_RATELIMIT_STORAGE_URI=redis://...``.
The checks below refuse to start otherwise, with the reason.
"""

import gc
import multiprocessing
import os

from portal.deployment import check_serving, serving_plan

_plan = serving_plan(os.environ, multiprocessing.cpu_count())
check_serving(os.environ, _plan)
# Tell the app how many workers share it (it checks its own settings against that too).
os.environ["PORTAL_WORKERS"] = str(_plan.workers)
os.environ["PORTAL_THREADS"] = str(_plan.threads)  # its database pool has a connection for each

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
GC_YOUNG_THRESHOLD = 10_000  # objects allocated between collections of the young generation
workers = _plan.workers
threads = _plan.threads
worker_class = "gthread"
graceful_timeout = int(os.environ.get("PORTAL_GRACEFUL_TIMEOUT", "30"))
timeout = 60
keepalive = 5
# The app writes its own access log line (with the request id); gunicorn's own lines go out as JSON.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.observability.JsonFormatter"}},
    "filters": {"request_id": {"()": "portal.observability.RequestIdFilter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": [], "level": "INFO"},  # the app adds its own JSON handler to the root
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
raw_env = ["PORTAL_LOG_FORMAT=" + os.environ.get("PORTAL_LOG_FORMAT", "json")]


def worker_exit(server, worker):
    """Stop this worker's jobs thread (if it runs one) before the process goes."""
    stop = getattr(worker.wsgi, "extensions", {}).get("jobs_stop")
    if stop is not None:
        stop.set()


def post_worker_init(worker):
    """The app is loaded: take its long-lived objects (modules, mappers, templates, the translations)
    out of the cyclic collector's reach, and collect the young generation less often.

    A request allocates thousands of short-lived objects (ORM rows, form fields, template
    contexts); with CPython's default threshold (700) every few requests paid for a collection
    that walked the whole app. Measured on the seat reservation: about 10 % of its time.
    """
    gc.collect()  # startup's own garbage first: what is frozen is never collected
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
