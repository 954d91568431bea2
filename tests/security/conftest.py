"""The suite's ``app`` fixture, with the instance folder (mail .eml files, jobs lock) in tmp_path."""

import pytest

from portal import create_app
from portal.extensions import db
from tests.conftest import assert_no_card_data_stored, make_config, reset_database


@pytest.fixture
def app(migrated_url, payments_sandbox, tmp_path):
    payments_sandbox.clear_faults()
    app = create_app(make_config(migrated_url, payments_sandbox, INSTANCE_PATH=str(tmp_path / "instance")))
    with app.app_context():
        reset_database()
    yield app
    with app.app_context():
        assert_no_card_data_stored()
        db.session.remove()
        db.engine.dispose()
