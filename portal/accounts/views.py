from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts.forms import LoginForm
from portal.accounts.services import authenticate, normalize_email, revoke_sessions
from portal.extensions import limiter

bp = Blueprint("accounts", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login-email:" + normalize_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str:
    """Only a local path: an open redirect would turn our login page into a phishing tool."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_email_key, scope="login-email")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()  # a fresh session on privilege change (no fixation)
            login_user(user)
            return redirect(_safe_next(request.args.get("next")), code=303)
        # One answer for unknown email and wrong password.
        form.form_errors.append(_("Email or password is incorrect."))
        return render_template("accounts/login.html", form=form), 401
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    # The login cookie carries the session version: bumping it makes every copy of
    # the cookie (this browser's, a stolen one, other devices') worthless.
    revoke_sessions(current_user)
    logout_user()
    session.clear()
    return redirect(url_for("accounts.login"), code=303)
