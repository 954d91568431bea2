"""Webhook notifications: signed as Braintree signs them, parsed by the real SDK, delivered over HTTP."""

import queue
import re
import threading
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from braintree.exceptions.invalid_signature_error import InvalidSignatureError

from portal.payments.sandbox import SandboxServer, sandbox_gateway
from tests.sandbox.helpers import KEYS, sale, settled_sale


@pytest.fixture
def receiver():
    """A webhook endpoint on a loopback port: answers ``status`` and queues each form it receives."""
    received: queue.Queue = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        status = 200

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put(dict(urllib.parse.parse_qsl(body.decode())))
            self.send_response(Handler.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_port}/webhooks/braintree"
    httpd.received = received
    httpd.handler = Handler
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def parse(gateway, notification):
    return gateway.webhook_notification.parse(notification["bt_signature"], notification["bt_payload"])


def test_the_signature_is_braintrees(server, gateway):
    n = server.sign_notification("check")
    assert re.fullmatch(r"sandbox_public\|[0-9a-f]{40}", n["bt_signature"])
    assert re.fullmatch(r"[A-Za-z0-9+/=\n]+", n["bt_payload"]) and "\n" in n["bt_payload"]
    parsed = parse(gateway, n)
    assert parsed.kind == "check" and parsed.timestamp is not None


def test_transaction_settled_carries_the_stored_transaction(server, gateway):
    sold = settled_sale(gateway, "42.00", order_id="webhook-settled")
    parsed = parse(gateway, server.sign_notification("transaction_settled", sold.id))
    t = parsed.transaction
    assert (parsed.kind, t.id, t.status, t.amount, t.order_id) == (
        "transaction_settled",
        sold.id,
        "settled",
        Decimal("42.00"),
        "webhook-settled",
    )
    assert t.credit_card_details.last_4 == sold.credit_card_details.last_4


def test_transaction_settlement_declined(server, gateway):
    t = sale(gateway).transaction
    gateway.testing.settlement_decline_transaction(t.id)
    parsed = parse(gateway, server.sign_notification("transaction_settlement_declined", t.id))
    assert (parsed.kind, parsed.transaction.status) == (
        "transaction_settlement_declined",
        "settlement_declined",
    )


def test_dispute_opened_then_won_reports_one_dispute(server, gateway):
    sold = settled_sale(gateway, "30.00", order_id="disputed-order")
    opened = parse(gateway, server.sign_notification("dispute_opened", sold.id)).dispute
    assert (opened.status, opened.kind, opened.reason, opened.currency_iso_code) == (
        "open",
        "chargeback",
        "fraud",
        "USD",
    )
    assert (opened.amount_disputed, opened.amount) == (Decimal("30.00"), Decimal("30.00"))
    assert (opened.transaction.id, opened.transaction.amount, opened.transaction.order_id) == (
        sold.id,
        Decimal("30.00"),
        "disputed-order",
    )
    assert opened.received_date is not None and opened.reply_by_date > opened.received_date
    won = parse(gateway, server.sign_notification("dispute_won", sold.id)).dispute
    assert (won.id, won.status) == (opened.id, "won")
    assert [h.status for h in won.status_history] == ["open", "won"]


@pytest.mark.parametrize("kind, status", [("dispute_lost", "lost"), ("dispute_accepted", "accepted")])
def test_dispute_outcomes(server, gateway, kind, status):
    sold = settled_sale(gateway)
    opened = parse(gateway, server.sign_notification("dispute_opened", sold.id)).dispute
    parsed = parse(gateway, server.sign_notification(kind, sold.id))
    assert (parsed.kind, parsed.dispute.status, parsed.dispute.id) == (kind, status, opened.id)


def test_a_new_dispute_after_a_closed_one_gets_a_new_id_and_shows_on_the_transaction(server, gateway):
    sold = settled_sale(gateway)
    first = parse(gateway, server.sign_notification("dispute_opened", sold.id)).dispute
    parse(gateway, server.sign_notification("dispute_lost", sold.id))
    second = parse(gateway, server.sign_notification("dispute_opened", sold.id)).dispute
    assert second.id != first.id and second.status == "open"
    disputes = gateway.transaction.find(sold.id).disputes
    assert [(d.id, d.status) for d in disputes] == [(first.id, "lost"), (second.id, "open")]


def test_tampering_and_other_keys_are_detected(server, gateway, make_gateway):
    sold = settled_sale(gateway)
    n = server.sign_notification("dispute_opened", sold.id)
    payload = n["bt_payload"]
    tampered = dict(n, bt_payload=payload[:10] + ("A" if payload[10] != "A" else "B") + payload[11:])
    with pytest.raises(InvalidSignatureError):
        parse(gateway, tampered)
    with pytest.raises(InvalidSignatureError):
        parse(make_gateway(private_key="another_private"), n)
    with pytest.raises(InvalidSignatureError):
        parse(make_gateway(public_key="another_public"), n)


def test_unknown_kinds_and_transactions_are_refused(server):
    with pytest.raises(ValueError, match="unsupported webhook kind"):
        server.sign_notification("subscription_charged_successfully", "x")
    with pytest.raises(LookupError):
        server.sign_notification("dispute_opened", "nosuchid")


def test_deliver_posts_the_form_and_returns_the_status(server, gateway, receiver):
    sold = settled_sale(gateway)
    assert server.deliver_webhook("dispute_opened", sold.id, receiver.url) == 200
    form = receiver.received.get(timeout=5)
    assert parse(gateway, form).dispute.transaction.id == sold.id
    receiver.handler.status = 403
    assert server.deliver_webhook("dispute_won", sold.id, receiver.url) == 403


def test_delivery_ignores_proxy_variables(server, gateway, receiver, monkeypatch):
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    assert server.deliver_webhook("check", None, receiver.url) == 200


def test_webhooks_over_http(server, gateway, receiver):
    sold = settled_sale(gateway)
    with requests.Session() as session:
        session.trust_env = False
        auth = (KEYS["public_key"], KEYS["private_key"])
        signed = session.post(
            f"{server.url}/__sandbox__/webhooks",
            json={"kind": "transaction_settled", "transaction_id": sold.id},
            auth=auth,
        ).json()
        assert parse(gateway, signed).transaction.id == sold.id
        delivered = session.post(
            f"{server.url}/__sandbox__/webhooks",
            json={"kind": "dispute_opened", "transaction_id": sold.id, "url": receiver.url},
            auth=auth,
        )
        assert delivered.json() == {"status": 200}
        assert parse(gateway, receiver.received.get(timeout=5)).kind == "dispute_opened"
        missing = session.post(
            f"{server.url}/__sandbox__/webhooks",
            json={"kind": "dispute_opened", "transaction_id": "nosuchid"},
            auth=auth,
        )
        assert missing.status_code == 404


def test_settlement_webhooks_are_delivered_when_a_url_is_configured(receiver):
    with SandboxServer(webhook_url=receiver.url, **KEYS) as server:
        gateway = sandbox_gateway(server.url, **KEYS)
        try:
            settled = settled_sale(gateway, "12.00")
            declined = sale(gateway).transaction
            gateway.testing.settlement_decline_transaction(declined.id)
            deliveries = server.wait_for_webhooks()
            forms = [receiver.received.get(timeout=5), receiver.received.get(timeout=5)]
            parsed = sorted((n.kind, n.transaction.id) for n in (parse(gateway, f) for f in forms))
        finally:
            gateway.config.close()
    assert parsed == sorted(
        [("transaction_settled", settled.id), ("transaction_settlement_declined", declined.id)]
    )
    assert sorted(d["status"] for d in deliveries) == [200, 200]
