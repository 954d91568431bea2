"""``payments-sandbox``: run the offline Braintree-compatible sandbox until interrupted.

The portal registers this command as ``flask portal payments-sandbox``.
"""

from functools import partial

import click

from portal.payments.offline_gateway import data_option, listen_options, serve_until_interrupted
from portal.payments.sandbox.server import SandboxServer


@click.command("payments-sandbox")
@listen_options(default_port=8790)
@click.option("--merchant-id", default="sandbox_merchant", show_default=True)
@click.option("--public-key", default="sandbox_public", show_default=True)
@click.option("--private-key", default="sandbox_private", show_default=True)
@data_option("instance/payments-sandbox.db")
@click.option(
    "--currency", default="USD", show_default=True, help="Currency of the default merchant account."
)
@click.option("--webhook-url", default=None, help="Deliver settlement webhooks here.")
def payments_sandbox(data_path, currency, **options) -> None:
    """Serve Braintree's gateway API offline for the braintree SDK (Ctrl+C stops)."""
    serve_until_interrupted(
        "payments sandbox",
        partial(SandboxServer, data_path=data_path, currency=currency.upper(), **options),
        data_path,
        lambda url: (
            f"Payments sandbox (offline Braintree) on {url} — merchant {options['merchant_id']}, "
            f"data {data_path}\nPress Ctrl+C to stop."
        ),
    )
