"""Authentication, the HTTP wire, and injected faults as the SDK experiences them."""

import base64
import http.client
import threading
import uuid

import pytest
import requests
from braintree import TransactionSearch
from braintree.exceptions import (
    AuthenticationError,
    GatewayTimeoutError,
    NotFoundError,
    ServerError,
    ServiceUnavailableError,
    TooManyRequestsError,
)
from braintree.exceptions.http import ConnectionError as BraintreeConnectionError
from braintree.exceptions.http.timeout_error import ReadTimeoutError

from portal.payments.sandbox import SandboxServer, sandbox_gateway
from tests.sandbox.helpers import KEYS, sale, settled_sale


def orders(server, order_id):
    return [t for t in server.transactions() if t["order_id"] == order_id]


def found_by_order_id(gateway, order_id):
    return [t.id for t in gateway.transaction.search(TransactionSearch.order_id == order_id).items]


def control(server, verb, path, json=None, auth=(KEYS["public_key"], KEYS["private_key"])):
    with requests.Session() as session:
        session.trust_env = False
        return session.request(verb, server.url + path, json=json, auth=auth, timeout=5)


# --- authentication and routing -------------------------------------------------------------------


@pytest.mark.parametrize("keys", [{"private_key": "wrong"}, {"public_key": "wrong"}])
def test_wrong_keys_raise_authentication_error(make_gateway, server, keys):
    before = len(server.transactions())
    with pytest.raises(AuthenticationError):
        sale(make_gateway(**keys))
    with pytest.raises(AuthenticationError):
        make_gateway(**keys).client_token.generate()
    assert len(server.transactions()) == before


def test_an_unknown_merchant_id_is_not_found(make_gateway):
    with pytest.raises(NotFoundError):
        sale(make_gateway(merchant_id="someone_else"))


def test_control_endpoints_need_the_keys_too(server):
    assert control(server, "GET", "/__sandbox__/transactions", auth=("x", "y")).status_code == 401
    assert control(server, "GET", "/__sandbox__/health", auth=None).json() == {"ok": True}


# --- the wire -------------------------------------------------------------------------------------


def test_responses_are_xml_with_exact_length_on_a_kept_alive_connection(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        auth = "Basic " + base64.b64encode(f"{KEYS['public_key']}:{KEYS['private_key']}".encode()).decode()
        for _ in range(2):  # the same connection serves both requests
            conn.request(
                "POST",
                "/merchants/sandbox_merchant/client_token",
                body='<client_token><version type="integer">2</version></client_token>',
                headers={"Authorization": auth, "Content-type": "application/xml", "X-ApiVersion": "6"},
            )
            response = conn.getresponse()
            body = response.read()
            assert response.status == 201
            assert response.getheader("Content-Type") == "application/xml; charset=utf-8"
            assert int(response.getheader("Content-Length")) == len(body)
            assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<client-token><value>')
            assert response.getheader("Connection") != "close"
    finally:
        conn.close()


def test_the_sdk_ignores_proxy_variables(make_gateway, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    result = sale(make_gateway())
    assert result.is_success


def test_concurrent_clients_get_distinct_transactions(gateway, server):
    order_id, results = f"parallel-{uuid.uuid4().hex[:8]}", []

    def run():
        for _ in range(4):
            results.append(sale(gateway, "1.00", order_id=order_id).transaction.id)

    threads = [threading.Thread(target=run) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 20 and len(orders(server, order_id)) == 20


# --- status faults --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, error",
    [
        (500, ServerError),
        (503, ServiceUnavailableError),
        (429, TooManyRequestsError),
        (504, GatewayTimeoutError),
    ],
)
def test_status_faults_raise_the_sdk_error_and_record_nothing(gateway, server, status, error):
    order_id = f"status-{status}-{uuid.uuid4().hex[:8]}"
    server.set_faults(status=status, times=1)
    with pytest.raises(error):
        sale(gateway, order_id=order_id)
    assert orders(server, order_id) == []
    assert sale(gateway, order_id=order_id).is_success  # times=1: the next request is served


def test_faults_last_until_cleared_unless_counted(gateway, server):
    server.set_faults(status=500)
    for _ in range(3):
        with pytest.raises(ServerError):
            gateway.client_token.generate()
    server.clear_faults()
    assert gateway.client_token.generate()
    server.set_faults(status=503, times=2)
    assert server.faults["remaining"] == 2
    for _ in range(2):
        with pytest.raises(ServiceUnavailableError):
            gateway.client_token.generate()
    assert server.faults is None and gateway.client_token.generate()


def test_only_limits_faults_to_some_operations(gateway, server):
    existing = sale(gateway).transaction
    server.set_faults(status=500, only="sale")
    assert gateway.transaction.find(existing.id).id == existing.id
    with pytest.raises(ServerError):
        sale(gateway)
    server.set_faults(status=500, only=["refund", "void"], times=1)
    assert sale(gateway).is_success
    with pytest.raises(ServerError):
        gateway.transaction.void(existing.id)
    assert gateway.transaction.void(existing.id).is_success


@pytest.mark.parametrize(
    "faults",
    [
        {"status": 200},
        {"status": 500, "lose_response": True},
        {"lose_response": True, "drop_connection": True},
        {"times": 0},
        {"latency_ms": -1},
        {"only": "teleport"},
    ],
)
def test_invalid_fault_plans_are_refused(server, faults):
    with pytest.raises(ValueError):
        server.set_faults(**faults)


# --- timeouts and lost responses ------------------------------------------------------------------


def test_latency_beyond_the_client_timeout_is_a_read_timeout(make_gateway, server, gateway):
    order_id = f"slow-{uuid.uuid4().hex[:8]}"
    server.set_faults(latency_ms=1500, times=1, only="sale")
    with pytest.raises(ReadTimeoutError):
        sale(make_gateway(timeout=0.3), order_id=order_id)
    # The sale was processed before the delay: the outcome is unknown to the client, not absent.
    assert len(found_by_order_id(gateway, order_id)) == 1


def test_latency_within_the_timeout_only_slows_down(make_gateway, server):
    server.set_faults(latency_ms=100, times=1)
    assert sale(make_gateway(timeout=5)).is_success


def test_lost_response_fails_the_client_but_the_sale_is_recorded(gateway, server):
    order_id = f"lost-{uuid.uuid4().hex[:8]}"
    server.set_faults(lose_response=True, times=1, only="sale")
    with pytest.raises(BraintreeConnectionError):
        sale(gateway, order_id=order_id)
    (found,) = found_by_order_id(gateway, order_id)  # the same gateway recovers on a new connection
    assert gateway.transaction.find(found).status == "submitted_for_settlement"


def test_lost_response_on_a_refund_leaves_the_refund_recorded(gateway, server):
    sold = settled_sale(gateway)
    server.set_faults(lose_response=True, times=1, only="refund")
    with pytest.raises(BraintreeConnectionError):
        gateway.transaction.refund(sold.id)
    assert len(gateway.transaction.find(sold.id).refund_ids) == 1


def test_dropped_connection_fails_the_client_and_records_nothing(gateway, server):
    order_id = f"dropped-{uuid.uuid4().hex[:8]}"
    server.set_faults(drop_connection=True, times=1, only="sale")
    with pytest.raises(BraintreeConnectionError):
        sale(gateway, order_id=order_id)
    assert found_by_order_id(gateway, order_id) == [] and orders(server, order_id) == []


def test_a_stopped_sandbox_is_a_connection_error():
    with SandboxServer(**KEYS) as other:
        url = other.url
    gateway = sandbox_gateway(url, **KEYS, timeout=2)
    try:
        with pytest.raises(BraintreeConnectionError):
            sale(gateway)
    finally:
        gateway.config.close()


# --- the same over HTTP ---------------------------------------------------------------------------


def test_faults_over_http(gateway, server):
    answer = control(server, "PUT", "/__sandbox__/faults", {"status": 503, "times": 1, "only": "sale"})
    assert answer.status_code == 200 and answer.json()["faults"]["status"] == 503
    assert control(server, "GET", "/__sandbox__/faults").json()["faults"]["remaining"] == 1
    with pytest.raises(ServiceUnavailableError):
        sale(gateway)
    control(server, "PUT", "/__sandbox__/faults", {"status": 500})
    assert control(server, "DELETE", "/__sandbox__/faults").json() == {"faults": None}
    assert sale(gateway).is_success
    bad = control(server, "PUT", "/__sandbox__/faults", {"status": 500, "colour": "red"})
    assert bad.status_code == 400 and "colour" in bad.json()["error"]
    assert control(server, "PUT", "/__sandbox__/faults", {"only": "teleport"}).status_code == 400
