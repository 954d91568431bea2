"""Sessions and passwords (issue #10, point 3): what tests/web/test_auth.py does not already check.

The session is renewed at login (fixation), a cookie from before logout stays dead, hashes made with
weaker argon2 parameters are upgraded at the next login, and common passwords are refused.
"""

import pytest
from argon2 import PasswordHasher, extract_parameters

from portal.accounts import passwords
from portal.accounts import services as accounts
from portal.accounts.invitations import invitation_token
from portal.accounts.models import Role, User
from portal.extensions import db
from tests.conftest import PASSWORD, csrf_from, login
from tests.factories import make_user

COOKIE = "portal_session"


@pytest.fixture
def organizer(app):
    with app.app_context():
        return make_user("organizer@example.com").id


def stored_hash(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).password_hash


# -- session fixation and revocation ------------------------------------------------------------------


def test_login_issues_a_new_session_and_keeps_nothing_from_before(app, client, organizer):
    page = client.get("/login")
    token_before = csrf_from(page.text)
    with client.session_transaction() as session:
        session["planted"] = "by an attacker who set this browser's cookie"
    planted_cookie = client.get_cookie(COOKIE).value

    assert login(client, "organizer@example.com").status_code == 303

    assert client.get_cookie(COOKIE).value != planted_cookie
    with client.session_transaction() as session:
        assert "planted" not in session
    # The CSRF secret was renewed too: a token from the pre-login page no longer works.
    assert client.post("/logout", data={"csrf_token": token_before}).status_code == 400
    # The attacker's copy of the pre-login cookie is still anonymous.
    attacker = app.test_client()
    attacker.set_cookie(COOKIE, planted_cookie)
    assert attacker.get("/sessions/").status_code == 302


def test_a_cookie_from_before_logout_stays_refused_after_logging_in_again(app, client, organizer):
    login(client, "organizer@example.com")
    stolen = client.get_cookie(COOKIE).value
    assert (
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/sessions/").text)}).status_code
        == 303
    )
    assert login(client, "organizer@example.com").status_code == 303
    assert client.get("/sessions/").status_code == 200  # the new session works
    replay = app.test_client()
    replay.set_cookie(COOKIE, stolen)
    assert replay.get("/sessions/").status_code == 302
    assert replay.get("/sessions/", headers={"HX-Request": "true"}).status_code == 401


def test_logout_signs_out_every_device_of_that_user_only(app, organizer):
    with app.app_context():
        make_user("other@example.com", department="Engineering")
    laptop, phone, colleague = app.test_client(), app.test_client(), app.test_client()
    for client, email in [(laptop, "organizer@example.com"), (phone, "organizer@example.com")]:
        assert login(client, email).status_code == 303
    assert login(colleague, "other@example.com").status_code == 303
    laptop.post("/logout", data={"csrf_token": csrf_from(laptop.get("/sessions/").text)})
    assert phone.get("/sessions/").status_code == 302
    assert colleague.get("/sessions/").status_code == 200


# -- hashing ------------------------------------------------------------------------------------------


def weak_hash(password: str) -> str:
    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(password)


def test_login_rehashes_a_password_hashed_with_weaker_parameters(app, client, organizer):
    weak = weak_hash(PASSWORD)
    assert passwords.needs_rehash(weak)
    with app.app_context():
        db.session.get(User, organizer).password_hash = weak
        db.session.commit()

    assert login(client, "organizer@example.com", "not the password").status_code == 401
    assert stored_hash(app, organizer) == weak  # a failed attempt changes nothing

    assert login(client, "organizer@example.com").status_code == 303
    upgraded = stored_hash(app, organizer)
    assert upgraded != weak and upgraded.startswith("$argon2id$")
    current = extract_parameters(passwords.hash_password("anything at all"))
    assert extract_parameters(upgraded) == current
    assert current.memory_cost > 8 * 1024 and current.time_cost >= 2
    assert not passwords.needs_rehash(upgraded)
    assert passwords.verify_password(upgraded, PASSWORD)

    # Logging in again with current parameters leaves the hash alone.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/sessions/").text)})
    assert login(client, "organizer@example.com").status_code == 303
    assert stored_hash(app, organizer) == upgraded


# -- common passwords ---------------------------------------------------------------------------------


def test_the_common_password_list_is_bundled_with_its_source():
    text = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    assert "SecLists" in text and "MIT License" in text
    assert len(passwords.common_passwords()) == 1000
    assert {"password", "123456", "qwerty", "iloveyou"} <= passwords.common_passwords()


@pytest.mark.parametrize(
    "password, common",
    [
        ("password", True),
        ("PASSWORD", True),
        ("password123456", True),  # padding a common password does not make it uncommon
        ("Sunshine2024!", True),
        ("iloveyou!!!!", True),
        ("correct horse battery", False),
        ("password manager vault", False),
        ("zq8-Lm4r-tT2x", False),
    ],
)
def test_common_passwords_are_recognised(password, common):
    assert passwords.is_common(password) is common


@pytest.fixture
def invited(app, tmp_path):
    app.instance_path = str(tmp_path)  # the invitation mail lands here
    with app.app_context():
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        user = accounts.invite_user("invited@example.com", name="Ivy Invited")
        return {"id": user.id, "url": f"/invite/{invitation_token(user)}", "hash": user.password_hash}


def set_password(client, url, password, headers=None):
    page = client.get(url, headers=headers or {})
    data = {"password": password, "confirm": password, "csrf_token": csrf_from(page.text)}
    return client.post(url, data=data, headers=headers or {})


@pytest.mark.parametrize(
    "language, message",
    [
        ("en", "This password is one of the most common ones and easy to guess."),
        ("fr", "Ce mot de passe fait partie des plus courants et se devine facilement."),
    ],
)
@pytest.mark.parametrize("password", ["password1234", "Football2024!", "baseball!!"])
def test_accepting_an_invitation_refuses_a_common_password(app, client, invited, language, message, password):
    response = set_password(client, invited["url"], password, {"Accept-Language": language})
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        user = db.session.get(User, invited["id"])
        assert user.invited_at is not None and user.password_hash == invited["hash"]
    assert client.get("/sessions/").status_code == 302  # not signed in


def test_accepting_an_invitation_with_an_uncommon_password_works(app, client, invited):
    response = set_password(client, invited["url"], "a brand new passphrase")
    assert response.status_code == 303
    assert client.get("/sessions/").status_code == 200
    assert stored_hash(app, invited["id"]).startswith("$argon2id$")


def test_services_refuse_common_passwords_whatever_the_caller(app):
    with app.app_context():
        with pytest.raises(accounts.AccountError, match="password_common"):
            accounts.create_user("someone@example.com", "letmein12345")
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0


def test_create_admin_refuses_a_common_password(app, runner):
    result = runner.invoke(
        args=["portal", "create-admin", "boss@example.com"], input="password1234\npassword1234\n"
    )
    assert result.exit_code != 0
    assert "most common" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 0
