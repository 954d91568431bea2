"""The ledger across restarts, its JSON view, and the command line."""

import os
import signal
import subprocess
import sys
from decimal import Decimal

import pytest
import requests
from braintree import TransactionSearch
from braintree.exceptions import NotFoundError

from portal.payments.sandbox import SandboxServer, sandbox_gateway
from tests.sandbox.helpers import KEYS, sale, settled_sale


def run(data_path, steps, **options):
    """Start a sandbox on ``data_path``, run ``steps(server, gateway)``, stop it; what the steps returned."""
    with SandboxServer(data_path=data_path, **KEYS, **options) as server:
        gateway = sandbox_gateway(server.url, **KEYS)
        try:
            return steps(server, gateway)
        finally:
            gateway.config.close()


def parse(gateway, notification):
    return gateway.webhook_notification.parse(notification["bt_signature"], notification["bt_payload"])


def test_transactions_nonces_and_disputes_survive_a_restart(tmp_path):
    data = str(tmp_path / "sandbox.db")

    def before(server, gateway):
        sold = settled_sale(gateway, "20.00", order_id="kept-order")
        gateway.transaction.refund(sold.id, "5.00")
        nonce = server.mint_nonce()
        sale(gateway, "1.00", nonce)
        dispute = parse(gateway, server.sign_notification("dispute_opened", sold.id)).dispute
        return sold.id, nonce, dispute.id, server.transactions()

    sold_id, nonce, dispute_id, ledger = run(data, before)

    def after(server, gateway):
        assert server.transactions() == ledger
        found = gateway.transaction.find(sold_id)
        assert (found.status, found.amount, len(found.refund_ids)) == ("settled", Decimal("20.00"), 1)
        assert [t.id for t in gateway.transaction.search(TransactionSearch.order_id == "kept-order")] == [
            sold_id
        ]
        assert sale(gateway, "1.00", nonce).errors.deep_errors[0].code == "91564"
        won = parse(gateway, server.sign_notification("dispute_won", sold_id)).dispute
        assert (won.id, won.status) == (dispute_id, "won")
        assert gateway.transaction.refund(sold_id).transaction.amount == Decimal("15.00")

    run(data, after)


def test_without_a_data_path_the_ledger_is_in_memory():
    sold_id = run(None, lambda server, gateway: sale(gateway).transaction.id)

    def after(server, gateway):
        assert server.transactions() == []
        with pytest.raises(NotFoundError):
            gateway.transaction.find(sold_id)

    run(None, after)


def test_the_ledger_as_json(server, gateway):
    sold = settled_sale(gateway, "9.99", order_id="json-order")
    credit = gateway.transaction.refund(sold.id, "1.99").transaction
    with requests.Session() as session:
        session.trust_env = False
        rows = session.get(
            f"{server.url}/__sandbox__/transactions", auth=(KEYS["public_key"], KEYS["private_key"])
        ).json()
    by_id = {row["id"]: row for row in rows}
    assert {k: by_id[sold.id][k] for k in ("type", "status", "amount", "currency", "order_id")} == {
        "type": "sale",
        "status": "settled",
        "amount": "9.99",
        "currency": "USD",
        "order_id": "json-order",
    }
    assert (by_id[credit.id]["refunded_transaction_id"], by_id[credit.id]["amount"]) == (sold.id, "1.99")
    (row,) = [r for r in server.transactions() if r["id"] == credit.id]
    assert row["amount"] == Decimal("1.99") and row["type"] == "credit"


def test_server_lifecycle_and_settings():
    server = SandboxServer(port=0, **KEYS)
    assert not server.running
    with pytest.raises(RuntimeError):
        server.transactions()
    with server:
        assert server.running and server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        with pytest.raises(RuntimeError):
            server.start()
    assert not server.running
    server.stop()  # stopping twice is harmless
    with pytest.raises(ValueError, match="currency"):
        SandboxServer(merchant_accounts={"x": "ZZZ"})


def test_sandbox_gateway_accepts_a_port_or_a_url(server):
    for target in (server.port, str(server.port), server.url):
        gateway = sandbox_gateway(target, **KEYS)
        try:
            assert gateway.config.base_url() == server.url
            assert gateway.client_token.generate()
        finally:
            gateway.config.close()
    with pytest.raises(ValueError):
        sandbox_gateway("https://127.0.0.1:8443", **KEYS)
    with pytest.raises(ValueError, match="443"):
        sandbox_gateway(443, **KEYS)


def test_the_command_serves_until_interrupted(tmp_path):
    data = tmp_path / "nested" / "sandbox.db"
    code = "from portal.payments.sandbox.cli import payments_sandbox; payments_sandbox()"
    args = ["--port", "0", "--data", str(data), "--merchant-id", "cli_merchant", "--currency", "eur"]
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"}
    process = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first_line = process.stdout.readline()
        assert "Payments sandbox" in first_line, (
            process.stderr.read() if process.poll() is not None else first_line
        )
        url = first_line.split(" on ")[1].split(" ")[0]
        gateway = sandbox_gateway(url, "cli_merchant", "sandbox_public", "sandbox_private")
        try:
            assert sale(gateway).transaction.currency_iso_code == "EUR"
        finally:
            gateway.config.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped" in out and data.exists()


def test_the_sandbox_stands_alone():
    """No Flask, no database layer, none of the portal's app modules: it runs beside any app."""
    probe = (
        "import sys, portal.payments.sandbox, portal.payments.sandbox.cli\n"
        "app_layers = ('flask', 'flask_sqlalchemy', 'sqlalchemy')\n"
        "ours = ('portal.payments', 'portal.config')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in app_layers\n"
        "             or (m.startswith('portal.') and not m.startswith(ours))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
