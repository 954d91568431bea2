import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.extensions import db


def test_models_and_migrations_agree(app):
    """Autogenerate against the migrated database finds nothing to add."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_migrations_downgrade_to_nothing_and_build_everything_again(app):
    with app.app_context():
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        flask_migrate.upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "departments", "site_settings", "training_sessions"} <= tables
        # The migration creates the site's settings row with every feature off.
        row = db.session.execute(db.text("SELECT ecommerce_enabled, currency FROM site_settings")).one()
        assert (bool(row[0]), row[1]) == (False, "USD")
