"""The SDK's side: a ``braintree.BraintreeGateway`` pointed at the sandbox over plain loopback HTTP.

The stock ``Http.http_do`` routes every request through ``HTTP_PROXY`` from the
environment and ignores ``NO_PROXY`` (notes §1.4), which breaks loopback traffic
on machines with a proxy; ``LoopbackHttp`` never reads the environment.
"""

import threading
import time
from urllib.parse import urlsplit

import requests

from portal.payments.sandbox._bt import braintree


class LoopbackHttp(braintree.util.http.Http):
    """``http_strategy`` for the sandbox: no environment proxies, one keep-alive session per thread."""

    def __init__(self, config, environment=None):
        super().__init__(config, environment)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    def _session(self) -> requests.Session:
        now = time.monotonic()
        session = getattr(self._local, "session", None)
        if session is not None and now - self._local.last_used > self._max_idle_seconds:
            self._forget(session)
            session = None
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no HTTP(S)_PROXY, no .netrc, no CA bundle variables
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        self._local.last_used = now
        return session

    def _forget(self, session: requests.Session) -> None:
        session.close()
        with self._sessions_lock:
            if session in self._sessions:
                self._sessions.remove(session)

    def http_do(self, http_verb, path, headers, request_body):
        data, files = request_body if isinstance(request_body, tuple) else (request_body, None)
        response = self._session().request(
            http_verb, path, headers=headers, data=data, files=files, timeout=self.config.timeout
        )
        return [response.status_code, response.text]

    def close(self) -> None:
        """Close every thread's session (``gateway.config.close()`` calls this)."""
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()


def offline_environment(host: str, port: int | str) -> "braintree.Environment":
    """A ``braintree.Environment`` for ``http://host:port`` (the SDK picks https only for port "443")."""
    port = str(port)
    if port == "443":
        raise ValueError("the braintree SDK would use https on port 443; run the sandbox on another port")
    return braintree.Environment("offline", host, port, f"http://{host}:{port}", False, None)


def sandbox_gateway(
    url_or_port: str | int,
    merchant_id: str = "sandbox_merchant",
    public_key: str = "sandbox_public",
    private_key: str = "sandbox_private",
    timeout: float = 10,
) -> "braintree.BraintreeGateway":
    """A gateway for the sandbox at ``http://host:port`` (or a port on 127.0.0.1).

    It raises ``braintree.exceptions.http.*`` errors for network failures
    (``wrap_http_exceptions``), like a production configuration should.
    """
    host, port = _host_port(url_or_port)
    config = braintree.Configuration(
        environment=offline_environment(host, port),
        merchant_id=merchant_id,
        public_key=public_key,
        private_key=private_key,
        timeout=timeout,
        wrap_http_exceptions=True,
        http_strategy=LoopbackHttp,
    )
    return braintree.BraintreeGateway(config)


def _host_port(url_or_port: str | int) -> tuple[str, int]:
    if isinstance(url_or_port, int) or str(url_or_port).isdigit():
        return "127.0.0.1", int(url_or_port)
    parts = urlsplit(str(url_or_port))
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"expected http://host:port, got {url_or_port!r}")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return host, parts.port or 80
