import threading

import pytest

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
        services.reconcile()
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


def test_a_refund_the_gateway_refuses_releases_the_reserved_amount(app, payments_sandbox):
    with app.app_context():
        payment = paid()
        payments_sandbox.set_faults(status=503, times=1, only="refund")
        with pytest.raises(PaymentError, match="gateway_unavailable"):
            services.refund(payment.id, 1000)
        payment = db.session.get(Payment, payment.id)
        assert payment.refunded_cents == 0 and payment.status == "settled"
        (failed,) = db.session.scalars(db.select(Refund).where(Refund.payment_id == payment.id)).all()
        assert failed.status == "failed"


def test_concurrent_refunds_never_give_back_more_than_was_paid(app, payments_sandbox):
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
    assert sorted(outcomes) == ["ok", "refund_amount_invalid", "refund_amount_invalid"]
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.refunded_cents == 2000
        assert len(credits_for(payments_sandbox, payment.gateway_transaction_id)) == 1
