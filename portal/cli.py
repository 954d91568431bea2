"""``flask portal ...`` commands."""

import click
from flask import current_app
from flask.cli import AppGroup

from portal.accounts.models import Role
from portal.accounts.services import AccountError, create_user
from portal.extensions import db

portal_cli = AppGroup("portal", help="Portal administration commands.")


@portal_cli.command("create-admin")
@click.argument("email")
@click.password_option(prompt="Password", help="Asked for when not given.")
def create_admin(email: str, password: str) -> None:
    """Create an administrator account."""
    try:
        user = create_user(email, password, role=Role.ADMIN)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(
            {
                "invalid_email": "That is not a valid email address.",
                "password_too_short": "The password must have at least 10 characters.",
                "password_common": "This password is one of the most common ones: choose another.",
                "email_taken": "An account with that email already exists.",
            }[exc.code]
        ) from None
    db.session.commit()
    click.echo(f"Administrator {user.email} created.")


@portal_cli.command("load-demo")
def load_demo() -> None:
    """Load the demo accounts, settings and sessions (once; later runs change nothing)."""
    from portal.demo import load_demo_data

    password = current_app.config["DEMO_PASSWORD"]
    if load_demo_data(password):
        click.echo(
            "Demo data loaded: admin@example.com, organizer@example.com, organizer2@example.com "
            f"(password: {password})."
        )
    else:
        click.echo("Demo data already present; nothing changed.")


@portal_cli.command("reconcile")
def reconcile() -> None:
    """Settle every payment attempt whose outcome is unknown, and sync settlements."""
    from portal.payments.services import reconcile as reconcile_payments

    counts = reconcile_payments()
    click.echo(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in counts.items()))


@portal_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup(path: str, force: bool) -> None:
    """Copy the database to PATH while the site runs (SQLite online backup, or pg_dump)."""
    from portal.backups import BackupError, backup_database

    try:
        message = backup_database(path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(message)


@portal_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Confirm: the current data is replaced by the backup's.")
def restore(path: str, yes: bool) -> None:
    """Replace the database's content with the backup at PATH (stop the site first)."""
    from portal.backups import BackupError, restore_database

    if not yes:
        raise click.ClickException("Restoring replaces every row of the current database: add --yes.")
    try:
        message = restore_database(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(message)


def _register_sandbox() -> None:
    from portal.payments.payflow_sandbox.cli import payflow_sandbox
    from portal.payments.sandbox.cli import payments_sandbox

    portal_cli.add_command(payments_sandbox, "payments-sandbox")
    portal_cli.add_command(payflow_sandbox, "payflow-sandbox")


_register_sandbox()
