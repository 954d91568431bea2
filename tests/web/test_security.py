import re

import pytest

from portal import ConfigurationError, create_app
from tests.conftest import login, make_config
from tests.factories import enable_ecommerce, make_training, make_user


@pytest.fixture
def signed_in(app, client):
    with app.app_context():
        enable_ecommerce()
        user = make_user("organizer@example.com")
        training_id = make_training(user).id
    login(client, "organizer@example.com")
    return training_id


def test_html_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers


def test_pages_have_no_inline_script_and_htmx_runs_without_eval(client, signed_in):
    page = client.get("/sessions/new").text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert '"allowEval": false' in page
    assert "/static/vendor/htmx-2.0.11.min.js" in page


def test_session_cookie_is_httponly_and_samesite_lax(client, signed_in):
    cookie = client.get_cookie("portal_session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_https_sites_get_secure_host_cookies_and_hsts(app, migrated_url):
    app = create_app(make_config(migrated_url, HTTPS=True))
    client = app.test_client()
    with app.app_context():
        make_user("organizer@example.com")
    response = login(client, "organizer@example.com")
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith("__Host-portal_session=")
    assert "Secure" in set_cookie and "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "max-age=" in client.get("/login").headers["Strict-Transport-Security"]
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()


def test_app_refuses_to_start_without_a_secret_key_outside_demo_and_tests(tmp_path):
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app({"SECRET_KEY": None, "INSTANCE_PATH": str(tmp_path)})
    demo = create_app({"SECRET_KEY": None, "DEMO": True, "INSTANCE_PATH": str(tmp_path)})
    assert len(demo.config["SECRET_KEY"]) >= 32


def test_settings_come_from_portal_environment_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-the-environment-" + "k" * 20)
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("PORTAL_HTTPS", "true")
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["SECRET_KEY"].startswith("from-the-environment-")
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["HTTPS"] is True


@pytest.mark.parametrize(
    "url, data",
    [
        ("/sessions/new", {"title": "x", "intent": "schedule"}),
        ("/admin/settings", {"currency": "EUR"}),
        ("/logout", {}),
    ],
)
def test_state_changes_without_csrf_token_are_refused(client, signed_in, url, data):
    assert client.post(url, data=data).status_code == 400
    # htmx requests need the token too (it travels in the form).
    assert client.post(url, data=data, headers={"HX-Request": "true"}).status_code == 400
    assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400


def test_cancel_without_csrf_token_is_refused_and_changes_nothing(client, signed_in):
    assert client.post(f"/sessions/{signed_in}/cancel").status_code == 400
    page = client.get(f"/sessions/{signed_in}")
    assert 'data-status="scheduled"' in page.text


def test_request_bodies_are_capped(client):
    response = client.post("/login", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_templates_autoescape_user_input(app, client):
    with app.app_context():
        enable_ecommerce()
        user = make_user("organizer@example.com")
        training = make_training(user, title="<script>alert(1)</script>")
        token = training.public_token
    page = client.get(f"/s/{token}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
