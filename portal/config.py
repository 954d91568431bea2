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
    # Where the site is reached, for links in mail sent outside a request (jobs, CLI).
    "BASE_URL": "http://127.0.0.1:5000",
    "DEFAULT_LOCALE": "en",
    "DEFAULT_TIMEZONE": "UTC",
    "LANGUAGES": ["en", "fr"],
    # Logging: "json" (one object per line) or "text", with the request id on every line.
    # LOG_CONFIGURE false leaves logging to the host program.
    "LOG_FORMAT": "text",
    "LOG_LEVEL": "INFO",
    "LOG_CONFIGURE": True,
    # How many worker processes serve this site (gunicorn.conf.py sets it): several need
    # PostgreSQL and Redis-backed rate limits, and the app refuses to start otherwise.
    "WORKERS": 1,
    # Threads per worker (gunicorn.conf.py sets it); the database pool keeps one connection for
    # each, plus a few for the jobs thread and downloads.
    "THREADS": 8,
    # Benchmarks only (`make bench`): adds GET /bench/hello, the hello-world baseline.
    "BENCH": False,
    # Rows per page in every list and report.
    "PAGE_SIZE": 50,
    # Flask-Limiter storage; memory:// is per process, use redis:// for several workers.
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_RATE_LIMIT": "10 per minute;50 per hour",
    # Coupon codes tried per client address: guessing codes is slow.
    "COUPON_RATE_LIMIT": "10 per minute",
    # Hours an invitation link (to set a first password) stays valid; resending makes a new one.
    "INVITE_MAX_AGE_HOURS": 72,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "portal_session",
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # Real Braintree: set all four; otherwise the offline sandbox below is used.
    "BRAINTREE_ENVIRONMENT": None,  # sandbox | production
    "BRAINTREE_MERCHANT_ID": None,
    "BRAINTREE_PUBLIC_KEY": None,
    "BRAINTREE_PRIVATE_KEY": None,
    # Currency of the default merchant account (the offline sandbox's is USD too).
    "BRAINTREE_DEFAULT_CURRENCY": "USD",
    # Currency -> merchant account id, e.g. {"EUR": "acme_eur"}; unset: the default account.
    "BRAINTREE_MERCHANT_ACCOUNTS": {},
    # Seconds before a gateway call gives up (a lost answer is then an unknown outcome).
    "BRAINTREE_TIMEOUT": 20,
    # Outgoing mail: SMTP when MAIL_SERVER is set, else .eml files under instance/outbox/.
    "MAIL_SERVER": None,
    "MAIL_PORT": 587,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": True,
    "MAIL_USE_SSL": False,
    "MAIL_FROM": "Training portal <portal@localhost>",
    # Run periodic jobs (payments reconciler) in this process, every RECONCILE_INTERVAL seconds.
    "RUN_JOBS": False,
    "RECONCILE_INTERVAL": 60,
    # The offline payment sandbox (`flask portal payments-sandbox`).
    "PAYMENTS_SANDBOX_URL": "http://127.0.0.1:8790",
    "PAYMENTS_SANDBOX_MERCHANT_ID": "sandbox_merchant",
    "PAYMENTS_SANDBOX_PUBLIC_KEY": "sandbox_public",
    "PAYMENTS_SANDBOX_PRIVATE_KEY": "sandbox_private",
    # Which gateway takes new payments: braintree or payflow. Payments keep the gateway that took them.
    "PAYMENT_GATEWAY": "braintree",
    # Real Payflow Pro: MODE (pilot or live), PARTNER, VENDOR and PASSWORD (USER when it differs
    # from the vendor); otherwise the offline Payflow sandbox below is used.
    "PAYFLOW_MODE": None,
    "PAYFLOW_PARTNER": None,
    "PAYFLOW_VENDOR": None,
    "PAYFLOW_USER": None,
    "PAYFLOW_PASSWORD": None,
    # The currencies the Payflow account processes (comma-separated).
    "PAYFLOW_CURRENCIES": "USD",
    "PAYFLOW_TIMEOUT": 45,
    # The offline Payflow sandbox (`flask portal payflow-sandbox`).
    "PAYFLOW_SANDBOX_URL": "http://127.0.0.1:8791",
    "PAYFLOW_SANDBOX_PARTNER": "PayPal",
    "PAYFLOW_SANDBOX_VENDOR": "sandbox_vendor",
    "PAYFLOW_SANDBOX_USER": "sandbox_user",
    "PAYFLOW_SANDBOX_PASSWORD": "sandbox_password",
}


class ConfigurationError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""
