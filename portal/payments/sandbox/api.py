"""The gateway API's routes: ``/merchants/{id}/...`` paths and verbs as the SDK sends them, to ledger calls.

Each call takes the raw XML body and returns ``(HTTP status, XML body)``;
status codes follow Braintree (201 created, 200 ok, 404 unknown id, 422 errors).
"""

import base64
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from xml.parsers.expat import ExpatError

from portal.payments.sandbox import render
from portal.payments.sandbox._bt import braintree
from portal.payments.sandbox.ledger import Ledger, NotFound, Result, UnsupportedSearch
from portal.payments.sandbox.rules import FieldError

_ID = r"(?P<id>[A-Za-z0-9_-]+)"


@dataclass(frozen=True)
class Route:
    verb: str
    pattern: re.Pattern
    operation: str  # what faults' ``only`` names
    handler: str


def _route(verb: str, path: str, operation: str, handler: str | None = None) -> Route:
    return Route(verb, re.compile(path), operation, handler or operation)


ROUTES = (
    _route("POST", r"/client_token", "client_token"),
    _route("POST", r"/transactions", "sale"),
    _route("POST", r"/transactions/advanced_search_ids", "search", "search_ids"),
    _route("POST", r"/transactions/advanced_search", "search", "search_page"),
    _route("GET", rf"/transactions/{_ID}", "find"),
    _route("POST", rf"/transactions/{_ID}/refund", "refund"),
    _route("PUT", rf"/transactions/{_ID}/void", "void"),
    _route("PUT", rf"/transactions/{_ID}/submit_for_settlement", "submit_for_settlement"),
    _route("POST", rf"/transactions/{_ID}/reverse", "reverse"),
    _route("PUT", rf"/transactions/{_ID}/settle", "settle"),
    _route("PUT", rf"/transactions/{_ID}/settlement_confirm", "settle"),
    _route("PUT", rf"/transactions/{_ID}/settlement_decline", "settlement_decline"),
    _route("PUT", rf"/transactions/{_ID}/settlement_pending", "settlement_pending"),
    _route("GET", rf"/payment_method_nonces/{_ID}", "payment_method_nonce"),
)


class BadRequest(ValueError):
    """The body is not the XML the SDK sends (HTTP 400)."""


class GatewayAPI:
    def __init__(
        self,
        ledger: Ledger,
        merchant_id: str,
        on_settlement: Callable[[str, str], None] = lambda kind, txn_id: None,
    ):
        self.ledger = ledger
        self.merchant_id = merchant_id
        self.on_settlement = on_settlement  # (webhook kind, transaction id) after settle / decline

    def match(self, verb: str, path: str) -> tuple[Route, dict] | None:
        for route in ROUTES:
            if route.verb == verb and (m := route.pattern.fullmatch(path)):
                return route, m.groupdict()
        return None

    def call(self, route: Route, args: dict, body: bytes, base_url: str) -> tuple[int, bytes]:
        params = _parse(body)
        try:
            return getattr(self, route.handler)(params, base_url=base_url, **args)
        except NotFound:
            return 404, b""

    # --- client token ---

    def client_token(self, params: dict, base_url: str) -> tuple[int, bytes]:
        options = params.get("client_token") or {}
        account = options.get("merchant_account_id")
        if account and account not in self.ledger.accounts:
            return 422, render.validation_error(FieldError("92807", "merchant_account_id", ("client_token",)))
        if options.get("customer_id"):  # the sandbox keeps no vault
            return 422, render.validation_error(FieldError("92804", "customer_id", ("client_token",)))
        return 201, render.client_token(self.client_token_value(base_url))

    def client_token_value(self, base_url: str) -> str:
        merchant_path = f"{base_url}/merchants/{self.merchant_id}"
        token = {
            "version": 2,
            "authorizationFingerprint": secrets.token_hex(32),
            "configUrl": f"{merchant_path}/client_api/v1/configuration",
            "clientApiUrl": f"{merchant_path}/client_api",
            "assetsUrl": base_url,
            "environment": "offline",
            "merchantId": self.merchant_id,
            "challenges": [],
            "paypalEnabled": True,
            "threeDSecureEnabled": False,
        }
        return base64.b64encode(json.dumps(token).encode()).decode("ascii")

    def configuration(self, base_url: str) -> dict:
        """What ``configUrl`` answers: enough for a client to see it is talking to the offline sandbox."""
        return {
            "environment": "offline",
            "merchantId": self.merchant_id,
            "clientApiUrl": f"{base_url}/merchants/{self.merchant_id}/client_api",
            "assetsUrl": base_url,
            "currencies": sorted(set(self.ledger.accounts.values())),
            "merchantAccounts": self.ledger.accounts,
            "paypalEnabled": True,
            "creditCards": {
                "supportedCardTypes": ["Visa", "MasterCard", "American Express", "Discover", "JCB"]
            },
        }

    # --- transactions ---

    def sale(self, params: dict, base_url: str) -> tuple[int, bytes]:
        return self._answer(self.ledger.sale(params.get("transaction") or {}), 201)

    def find(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        txn = self.ledger.find(id)
        return 200, render.transaction(txn, self.ledger.disputes_for(id))

    def refund(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._answer(self.ledger.refund(id, params.get("transaction") or {}), 201)

    def void(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._answer(self.ledger.void(id), 200)

    def submit_for_settlement(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._answer(self.ledger.submit_for_settlement(id, params.get("transaction") or {}), 200)

    def reverse(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._answer(self.ledger.reverse(id), 201)

    def settle(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._settled(self.ledger.settle(id))

    def settlement_decline(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._settled(self.ledger.settlement_decline(id))

    def settlement_pending(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        return self._answer(self.ledger.settlement_pending(id), 200)

    def _settled(self, result: Result) -> tuple[int, bytes]:
        if result.success:
            kind = {
                "settled": "transaction_settled",
                "settlement_declined": "transaction_settlement_declined",
            }
            if result.transaction.status in kind:
                self.on_settlement(kind[result.transaction.status], result.transaction.id)
        return self._answer(result, 200)

    def _answer(self, result: Result, success_status: int) -> tuple[int, bytes]:
        disputes = self.ledger.disputes_for(result.transaction.id) if result.transaction else []
        if result.success:
            return success_status, render.transaction(result.transaction, disputes)
        return render.result(result, disputes)

    # --- search ---

    def search_ids(self, params: dict, base_url: str) -> tuple[int, bytes]:
        found = self._search(params)
        return 200, render.search_ids([t.id for t in found])

    def search_page(self, params: dict, base_url: str) -> tuple[int, bytes]:
        criteria = params.get("search") or {}
        order = {txn_id: i for i, txn_id in enumerate(criteria.get("ids") or [])}
        found = sorted(self._search(params), key=lambda t: order.get(t.id, len(order)))
        return 200, render.search_page(found, self.ledger.disputes_for)

    def _search(self, params: dict):
        criteria = params.get("search")
        if not isinstance(criteria, dict) or not criteria:
            raise BadRequest("empty search")
        try:
            return self.ledger.search(criteria)
        except UnsupportedSearch as error:
            raise BadRequest(f"unsupported search criterion: {error}") from None

    # --- nonces ---

    def payment_method_nonce(self, params: dict, base_url: str, id: str) -> tuple[int, bytes]:
        found = self.ledger.lookup_nonce(id)
        if found is None:
            return 404, b""
        source, consumed = found
        return 200, render.payment_method_nonce(id, source, consumed)


def _parse(body: bytes) -> dict:
    if not body.strip():
        return {}
    try:
        parsed = braintree.util.xml_util.XmlUtil.dict_from_xml(body.decode("utf-8"))
    except (ExpatError, UnicodeDecodeError, ValueError) as error:
        raise BadRequest(f"unreadable XML: {error}") from None
    return parsed if isinstance(parsed, dict) else {}
