import threading
from datetime import timedelta

import pytest

from portal.database import utcnow
from portal.extensions import db
from portal.payments import services
from portal.payments.models import Payment, Purpose, Refund
from portal.payments.services import AllowedMethods, PaymentError

ALL = AllowedMethods(credit_card=True, debit_card=True, paypal=True)
_counter = iter(range(10**9))


def paid(amount_cents=4900, settle=True) -> Payment:
    payment = services.open_attempt(Purpose.TEST, f"refund:{next(_counter)}", amount_cents, "USD")
    payment = services.pay(payment.id, "fake-valid-visa-nonce", ALL)
    assert payment.status == "submitted_for_settlement"
    if settle:
        services.gateway().settle(payment.gateway_transaction_id)
        services.refresh_payment(payment.id)
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "settled"
    return payment


def credits_for(sandbox, transaction_id):
    return [t for t in sandbox.transactions() if t.get("refunded_transaction_id") == transaction_id]


def test_full_refund_of_a_settled_sale(app, payments_sandbox):
    with app.app_context():
        payment = paid()
        record = services.refund(payment.id)
        assert record.kind == "refund" and record.status == "succeeded" and record.amount_cents == 4900
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "refunded" and payment.refunded_cents == 4900
        (credit,) = credits_for(payments_sandbox, payment.gateway_transaction_id)
        assert str(credit["amount"]) == "49.00" and credit["id"] == record.gateway_transaction_id


@pytest.mark.parametrize("amount", [None, 1250])
def test_a_sale_settled_at_the_gateway_before_we_heard_of_it_is_refunded_not_voided(
    app, payments_sandbox, amount
):
    """The gateway settles in a batch and says nothing: our record still reads "submitted". A void
    would be refused; the refund asks first, sees the sale settled, and refunds it (in part too)."""
    with app.app_context():
        payment = paid(settle=False)
        services.gateway().settle(payment.gateway_transaction_id)
        assert db.session.get(Payment, payment.id).status == "submitted_for_settlement"
        record = services.refund(payment.id, amount)
        assert (record.kind, record.status, record.amount_cents) == ("refund", "succeeded", amount or 4900)
        payment = db.session.get(Payment, payment.id)
        assert (payment.refunded_cents, payment.status) == (
            amount or 4900,
            "partially_refunded" if amount else "refunded",
        )
        (credit,) = credits_for(payments_sandbox, payment.gateway_transaction_id)
        assert str(credit["amount"]) == ("12.50" if amount else "49.00")


def test_partial_refunds_add_up_and_never_exceed_the_payment(app, payments_sandbox):
    with app.app_context():
        payment = paid(5000)
        services.refund(payment.id, 1250)
        assert db.session.get(Payment, payment.id).status == "partially_refunded"
        with pytest.raises(PaymentError, match="refund_amount_invalid"):
            services.refund(payment.id, 3751)
        services.refund(payment.id, 3750)
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "refunded" and payment.refunded_cents == 5000
        amounts = sorted(
            str(c["amount"]) for c in credits_for(payments_sandbox, payment.gateway_transaction_id)
        )
        assert amounts == ["12.50", "37.50"]
        with pytest.raises(PaymentError, match="not_refundable"):
            services.refund(payment.id, 1)


def test_an_unsettled_sale_is_voided_not_refunded(app, payments_sandbox):
    with app.app_context():
        payment = paid(settle=False)
        with pytest.raises(PaymentError, match="partial_refund_needs_settlement"):
            services.refund(payment.id, 100)
        record = services.refund(payment.id)
        assert record.kind == "void"
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "voided"
        (sale,) = [t for t in payments_sandbox.transactions() if t["id"] == payment.gateway_transaction_id]
        assert sale["status"] == "voided"


def test_void_of_a_settled_sale_is_refused(app, payments_sandbox):
    with app.app_context():
        payment = paid()
        with pytest.raises(PaymentError, match="not_voidable"):
            services.void(payment.id)
        assert db.session.get(Payment, payment.id).status == "settled"


def test_a_refund_that_never_reached_the_gateway_releases_the_reserved_amount(app, payments_sandbox):
    with app.app_context():
        payment = paid()
        payments_sandbox.set_faults(status=429, times=1, only="refund")
        with pytest.raises(PaymentError, match="gateway_unavailable"):
            services.refund(payment.id, 1000)
        payment = db.session.get(Payment, payment.id)
        assert payment.refunded_cents == 0 and payment.status == "settled"
        (failed,) = db.session.scalars(db.select(Refund).where(Refund.payment_id == payment.id)).all()
        assert failed.status == "failed"
        assert credits_for(payments_sandbox, payment.gateway_transaction_id) == []


def test_a_refund_whose_answer_is_lost_keeps_its_reservation_until_reconciled(app, payments_sandbox):
    with app.app_context():
        payment = paid(5000)
        payments_sandbox.set_faults(lose_response=True, times=2, only=["refund", "find"])
        with pytest.raises(PaymentError, match="refund_outcome_unknown"):
            services.refund(payment.id, 1000)
        payment = db.session.get(Payment, payment.id)
        assert payment.refunded_cents == 1000  # still reserved: the gateway may have refunded
        with pytest.raises(PaymentError, match="refund_in_progress"):
            services.refund(payment.id, 1000)
        counts = services.reconcile(now=utcnow() + timedelta(minutes=5))
        assert counts["refunds_resolved"] == 1
        (record,) = db.session.scalars(db.select(Refund).where(Refund.payment_id == payment.id)).all()
        assert record.status == "succeeded" and record.gateway_transaction_id
        assert db.session.get(Payment, payment.id).status == "partially_refunded"
        # Exactly one credit of 10.00 at the gateway, and the rest can still be refunded.
        (credit,) = credits_for(payments_sandbox, payment.gateway_transaction_id)
        assert str(credit["amount"]) == "10.00"
        services.refund(payment.id)
        payment = db.session.get(Payment, payment.id)
        assert payment.status == "refunded" and payment.refunded_cents == 5000


def test_a_void_whose_answer_is_lost_is_resolved_from_the_sales_state(app, payments_sandbox):
    with app.app_context():
        payment = paid(settle=False)
        payments_sandbox.set_faults(lose_response=True, times=1, only="void")
        record = services.void(payment.id)  # resolved at once: the sale is found voided
        assert record.status == "succeeded"
        assert db.session.get(Payment, payment.id).status == "voided"


def test_a_lost_dispute_leaves_nothing_to_refund(app, client, payments_sandbox):
    with app.app_context():
        payment = paid()
    client.post(
        "/webhooks/braintree",
        data=payments_sandbox.sign_notification("dispute_lost", payment.gateway_transaction_id),
    )
    with app.app_context():
        assert db.session.get(Payment, payment.id).refundable_cents == 0
        with pytest.raises(PaymentError, match="charged_back"):
            services.refund(payment.id, 100)
        assert credits_for(payments_sandbox, payment.gateway_transaction_id) == []


def test_concurrent_refunds_never_give_back_more_than_was_paid(app, payments_sandbox):
    # One succeeds; the others find the amount reserved or a refund in flight.
    with app.app_context():
        payment_id = paid(3000).id
    outcomes = []
    barrier = threading.Barrier(3)

    def refund_2000():
        with app.app_context():
            barrier.wait()
            try:
                services.refund(payment_id, 2000)
                outcomes.append("ok")
            except PaymentError as exc:
                outcomes.append(exc.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=refund_2000) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"refund_amount_invalid", "refund_in_progress"}
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.refunded_cents == 2000
        assert len(credits_for(payments_sandbox, payment.gateway_transaction_id)) == 1
