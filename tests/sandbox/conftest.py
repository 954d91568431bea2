"""One sandbox per test module, reached through the real braintree SDK over loopback HTTP."""

import pytest

from portal.payments.sandbox import SandboxServer, sandbox_gateway
from tests.sandbox.helpers import KEYS


@pytest.fixture(scope="module")
def server():
    with SandboxServer(
        port=0, merchant_accounts={"jpy_account": "JPY", "eur_account": "EUR"}, **KEYS
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_faults_left(request):
    yield
    if "server" in request.fixturenames:
        request.getfixturevalue("server").clear_faults()


@pytest.fixture(scope="module")
def gateway(server):
    gateway = sandbox_gateway(server.url, **KEYS)
    yield gateway
    gateway.config.close()


@pytest.fixture
def make_gateway(server):
    """Gateways with other settings (short timeouts, wrong keys), closed after the test."""
    made = []

    def make(timeout=10, **overrides):
        gateway = sandbox_gateway(server.url, **{**KEYS, **overrides}, timeout=timeout)
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        gateway.config.close()
