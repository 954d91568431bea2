"""Health checks for load balancers and orchestrators.

- ``GET /healthz``: the process answers, its database answers ``SELECT 1``, and
  the payment gateway's host accepts a connection (checked at most every
  ``GATEWAY_CHECK_SECONDS`` per process: a probe must not hammer Braintree).
- ``GET /readyz``: ready for traffic: the database answers and its schema is at
  the migrations' head (a worker started before ``flask db upgrade`` is not ready).

Both answer JSON, 200 or 503, set no cookie and are not rate limited.
"""

import socket
import threading
import time

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from portal.extensions import db, limiter

bp = Blueprint("health", __name__)

GATEWAY_CHECK_SECONDS = 15.0
_gateway_checked: dict[tuple[str, int], tuple[float, bool]] = {}
_gateway_guard = threading.Lock()


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        return True
    except Exception:
        db.session.rollback()
        current_app.logger.exception("health: the database does not answer")
        return False


def gateway_ok() -> bool:
    from portal.payments.services import gateway

    host, port = gateway().endpoint()
    now = time.monotonic()
    with _gateway_guard:
        checked = _gateway_checked.get((host, port))
        if checked and now - checked[0] < GATEWAY_CHECK_SECONDS:
            return checked[1]
    try:
        socket.create_connection((host, port), timeout=2).close()
        ok = True
    except OSError:
        current_app.logger.warning(
            "health: the payment gateway at %s:%s does not accept connections", host, port
        )
        ok = False
    with _gateway_guard:
        _gateway_checked[(host, port)] = (now, ok)
    return ok


def schema_current() -> bool:
    """The database's alembic revision is the migrations' head."""
    head = current_app.extensions.get("schema_head")
    if head is None:
        directory = current_app.extensions["migrate"].directory
        config = current_app.extensions["migrate"].migrate.get_config(directory)
        head = ScriptDirectory.from_config(config).get_current_head()
        current_app.extensions["schema_head"] = head
    try:
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        db.session.rollback()
    except Exception:
        db.session.rollback()
        return False
    return version == head


def _answer(checks: dict[str, bool]):
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "failing",
        **{k: "ok" if v else "failing" for k, v in checks.items()},
    }
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
@limiter.exempt
def healthz():
    return _answer({"database": database_ok(), "gateway": gateway_ok()})


@bp.route("/readyz")
@limiter.exempt
def readyz():
    return _answer({"database": database_ok(), "schema": schema_current()})
