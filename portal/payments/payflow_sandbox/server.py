"""The HTTP side: Payflow's name-value API, the hosted checkout pages, silent posts and test controls.

The server plumbing is ``portal.payments.offline_gateway``'s, as the Braintree sandbox's is: "lose the
response" and "drop the connection" end the TCP connection with a reset, after or before processing.

Routes:

* ``POST /`` — the name-value API (``text/namevalue``; secure token, credit, void, inquiry)
* ``GET /checkout?SECURETOKEN=..&SECURETOKENID=..`` and ``POST /checkout`` — the hosted page
* ``GET /checkout.js``, ``GET /checkout.css`` — its script and style sheet
* ``GET /__sandbox__/health`` (no auth) — ``{"ok": true}``
* with HTTP Basic ``USER:PWD``: ``GET /__sandbox__/transactions``, ``GET /__sandbox__/silent_posts``,
  ``GET | PUT | DELETE /__sandbox__/faults``, ``POST /__sandbox__/settle {"pnref": ...}``
"""

import hmac
import http.client
import json
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from babel.numbers import list_currencies

from portal.payments import nvp
from portal.payments.offline_gateway import (
    LoopbackHandler,
    LoopbackSandbox,
    basic_auth_matches,
)
from portal.payments.payflow_sandbox import pages
from portal.payments.payflow_sandbox.cards import CARDS, SandboxCard
from portal.payments.payflow_sandbox.ledger import (
    OPERATION_BY_TRXTYPE,
    CheckoutRefused,
    Ledger,
    utcnow,
)
from portal.payments.payflow_sandbox.store import Store
from portal.payments.sandbox.faults import Fault, FaultPlan, make_fault

log = logging.getLogger(__name__)

OPERATIONS = frozenset({"token", "checkout", "silent_post", "credit", "void", "inquiry", "settle"})

_REQUEST_ID = re.compile(r"[\x20-\x7e]{1,32}")
_SILENT_POST_TIMEOUT = 5


class PayflowSandbox(LoopbackSandbox):
    """An offline PayPal Payflow Pro gateway with a Payflow Link-like hosted checkout, on a loopback port."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        partner: str = "PayPal",
        vendor: str = "sandbox_vendor",
        user: str = "sandbox_user",
        password: str = "sandbox_password",
        data_path: str | None = None,
        currencies: tuple[str, ...] = ("USD",),
        token_ttl: timedelta = timedelta(minutes=30),
    ):
        currencies = tuple(currencies)
        unknown = sorted(c for c in currencies if c not in list_currencies())
        if not currencies or unknown:
            raise ValueError(f"currencies must be ISO 4217 codes such as USD; unknown: {unknown}")
        if token_ttl <= timedelta(0):
            raise ValueError("token_ttl must be positive")
        super().__init__(host, port, FaultPlan())
        self.partner = partner
        self.vendor = vendor
        self.user = user
        self.password = password
        self.data_path = data_path
        self.currencies = currencies
        self.token_ttl = token_ttl
        self._active_ledger: Ledger | None = None

    # --- lifecycle ---

    def start(self) -> "PayflowSandbox":
        if self._httpd is not None:
            raise RuntimeError("the Payflow sandbox is already running")
        store = Store(self.data_path)
        self._active_ledger = Ledger(store, self.currencies, self.token_ttl)
        self._listen(_Handler, store, "payflow-sandbox")
        return self

    def stop(self) -> None:
        if not self._stop_listening():
            return
        self._active_ledger.store.close()
        self._active_ledger = None

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
        """Make the next requests fail (``times``: how many, ``None`` until cleared; ``only``: which).

        ``latency_ms`` waits first; ``status`` then answers that HTTP status with nothing done;
        ``drop_connection`` resets the connection with nothing done; ``lose_response`` processes and
        stores, then resets instead of answering. A ``silent_post`` fault other than latency means
        the silent post is not delivered (and recorded so).
        """
        fault = make_fault(
            latency_ms, status, times, lose_response, drop_connection, only, operations=OPERATIONS
        )
        self._faults.set(fault)

    def transactions(self) -> list[dict]:
        """Every transaction, oldest first: pnref, trxtype, origid, amount ("12.50"), currency, ..."""
        return self._ledger.store.transactions()

    def silent_posts(self) -> list[dict]:
        """Every silent post attempted, oldest first: url, status (or None), error (or None), fields."""
        return self._ledger.store.silent_posts()

    def settle(self, pnref: str) -> None:
        """Settle an approved sale (TRANSSTATE 6 -> 8); ``LookupError`` if unknown, else ``ValueError``
        if it is not awaiting settlement."""
        self._ledger.settle(pnref)

    def expire_token(self, secure_token_id: str) -> None:
        """Make a secure token expire now, so its checkout shows "This checkout has expired"."""
        self._ledger.expire_token(secure_token_id)

    def pay(self, secure_token_id: str, card_key: str) -> dict[str, str]:
        """Do what the hosted page does when a payer picks ``card_key`` and presses Pay.

        Records the sale, delivers the silent post and returns the result fields (those the
        return form carries). Raises ``CheckoutRefused`` for an unknown, used or expired token and
        ``KeyError`` for an unknown card key. ``checkout`` faults do not apply (no HTTP is involved);
        ``silent_post`` faults do.
        """
        if card_key not in CARDS:
            raise KeyError(f"unknown test card; known: {', '.join(CARDS)}")  # never echo what may be a PAN
        return self._complete_checkout(secure_token_id, None, CARDS[card_key])[1]

    # --- work shared by the handler threads and the test controls ---

    @property
    def _ledger(self) -> Ledger:
        if self._active_ledger is None:
            raise RuntimeError("the Payflow sandbox is not running: call start() first")
        return self._active_ledger

    def _complete_checkout(self, token_id: str, token: str | None, card: SandboxCard) -> tuple[dict, dict]:
        """Record the sale, then silent-post it (outside the store's lock: the merchant may call back)."""
        row, fields = self._ledger.checkout(token_id, token, card)
        if row["silent_post_url"]:
            self._silent_post(row["silent_post_url"], fields)
        return row, fields

    def _silent_post(self, url: str, fields: dict[str, str]) -> None:
        fault = self._faults.take("silent_post") or Fault()
        if fault.latency_ms and self._httpd is not None:
            self._httpd.stopping.wait(fault.latency_ms / 1000)
        status = error = None
        if fault.status is not None or fault.lose_response or fault.drop_connection:
            error = "not delivered: injected fault"
        else:
            try:
                status = _deliver(url, fields)
            except (OSError, http.client.HTTPException) as exc:
                error = str(exc) or type(exc).__name__
        if error:
            log.warning("Payflow sandbox: silent post to %s failed: %s", url, error)
        self._ledger.store.add_silent_post(url, status, error, fields, utcnow().isoformat())

    def authenticated(self, fields: dict[str, str]) -> bool:
        expected = {"PARTNER": self.partner, "VENDOR": self.vendor, "USER": self.user, "PWD": self.password}
        return all(
            hmac.compare_digest(fields.get(name, "").encode(), value.encode())
            for name, value in expected.items()
        )

    def control_authorized(self, header: str | None) -> bool:
        return basic_auth_matches(header, self.user, self.password)

    def control(self, verb: str, path: str, data: dict) -> tuple[int, object]:
        """A ``/__sandbox__/...`` request (but settle): ``(status, JSON-ready answer)``."""
        try:
            if (verb, path) == ("GET", "/__sandbox__/transactions"):
                return 200, self.transactions()
            if (verb, path) == ("GET", "/__sandbox__/silent_posts"):
                return 200, self.silent_posts()
            if path == "/__sandbox__/faults":
                return self.fault_control(verb, data)
        except (TypeError, ValueError) as exc:
            return 400, {"error": str(exc)}
        return 404, {"error": "no such control endpoint"}

    def settle_request(self, data: dict) -> tuple[int, object]:
        """``POST /__sandbox__/settle {"pnref": ...}``: ``(status, JSON-ready answer)``."""
        pnref = data.get("pnref")
        if not isinstance(pnref, str):
            return 400, {"error": 'expected {"pnref": "..."}'}
        try:
            self.settle(pnref)
        except LookupError as exc:
            return 404, {"error": str(exc)}
        except ValueError as exc:
            return 409, {"error": str(exc)}
        return 200, {"pnref": pnref, "transstate": 8}


def _deliver(url: str, fields: dict[str, str]) -> int:
    """Form-POST a silent post (never through an environment proxy); the receiver's status code."""
    request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("User-Agent", "Payflow silent post (offline sandbox)")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=_SILENT_POST_TIMEOUT) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


# An answer: (HTTP status, body, content type, extra headers).
_Answer = tuple[int, bytes, str, list[tuple[str, str]]]
_TEXT = "text/plain; charset=utf-8"
_HTML = "text/html; charset=utf-8"
_NAMEVALUE = "text/namevalue"
_PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
]


class _Handler(LoopbackHandler):
    server_version = "PayflowOfflineSandbox/1.0"
    logger = log
    default_content_type = _TEXT

    def log_request(self, code="-", size="-") -> None:
        # Without the query string, which holds the checkout page's secure token.
        log.debug("%s %s %s %s", self.address_string(), self.command, self.path.partition("?")[0], code)

    def _handle(self, body: bytes) -> None:
        path, _, query = self.path.partition("?")
        route = (self.command, path)
        if route == ("GET", "/__sandbox__/health"):
            return self._send_json(200, {"ok": True})
        if path.startswith("/__sandbox__/"):
            return self._control(path, body)
        if route == ("POST", "/"):
            return self._api(body)
        if route == ("GET", "/checkout"):
            return self._send(*self._checkout_page(urllib.parse.parse_qs(query)))
        if route == ("POST", "/checkout"):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            return self._faulted("checkout", lambda: self._checkout_submit(form))
        if route == ("GET", "/checkout.js"):
            return self._send(200, pages.CHECKOUT_JS, "text/javascript; charset=utf-8")
        if route == ("GET", "/checkout.css"):
            return self._send(200, pages.CHECKOUT_CSS, "text/css; charset=utf-8")
        if path in ("/", "/checkout", "/checkout.js", "/checkout.css"):
            return self._send(405, b"method not allowed", _TEXT)
        self._send(404, b"not found", _TEXT)

    def _faulted(self, operation: str, answer) -> None:
        """Send ``answer()`` (an ``_Answer``) under whatever fault the plan holds for ``operation``."""
        fault = self.server.sandbox._faults.take(operation) or Fault()
        if self._refuse_unprocessed(fault):
            return
        self._wait(fault.latency_ms)
        try:
            response = answer()
        except Exception:
            log.exception("Payflow sandbox failed on %s %s", self.command, self.path.partition("?")[0])
            return self._send(500, b"internal error", _TEXT)
        if fault.lose_response:
            return self._reset()
        self._send(*response)

    def _api(self, body: bytes) -> None:
        """The name-value API: checks that need no processing, then the ledger, under the fault plan."""
        sandbox = self.server.sandbox
        request_id = (self.headers.get("X-VPS-REQUEST-ID") or "").strip()
        fields, refusal = self._api_fields(request_id, body)
        if refusal:
            return self._send(200, nvp.encode(refusal), _NAMEVALUE)
        operation = OPERATION_BY_TRXTYPE.get(fields.get("TRXTYPE", ""), "")
        self._faulted(operation, lambda: (200, sandbox._ledger.call(request_id, fields), _NAMEVALUE, []))

    def _api_fields(self, request_id: str, body: bytes) -> tuple[dict[str, str], dict | None]:
        """``(the request's fields, None)``, or ``(_, the answer)`` to a request refused unprocessed."""
        content_type = (self.headers.get("Content-Type") or "").partition(";")[0].strip().lower()
        if not request_id:
            return {}, {"RESULT": 7, "RESPMSG": "Field format error: X-VPS-REQUEST-ID missing"}
        if not _REQUEST_ID.fullmatch(request_id):
            return {}, {"RESULT": 7, "RESPMSG": "Field format error: X-VPS-REQUEST-ID"}
        if content_type != _NAMEVALUE:
            return {}, {"RESULT": 7, "RESPMSG": "Field format error: Content-Type must be text/namevalue"}
        try:
            fields = nvp.decode(body)
        except nvp.NVPError:
            return {}, {"RESULT": 7, "RESPMSG": "Field format error: the body is not name-value pairs"}
        if not self.server.sandbox.authenticated(fields):
            return fields, {"RESULT": 1, "RESPMSG": "User authentication failed"}
        return fields, None

    def _checkout_page(self, query: dict[str, list[str]]) -> _Answer:
        ledger = self.server.sandbox._ledger
        try:
            token = ledger.usable_token(_first(query, "SECURETOKENID"), _first(query, "SECURETOKEN"))
        except CheckoutRefused as refused:
            return self._page(refused.status, pages.refused_page(refused.message), [])
        return self._page(
            200, pages.checkout_page(token, CARDS.values()), ["'self'", pages.origin(token["cancel_url"])]
        )

    def _checkout_submit(self, form: dict[str, list[str]]) -> _Answer:
        sandbox = self.server.sandbox
        token_id, token = _first(form, "SECURETOKENID"), _first(form, "SECURETOKEN")
        card = CARDS.get(_first(form, "card"))
        try:
            if card is None:
                row = sandbox._ledger.usable_token(token_id, token)
                page = pages.checkout_page(row, CARDS.values(), error="Choose one of the test cards.")
                return self._page(400, page, ["'self'", pages.origin(row["cancel_url"])])
            row, fields = sandbox._complete_checkout(token_id, token, card)
        except CheckoutRefused as refused:
            return self._page(refused.status, pages.refused_page(refused.message), [])
        return self._page(200, pages.result_page(row, fields), [pages.origin(row["return_url"])])

    def _page(self, status: int, html: str, form_targets: list[str]) -> _Answer:
        headers = [("Content-Security-Policy", pages.csp(form_targets)), *_PAGE_HEADERS]
        return status, html.encode(), _HTML, headers

    def _control(self, path: str, body: bytes) -> None:
        sandbox = self.server.sandbox
        if not sandbox.control_authorized(self.headers.get("Authorization")):
            headers = [("WWW-Authenticate", 'Basic realm="payflow-sandbox"')]
            return self._send(401, b"", _TEXT, headers)
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return self._send_json(400, {"error": "expected a JSON object"})
        if (self.command, path) == ("POST", "/__sandbox__/settle"):
            return self._faulted("settle", lambda: self._json(*sandbox.settle_request(data)))
        self._send_json(*sandbox.control(self.command, path, data))

    @staticmethod
    def _json(status: int, data) -> _Answer:
        return status, json.dumps(data).encode(), "application/json", []


def _first(values: dict[str, list[str]], name: str) -> str:
    return (values.get(name) or [""])[0]
