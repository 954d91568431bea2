"""``payflow-sandbox``: run the offline PayPal Payflow Pro sandbox until interrupted.

The portal registers this command as ``flask portal payflow-sandbox``.
"""

from functools import partial

import click

from portal.payments.offline_gateway import data_option, listen_options, serve_until_interrupted
from portal.payments.payflow_sandbox.server import PayflowSandbox


@click.command("payflow-sandbox")
@listen_options(default_port=8791)
@click.option("--partner", default="PayPal", show_default=True)
@click.option("--vendor", default="sandbox_vendor", show_default=True)
@click.option("--user", default="sandbox_user", show_default=True)
@click.option("--password", default="sandbox_password", show_default=True)
@data_option("instance/payflow-sandbox.db")
@click.option(
    "--currency",
    "currencies",
    multiple=True,
    default=("USD",),
    show_default=True,
    help="A currency the merchant accepts (repeat for several).",
)
def payflow_sandbox(data_path, currencies, **options) -> None:
    """Serve PayPal Payflow Pro's API and a hosted checkout page offline (Ctrl+C stops)."""
    serve_until_interrupted(
        "Payflow sandbox",
        partial(
            PayflowSandbox, data_path=data_path, currencies=tuple(c.upper() for c in currencies), **options
        ),
        data_path,
        lambda url: (
            f"Payflow sandbox (offline PayPal Payflow Pro) on {url} — vendor {options['vendor']}, "
            f"data {data_path}\nHosted checkout: {url}/checkout. Press Ctrl+C to stop."
        ),
    )
