"""The mail outbox: ``queue`` in the caller's transaction, ``deliver_pending`` after commit.

With ``PORTAL_MAIL_SERVER`` set, messages go out over SMTP; otherwise each is
written as an ``.eml`` file under ``instance/outbox/`` (demo and tests).
"""

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

from flask import current_app, g, has_request_context
from sqlalchemy import select, update

from portal.database import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


# ``flask.g`` flag: this request queued a message.
_QUEUED_IN_REQUEST = "portal_mail_queued"


def queue(
    to_email: str,
    subject: str,
    body: str,
    kind: str,
    to_name: str = "",
    reference: str | None = None,
    attachments: list[dict] | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        reference=reference,
        to_email=to_email,
        to_name=to_name or "",
        subject=subject,
        body=body,
        attachments=attachments or [],
        status=OutboxStatus.PENDING,
        attempts=0,
    )
    db.session.add(message)
    if has_request_context():
        setattr(g, _QUEUED_IN_REQUEST, True)
    return message


def deliver_queued() -> int:
    """A view's last step, after its commit: send what this request queued, at once.

    A request that queued nothing runs no query (on SQLite, it does not take the write
    lock again); messages left over from elsewhere are the outbox job's (``deliver_pending``).
    """
    if not g.pop(_QUEUED_IN_REQUEST, False):
        return 0
    return deliver_pending()


def build_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = formataddr((message.to_name, message.to_email)) if message.to_name else message.to_email
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2].strip("> ") or None)
    email.set_content(message.body)
    for attachment in message.attachments or []:
        content_type, _, parameters = attachment["content_type"].partition(";")
        maintype, _, subtype = content_type.strip().partition("/")
        if maintype == "text":
            # Text (a calendar invitation) says it is UTF-8: a French one has accents, and MIME
            # assumes ASCII otherwise. Parameters such as "method=REQUEST" are kept.
            params = {}
            for parameter in parameters.split(";"):
                name, _, value = parameter.partition("=")
                if value:
                    params[name.strip().lower()] = value.strip().strip('"')
            email.add_attachment(
                attachment["content"],
                subtype=subtype,
                charset="utf-8",
                filename=attachment["filename"],
                params=params,
            )
        else:
            email.add_attachment(
                attachment["content"].encode(),
                maintype=maintype,
                subtype=subtype,
                filename=attachment["filename"],
            )
    return email


def outbox_folder() -> Path:
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _send(email: EmailMessage, message_id: int) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        (outbox_folder() / f"{message_id:06d}.eml").write_bytes(bytes(email))
        return
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=30) as smtp:
        if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def deliver_pending(limit: int = 100) -> int:
    """Send queued messages; each is claimed first, so two senders never send one twice."""
    sent = 0
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts < MAX_ATTEMPTS)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    for message_id in ids:
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        message = db.session.get(OutboxMessage, message_id)
        db.session.rollback()  # no transaction open while talking to the mail server
        try:
            _send(build_email(message), message_id)
        except (OSError, smtplib.SMTPException, ValueError) as exc:  # ValueError: a malformed header
            log.warning("mail %s to %s failed: %s", message_id, message.to_email, exc)
            gave_up = message.attempts >= MAX_ATTEMPTS
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    status=OutboxStatus.FAILED if gave_up else OutboxStatus.PENDING, last_error=str(exc)[:500]
                )
            )
            db.session.commit()
            continue
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None)
        )
        db.session.commit()
        sent += 1
    return sent
