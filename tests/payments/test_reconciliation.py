"""Unknown outcomes, duplicates, misconfiguration and hostile input, through the real SDK and the sandbox."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.database import utcnow
from portal.extensions import db
from portal.payments import services
from portal.payments.messages import failure_message
from portal.payments.models import Payment, Purpose, Refund, WebhookEvent
from portal.payments.services import AllowedMethods, PaymentError
from tests.conftest import row_lock_free

ALL = AllowedMethods(credit_card=True, debit_card=True, paypal=True)
_counter = iter(range(10**9))


def attempt(amount_cents=4900, currency="USD") -> Payment:
    return services.open_attempt(Purpose.TEST, f"reconcile:{next(_counter)}", amount_cents, currency)


def sales_for(sandbox, order_id):
    return [t for t in sandbox.transactions() if t["order_id"] == order_id and t["type"] == "sale"]


def test_an_attempt_is_never_given_up_while_the_gateway_cannot_be_asked(app, payments_sandbox):
    with app.app_context():
        payment = attempt()
        payments_sandbox.set_faults(lose_response=True, times=2, only=["sale", "search"])
        assert services.pay(payment.id, "fake-valid-visa-nonce", ALL).status == "unknown"
        payments_sandbox.set_faults(status=503, only="search")  # the search keeps failing
        counts = services.reconcile(now=utcnow() + timedelta(hours=2))
        assert counts["still_unknown"] == 1 and counts["failed"] == 0
        assert db.session.get(Payment, payment.id).status == "unknown"
        # The purchase stays blocked: no second attempt while the first may have charged.
        assert services.open_attempt(Purpose.TEST, payment.reference, 4900, "USD").id == payment.id
        payments_sandbox.clear_faults()
        services.reconcile(now=utcnow() + timedelta(hours=2))
        assert db.session.get(Payment, payment.id).status == "submitted_for_settlement"
        assert len(sales_for(payments_sandbox, payment.order_id)) == 1


def test_an_attempt_left_processing_by_a_crash_is_reconciled(app, payments_sandbox):
    with app.app_context():
        payment = attempt(5100)
        # A worker claimed the attempt, sent the sale and died before recording the answer.
        sale = payments_sandbox.gateway().transaction.sale(
            {
                "amount": "51.00",
                "payment_method_nonce": "fake-valid-visa-nonce",
                "order_id": payment.order_id,
                "options": {"submit_for_settlement": True},
            }
        )
        assert sale.is_success
        db.session.execute(
            update(Payment).where(Payment.id == payment.id).values(status="processing", sent_at=utcnow())
        )
        db.session.commit()
        assert services.reconcile(now=utcnow() + timedelta(minutes=1))["resolved"] == 1
        reconciled = db.session.get(Payment, payment.id)
        assert reconciled.status == "submitted_for_settlement"
        assert reconciled.gateway_transaction_id == sale.transaction.id


def test_a_duplicate_sale_for_one_attempt_is_given_back_and_recorded(app, payments_sandbox):
    with app.app_context():
        payment = attempt(5200)
        gateway = payments_sandbox.gateway()
        for _ in range(2):  # two sales carry the same order id (e.g. an earlier crashed retry)
            gateway.transaction.sale(
                {
                    "amount": "52.00",
                    "payment_method_nonce": "fake-valid-visa-nonce",
                    "order_id": payment.order_id,
                    "options": {"submit_for_settlement": True},
                }
            )
        db.session.execute(
            update(Payment).where(Payment.id == payment.id).values(status="unknown", sent_at=utcnow())
        )
        db.session.commit()
        # Giving back fails during the first run (the immediate try and the run's retry).
        payments_sandbox.set_faults(status=503, times=2, only="void")
        services.reconcile(now=utcnow() + timedelta(minutes=1))
        (duplicate,) = db.session.scalars(db.select(Refund).where(Refund.duplicate.is_(True))).all()
        assert duplicate.status == "pending"
        assert services.reconcile(now=utcnow() + timedelta(minutes=2))["duplicates"] == 1
        duplicate = db.session.get(Refund, duplicate.id)
        assert duplicate.status == "succeeded"
        statuses = sorted(t["status"] for t in sales_for(payments_sandbox, payment.order_id))
        assert statuses == ["submitted_for_settlement", "voided"]
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "submitted_for_settlement" and payment.refunded_cents == 0


def test_a_currency_without_a_merchant_account_is_refused_before_charging(app, payments_sandbox):
    with app.app_context():
        payment = attempt(4900, "EUR")
        with pytest.raises(PaymentError) as error:
            services.pay(payment.id, "fake-valid-visa-nonce", ALL)
        assert error.value.code == "currency_not_supported"
        assert "Nothing was charged" in failure_message(error.value.code)
        assert sales_for(payments_sandbox, payment.order_id) == []


def test_a_sale_in_the_wrong_currency_is_voided_at_once(app, payments_sandbox):
    with app.app_context():
        # Misconfiguration: EUR mapped to the sandbox's USD account.
        app.extensions["payments"].merchant_accounts = {"EUR": "test_merchant"}
        payment = services.pay(attempt(4900, "EUR").id, "fake-valid-visa-nonce", ALL)
        assert payment.status == "voided" and payment.failure_code == "amount_mismatch"
        (sale,) = sales_for(payments_sandbox, payment.order_id)
        assert sale["status"] == "voided"


def test_a_rejection_found_by_the_reconciler_keeps_its_own_reason(app, payments_sandbox):
    with app.app_context():
        payment = attempt()
        payments_sandbox.set_faults(lose_response=True, times=2, only=["sale", "search"])
        services.pay(payment.id, "fake-gateway-rejected-fraud-nonce", ALL)
        payments_sandbox.clear_faults()
        services.reconcile(now=utcnow() + timedelta(minutes=1))
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "gateway_rejected" and payment.failure_code == "rejected:fraud"


def test_single_use_nonces_cannot_pay_twice(app, payments_sandbox):
    nonce = payments_sandbox.mint_nonce("fake-valid-visa-nonce")
    with app.app_context():
        assert services.pay(attempt().id, nonce, ALL).is_paid
        again = services.pay(attempt().id, nonce, ALL)
        assert again.status == "failed" and again.failure_code == "invalid:91564"
        assert sales_for(payments_sandbox, again.order_id) == []


def test_nonces_are_not_logged_when_the_gateway_is_down(app, migrated_url, payments_sandbox, caplog):
    from portal import create_app
    from tests.conftest import make_config

    nonce = payments_sandbox.mint_nonce("fake-valid-visa-nonce")
    caplog.set_level(logging.DEBUG, logger="portal")
    down = create_app(make_config(migrated_url, PAYMENTS_SANDBOX_URL="http://127.0.0.1:9"))
    with down.app_context():
        with pytest.raises(PaymentError, match="gateway_unavailable"):
            services.pay(attempt().id, nonce, ALL)
        db.session.remove()
        db.engine.dispose()
    messages = "\n".join(
        r.getMessage() for r in caplog.records if r.name.startswith("portal.payments.gateway")
    )
    assert "nonce_find failed" in messages
    assert nonce not in messages


@pytest.fixture
def settled(app):
    with app.app_context():
        payment = services.pay(attempt().id, "fake-valid-visa-nonce", ALL)
        return payment.id, payment.gateway_transaction_id


def test_a_webhook_replayed_with_or_without_its_trailing_newline_applies_once(
    app, client, payments_sandbox, settled
):
    payment_id, transaction_id = settled
    notification = payments_sandbox.sign_notification("dispute_opened", transaction_id)
    assert notification["bt_payload"].endswith("\n")
    assert client.post("/webhooks/braintree", data=notification).text.strip() == "applied"
    stripped = dict(notification, bt_payload=notification["bt_payload"].rstrip("\n"))
    assert client.post("/webhooks/braintree", data=stripped).text.strip() == "replayed"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookEvent)) == 1


@pytest.mark.parametrize(
    "form",
    [
        {"bt_signature": "a|b|c", "bt_payload": "abcd"},
        {"bt_signature": "test_public|x", "bt_payload": "é"},
        {"bt_signature": "test_public|x", "bt_payload": "not base64 !!"},
    ],
)
def test_malformed_webhooks_answer_403_not_500(client, form):
    assert client.post("/webhooks/braintree", data=form).status_code == 403


def test_an_attempt_found_already_resolved_is_not_left_locked(app, payments_sandbox):
    """Resolving an attempt that another request resolved first returns at once and lets go of the
    row: kept locked, it deadlocked (PostgreSQL) against the charge that request then recorded."""
    with app.app_context():
        payment = services.pay(attempt().id, "fake-valid-visa-nonce", ALL)
        assert payment.status == "submitted_for_settlement"
        payment_id = payment.id
        resolved, asked = services._resolve_unknown(payment)
        assert row_lock_free("payments", payment_id)  # first: reading the answer begins a transaction
        assert (resolved.status, asked) == ("submitted_for_settlement", True)
