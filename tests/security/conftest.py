"""The suite's ``app`` fixture, with the instance folder (mail .eml files, jobs lock) in tmp_path."""

import pytest

from tests.conftest import app_lifecycle, make_config


@pytest.fixture
def app(migrated_url, payments_sandbox, tmp_path):
    payments_sandbox.clear_faults()
    yield from app_lifecycle(
        make_config(migrated_url, payments_sandbox, INSTANCE_PATH=str(tmp_path / "instance"))
    )
