import pytest

from tests.i18n.catalogs import ensure_compiled


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """French pages need the compiled catalog (see catalogs.py)."""
    ensure_compiled()
