"""Run as a child process: press Pay on a registration and die by SIGKILL at one chosen write.

    python -m tests.security.crash_checkout CONFIG_JSON MANAGE_PATH NONCE STATEMENT_PREFIX MARKER

The process kills itself (``SIGKILL``: no ``finally``, no rollback, no cleanup) just before the
first statement that starts with STATEMENT_PREFIX and whose parameters mention MARKER is sent,
after the gateway charged. It exits normally (status 0) only if that statement never came.
"""

import json
import os
import signal
import sys

from sqlalchemy import event

from portal import create_app
from portal.extensions import db
from tests.conftest import CSRF_RE


def main(config_json: str, manage: str, nonce: str, prefix: str, marker: str) -> None:
    app = create_app(json.loads(config_json))
    with app.app_context():
        engine = db.engine

    def die(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(prefix) and marker in repr(parameters):
            os.kill(os.getpid(), signal.SIGKILL)

    client = app.test_client()
    token = CSRF_RE.search(client.get(f"{manage}/pay").text).group(1)
    event.listen(engine, "before_cursor_execute", die)
    client.post(f"{manage}/pay", data={"payment_method_nonce": nonce, "csrf_token": token})


if __name__ == "__main__":
    main(*sys.argv[1:])
