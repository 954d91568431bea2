"""What the offline gateway sandboxes (Braintree's in ``sandbox``, Payflow's in ``payflow_sandbox``) share.

Plain ``http.server`` rather than a WSGI stack, because fault injection needs the raw socket:
"lose the response" and "drop the connection" end the TCP connection with a reset (``SO_LINGER`` 0),
so that the client deterministically gets a connection error. Each sandbox keeps its own routes and
protocol in a ``LoopbackHandler`` subclass; this module holds only the plumbing around them, the
SQLite store's locking and the command line's serve-until-Ctrl+C loop.
"""

import base64
import binascii
import contextlib
import hmac
import json
import logging
import socket
import socketserver
import sqlite3
import struct
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Self

import click

if TYPE_CHECKING:  # portal.payments.sandbox imports this module: a run-time import would be circular
    from portal.payments.sandbox.faults import Fault, FaultPlan

MAX_BODY = 1 << 20


def basic_auth_matches(header: str | None, user: str, password: str) -> bool:
    """Whether an ``Authorization`` header is HTTP Basic ``user:password`` (compared in constant time)."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        given_user, _, given_password = (
            base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        )
    except (binascii.Error, UnicodeDecodeError):
        return False
    ok_user = hmac.compare_digest(given_user.encode(), user.encode())
    ok_password = hmac.compare_digest(given_password.encode(), password.encode())
    return ok_user and ok_password


class LoopbackHTTPServer(ThreadingHTTPServer):
    """Serves ``sandbox`` (reached by handlers as ``self.server.sandbox``) and stops without leftovers:
    no kept-alive connection, handler thread or request still running once ``stop`` returns."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type["LoopbackHandler"], sandbox):
        self.sandbox = sandbox
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._active = 0  # requests being handled
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]

    def serve_in_background(self, thread_name: str) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name=thread_name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; afterwards no request is still using the sandbox's store."""
        self.stopping.set()  # wakes requests waiting out an injected latency
        self.shutdown()
        self.close_connections()
        self.server_close()
        self._thread.join()
        self.wait_idle(timeout=10)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)
        if self.stopping.is_set():  # accepted while stopping, after close_connections looked
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    @contextlib.contextmanager
    def request(self):
        with self._idle:
            self._active += 1
        try:
            yield
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> None:
        with self._idle:
            self._idle.wait_for(lambda: self._active == 0, timeout)

    def close_connections(self) -> None:
        """End kept-alive connections, so that no handler thread outlives the server."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class LoopbackHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive wire handling; a subclass answers each request in ``_handle(body)``."""

    protocol_version = "HTTP/1.1"
    timeout = 300  # idle keep-alive connections are closed after this
    server: LoopbackHTTPServer
    logger: logging.Logger  # the sandbox's own, so that its request lines are logged under its name
    default_content_type: str  # of answers without a body of their own (refusals, bare statuses)

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes: without this, Nagle + delayed ACK add ~40 ms per call.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args) -> None:
        self.logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        with self.server.request():
            body = self._read_body()
            if body is not None:
                self._handle(body)

    do_POST = do_PUT = do_DELETE = do_GET

    def _wait(self, latency_ms: int) -> None:
        """An injected latency, cut short when the server stops."""
        if latency_ms:
            self.server.stopping.wait(latency_ms / 1000)

    def _read_body(self) -> bytes | None:
        """The request body, or ``None`` after answering a body the sandbox refuses."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(411)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._send(400 if length < 0 else 413)
            return None
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: list[tuple[str, str]] = (),
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type or self.default_content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if body:
                self.wfile.write(body)
        except OSError:  # the client went away (e.g. after its own timeout)
            self.close_connection = True

    def _refuse_unprocessed(self, fault: "Fault") -> bool:
        """After its latency, answer a ``status`` or ``drop_connection`` fault (``True``); else do nothing."""
        if fault.status is None and not fault.drop_connection:
            return False
        self._wait(fault.latency_ms)
        if fault.drop_connection:
            self._reset()
        else:
            headers = [("Retry-After", "1")] if fault.status in (429, 503) else []
            self._send(fault.status, b"", "text/plain; charset=utf-8", headers)
        return True

    def _send_json(self, status: int, data) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _reset(self) -> None:
        """End the connection with a TCP reset: the client gets a connection error, never a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # drops the socket's last makefile reference, so close() really closes
        self.connection.close()


class LoopbackSandbox:
    """A sandbox's address, ``with`` support and fault controls. A subclass's ``start`` (returning the
    sandbox) and ``stop`` run its ``_httpd``; its ``set_faults`` says what each fault does there."""

    def __init__(self, host: str, port: int, faults: "FaultPlan"):
        self.host = host
        self._requested_port = port
        self._httpd: LoopbackHTTPServer | None = None
        self._faults = faults

    def _listen(self, handler, store, name: str) -> None:
        """Bind the loopback port and serve ``handler`` in the background as ``name``; ``store``, opened
        for the server, is closed again when the port cannot be had."""
        try:
            self._httpd = LoopbackHTTPServer((self.host, self._requested_port), handler, self)
        except OSError:
            store.close()
            raise
        self._httpd.serve_in_background(name)
        logging.getLogger(type(self).__module__).info("%s listening on %s", name, self.url)

    def _stop_listening(self) -> bool:
        """Stop serving; False when it was not running (stopping twice is harmless)."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return False
        httpd.stop()
        return True

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1] if self._httpd else self._requested_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> dict | None:
        return self._faults.current()

    def fault_control(self, verb: str, data: dict) -> tuple[int, object]:
        """``/__sandbox__/faults``: read (GET), clear (DELETE) or set (PUT, POST: as ``set_faults``)."""
        if verb == "GET":
            return 200, {"faults": self.faults}
        if verb == "DELETE":
            self.clear_faults()
            return 200, {"faults": None}
        self.set_faults(**data)  # only GET, PUT, POST and DELETE reach a LoopbackHandler
        return 200, {"faults": self.faults}


class SQLiteStore:
    """One connection shared by the server's threads behind one re-entrant lock: a sandbox's volume is
    tiny, and serialising every operation makes check-then-write steps atomic without further care."""

    def __init__(self, path: str | None, schema: str):
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
        self._db.executescript(schema)
        self._depth = 0

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold the lock and one SQLite transaction (nested calls join the outer one)."""
        with self.lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")


def listen_options(default_port: int) -> Callable:
    """A sandbox command's ``--host`` and ``--port``."""
    host = click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
    port = click.option(
        "--port",
        default=default_port,
        show_default=True,
        type=click.IntRange(0, 65535),
        help="0 picks a free port.",
    )
    return lambda command: host(port(command))


def data_option(default: str) -> Callable:
    """A sandbox command's ``--data``, the SQLite file given to ``serve_until_interrupted``."""
    return click.option(
        "--data",
        "data_path",
        default=default,
        show_default=True,
        type=click.Path(dir_okay=False),
        help="SQLite file keeping the ledger across restarts.",
    )


def serve_until_interrupted(
    name: str, make_sandbox: Callable[[], LoopbackSandbox], data_path: str, banner: Callable[[str], str]
) -> None:
    """A command's body: start the sandbox keeping its ledger in ``data_path``, say ``banner(url)``,
    serve until Ctrl+C, then stop it. ``name`` (such as "Payflow sandbox") goes in the messages."""
    Path(data_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        sandbox = make_sandbox().start()
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot start the {name}: {error}") from None
    click.echo(banner(sandbox.url))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        click.echo(f"{name[:1].upper()}{name[1:]} stopped.")
