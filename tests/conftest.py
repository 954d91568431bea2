"""Shared fixtures: one migrated database per backend, a fresh app per test.

Every test that uses ``app`` runs on SQLite and, when PORTAL_TEST_POSTGRES_URL is
set (CI sets it), again on PostgreSQL, in a database created for this run.
"""

import logging
import os
import re
import secrets
import threading
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from portal import create_app
from portal.admin.services import _defaults as default_settings
from portal.extensions import db
from portal.payments.sandbox import SandboxServer

POSTGRES_URL = os.environ.get("PORTAL_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
PASSWORD = "correct horse battery"


SANDBOX_KEYS = {"merchant_id": "test_merchant", "public_key": "test_public", "private_key": "test_private"}


@pytest.fixture(scope="session")
def payments_sandbox(tmp_path_factory):
    """The offline Braintree-compatible sandbox, over real HTTP on a free loopback port."""
    server = SandboxServer(
        port=0, data_path=str(tmp_path_factory.mktemp("sandbox") / "sandbox.db"), **SANDBOX_KEYS
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def payflow_sandbox(tmp_path_factory):
    """The offline Payflow Pro sandbox (name-value API and hosted checkout page) over loopback HTTP."""
    from portal.payments.payflow_sandbox import PayflowSandbox

    server = PayflowSandbox(port=0, data_path=str(tmp_path_factory.mktemp("payflow") / "payflow.db"))
    server.start()
    yield server
    server.stop()


def payflow_config(payflow_sandbox) -> dict:
    """A site switched to Payflow Pro, on the offline Payflow sandbox (its default credentials)."""
    return {"PAYMENT_GATEWAY": "payflow", "PAYFLOW_SANDBOX_URL": payflow_sandbox.url, "PAYFLOW_TIMEOUT": 2}


def make_config(database_url: str, sandbox=None, **extra) -> dict:
    config = {
        "TESTING": True,
        "LOG_CONFIGURE": False,  # pytest captures logs itself
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        # Short, so that "response lost" faults become unknown outcomes quickly.
        "BRAINTREE_TIMEOUT": 2,
        "PAYMENTS_SANDBOX_MERCHANT_ID": SANDBOX_KEYS["merchant_id"],
        "PAYMENTS_SANDBOX_PUBLIC_KEY": SANDBOX_KEYS["public_key"],
        "PAYMENTS_SANDBOX_PRIVATE_KEY": SANDBOX_KEYS["private_key"],
    }
    if sandbox is not None:
        config["PAYMENTS_SANDBOX_URL"] = sandbox.url
    config.update(extra)
    return config


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        yield "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "portal.db")
        return
    base = make_url(POSTGRES_URL)
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_url(database_url):
    """The schema is built by the migrations, exactly as in production."""
    app = create_app(make_config(database_url))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return database_url


def reset_database() -> None:
    # The audit log refuses deletes (database triggers); between tests we lift that guard
    # the way only an operator with DDL rights could, and put it back.
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        guards = []
    else:
        guards = db.session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'")
        ).all()
        for name, _sql in guards:
            db.session.execute(text(f'DROP TRIGGER "{name}"'))
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    for _name, sql in guards:
        db.session.execute(text(sql))
    db.session.add(default_settings())
    db.session.commit()


CARD_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{13,19}(?![0-9A-Za-z])")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_data_in(text: str) -> list[str]:
    """Card numbers (Luhn-valid 13-19 digit runs) and Braintree test nonces found in ``text``."""
    found = [number for number in CARD_NUMBER.findall(text) if luhn_valid(number)]
    return found + re.findall(r"fake-[a-z-]+-nonce|tokencc_[A-Za-z0-9_]+", text)


class PortalLogRecorder(logging.Handler):
    """Every record the portal's own loggers write during the whole run (the sandbox excepted)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        if record.name.startswith("portal") and not record.name.startswith("portal.payments.sandbox"):
            self.lines.append(record.getMessage())


@pytest.fixture(scope="session", autouse=True)
def no_card_data_in_logs():
    """After the whole suite: no card number, CVV or nonce was ever logged by the portal."""
    recorder = PortalLogRecorder()
    logger = logging.getLogger("portal")
    logger.addHandler(recorder)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    yield recorder
    logger.removeHandler(recorder)
    logger.setLevel(previous)
    leaked = card_data_in("\n".join(recorder.lines))
    assert not leaked, f"card data in the portal's logs: {leaked[:5]}"


def assert_no_card_data_stored() -> None:
    dump = [
        " ".join(str(value) for value in row)
        for table in db.metadata.sorted_tables
        for row in db.session.execute(table.select())
    ]
    leaked = card_data_in("\n".join(dump))
    assert not leaked, f"card data stored in the database: {leaked[:5]}"


def app_lifecycle(config: dict):
    """For ``app`` fixtures (``yield from``): a new app on a clean database; after the test, whatever
    it did, no card number or nonce in any table, and its connections closed."""
    app = create_app(config)
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        assert_no_card_data_stored()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(migrated_url, payments_sandbox):
    payments_sandbox.clear_faults()
    yield from app_lifecycle(make_config(migrated_url, payments_sandbox))


@pytest.fixture
def payflow_app(migrated_url, payments_sandbox, payflow_sandbox, tmp_path):
    """An app on a site switched to Payflow Pro (a module uses it as its ``app``)."""
    payments_sandbox.clear_faults()
    payflow_sandbox.clear_faults()
    config = make_config(
        migrated_url, payments_sandbox, INSTANCE_PATH=str(tmp_path), **payflow_config(payflow_sandbox)
    )
    yield from app_lifecycle(config)
    payflow_sandbox.clear_faults()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def backend(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    page = client.get("/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page.text)}
    )


@pytest.fixture
def live_server_url(app):
    """The test's app on a real loopback port (for webhooks delivered over HTTP, browsers)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
        assert not thread.is_alive(), "the live server did not stop"


def queries_and_body(app, client, url) -> tuple[int, bytes]:
    """How many SQL statements one GET of ``url`` runs, body read included (a streamed CSV runs
    its queries as it is read), and the body."""
    with app.app_context():
        engine = db.engine
    statements = []

    def record(conn, cursor, statement, *args):
        if not statement.startswith("PRAGMA"):  # SQLite connection housekeeping, not a query
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_data()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements), body


def count_queries(app, client, url) -> int:
    """How many SQL statements one GET of ``url`` runs (pages must stay O(1) in queries)."""
    return queries_and_body(app, client, url)[0]


# One Playwright and one Chromium for the whole run (tests/browser and tests/security use them):
# a second sync Playwright started while the first is alive fails ("inside the asyncio loop").
@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright):
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: browser tests need Debian's chromium package")
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def row_lock_free(table: str, row_id: int) -> bool:
    """Whether another connection could lock this row right now: on PostgreSQL ``FOR UPDATE NOWAIT``,
    on SQLite (one writer per file) ``BEGIN IMMEDIATE`` without waiting. Call inside an app context."""
    import sqlite3

    import psycopg

    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            other.close()
    with psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False)) as other:
        try:
            other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", (row_id,))
            return True
        except psycopg.errors.LockNotAvailable:
            return False
