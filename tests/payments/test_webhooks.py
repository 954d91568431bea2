import pytest

from portal.extensions import db
from portal.payments import services
from portal.payments.models import Payment, Purpose, WebhookEvent
from portal.payments.services import AllowedMethods

ALL = AllowedMethods(credit_card=True, debit_card=True, paypal=True)


@pytest.fixture
def settled_payment(app):
    with app.app_context():
        payment = services.open_attempt(Purpose.TEST, "webhook:1", 4900, "USD")
        payment = services.pay(payment.id, "fake-valid-visa-nonce", ALL)
        services.gateway().settle(payment.gateway_transaction_id)
        services.refresh_payment(payment.id)
        return payment.id, payment.gateway_transaction_id


def status_of(app, payment_id):
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        return payment.status, payment.dispute_status


def post(client, notification):
    return client.post("/webhooks/braintree", data=notification)


def test_dispute_opened_marks_the_payment_and_a_replay_changes_nothing(
    app, client, payments_sandbox, settled_payment
):
    payment_id, transaction_id = settled_payment
    notification = payments_sandbox.sign_notification("dispute_opened", transaction_id)
    first = post(client, notification)
    assert first.status_code == 200 and first.text.strip() == "applied"
    assert status_of(app, payment_id) == ("disputed", "open")
    replay = post(client, notification)
    assert replay.status_code == 200 and replay.text.strip() == "replayed"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 1


def test_dispute_won_returns_the_payment_to_settled(app, client, payments_sandbox, settled_payment):
    payment_id, transaction_id = settled_payment
    post(client, payments_sandbox.sign_notification("dispute_opened", transaction_id))
    post(client, payments_sandbox.sign_notification("dispute_won", transaction_id))
    assert status_of(app, payment_id) == ("settled", "won")


def test_a_settlement_notice_after_a_dispute_opened_leaves_the_dispute_open(app, client, payments_sandbox):
    """Webhooks come in any order: "settled" arriving after "dispute opened" used to close the dispute."""
    with app.app_context():
        payment = services.open_attempt(Purpose.TEST, "webhook:2", 4900, "USD")
        payment = services.pay(payment.id, "fake-valid-visa-nonce", ALL)
        payment_id, transaction_id = payment.id, payment.gateway_transaction_id
    assert status_of(app, payment_id) == ("submitted_for_settlement", None)
    post(client, payments_sandbox.sign_notification("dispute_opened", transaction_id))
    with app.app_context():
        services.gateway().settle(transaction_id)
    settled = post(client, payments_sandbox.sign_notification("transaction_settled", transaction_id))
    assert settled.text.strip() == "applied"
    assert status_of(app, payment_id) == ("disputed", "open")
    with app.app_context():
        assert db.session.get(Payment, payment_id).settled_at is not None
    post(client, payments_sandbox.sign_notification("dispute_won", transaction_id))
    assert status_of(app, payment_id) == ("settled", "won")


def test_a_tampered_or_badly_signed_webhook_answers_403_and_changes_nothing(
    app, client, payments_sandbox, settled_payment
):
    payment_id, transaction_id = settled_payment
    notification = payments_sandbox.sign_notification("dispute_opened", transaction_id)
    payload = notification["bt_payload"]
    tampered = dict(
        notification, bt_payload=payload[:-6] + ("A" if payload[-6] != "A" else "B") + payload[-5:]
    )
    assert post(client, tampered).status_code == 403
    wrong_key = dict(notification, bt_signature="test_public|" + "0" * 40)
    assert post(client, wrong_key).status_code == 403
    other_merchant = dict(
        notification, bt_signature="someone_else|" + notification["bt_signature"].split("|")[1]
    )
    assert post(client, other_merchant).status_code == 403
    assert post(client, {}).status_code == 400
    assert status_of(app, payment_id) == ("settled", None)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 0


def test_webhooks_need_no_csrf_token_but_only_accept_post(client):
    assert client.get("/webhooks/braintree").status_code == 405


def test_the_sandbox_can_deliver_a_webhook_over_http(app, payments_sandbox, settled_payment, live_server_url):
    payment_id, transaction_id = settled_payment
    status = payments_sandbox.deliver_webhook(
        "dispute_lost", transaction_id, live_server_url + "/webhooks/braintree"
    )
    assert status == 200
    assert status_of(app, payment_id) == ("disputed", "lost")


def test_admins_see_disputes_in_the_ledger(app, client, payments_sandbox, settled_payment):
    from portal.accounts.models import Role
    from tests.conftest import login
    from tests.factories import make_user

    payment_id, transaction_id = settled_payment
    post(client, payments_sandbox.sign_notification("dispute_opened", transaction_id))
    with app.app_context():
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "admin@example.com")
    assert "dispute: open" in client.get("/admin/payments").text
    detail = client.get(f"/admin/payments/{payment_id}").text
    assert 'id="payment-dispute" data-dispute-status="open"' in detail
