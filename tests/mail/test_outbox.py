import email
from email import policy

import pytest

from portal.accounts.models import Role
from portal.extensions import db
from portal.mail import services as mail
from portal.mail.models import OutboxMessage
from tests.conftest import login
from tests.factories import make_user


@pytest.fixture
def outbox_dir(app, tmp_path):
    app.instance_path = str(tmp_path)
    return tmp_path / "outbox"


def test_queued_mail_is_written_as_an_eml_file_after_commit(app, outbox_dir):
    with app.app_context():
        mail.queue(
            "guest@example.com",
            "Your code",
            "Use ABCD2345.",
            kind="coupon",
            to_name="Gina Guest",
            attachments=[
                {"filename": "session.ics", "content_type": "text/calendar", "content": "BEGIN:VCALENDAR"}
            ],
        )
        db.session.commit()
        assert mail.deliver_pending() == 1
        assert mail.deliver_pending() == 0  # sent once only
        message = db.session.scalar(db.select(OutboxMessage))
        assert message.status == "sent" and message.sent_at is not None
    (path,) = outbox_dir.glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "Gina Guest <guest@example.com>"
    assert parsed["Subject"] == "Your code"
    assert parsed.get_body(("plain",)).get_content().strip() == "Use ABCD2345."
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "session.ics"
    assert attachment.get_content_type() == "text/calendar"


def test_a_rolled_back_change_sends_nothing(app, outbox_dir):
    with app.app_context():
        mail.queue("guest@example.com", "Never", "Rolled back.", kind="coupon")
        db.session.rollback()
        assert mail.deliver_pending() == 0
    assert not outbox_dir.exists() or list(outbox_dir.glob("*.eml")) == []


def test_an_unreachable_smtp_server_keeps_the_message_queued_then_gives_up(app, outbox_dir):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_USE_TLS=False)
    with app.app_context():
        mail.queue("guest@example.com", "Retry", "Body", kind="coupon")
        db.session.commit()
        for attempt in range(1, mail.MAX_ATTEMPTS + 1):
            assert mail.deliver_pending() == 0
            message = db.session.scalar(db.select(OutboxMessage))
            assert message.attempts == attempt and message.last_error
        assert message.status == "failed"
        assert mail.deliver_pending() == 0


def test_admins_see_the_outbox(app, client, outbox_dir):
    with app.app_context():
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        make_user("organizer@example.com")
        mail.queue("guest@example.com", "Your code", "Use <b>ABCD2345</b>.", kind="coupon")
        db.session.commit()
        message_id = db.session.scalar(db.select(OutboxMessage.id))
    login(client, "organizer@example.com")
    assert client.get("/admin/outbox").status_code == 404
    admin = app.test_client()
    login(admin, "admin@example.com")
    listing = admin.get("/admin/outbox").text
    assert "guest@example.com" in listing and "Your code" in listing
    shown = admin.get(f"/admin/outbox/{message_id}").text
    assert "Use &lt;b&gt;ABCD2345&lt;/b&gt;." in shown
