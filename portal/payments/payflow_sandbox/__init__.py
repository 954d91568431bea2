"""An offline PayPal Payflow Pro gateway, with a hosted checkout page like Payflow Link's.

PayPal's Payflow sandbox needs an account and the network; this stands in for it in tests and
development. ``PayflowSandbox`` serves Payflow's name-value API (secure tokens, credits, voids,
inquiries, duplicate detection by ``X-VPS-REQUEST-ID``) and a hosted checkout where the payer
picks a test card; it silent-posts the outcome to the merchant, keeps its ledger in SQLite and
injects faults for tests. Card details exist only as brand and last four digits.

    with PayflowSandbox(port=0) as sandbox:
        ...  # create a secure token over POST / (see docs/payflow-sandbox.md)
        fields = sandbox.pay(secure_token_id, "visa")  # what pressing Pay on the hosted page does
"""

from portal.payments.payflow_sandbox.cards import CARDS, SandboxCard
from portal.payments.payflow_sandbox.ledger import CheckoutRefused
from portal.payments.payflow_sandbox.server import PayflowSandbox

__all__ = ["CARDS", "CheckoutRefused", "PayflowSandbox", "SandboxCard"]
