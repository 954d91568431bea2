"""The HTTP side: a threaded HTTP/1.1 server speaking Braintree's gateway API, plus test controls.

The server plumbing is ``portal.payments.offline_gateway``'s: "lose the response" and "drop the
connection" end the TCP connection with a reset, after the request was processed and stored, or
before, respectively.

Control endpoints (same Basic auth as the gateway API; JSON in and out):

* ``GET /__sandbox__/health`` (no auth) — ``{"ok": true}``
* ``GET /__sandbox__/transactions`` — the ledger, as ``SandboxServer.transactions()``
* ``GET | PUT | DELETE /__sandbox__/faults`` — read, set (``set_faults`` arguments), clear
* ``POST /__sandbox__/webhooks`` ``{kind, transaction_id, url?}`` — deliver (answers the
  receiver's status), or without any url, answer the signed ``{bt_signature, bt_payload}``
* ``POST /__sandbox__/nonces`` ``{base}`` — a fresh single-use nonce (``mint_nonce``)
"""

import json
import logging
import re
import threading
from datetime import datetime
from decimal import Decimal

from babel.numbers import list_currencies

from portal.payments.offline_gateway import (
    LoopbackHandler,
    LoopbackSandbox,
    basic_auth_matches,
)
from portal.payments.sandbox import render, webhooks
from portal.payments.sandbox.api import BadRequest, GatewayAPI
from portal.payments.sandbox.faults import Fault, FaultPlan, make_fault
from portal.payments.sandbox.ledger import Ledger, NotFound, utcnow
from portal.payments.sandbox.store import Store

log = logging.getLogger(__name__)

_MERCHANT_PATH = re.compile(r"/merchants/(?P<merchant>[^/]+)(?P<rest>/.*)")


class SandboxServer(LoopbackSandbox):
    """An offline, Braintree-compatible gateway on a loopback port, for the real braintree SDK."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        merchant_id: str = "sandbox_merchant",
        public_key: str = "sandbox_public",
        private_key: str = "sandbox_private",
        data_path: str | None = None,
        currency: str = "USD",
        merchant_accounts: dict[str, str] | None = None,
        webhook_url: str | None = None,
        single_use_test_nonces: bool = False,
    ):
        accounts = {merchant_id: currency, **(merchant_accounts or {})}
        unknown = sorted(c for c in accounts.values() if c not in list_currencies())
        if unknown:
            raise ValueError(f"unknown currency codes: {unknown}")
        super().__init__(host, port, FaultPlan())
        self.merchant_id = merchant_id
        self.public_key = public_key
        self.private_key = private_key
        self.data_path = data_path
        self.accounts = accounts
        self.webhook_url = webhook_url
        self.single_use_test_nonces = single_use_test_nonces
        self._store: Store | None = None
        self._deliveries: list[dict] = []
        self._delivery_threads: list[threading.Thread] = []
        self._delivery_lock = threading.Lock()

    # --- lifecycle ---

    def start(self) -> "SandboxServer":
        if self._httpd is not None:
            raise RuntimeError("the sandbox is already running")
        self._store = Store(self.data_path)
        ledger = Ledger(self._store, self.merchant_id, self.accounts, self.single_use_test_nonces)
        self._api = GatewayAPI(ledger, self.merchant_id, self._auto_deliver)
        self._listen(_Handler, self._store, "payments-sandbox")
        return self

    def stop(self) -> None:
        if not self._stop_listening():
            return
        self.wait_for_webhooks()
        self._store.close()

    def gateway(self, timeout: float = 10):
        """A ``braintree.BraintreeGateway`` for this sandbox (see ``sandbox_gateway``)."""
        from portal.payments.sandbox.client import sandbox_gateway

        return sandbox_gateway(self.url, self.merchant_id, self.public_key, self.private_key, timeout=timeout)

    # --- test controls ---

    def set_faults(
        self,
        latency_ms: int = 0,
        status: int | None = None,
        times: int | None = None,
        lose_response: bool = False,
        drop_connection: bool = False,
        only: str | list[str] | None = None,
    ) -> None:
        """Make the next gateway requests fail (``times``: how many, ``None`` until cleared; ``only``: which).

        ``status`` answers that HTTP status without processing; ``drop_connection`` resets the
        connection without processing; ``lose_response`` processes and stores, then resets instead
        of answering; ``latency_ms`` waits before answering (after processing, so a client that
        times out leaves the outcome recorded) or before failing.
        """
        self._faults.set(make_fault(latency_ms, status, times, lose_response, drop_connection, only))

    def transactions(self) -> list[dict]:
        """Every transaction, oldest first: id, type, status, amount (Decimal), currency, order_id, ..."""
        return [t.summary() for t in self._ledger.store.transactions()]

    def mint_nonce(self, base: str = "fake-valid-nonce") -> str:
        """A fresh single-use nonce behaving like the test nonce ``base``, as tokenizing a card returns."""
        return self._ledger.mint_nonce(base)

    # --- webhooks ---

    def sign_notification(self, kind: str, transaction_id: str | None = None) -> dict[str, str]:
        """A webhook as Braintree would send it: ``{"bt_signature": str, "bt_payload": str}``.

        Dispute kinds open (or move) a chargeback on the transaction, so that
        ``dispute_opened`` then ``dispute_won`` report the same dispute id.
        """
        xml = webhooks.notification_xml(kind, self._subject(kind, transaction_id), utcnow())
        return webhooks.sign(self.public_key, self.private_key, xml)

    def _subject(self, kind: str, transaction_id: str | None) -> str:
        if kind == "check":
            return render.node("check", True)
        if kind not in webhooks.KINDS:
            raise ValueError(f"unsupported webhook kind {kind!r}; supported: {', '.join(webhooks.KINDS)}")
        if not transaction_id:
            raise ValueError(f"{kind} needs a transaction id")
        if kind in webhooks.DISPUTE_KINDS:
            dispute, txn = self._ledger.dispute(transaction_id, webhooks.DISPUTE_KINDS[kind])
            return render.dispute_element(dispute, txn)
        txn = self._ledger.find(transaction_id)
        return render.transaction_element(txn, self._ledger.disputes_for(transaction_id))

    def deliver_webhook(self, kind: str, transaction_id: str | None = None, url: str | None = None) -> int:
        """Sign and form-POST a notification to ``url`` (default: ``webhook_url``); the receiver's status."""
        url = url or self.webhook_url
        if not url:
            raise ValueError("no webhook url given or configured")
        status = webhooks.deliver(url, self.sign_notification(kind, transaction_id))
        self._record_delivery(kind=kind, transaction_id=transaction_id, url=url, status=status)
        return status

    def _record_delivery(self, **delivery) -> None:
        with self._delivery_lock:
            self._deliveries.append(delivery)

    def _auto_deliver(self, kind: str, transaction_id: str) -> None:
        """After a settlement, deliver its webhook in the background (the caller may be the receiver)."""
        if not self.webhook_url:
            return

        def run():
            try:
                self.deliver_webhook(kind, transaction_id)
            except Exception as error:  # a receiver being down must not break the sandbox
                log.warning("webhook %s for %s failed: %s", kind, transaction_id, error)
                self._record_delivery(
                    kind=kind, transaction_id=transaction_id, url=self.webhook_url, error=str(error)
                )

        thread = threading.Thread(target=run, name="payments-sandbox-webhook", daemon=True)
        with self._delivery_lock:
            self._delivery_threads.append(thread)
        thread.start()

    def wait_for_webhooks(self, timeout: float = 10) -> list[dict]:
        """Wait for background deliveries; every delivery so far (kind, transaction_id, url, status)."""
        with self._delivery_lock:
            threads, self._delivery_threads = self._delivery_threads, []
        for thread in threads:
            thread.join(timeout)
        with self._delivery_lock:
            return list(self._deliveries)

    # --- request handling (called by the handler threads) ---

    @property
    def _ledger(self) -> Ledger:
        if self._store is None or self._httpd is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return self._api.ledger

    def authorized(self, header: str | None) -> bool:
        return basic_auth_matches(header, self.public_key, self.private_key)

    def control(self, verb: str, path: str, body: bytes) -> tuple[int, object]:
        """A ``/__sandbox__/...`` request: ``(status, JSON-ready answer)``."""
        try:
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError("expected a JSON object")
            if (verb, path) == ("GET", "/__sandbox__/transactions"):
                return 200, [_jsonable(t) for t in self.transactions()]
            if path == "/__sandbox__/faults":
                return self.fault_control(verb, data)
            if (verb, path) == ("POST", "/__sandbox__/webhooks"):
                kind, txn_id, url = data.get("kind"), data.get("transaction_id"), data.get("url")
                if url or self.webhook_url:
                    return 200, {"status": self.deliver_webhook(kind, txn_id, url)}
                return 200, self.sign_notification(kind, txn_id)
            if (verb, path) == ("POST", "/__sandbox__/nonces"):
                return 200, {"nonce": self.mint_nonce(data.get("base", "fake-valid-nonce"))}
        except NotFound as error:
            return 404, {"error": f"transaction {error} not found"}
        except (TypeError, ValueError) as error:
            return 400, {"error": str(error)}
        except OSError as error:  # webhook receiver unreachable
            return 502, {"error": str(error)}
        return 404, {"error": "no such control endpoint"}


def _jsonable(row: dict) -> dict:
    return {k: str(v) if isinstance(v, Decimal | datetime) else v for k, v in row.items()}


class _Handler(LoopbackHandler):
    server_version = "BraintreeOfflineSandbox/1.0"
    logger = log
    default_content_type = "application/xml; charset=utf-8"

    def _handle(self, body: bytes) -> None:
        sandbox = self.server.sandbox
        path = self.path.partition("?")[0]
        merchant = _MERCHANT_PATH.fullmatch(path)
        if path == "/__sandbox__/health":
            return self._send_json(200, {"ok": True})
        if (
            merchant
            and merchant["merchant"] == sandbox.merchant_id
            and (self.command, merchant["rest"]) == ("GET", "/client_api/v1/configuration")
        ):  # fetched by browsers with the client token, not with the API keys
            return self._send_json(200, sandbox._api.configuration(self._base_url()))
        if not sandbox.authorized(self.headers.get("Authorization")):
            return self._send(401, b"", "text/plain; charset=utf-8")
        if path.startswith("/__sandbox__/"):
            return self._send_json(*sandbox.control(self.command, path, body))
        if not merchant or merchant["merchant"] != sandbox.merchant_id:
            return self._send(404)
        found = sandbox._api.match(self.command, merchant["rest"])
        if found is None:
            return self._send(404)
        route, args = found
        self._gateway_call(route, args, body, sandbox._faults.take(route.operation))

    def _gateway_call(self, route, args: dict, body: bytes, fault: Fault | None) -> None:
        sandbox = self.server.sandbox
        fault = fault or Fault()
        if self._refuse_unprocessed(fault):
            return
        try:
            status, payload = sandbox._api.call(route, args, body, self._base_url())
        except BadRequest as error:
            return self._send(400, str(error).encode(), "text/plain; charset=utf-8")
        except Exception:
            log.exception("payments sandbox failed on %s %s", self.command, self.path)
            return self._send(500)
        self._wait(fault.latency_ms)
        if fault.lose_response:
            return self._reset()
        self._send(status, payload)

    def _base_url(self) -> str:
        return f"http://{self.headers.get('Host') or self.server.sandbox.url.removeprefix('http://')}"
