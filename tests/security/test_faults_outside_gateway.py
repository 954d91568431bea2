"""Faults outside the gateway (issue #10, point 6): the database refusing a write mid-checkout,
the mail server down, the process dying between the charge and the confirmation.

Each ends with the money and the seat accounted for: the registration confirmed with its one
sale (or the sale given back and the seat released), never a second charge. The faults are
real ones of the database or the network (an engine event raising the driver's error, a closed
port), never a patched gateway: the charge goes through the real SDK to the offline sandbox.
"""

import json
import signal
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from portal import create_app
from portal.database import utcnow
from portal.extensions import db
from portal.jobs import run_round
from portal.mail import services as mail
from portal.mail.models import OutboxMessage
from portal.payments import services as payments
from portal.payments.models import Payment
from portal.registration import services as registration
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from tests.conftest import CSRF_RE, make_config
from tests.factories import enable_ecommerce, make_training, make_user
from tests.registration.helpers import manage_path, pay, register

NONCE = "fake-valid-visa-nonce"
ROOT = Path(__file__).resolve().parents[2]

# The two writes that record a successful checkout, after the sale went through:
#   "payment": the attempt's UPDATE to submitted_for_settlement (payments service, after the charge);
#   "confirmation": the registration's UPDATE to confirmed (registration service, with its mail).
WRITES = {
    "payment": ("UPDATE payments SET", "submitted_for_settlement"),
    "confirmation": ("UPDATE registrations SET", "confirmed"),
}


@pytest.fixture
def shop(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a database error is the guest's 500 page, as in production
    with app.app_context():
        enable_ecommerce()
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, fee_cents=4900, capacity=2, expected_attendees=2)
        return {"id": training.id, "token": training.public_token}


@contextmanager
def failing_once(app, write: str, error: BaseException):
    """The database refuses (raises ``error`` on) the first statement that is ``write``."""
    prefix, marker = WRITES[write]
    with app.app_context():
        engine = db.engine
    fired = []

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.startswith(prefix) and marker in repr(parameters):
            fired.append(statement)
            raise error

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def pay_again(client, manage) -> int:
    """The guest presses Pay again (a reload, another tab): posted even when the page says "in progress"."""
    page = client.get(f"{manage}/pay", follow_redirects=True)
    token = CSRF_RE.search(page.text) or CSRF_RE.search(client.get("/login").text)
    response = client.post(
        f"{manage}/pay", data={"payment_method_nonce": NONCE, "csrf_token": token.group(1)}
    )
    assert response.status_code < 500, response.status_code
    return response.status_code


def refused(statement="UPDATE") -> OperationalError:
    return OperationalError(statement, {}, Exception("disk I/O error"))


def sales(sandbox, order_id) -> list[dict]:
    return [t for t in sandbox.transactions() if t["order_id"] == order_id and t["type"] == "sale"]


def accounts(app, shop) -> dict:
    """The registration, its payment, the seat count and the sandbox's sales for it."""
    with app.app_context():
        (guest,) = db.session.scalars(select(Registration)).all()
        payment = db.session.get(Payment, guest.payment_id) if guest.payment_id else None
        holding = db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(Registration.status.in_(["pending_payment", "confirmed"]))
        )
        state = {
            "registration": guest.status,
            "payment": payment.status if payment else None,
            "order_id": payment.order_id if payment else None,
            "paid_cents": payment.amount_cents if payment else None,
            "seats_taken": db.session.get(TrainingSession, shop["id"]).seats_taken,
            "holding": holding,
            "confirmations": db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "registration_confirmation")
            ),
        }
        db.session.remove()
        return state


def settled_by_the_jobs(app, later: timedelta) -> None:
    """What the periodic jobs do, as a restarted worker would run them ``later`` (time moved on)."""
    with app.app_context():
        payments.reconcile(now=utcnow() + later)
        registration.expire_holds(now=utcnow() + later)
        mail.deliver_pending()
        db.session.remove()
    assert run_round(app)  # and one ordinary round: nothing left to do, nothing breaks


def assert_confirmed_once(app, shop, sandbox):
    state = accounts(app, shop)
    assert state["registration"] == "confirmed", state
    assert state["payment"] == "submitted_for_settlement", state
    assert state["seats_taken"] == state["holding"] == 1, state
    assert state["confirmations"] == 1, state
    (sale,) = sales(sandbox, state["order_id"])  # one sale, never two
    assert sale["status"] == "submitted_for_settlement"
    assert int(sale["amount"] * 100) == state["paid_cents"] == 4900


# -- a. the database refuses a write mid-checkout -----------------------------------------------------


@pytest.mark.parametrize("write", WRITES)
def test_a_refused_write_after_the_charge_keeps_the_seat_and_the_charge(app, shop, payments_sandbox, write):
    client = app.test_client()
    manage = manage_path(register(client, shop["token"]))
    with failing_once(app, write, refused()) as fired:
        response = pay(client, manage, NONCE)
    assert fired, "the fault never fired: the checkout no longer writes what this test expects"
    assert response.status_code == 500  # the database failed: the guest sees the error page
    state = accounts(app, shop)
    # The charge happened and is on record at the gateway; the seat is still the guest's.
    assert len(sales(payments_sandbox, state["order_id"])) == 1
    assert state["registration"] == "pending_payment" and state["seats_taken"] == 1, state

    # The guest tries again (the Pay page, then Pay): never a second charge.
    pay_again(client, manage)
    assert len(sales(payments_sandbox, accounts(app, shop)["order_id"])) == 1

    # The jobs settle it: confirmed with that one sale, even once the hold has run out.
    settled_by_the_jobs(app, later=timedelta(hours=1))
    assert_confirmed_once(app, shop, payments_sandbox)


def test_a_refused_write_before_the_charge_charges_nothing(app, shop, payments_sandbox):
    """The database refuses the claim (pending -> processing): nothing is sent, the guest can pay again."""
    client = app.test_client()
    manage = manage_path(register(client, shop["token"]))
    with app.app_context():
        engine = db.engine
    fired = []

    def refuse(conn, cursor, statement, parameters, context, executemany):
        if not fired and statement.startswith("UPDATE payments SET") and "processing" in repr(parameters):
            fired.append(statement)
            raise refused(statement)

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        assert pay(client, manage, NONCE).status_code == 500
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert fired
    state = accounts(app, shop)
    assert state["payment"] == "pending" and sales(payments_sandbox, state["order_id"]) == []
    assert state["registration"] == "pending_payment" and state["seats_taken"] == 1
    assert pay(client, manage, NONCE).status_code == 303
    settled_by_the_jobs(app, later=timedelta(minutes=1))
    assert_confirmed_once(app, shop, payments_sandbox)


# -- b. the mail server is down -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TinySMTPServer:
    """Just enough SMTP (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to receive messages."""

    def __init__(self, port: int):
        self.messages: list[bytes] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn, conn.makefile("rb") as reader:
                conn.sendall(b"220 tiny ESMTP\r\n")
                self._session(conn, reader)

    def _session(self, conn, reader):
        while line := reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 tiny\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 end with .\r\n")
                data = []
                while (chunk := reader.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                self.messages.append(b"".join(data))
                conn.sendall(b"250 queued\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:  # MAIL, RCPT, RSET, NOOP
                conn.sendall(b"250 ok\r\n")

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


def test_the_mail_server_down_confirms_and_sends_the_mail_later_exactly_once(app, shop, payments_sandbox):
    port = free_port()  # nothing listens there: the mail server is down
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False, MAIL_USE_SSL=False)
    client = app.test_client()
    manage = manage_path(register(client, shop["token"], email="gina@example.com"))
    assert pay(client, manage, NONCE).status_code == 303
    state = accounts(app, shop)
    assert state["registration"] == "confirmed" and state["payment"] == "submitted_for_settlement"
    assert state["seats_taken"] == 1 and len(sales(payments_sandbox, state["order_id"])) == 1
    with app.app_context():
        (message,) = db.session.scalars(select(OutboxMessage)).all()
        assert (message.status, message.attempts, message.kind) == ("pending", 1, "registration_confirmation")
        assert message.last_error and ("refused" in message.last_error.lower() or "111" in message.last_error)
        assert mail.deliver_pending() == 0  # still down: still pending, one more attempt counted
        assert db.session.get(OutboxMessage, message.id).attempts == 2
        db.session.remove()

    server = TinySMTPServer(port)  # the mail server is back
    try:
        with app.app_context():
            assert mail.deliver_pending() == 1
            assert mail.deliver_pending() == 0
            sent = db.session.get(OutboxMessage, message.id)
            assert (sent.status, sent.last_error, sent.attempts) == ("sent", None, 3)
            db.session.remove()
        assert run_round(app)  # the jobs send nothing again
    finally:
        server.stop()
    (received,) = server.messages
    assert b"gina@example.com" in received and b"Registration confirmed" in received
    assert accounts(app, shop)["registration"] == "confirmed"


# -- c. the process dies between the charge and the confirmation -----------------------------------------


@pytest.mark.parametrize("write", WRITES)
def test_a_restart_between_the_charge_and_the_confirmation_is_settled_by_a_fresh_app(
    app, shop, migrated_url, payments_sandbox, tmp_path, write
):
    """The checkout runs in a child process killed with SIGKILL just before ``write`` is sent."""
    client = app.test_client()
    manage = manage_path(register(client, shop["token"]))
    with app.app_context():
        db.session.remove()
        db.engine.dispose()  # no connection of ours in the way (SQLite's write lock)
    config = make_config(migrated_url, payments_sandbox, INSTANCE_PATH=str(tmp_path / "child"))
    prefix, marker = WRITES[write]
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.security.crash_checkout",
            json.dumps(config),
            manage,
            NONCE,
            prefix,
            marker,
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]

    # A new process starts on the same database and runs its jobs (a minute, then hours, later).
    fresh = create_app(make_config(migrated_url, payments_sandbox, INSTANCE_PATH=str(tmp_path / "restarted")))
    try:
        state = accounts(fresh, shop)
        assert state["registration"] == "pending_payment" and state["seats_taken"] == 1, state
        assert len(sales(payments_sandbox, state["order_id"])) == 1  # it died after the charge
        # The guest comes back and presses Pay again: never a second charge.
        pay_again(fresh.test_client(), manage)
        assert len(sales(payments_sandbox, state["order_id"])) == 1
        settled_by_the_jobs(fresh, later=timedelta(minutes=1))
        settled_by_the_jobs(fresh, later=timedelta(hours=3))
        assert_confirmed_once(fresh, shop, payments_sandbox)
    finally:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()
