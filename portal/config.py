"""Configuration defaults.

Order of precedence in ``create_app``: these defaults, then every ``PORTAL_*``
environment variable (``PORTAL_SECRET_KEY`` -> ``SECRET_KEY``), then the mapping
passed to ``create_app`` (the seam tests use). Nothing here reads the
environment at import time.
"""

DEFAULTS = {
    # Demo mode: allows a throw-away secret key and enables `flask portal load-demo`.
    "DEMO": False,
    "SECRET_KEY": None,
    # SQLAlchemy URL; empty means SQLite in the instance folder.
    "DATABASE_URL": None,
    # Set when the site is served over HTTPS: Secure cookies, __Host- prefix, HSTS.
    "HTTPS": False,
    "DEMO_PASSWORD": "portal-demo",
    "DEFAULT_LOCALE": "en",
    "DEFAULT_TIMEZONE": "UTC",
    "LANGUAGES": ["en", "fr"],
    # Flask-Limiter storage; memory:// is per process, use redis:// for several workers.
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "portal_session",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
}


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""
