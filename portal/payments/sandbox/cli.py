"""``payments-sandbox``: run the offline Braintree-compatible sandbox until interrupted.

The portal registers this command as ``flask portal payments-sandbox``.
"""

import threading
from pathlib import Path

import click

from portal.payments.sandbox.server import SandboxServer


@click.command("payments-sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=8790, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port."
)
@click.option("--merchant-id", default="sandbox_merchant", show_default=True)
@click.option("--public-key", default="sandbox_public", show_default=True)
@click.option("--private-key", default="sandbox_private", show_default=True)
@click.option(
    "--data",
    "data_path",
    default="instance/payments-sandbox.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file keeping the ledger across restarts.",
)
@click.option(
    "--currency", default="USD", show_default=True, help="Currency of the default merchant account."
)
@click.option("--webhook-url", default=None, help="Deliver settlement webhooks here.")
def payments_sandbox(
    host, port, merchant_id, public_key, private_key, data_path, currency, webhook_url
) -> None:
    """Serve Braintree's gateway API offline for the braintree SDK (Ctrl+C stops)."""
    Path(data_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        server = SandboxServer(
            host=host,
            port=port,
            merchant_id=merchant_id,
            public_key=public_key,
            private_key=private_key,
            data_path=data_path,
            currency=currency.upper(),
            webhook_url=webhook_url,
        ).start()
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot start the payments sandbox: {error}") from None
    click.echo(
        f"Payments sandbox (offline Braintree) on {server.url} — merchant {merchant_id}, data {data_path}"
    )
    click.echo("Press Ctrl+C to stop.")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo("Payments sandbox stopped.")
