"""Administrators manage people: invitations, roles, departments, deactivation, the last admin."""

import re
import threading
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select, update

from portal.accounts import services
from portal.accounts.invitations import SALT
from portal.accounts.models import Department, Role, User
from portal.accounts.passwords import hash_password
from portal.accounts.services import AccountError
from portal.admin.models import AuditEntry
from portal.billing.reports import set_budget
from portal.database import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.registration.links import manage_token
from tests.conftest import PASSWORD, count_queries, csrf_from, login
from tests.factories import make_training, make_user

NEW_PASSWORD = "a brand new password"
LINK_RE = re.compile(r"http://localhost(/invite/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def site(app, tmp_path):
    """An admin (no department) and an organizer in Sales; Engineering exists, empty."""
    app.instance_path = str(tmp_path)  # delivered mail lands here, not in the repository
    with app.app_context():
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None, name="Ada Admin")
        organizer = make_user("organizer@example.com", name="Olga Organizer")
        engineering = services.get_or_create_department("Engineering")
        db.session.commit()
        return {
            "admin": admin.id,
            "organizer": organizer.id,
            "sales": organizer.department_id,
            "engineering": engineering.id,
        }


@pytest.fixture
def admin(client, site):
    assert login(client, "admin@example.com").status_code == 303
    return client


def token_of(client, url="/admin/users") -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    return csrf_from(page.text)


def post_form(client, url, data):
    return client.post(url, data={**data, "csrf_token": token_of(client, url)})


def post_action(client, url):
    return client.post(url, data={"csrf_token": token_of(client)})


def invite(client, email="new@example.com", name="Nina New", role="organizer", department=""):
    return post_form(
        client,
        "/admin/users/invite",
        {"email": email, "name": name, "role": role, "department": str(department)},
    )


def user_by_email(app, email) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge(user)
        return user


def invitation_links(app, email) -> list[str]:
    """The invitation link of every message sent to ``email``, oldest first."""
    with app.app_context():
        bodies = db.session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.to_email == email, OutboxMessage.kind == "invitation")
            .order_by(OutboxMessage.id)
        ).all()
    links = []
    for body in bodies:
        found = LINK_RE.findall(body)
        assert len(found) == 1, body
        links.append(found[0])
    return links


def audit_entries(app, action) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
        for entry in entries:
            db.session.expunge(entry)
        return entries


def set_password(client, link, password=NEW_PASSWORD, confirm=None):
    page = client.get(link)
    assert page.status_code == 200, page.text
    return client.post(
        link,
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": csrf_from(page.text),
        },
    )


def many_users(email, department="Sales"):
    """A plain organizer, fast: ``create_user`` with the password hashed once for all of them."""
    global _HASH
    _HASH = _HASH or hash_password(PASSWORD)
    dept = services.get_or_create_department(department) if department else None
    original, services.hash_password = services.hash_password, lambda _password: _HASH
    try:
        services.create_user(email, PASSWORD, department=dept)
    finally:
        services.hash_password = original
    db.session.commit()


_HASH = None


def listed_emails(html: str) -> list[str]:
    return re.findall(r'<tr data-email="([^"]+)"', html)


def flashes(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", text).strip()
        for text in re.findall(r'<p class="flash[^"]*">(.*?)</p>', html, re.S)
    ]


# -- invitations ---------------------------------------------------------------------------------------


def test_invite_emails_a_link_that_sets_the_password_once_and_logs_the_user_in(app, admin, site):
    response = invite(admin, email="New@Example.com", department=site["sales"])
    new = user_by_email(app, "new@example.com")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{new.id}"
    assert (new.role, new.department_id, new.active, new.name) == (
        "organizer",
        site["sales"],
        True,
        "Nina New",
    )
    assert new.invited_at is not None
    assert new.password_hash.startswith("$argon2id$")  # a real hash nobody knows: no password works
    assert "Invitation sent to new@example.com." in flashes(admin.get(response.headers["Location"]).text)

    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
        assert (message.to_email, message.to_name, message.status) == ("new@example.com", "Nina New", "sent")
        assert message.subject == "Your invitation to the training portal"
        assert "Ada Admin invited you to the training portal as organizer." in message.body
        assert "The link works once, for 72 hours." in message.body
    (link,) = invitation_links(app, "new@example.com")
    (entry,) = audit_entries(app, "user.invited")
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (site["admin"], "User", str(new.id))
    assert entry.details == {
        "email": "new@example.com",
        "name": "Nina New",
        "role": "organizer",
        "department": "Sales",
    }

    invitee = app.test_client()
    assert login(invitee, "new@example.com", "").status_code == 422  # no password at all
    assert login(invitee, "new@example.com", PASSWORD).status_code == 401  # nor any other
    page = invitee.get(link)
    assert page.status_code == 200
    assert "Choose your password" in page.text and "new@example.com" in page.text

    mismatch = set_password(invitee, link, confirm="something else entirely")
    assert mismatch.status_code == 422
    assert "The two passwords do not match." in mismatch.text
    short = set_password(invitee, link, password="short")
    assert short.status_code == 422
    assert "The password must have at least 10 characters." in short.text

    done = set_password(invitee, link)
    assert done.status_code == 303
    assert done.headers["Location"] == "/"
    assert invitee.get("/sessions/").status_code == 200  # logged in at once
    assert user_by_email(app, "new@example.com").invited_at is None
    (accepted,) = audit_entries(app, "user.invitation_accepted")
    assert (accepted.actor_id, accepted.subject_id) == (new.id, str(new.id))

    fresh = app.test_client()
    assert login(fresh, "new@example.com", NEW_PASSWORD).status_code == 303
    # One use only: the link now says so, on GET and on POST.
    reused = fresh.get(link)
    assert reused.status_code == 410
    assert "This invitation has already been used: your password is set. Log in with it." in reused.text
    token = csrf_from(fresh.get("/sessions/").text)
    again = fresh.post(link, data={"password": "x" * 12, "confirm": "x" * 12, "csrf_token": token})
    assert again.status_code == 410
    assert login(app.test_client(), "new@example.com", NEW_PASSWORD).status_code == 303


def test_the_set_password_page_rotates_the_session(app, admin, site):
    invite(admin)
    (link,) = invitation_links(app, "new@example.com")
    invitee = app.test_client()
    page = invitee.get(link)
    before = invitee.get_cookie("portal_session").value
    token = csrf_from(page.text)
    response = invitee.post(
        link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert invitee.get_cookie("portal_session").value != before
    # The pre-login cookie (CSRF token included) does not carry the login.
    replay = app.test_client()
    replay.set_cookie("portal_session", before)
    assert replay.get("/sessions/").status_code == 302


@pytest.mark.parametrize(
    ("age_hours", "max_age_hours", "status"), [(71, 72, 200), (73, 72, 410), (2, 1, 410)]
)
def test_a_link_older_than_the_configured_maximum_age_has_expired(
    app, admin, site, monkeypatch, age_hours, max_age_hours, status
):
    app.config["INVITE_MAX_AGE_HOURS"] = max_age_hours
    invited_at = utcnow() - timedelta(hours=age_hours)
    with monkeypatch.context() as patched:
        patched.setattr(services, "utcnow", lambda: invited_at)  # invited that long ago
        assert invite(admin).status_code == 303
    (link,) = invitation_links(app, "new@example.com")
    page = app.test_client().get(link)
    assert page.status_code == status
    if status == 200:
        assert (
            '<span class="user-status" data-status="invited">Invited</span>' in admin.get("/admin/users").text
        )
    else:
        assert "This invitation link has expired. Ask an administrator to send you a new one." in page.text
        assert 'data-reason="invitation_expired"' in page.text
        # A POST cannot use it either.
        client = app.test_client()
        token = csrf_from(client.get("/login").text)
        posted = client.post(
            link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
        )
        assert posted.status_code == 410
        assert user_by_email(app, "new@example.com").invited_at is not None
        # The admin sees it expired and can send a fresh one, which works.
        assert (
            '<span class="user-status" data-status="invited">Invitation expired</span>'
            in admin.get("/admin/users").text
        )
        new_id = user_by_email(app, "new@example.com").id
        assert post_action(admin, f"/admin/users/{new_id}/resend").status_code == 303
        assert app.test_client().get(invitation_links(app, "new@example.com")[-1]).status_code == 200


def test_tampered_or_foreign_links_are_refused(app, admin, site):
    invite(admin)
    (link,) = invitation_links(app, "new@example.com")
    token = link.rsplit("/", 1)[1]
    payload, timestamp, signature = token.split(".")
    new_id = user_by_email(app, "new@example.com").id
    with app.app_context():
        other_key = URLSafeTimedSerializer("another-secret-key-" + "y" * 32, salt=SALT)
        forged_for_admin = other_key.dumps([site["admin"], 1, 1])
        wrong_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="other").dumps([new_id, 1, 1])
        registration_token = manage_token(new_id)
    # The first character: the last one of a base64 signature also holds padding bits, and
    # changing only those leaves the same signature (the test then failed 1 run in 16).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    for bad in (
        f"{payload}.{timestamp}.{flipped}",
        f"{payload}x.{timestamp}.{signature}",
        forged_for_admin,
        wrong_salt,
        registration_token,
        "x" * 400,
    ):
        page = app.test_client().get(f"/invite/{bad}")
        assert page.status_code == 404, bad
        assert (
            "This invitation link is not valid. Check that you opened the whole link from the email."
            in page.text
        )
    assert app.test_client().get(link).status_code == 200  # the genuine one still works


def test_resending_an_invitation_kills_the_previous_link(app, admin, site):
    invite(admin)
    new_id = user_by_email(app, "new@example.com").id
    response = post_action(admin, f"/admin/users/{new_id}/resend")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{new_id}"
    assert "A new invitation was sent to new@example.com; earlier links no longer work." in flashes(
        admin.get(response.headers["Location"]).text
    )
    first, second = invitation_links(app, "new@example.com")
    assert first != second
    old = app.test_client().get(first)
    assert old.status_code == 410
    assert "A newer invitation was sent to you since this one: use the link in the latest email." in old.text
    (entry,) = audit_entries(app, "user.invitation_resent")
    assert (entry.actor_id, entry.subject_id, entry.details) == (
        site["admin"],
        str(new_id),
        {"email": "new@example.com"},
    )
    assert set_password(app.test_client(), second).status_code == 303
    # Once the password is set there is no invitation left to resend.
    refused = post_action(admin, f"/admin/users/{new_id}/resend")
    assert "This user has already set a password: there is no invitation to send." in flashes(
        admin.get(refused.headers["Location"]).text
    )
    assert len(invitation_links(app, "new@example.com")) == 2


def test_deactivating_an_invited_user_withdraws_the_link_for_good(app, admin, site):
    invite(admin)
    new_id = user_by_email(app, "new@example.com").id
    (link,) = invitation_links(app, "new@example.com")
    assert post_action(admin, f"/admin/users/{new_id}/deactivate").status_code == 303
    withdrawn = app.test_client().get(link)
    assert withdrawn.status_code == 410
    assert "This invitation was withdrawn. Ask an administrator if you need access." in withdrawn.text
    refused = post_action(admin, f"/admin/users/{new_id}/resend")
    assert "This account is deactivated: reactivate it before sending a new invitation." in flashes(
        admin.get(refused.headers["Location"]).text
    )
    assert post_action(admin, f"/admin/users/{new_id}/reactivate").status_code == 303
    assert app.test_client().get(link).status_code == 410  # reactivation does not revive it
    post_action(admin, f"/admin/users/{new_id}/resend")
    assert set_password(app.test_client(), invitation_links(app, "new@example.com")[-1]).status_code == 303


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("ORGANIZER@example.com", "An account with that email address already exists."),
        ("not-an-email", "That is not a valid email address."),
        ("", "Enter the email address to invite."),
    ],
)
def test_an_invitation_to_a_taken_or_invalid_address_is_refused(app, admin, site, email, message):
    response = invite(admin, email=email)
    assert response.status_code == 422
    assert message in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_admin_can_invite_an_administrator_without_a_department(app, admin, site):
    assert invite(admin, email="boss@example.com", role="admin").status_code == 303
    boss = user_by_email(app, "boss@example.com")
    assert (boss.role, boss.department_id) == ("admin", None)
    set_password(app.test_client(), invitation_links(app, "boss@example.com")[0])
    client = app.test_client()
    login(client, "boss@example.com", NEW_PASSWORD)
    assert client.get("/admin/users").status_code == 200


# -- editing, deactivation -----------------------------------------------------------------------------


def test_role_and_department_changes_are_audited_with_old_and_new_values(app, admin, site):
    url = f"/admin/users/{site['organizer']}"
    response = post_form(
        admin, url, {"name": "Olga Organizer", "role": "admin", "department": str(site["engineering"])}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == url
    organizer = user_by_email(app, "organizer@example.com")
    assert (organizer.role, organizer.department_id) == ("admin", site["engineering"])
    (entry,) = audit_entries(app, "user.updated")
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (
        site["admin"],
        "User",
        str(site["organizer"]),
    )
    assert entry.details == {
        "email": "organizer@example.com",
        "changes": {"role": ["organizer", "admin"], "department": ["Sales", "Engineering"]},
    }
    page = admin.get(url)
    assert "Changes to organizer@example.com saved." in flashes(page.text)
    assert "Role organizer → admin; Department Sales → Engineering" in page.text

    # Back to no department and a new name: one more entry; saving unchanged values records nothing.
    post_form(admin, url, {"name": "Olga O.", "role": "admin", "department": ""})
    post_form(admin, url, {"name": "Olga O.", "role": "admin", "department": ""})
    entries = audit_entries(app, "user.updated")
    assert len(entries) == 2
    assert entries[1].details["changes"] == {
        "name": ["Olga Organizer", "Olga O."],
        "department": ["Engineering", None],
    }


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        ({"role": "owner"}, "role", "Not a valid choice."),
        ({"department": "999999"}, "department", "Not a valid choice."),
        ({"department": "abc"}, "department", "Invalid Choice: could not coerce."),
        ({"name": "x" * 201}, "name", "Field cannot be longer than 200 characters."),
    ],
)
def test_an_invalid_edit_is_refused_with_the_field_marked(app, admin, site, fields, field_id, message):
    data = {"name": "Olga", "role": "organizer", "department": str(site["sales"]), **fields}
    response = post_form(admin, f"/admin/users/{site['organizer']}", data)
    assert response.status_code == 422
    assert f'<p class="error" id="{field_id}-error">{message}</p>' in response.text
    assert audit_entries(app, "user.updated") == []


def test_deactivation_signs_the_user_out_and_blocks_login_while_their_sessions_stay(app, admin, site):
    with app.app_context():
        organizer = db.session.get(User, site["organizer"])
        training_id = make_training(organizer, title="Olga's workshop").id
    organizer_client = app.test_client()
    assert login(organizer_client, "organizer@example.com").status_code == 303
    assert organizer_client.get("/sessions/").status_code == 200

    response = post_action(admin, f"/admin/users/{site['organizer']}/deactivate")
    assert response.status_code == 303
    assert (
        "organizer@example.com is deactivated and signed out everywhere. "
        "Their sessions, payments and reports stay." in flashes(admin.get(response.headers["Location"]).text)
    )
    signed_out = organizer_client.get("/sessions/")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/login")
    assert login(app.test_client(), "organizer@example.com").status_code == 401

    with app.app_context():
        organizer = db.session.get(User, site["organizer"])
        assert organizer.active is False  # kept, never deleted
    assert "Olga&#39;s workshop" in admin.get("/sessions/").text
    assert admin.get(f"/sessions/{training_id}").status_code == 200
    assert listed_emails(admin.get("/admin/users?status=deactivated").text) == ["organizer@example.com"]
    (entry,) = audit_entries(app, "user.deactivated")
    assert (entry.actor_id, entry.subject_id) == (site["admin"], str(site["organizer"]))

    assert post_action(admin, f"/admin/users/{site['organizer']}/reactivate").status_code == 303
    assert organizer_client.get("/sessions/").status_code == 302  # the old cookie stays dead
    assert login(app.test_client(), "organizer@example.com").status_code == 303
    (entry,) = audit_entries(app, "user.reactivated")
    assert entry.subject_id == str(site["organizer"])


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(app, admin, site):
    me = f"/admin/users/{site['admin']}"
    demoted = post_form(admin, me, {"name": "Ada Admin", "role": "organizer", "department": ""})
    assert demoted.status_code == 422
    assert (
        "This is the last active administrator: the site must keep one. "
        "Make another user an administrator first." in demoted.text
    )
    deactivated = post_action(admin, f"{me}/deactivate")
    assert (
        "This is the last active administrator: the site must keep one. "
        "Make another user an administrator first."
        in flashes(admin.get(deactivated.headers["Location"]).text)
    )
    assert user_by_email(app, "admin@example.com").role == "admin"
    assert user_by_email(app, "admin@example.com").active is True

    # A deactivated admin does not count.
    with app.app_context():
        make_user("gone@example.com", role=Role.ADMIN, department=None)
        services.deactivate_user(db.session.scalar(select(User).where(User.email == "gone@example.com")))
    assert (
        post_form(admin, me, {"name": "Ada Admin", "role": "organizer", "department": ""}).status_code == 422
    )

    # With a second active admin, the first may step down (and loses the admin pages at once).
    post_form(admin, f"/admin/users/{site['organizer']}", {"name": "Olga", "role": "admin", "department": ""})
    stepped_down = post_form(admin, me, {"name": "Ada Admin", "role": "organizer", "department": ""})
    assert stepped_down.status_code == 303
    assert stepped_down.headers["Location"] == "/"
    assert admin.get("/admin/users").status_code == 404
    olga = app.test_client()
    login(olga, "organizer@example.com")
    # Olga is now the last admin: she cannot deactivate herself either, for both reasons.
    refused = post_action(olga, f"/admin/users/{site['organizer']}/deactivate")
    assert "This is the last active administrator" in olga.get(refused.headers["Location"]).text
    assert user_by_email(app, "organizer@example.com").active is True


def test_an_admin_cannot_deactivate_their_own_account(app, admin, site):
    with app.app_context():
        make_user("second@example.com", role=Role.ADMIN, department=None)
    response = post_action(admin, f"/admin/users/{site['admin']}/deactivate")
    assert "You cannot deactivate your own account; ask another administrator." in flashes(
        admin.get(response.headers["Location"]).text
    )
    assert user_by_email(app, "admin@example.com").active is True
    # ...but can deactivate the other admin, who is then not the last one.
    second = user_by_email(app, "second@example.com").id
    assert post_action(admin, f"/admin/users/{second}/deactivate").status_code == 303
    assert user_by_email(app, "second@example.com").active is False


@pytest.mark.parametrize("change", ["demote", "deactivate"])
def test_two_admins_removing_each_other_at_once_leave_one_admin(app, backend, change):
    """Each round, two admins demote (or deactivate) each other at the same moment: without the
    lock on the active admins both would see two of them and both would succeed."""
    with app.app_context():
        first = make_user("first@example.com", role=Role.ADMIN, department=None).id
        second = make_user("second@example.com", role=Role.ADMIN, department=None).id

    def remove(barrier, outcomes, actor_id, target_id):
        with app.app_context():
            try:
                barrier.wait(10)
                actor = db.session.get(User, actor_id)
                target = db.session.get(User, target_id)
                if change == "demote":
                    services.update_user(target, target.name, Role.ORGANIZER, None, actor=actor)
                else:
                    services.deactivate_user(target, actor=actor)
                outcomes[actor_id] = "done"
            except AccountError as exc:
                outcomes[actor_id] = exc.code
            finally:
                db.session.remove()

    for _round in range(8):
        with app.app_context():  # both admins again
            db.session.execute(
                update(User).where(User.id.in_([first, second])).values(role=Role.ADMIN, active=True)
            )
            db.session.commit()
        barrier, outcomes = threading.Barrier(2), {}
        threads = [
            threading.Thread(target=remove, args=(barrier, outcomes, first, second)),
            threading.Thread(target=remove, args=(barrier, outcomes, second, first)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes.values()) == ["done", "last_admin"], backend
        with app.app_context():
            admins = db.session.scalars(
                select(User.email).where(User.role == Role.ADMIN, User.active.is_(True))
            ).all()
            assert len(admins) == 1, admins


# -- the list ------------------------------------------------------------------------------------------


def test_the_list_filters_in_sql_by_role_department_status_and_search(app, admin, site):
    invite(admin, email="pending@example.com", name="Pat Pending", department=site["engineering"])
    with app.app_context():
        make_user("eng@example.com", department="Engineering", name="Eve Engineer")
        gone = make_user("gone@example.com", department=None, name="Gus Gone")
        services.deactivate_user(gone)
    everyone = [
        "admin@example.com",
        "eng@example.com",
        "gone@example.com",
        "organizer@example.com",
        "pending@example.com",
    ]
    cases = {
        "": everyone,
        "?role=admin": ["admin@example.com"],
        "?role=organizer": everyone[1:],
        f"?department={site['engineering']}": ["eng@example.com", "pending@example.com"],
        "?department=none": ["admin@example.com", "gone@example.com"],
        "?status=active": ["admin@example.com", "eng@example.com", "organizer@example.com"],
        "?status=invited": ["pending@example.com"],
        "?status=deactivated": ["gone@example.com"],
        "?q=EVE": ["eng@example.com"],
        "?q=organizer%40": ["organizer@example.com"],
        "?q=%25": [],  # LIKE wildcards are searched for literally
        f"?role=organizer&department={site['engineering']}&status=active": ["eng@example.com"],
    }
    for query, expected in cases.items():
        page = admin.get("/admin/users" + query)
        assert page.status_code == 200
        assert listed_emails(page.text) == expected, query
    page = admin.get("/admin/users?status=invited").text
    assert '<span class="user-status" data-status="invited">Invited</span>' in page
    assert "Engineering" in page


def test_htmx_filtering_answers_the_table_fragment(admin, site):
    response = admin.get("/admin/users?role=admin", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert listed_emails(response.text) == ["admin@example.com"]
    assert "HX-Request" in response.headers["Vary"]
    full = admin.get("/admin/users?role=admin")
    assert "<html" in full.text and 'id="user-table"' in full.text


def test_the_list_runs_the_same_number_of_queries_for_5_or_40_users(app, admin, site):
    def add(count, start):
        with app.app_context():
            for number in range(start, start + count):
                many_users(
                    f"user{number:03d}@example.com", department=("Sales", "Engineering", None)[number % 3]
                )

    add(3, 0)  # 5 users with the admin and the organizer
    few = count_queries(app, admin, "/admin/users")
    assert len(listed_emails(admin.get("/admin/users").text)) == 5
    add(35, 3)
    many = count_queries(app, admin, "/admin/users")
    page = admin.get("/admin/users").text
    assert len(listed_emails(page)) == 40
    assert page.count("<td>Engineering</td>") == 13  # user001, user004, ... user037
    assert few == many


def test_the_list_is_paginated_and_keeps_its_filters(app, admin, site):
    with app.app_context():
        for number in range(55):
            many_users(f"user{number:03d}@example.com")
    first = admin.get("/admin/users?role=organizer").text
    assert len(listed_emails(first)) == 50
    assert 'href="/admin/users?role=organizer&amp;page=2"' in first
    second = admin.get("/admin/users?role=organizer&page=2").text
    assert listed_emails(second) == [f"user{n:03d}@example.com" for n in range(49, 55)]
    assert "Page 2 of 2" in second


# -- departments ---------------------------------------------------------------------------------------


def department_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-name="([^"]+)" data-users="(\d+)">', html)


def test_departments_are_listed_with_their_user_counts_in_constant_queries(app, admin, site):
    assert department_rows(admin.get("/admin/departments").text) == [("Engineering", "0"), ("Sales", "1")]
    few = count_queries(app, admin, "/admin/departments")
    with app.app_context():
        for number in range(10):
            many_users(f"d{number}@example.com", department=f"Team {number:02d}")
    assert count_queries(app, admin, "/admin/departments") == few
    rows = department_rows(admin.get("/admin/departments").text)
    assert len(rows) == 12
    assert rows[2] == ("Team 00", "1")


def test_create_rename_and_delete_departments_with_clear_refusals(app, admin, site):
    created = post_form(admin, "/admin/departments", {"name": "  Marketing  "})
    assert created.status_code == 303
    assert "Department Marketing created." in flashes(admin.get("/admin/departments").text)
    duplicate = post_form(admin, "/admin/departments", {"name": "marketing"})
    assert duplicate.status_code == 422
    assert "A department with that name already exists." in duplicate.text
    assert post_form(admin, "/admin/departments", {"name": " "}).status_code == 422

    with app.app_context():
        marketing = db.session.scalar(select(Department).where(Department.name == "Marketing")).id
    url = f"/admin/departments/{marketing}/rename"
    taken = post_form(admin, url, {"name": "SALES"})
    assert taken.status_code == 422
    assert "A department with that name already exists." in taken.text
    assert post_form(admin, url, {"name": "Growth"}).status_code == 303
    assert "Department Marketing renamed Growth." in flashes(admin.get("/admin/departments").text)
    assert post_form(admin, url, {"name": "Growth "}).status_code == 303  # the same name: nothing recorded
    assert "Nothing to save: no change." in flashes(admin.get("/admin/departments").text)
    assert department_rows(admin.get("/admin/departments").text) == [
        ("Engineering", "0"),
        ("Growth", "0"),
        ("Sales", "1"),
    ]

    in_use = post_action(admin, f"/admin/departments/{site['sales']}/delete")
    assert in_use.status_code == 303
    assert "Sales still has 1 user: move them to another department first." in flashes(
        admin.get("/admin/departments").text
    )
    with app.app_context():
        set_budget(site["engineering"], "2026-01", 10000, "USD", db.session.get(User, site["admin"]))
    history = post_action(admin, f"/admin/departments/{site['engineering']}/delete")
    assert history.status_code == 303
    assert (
        "This department has pay-per-use budgets, charges or reimbursements, which must stay in the "
        "reports: it cannot be deleted. You can rename it." in flashes(admin.get("/admin/departments").text)
    )
    assert post_action(admin, f"/admin/departments/{marketing}/delete").status_code == 303
    assert department_rows(admin.get("/admin/departments").text) == [("Engineering", "0"), ("Sales", "1")]

    assert [e.details for e in audit_entries(app, "department.created")] == [{"name": "Marketing"}]
    assert [e.details for e in audit_entries(app, "department.renamed")] == [
        {"changes": {"name": ["Marketing", "Growth"]}}
    ]
    assert [(e.subject_id, e.details) for e in audit_entries(app, "department.deleted")] == [
        (str(marketing), {"name": "Growth"})
    ]


# -- access --------------------------------------------------------------------------------------------

ADMIN_PAGES = [
    ("get", "/admin/users"),
    ("get", "/admin/users/invite"),
    ("post", "/admin/users/invite"),
    ("get", "/admin/users/{admin}"),
    ("post", "/admin/users/{admin}"),
    ("post", "/admin/users/{admin}/deactivate"),
    ("post", "/admin/users/{admin}/reactivate"),
    ("post", "/admin/users/{admin}/resend"),
    ("get", "/admin/departments"),
    ("post", "/admin/departments"),
    ("get", "/admin/departments/{sales}/rename"),
    ("post", "/admin/departments/{sales}/rename"),
    ("post", "/admin/departments/{sales}/delete"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_PAGES)
def test_organizers_get_404_and_anonymous_visitors_the_login_page(app, client, site, method, path):
    url = path.format(**site)
    anonymous = getattr(client, method)(url, data={"csrf_token": csrf_from(client.get("/login").text)})
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/login?next=")
    login(client, "organizer@example.com")
    token = csrf_from(client.get("/sessions/").text)
    data = {"csrf_token": token, "name": "X", "role": "admin", "department": "", "email": "x@example.com"}
    assert getattr(client, method)(url, data=data).status_code == 404
    assert user_by_email(app, "organizer@example.com").role == "organizer"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_only_admins_see_the_users_link(app, client, site):
    login(client, "organizer@example.com")
    assert 'href="/admin/users"' not in client.get("/sessions/").text
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/sessions/").text)})
    login(client, "admin@example.com")
    assert '<li><a href="/admin/users">Users</a></li>' in client.get("/sessions/").text


@pytest.mark.parametrize(
    "path",
    [
        "/admin/users/invite",
        "/admin/users/{admin}",
        "/admin/users/{organizer}/deactivate",
        "/admin/users/{organizer}/reactivate",
        "/admin/departments",
        "/admin/departments/{sales}/delete",
    ],
)
def test_a_post_without_csrf_token_is_refused(app, admin, site, path):
    response = admin.post(
        path.format(**site), data={"name": "X", "role": "organizer", "email": "x@example.com"}
    )
    assert response.status_code == 400
    assert user_by_email(app, "organizer@example.com").active is True
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_invitation_page_needs_a_csrf_token_too(app, admin, site):
    invite(admin)
    (link,) = invitation_links(app, "new@example.com")
    response = app.test_client().post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert user_by_email(app, "new@example.com").invited_at is not None


@pytest.mark.parametrize("department", ["²", "99999999999999999999999", "-1", "١٢"])
def test_an_odd_department_filter_matches_nothing_and_never_fails(admin, site, department):
    response = admin.get("/admin/users", query_string={"department": department})
    assert response.status_code in (200, 422)
