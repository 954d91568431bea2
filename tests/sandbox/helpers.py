"""Helpers shared by the sandbox tests."""

KEYS = {"merchant_id": "sandbox_merchant", "public_key": "sandbox_public", "private_key": "sandbox_private"}


def sale(gateway, amount="10.00", nonce="fake-valid-nonce", **params):
    """A sale with a nonce (or ``credit_card=...``), submitted for settlement unless told otherwise."""
    request = {"amount": amount, "options": {"submit_for_settlement": params.pop("submit", True)}, **params}
    if nonce is not None and "credit_card" not in params:
        request["payment_method_nonce"] = nonce
    return gateway.transaction.sale(request)


def settled_sale(gateway, amount="10.00", **params):
    result = sale(gateway, amount, **params)
    assert result.is_success, result
    settled = gateway.testing.settle_transaction(result.transaction.id)
    assert settled.is_success and settled.transaction.status == "settled"
    return settled.transaction
