"""Builds the configured Flask application (``portal.create_app`` calls ``build_app``)."""

import os
import secrets
from pathlib import Path

from flask import Flask, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import select_autoescape
from werkzeug.routing import IntegerConverter

from portal.config import DEFAULTS, ConfigurationError
from portal.database import render_migration_type
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate


def build_app(config: dict | None = None) -> Flask:
    # The instance folder (SQLite database, generated secret key) can live elsewhere in production.
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("PORTAL_INSTANCE_PATH") or None
    app = Flask("portal", instance_relative_config=True, instance_path=instance_path)
    # Autoescape every template, not only *.html (Flask's default); plain-text mail opts out.
    app.jinja_options = {"autoescape": select_autoescape(default=True, disabled_extensions=("txt",))}
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("PORTAL")
    if config:
        app.config.from_mapping(config)
    _finish_config(app)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    _init_login(app)
    _init_i18n(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            from portal.database import configure_sqlite

            configure_sqlite(db.engine)

    from portal.payments.gateway import build_gateways

    gateways = build_gateways(app.config)
    app.extensions["payment_gateways"] = gateways
    app.extensions["payments"] = gateways[str(app.config["PAYMENT_GATEWAY"]).strip().lower()]
    from portal.billing.services import (
        on_pay_per_use_payment,
        on_refund_released,
        on_refund_succeeded,
        session_page_of,
    )
    from portal.payments.models import Purpose
    from portal.payments.services import (
        register_given_back_handler,
        register_outcome_handler,
        register_refund_released_handler,
        register_refund_succeeded_handler,
        register_return_page,
    )
    from portal.registration.services import (
        on_guest_payment,
        on_guest_payment_given_back,
        registration_page_of,
    )

    register_outcome_handler(Purpose.GUEST_FEE, on_guest_payment)
    register_return_page(Purpose.GUEST_FEE, registration_page_of)
    register_return_page(Purpose.PAY_PER_USE, session_page_of)
    register_return_page(Purpose.TEST, lambda payment: url_for("payments.detail", payment_id=payment.id))
    register_given_back_handler(Purpose.GUEST_FEE, on_guest_payment_given_back)
    register_outcome_handler(Purpose.PAY_PER_USE, on_pay_per_use_payment)
    register_refund_released_handler(Purpose.PAY_PER_USE, on_refund_released)
    register_refund_succeeded_handler(Purpose.PAY_PER_USE, on_refund_succeeded)
    app.url_map.converters["id"] = DatabaseIdConverter
    _register_blueprints(app)
    _register_hooks(app)
    from portal.cli import portal_cli

    app.cli.add_command(portal_cli)
    if app.config["RUN_JOBS"]:
        from portal.jobs import start_jobs

        app.extensions["jobs_stop"] = start_jobs(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """``<id:name>``: a positive integer that fits a database id; larger ones are a plain 404."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)


def _finish_config(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL") or app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        url = "sqlite:///" + os.path.join(app.instance_path, "portal.db")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if ":memory:" not in url:
        # A connection kept for every serving thread: past the pool, SQLAlchemy opens and closes
        # one per request, and a new SQLite connection sets its pragmas and reads the schema again
        # (8 threads on the default pool of 5: the estimate fragment 198 -> 213 req/s with this).
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("pool_size", int(app.config["THREADS"]) + 4)
    key_file = Path(app.instance_path) / "secret_key"
    if not app.config.get("SECRET_KEY") and key_file.is_file():
        # `make run` keeps its generated key here, so `flask portal ...` commands find it too.
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    if not app.config.get("SECRET_KEY"):
        if not (app.config["DEMO"] or app.config.get("TESTING")):
            raise ConfigurationError(
                "PORTAL_SECRET_KEY is not set. Set it to a long random value "
                '(python -c "import secrets; print(secrets.token_hex(32))").'
            )
        # Demo and tests only: a key that dies with the process.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    from portal.deployment import database_kind, problems

    found = problems(database_kind(url), int(app.config["WORKERS"] or 1), app.config["RATELIMIT_STORAGE_URI"])
    if found:
        raise ConfigurationError(" ".join(found))
    if app.config["HTTPS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"
        # __Host- cookies are Secure, host-only and path=/ by browser rule.
        app.config["SESSION_COOKIE_NAME"] = "__Host-" + app.config["SESSION_COOKIE_NAME"]


def _init_login(app: Flask) -> None:
    from sqlalchemy.orm import lazyload

    from portal.accounts.models import User

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "basic"

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import request

        from portal.web import is_htmx

        target = url_for("accounts.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            # htmx would follow a 302 itself and swap the login page into a panel.
            return "", 401, {"HX-Redirect": target}
        return redirect(target)

    @login_manager.user_loader
    def load_user(user_id: str):
        user_pk, _, version = user_id.partition(":")
        if not (user_pk.isdigit() and version.isdigit()):
            return None
        # Alone: every signed-in request loads its user, and few of them show the department.
        user = db.session.get(User, int(user_pk), options=[lazyload(User.department)])
        if user is None or user.session_version != int(version) or not user.active:
            return None
        return user


def _init_i18n(app: Flask) -> None:
    from portal import i18n

    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from portal import pagination
    from portal.accounts.admin_views import bp as users_admin_bp
    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.billing.admin_views import bp as billing_admin_bp
    from portal.billing.views import bp as billing_bp
    from portal.coupons.views import bp as coupons_bp
    from portal.health import bp as health_bp
    from portal.payments.views import bp as payments_bp
    from portal.registration.views import bp as registration_bp
    from portal.reports.views import bp as reports_bp
    from portal.trainings.registrants import bp as registrants_bp
    from portal.trainings.views import bp as trainings_bp

    for blueprint in (
        accounts_bp,
        admin_bp,
        trainings_bp,
        registrants_bp,
        registration_bp,
        payments_bp,
        coupons_bp,
        billing_bp,
        billing_admin_bp,
        users_admin_bp,
        reports_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)
    pagination.init_app(app)


# Error pages: (what is raised, status answered, title, message).
ERROR_PAGES = [
    (404, 404, _l("Page not found"), _l("The page you asked for does not exist or is not yours to see.")),
    (
        CSRFError,
        400,
        _l("Form expired"),
        _l("Your form expired or came from another site. Go back, reload the page and try again."),
    ),
    (429, 429, _l("Too many attempts"), _l("Too many attempts. Wait a minute and try again.")),
    (413, 413, _l("Too large"), _l("What you sent is too large.")),
]


# The id of an htmx form (its HX-Trigger header) -> where its "too many attempts" message goes.
TOO_MANY_PLACES = {"coupon-form": "#coupon-limit"}


def _error_page(status: int, title, message):
    def handler(_exc):
        from portal.web import is_htmx

        if status == 400 and is_htmx():
            # An expired CSRF token under htmx: reload the page to get a fresh one.
            return "", 400, {"HX-Refresh": "true"}
        if status == 429 and is_htmx():
            # Swapped in where the request came from (htmx-config lets 429 swap): say plainly to wait.
            # A form that shares its panel with more (the coupon box beside the payment form) names
            # its own place for the message, so the rest of the panel stays.
            headers = {}
            place = TOO_MANY_PLACES.get(request.headers.get("HX-Trigger", ""))
            if place:
                headers = {"HX-Retarget": place, "HX-Reswap": "innerHTML"}
            return render_template("errors/_too_many.html", message=message), status, headers
        return render_template("errors/error.html", title=title, message=message), status

    return handler


def _register_hooks(app: Flask) -> None:
    from portal import observability
    from portal.admin.services import get_settings
    from portal.web import add_security_headers, mark_reads_only

    # First of all hooks: the request's first query begins a read-only or a write transaction.
    app.before_request_funcs.setdefault(None, []).insert(0, mark_reads_only)
    observability.init_app(app)
    app.after_request(add_security_headers)

    @app.before_request
    def refuse_nul_bytes():
        # No field legitimately holds a NUL byte, and PostgreSQL refuses them in text.
        if b"\x00" in request.query_string or any(
            "\x00" in value for values in request.form.listvalues() for value in values
        ):
            abort(400)

    @app.context_processor
    def inject_site():
        return {"site": get_settings()}

    for error, status, title, message in ERROR_PAGES:
        app.register_error_handler(error, _error_page(status, title, message))

    if app.config["BENCH"]:
        # The baseline the benchmark compares every page with: same server, same hooks, no work.
        @app.route("/bench/hello")
        def bench_hello():
            return "Hello, World!"

    @app.route("/")
    def index():
        if current_user.is_authenticated:
            return redirect(
                url_for("reports.admin_home" if current_user.is_admin else "reports.organizer_home")
            )
        return redirect(url_for("accounts.login"))
