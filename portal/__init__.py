"""The portal: ``create_app`` builds a configured Flask application.

Flask is imported only when an app is built, so the pure modules
(``portal.money``, ``portal.billing.pricing``, ...) import without it.
"""

from portal.config import ConfigurationError

__all__ = ["ConfigurationError", "create_app"]


def create_app(config: dict | None = None):
    from portal.factory import build_app

    return build_app(config)
