import pytest

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_from, login
from tests.factories import make_user


@pytest.fixture
def organizer(app):
    with app.app_context():
        return make_user("organizer@example.com").id


def test_login_with_right_password_redirects_to_sessions(client, organizer):
    response = login(client, "Organizer@Example.com")
    assert response.status_code == 303
    assert client.get("/sessions/").status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_answer(client, organizer):
    wrong_password = login(client, "organizer@example.com", "not the password")
    unknown_email = login(client, "nobody@example.com", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert "Email or password is incorrect." in wrong_password.text
    assert "Email or password is incorrect." in unknown_email.text
    assert client.get("/sessions/").status_code == 302


def test_deactivated_user_cannot_log_in(app, client, organizer):
    with app.app_context():
        db.session.get(User, organizer).active = False
        db.session.commit()
    assert login(client, "organizer@example.com").status_code == 401


def test_pages_require_login(client):
    for url in ("/sessions/", "/sessions/new", "/admin/settings"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_login_redirects_only_to_local_paths(client, organizer):
    page = client.get("/login")
    response = client.post(
        "/login?next=//evil.example.com/x",
        data={"email": "organizer@example.com", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_login_is_rate_limited_per_address(client, organizer):
    statuses = [login(client, "organizer@example.com", "wrong password!").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # The right password is refused too while the limit holds.
    assert login(client, "organizer@example.com").status_code == 429


def test_logout_needs_post_with_csrf_and_ends_the_session(app, client, organizer):
    login(client, "organizer@example.com")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    page = client.get("/sessions/")
    stolen = client.get_cookie("portal_session").value
    assert client.post("/logout", data={"csrf_token": csrf_from(page.text)}).status_code == 303
    assert client.get("/sessions/").status_code == 302
    # A copy of the cookie taken before logging out is worthless afterwards.
    replay = app.test_client()
    replay.set_cookie("portal_session", stolen)
    assert replay.get("/sessions/").status_code == 302


def test_bumping_session_version_signs_the_user_out_everywhere(app, client, organizer):
    login(client, "organizer@example.com")
    with app.app_context():
        db.session.get(User, organizer).session_version += 1
        db.session.commit()
    assert client.get("/sessions/").status_code == 302


def test_passwords_are_stored_as_argon2id_hashes(app, organizer):
    with app.app_context():
        stored = db.session.get(User, organizer).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_create_admin_command_asks_for_the_password(app, runner):
    result = runner.invoke(
        args=["portal", "create-admin", "Boss@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.email == "boss@example.com"))
        assert admin.is_admin


def test_create_admin_refuses_a_short_password_and_writes_nothing(app, runner):
    result = runner.invoke(args=["portal", "create-admin", "boss@example.com"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_load_demo_creates_the_stable_accounts_once(app, runner):
    first = runner.invoke(args=["portal", "load-demo"])
    second = runner.invoke(args=["portal", "load-demo"])
    assert first.exit_code == second.exit_code == 0
    assert "already present" in second.output
    with app.app_context():
        emails = set(db.session.scalars(db.select(User.email)))
        assert emails == {"admin@example.com", "organizer@example.com", "organizer2@example.com"}
        departments = {u.department.name for u in db.session.scalars(db.select(User)) if u.department}
        assert departments == {"Sales", "Engineering"}
    client = app.test_client()
    assert login(client, "organizer@example.com", app.config["DEMO_PASSWORD"]).status_code == 303


def test_commands_use_the_key_that_make_run_keeps_in_the_instance_folder(tmp_path):
    from portal import create_app

    (tmp_path / "secret_key").write_text("k" * 64 + "\n")
    app = create_app({"SECRET_KEY": None, "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "k" * 64
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/portal.db"
