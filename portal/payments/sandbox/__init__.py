"""An offline, Braintree-compatible payment gateway for the real (unpatched) braintree SDK.

Braintree has no local emulator; this is one. ``SandboxServer`` serves Braintree's
gateway API (XML, status codes, test nonces, test amounts and card numbers) on a
loopback port, keeps its ledger in SQLite, signs webhooks as Braintree does and
injects faults for tests. ``sandbox_gateway`` builds the SDK gateway that talks to it.

    with SandboxServer(port=0) as server:
        gateway = sandbox_gateway(server.url, "sandbox_merchant", "sandbox_public", "sandbox_private")
        result = gateway.transaction.sale({"amount": "10.00", "payment_method_nonce": "fake-valid-nonce"})

Braintree's static test nonces (``fake-valid-nonce`` ...) can be reused, as in Braintree's
sandbox; nonces from ``SandboxServer.mint_nonce`` are single-use, like tokenized ones
(``single_use_test_nonces=True`` makes the static ones single-use too). See ``rules``
for where outcomes knowingly differ from Braintree's sandbox.
"""

from portal.payments.sandbox.client import LoopbackHttp, offline_environment, sandbox_gateway
from portal.payments.sandbox.server import SandboxServer

__all__ = ["LoopbackHttp", "SandboxServer", "offline_environment", "sandbox_gateway"]
