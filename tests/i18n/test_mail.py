"""Guests get their email and calendar invitation in the language they registered in."""

import email
from email import policy

import icalendar
import pytest

from portal.accounts.models import Role
from portal.coupons import services as coupons
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import deliver_pending
from portal.registration import services
from portal.registration.models import Registration
from tests.factories import enable_ecommerce, make_training, make_user
from tests.registration.helpers import apply_coupon, manage_path, pay, register

NBSP = "\u00a0"


@pytest.fixture
def paid_session(app, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        enable_ecommerce()
        organizer = make_user("organizer@example.com")
        training = make_training(
            organizer,
            fee_cents=4900,
            capacity=3,
            expected_attendees=3,
            meeting_url="https://meet.example.com/negotiation",
        )
        return {"token": training.public_token, "id": training.id}


def mails_to(tmp_path, address):
    found = []
    for path in sorted((tmp_path / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in message["To"]:
            found.append(message)
    return found


def invitation_of(message) -> icalendar.Event:
    (attachment,) = list(message.iter_attachments())
    (event,) = icalendar.Calendar.from_ical(attachment.get_content()).walk("VEVENT")
    return event


def stored_locale(app, address) -> str:
    with app.app_context():
        return db.session.scalar(db.select(Registration.locale).where(Registration.email == address))


def test_a_french_guest_gets_a_french_confirmation_and_invitation(app, client, paid_session, tmp_path):
    client.get(f"/s/{paid_session['token']}?lang=fr")  # the switcher: remembered from here on
    manage = manage_path(register(client, paid_session["token"], email="gaelle@example.com"))
    assert "Code de coupon" in client.get(f"{manage}/pay").text
    assert pay(client, manage).status_code == 303
    assert stored_locale(app, "gaelle@example.com") == "fr"
    (message,) = mails_to(tmp_path, "gaelle@example.com")
    assert message["Subject"] == f"Inscription confirmée{NBSP}: Negotiation basics"
    body = message.get_body(("plain",)).get_content()
    for expected in (
        "Bonjour Gina Guest,",
        "Votre inscription est confirmée.",
        f"Tarif de la session{NBSP}: 49,00{NBSP}$US",
        f"Payé{NBSP}: 49,00{NBSP}$US",
        "carte de crédit Visa ···· ",
        "L'invitation jointe ajoute la session à votre agenda.",
        f"Pour consulter ou annuler votre inscription{NBSP}:",
    ):
        assert expected in body, expected
    assert "Registration" not in body and "Session fee" not in body
    description = str(invitation_of(message)["description"])
    assert f"Gérer votre inscription{NBSP}: http://localhost/r/" in description
    assert "Manage your registration" not in description


def test_an_english_guest_gets_an_english_confirmation_and_invitation(app, client, paid_session, tmp_path):
    manage = manage_path(register(client, paid_session["token"], email="gina@example.com"))
    assert pay(client, manage).status_code == 303
    assert stored_locale(app, "gina@example.com") == "en"
    (message,) = mails_to(tmp_path, "gina@example.com")
    assert message["Subject"] == "Registration confirmed: Negotiation basics"
    body = message.get_body(("plain",)).get_content()
    assert "Hello Gina Guest," in body and "Session fee: $49.00" in body
    assert "Manage your registration: http://localhost/r/" in str(invitation_of(message)["description"])


def test_a_french_browser_registers_a_french_guest(app, client, paid_session):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    register(client, paid_session["token"], email="gaelle@example.com")
    assert stored_locale(app, "gaelle@example.com") == "fr"


def test_a_french_htmx_fragment(client, paid_session):
    client.get(f"/s/{paid_session['token']}?lang=fr")
    manage = manage_path(register(client, paid_session["token"], email="gaelle@example.com"))
    fragment = apply_coupon(client, manage, "NOSUCHCODE", htmx=True)
    assert fragment.status_code == 422 and "<html" not in fragment.text  # htmx swaps it (the reason)
    assert "Ce code de coupon n&#39;est pas valide." in fragment.text


def test_mail_sent_from_someone_elses_request_is_in_the_guests_language(app, client, paid_session, tmp_path):
    """The organizer (in English) cancels: the French guest's email is still French."""
    client.get(f"/s/{paid_session['token']}?lang=fr")
    manage = manage_path(register(client, paid_session["token"], email="gaelle@example.com"))
    pay(client, manage)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        registration_id = db.session.scalar(
            db.select(Registration.id).where(Registration.email == "gaelle@example.com")
        )
        services.cancel(registration_id, refund_cents=None)
        deliver_pending()
    confirmation, cancellation = mails_to(tmp_path, "gaelle@example.com")
    body = cancellation.get_body(("plain",)).get_content()
    assert "Votre inscription à Negotiation basics est annulée." in body
    assert f"49,00{NBSP}$US est remboursé sur votre moyen de paiement d'origine." in body


def test_the_subject_of_mail_sent_from_someone_elses_request_is_in_the_guests_language(
    app, client, paid_session, tmp_path
):
    client.get(f"/s/{paid_session['token']}?lang=fr")
    manage = manage_path(register(client, paid_session["token"], email="gaelle@example.com"))
    pay(client, manage)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        registration_id = db.session.scalar(
            db.select(Registration.id).where(Registration.email == "gaelle@example.com")
        )
        services.cancel(registration_id, refund_cents=None)
        deliver_pending()
    _confirmation, cancellation = mails_to(tmp_path, "gaelle@example.com")
    assert cancellation["Subject"] == f"Inscription annulée{NBSP}: Negotiation basics"


def test_prepaid_coupons_are_mailed_in_the_language_of_the_administrator_recording_them(app):
    with app.app_context():
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
    for language, subject, greeting in (
        ("fr", "Vos sessions de formation prépayées", "Merci pour votre prépaiement."),
        ("en", "Your prepaid training sessions", "Thank you for your prepayment."),
    ):
        with app.test_request_context("/", headers={"Accept-Language": language}):
            admin = db.session.merge(admin)
            coupons.record_prepayment(f"{language}@example.com", "Ana", 4900, "USD", "INV-1", 1, admin)
            message = db.session.scalar(
                db.select(OutboxMessage).where(OutboxMessage.to_email == f"{language}@example.com")
            )
            assert message.subject == subject and greeting in message.body
