"""Charges through the real braintree SDK against the offline sandbox over HTTP."""

import threading
from datetime import timedelta

import pytest

from portal.database import utcnow
from portal.extensions import db
from portal.payments import services
from portal.payments.messages import failure_message
from portal.payments.models import Payment, Purpose
from portal.payments.services import AllowedMethods, PaymentError

ALL = AllowedMethods(credit_card=True, debit_card=True, paypal=True)
_counter = iter(range(10**9))


def attempt(amount_cents=4900, currency="USD") -> Payment:
    return services.open_attempt(Purpose.TEST, f"test:{next(_counter)}", amount_cents, currency)


def sales_for(sandbox, order_id):
    return [t for t in sandbox.transactions() if t["order_id"] == order_id and t["type"] == "sale"]


def pay(payment, nonce, allowed=ALL):
    return services.pay(payment.id, nonce, allowed)


@pytest.mark.parametrize(
    "nonce, method, brand",
    [
        ("fake-valid-nonce", "credit_card", "Visa"),
        ("fake-valid-visa-nonce", "credit_card", "Visa"),
        ("fake-valid-mastercard-nonce", "credit_card", "MasterCard"),
        ("fake-valid-amex-nonce", "credit_card", "American Express"),
        ("fake-valid-discover-nonce", "credit_card", "Discover"),
        ("fake-valid-debit-nonce", "debit_card", "Visa"),
        ("fake-valid-prepaid-nonce", "credit_card", "Visa"),
        ("fake-paypal-one-time-nonce", "paypal", None),
    ],
)
def test_approved_sale_is_recorded_once_with_its_method(app, payments_sandbox, nonce, method, brand):
    with app.app_context():
        payment = pay(attempt(), nonce)
        assert payment.status == "submitted_for_settlement"
        assert payment.method == method
        assert payment.card_brand == brand
        assert payment.amount_cents == 4900
        if method == "paypal":
            assert payment.paypal_email and payment.card_last4 is None
        else:
            assert len(payment.card_last4) == 4
        (sale,) = sales_for(payments_sandbox, payment.order_id)
        assert sale["id"] == payment.gateway_transaction_id
        assert str(sale["amount"]) == "49.00"


@pytest.mark.parametrize(
    "nonce, amount_cents, status, code, message",
    [
        ("fake-processor-declined-visa-nonce", 4900, "declined", "declined:2000", "declined by the bank"),
        (
            "fake-processor-declined-mastercard-nonce",
            4900,
            "declined",
            "declined:2000",
            "declined by the bank",
        ),
        ("fake-valid-visa-nonce", 200000, "declined", "declined:2000", "declined by the bank"),
        ("fake-valid-visa-nonce", 200100, "declined", "declined:2001", "Insufficient funds"),
        ("fake-valid-visa-nonce", 200400, "declined", "declined:2004", "expired"),
        ("fake-valid-visa-nonce", 300000, "failed", "failed", "nothing was charged"),
        ("fake-processor-failure-jcb-nonce", 4900, "failed", "failed", "nothing was charged"),
        ("fake-valid-visa-nonce", 500100, "gateway_rejected", "rejected:application_incomplete", "refused"),
        ("fake-gateway-rejected-fraud-nonce", 4900, "gateway_rejected", "rejected:fraud", "fraud checks"),
        ("fake-luhn-invalid-nonce", 4900, "failed", "invalid:81715", "card number is not valid"),
    ],
)
def test_declines_and_failures_are_recorded_with_a_reason_a_person_can_act_on(
    app, payments_sandbox, nonce, amount_cents, status, code, message
):
    with app.app_context():
        payment = pay(attempt(amount_cents), nonce)
        assert payment.status == status
        assert payment.failure_code == code
        assert message in failure_message(payment.failure_code)
        assert not payment.is_paid


def test_after_a_decline_a_new_attempt_with_another_method_succeeds(app, payments_sandbox):
    with app.app_context():
        first = pay(
            services.open_attempt(Purpose.TEST, "test:retry", 4900, "USD"),
            "fake-processor-declined-visa-nonce",
        )
        assert first.status == "declined"
        second = services.open_attempt(Purpose.TEST, "test:retry", 4900, "USD")
        assert second.id != first.id and second.order_id != first.order_id
        assert pay(second, "fake-paypal-one-time-nonce").status == "submitted_for_settlement"
        with pytest.raises(PaymentError, match="already_paid"):
            services.open_attempt(Purpose.TEST, "test:retry", 4900, "USD")


def test_a_nonce_is_single_use(app, payments_sandbox):
    with app.app_context():
        assert pay(attempt(), "fake-valid-mastercard-nonce").is_paid
        # The sandbox's consumed nonce answers like Braintree's: a validation error, nothing charged.
        again = pay(attempt(), "fake-consumed-nonce")
        assert again.status == "failed" and again.failure_code == "invalid:91564"


def test_unknown_nonce_is_refused_before_anything_is_sent(app, payments_sandbox):
    with app.app_context():
        payment = attempt()
        with pytest.raises(PaymentError, match="unknown_nonce"):
            pay(payment, "not-a-nonce")
        assert db.session.get(Payment, payment.id).status == "pending"
        assert sales_for(payments_sandbox, payment.order_id) == []


def test_a_debit_only_site_refuses_a_credit_card_without_charging_it(app, payments_sandbox):
    debit_only = AllowedMethods(credit_card=False, debit_card=True, paypal=False)
    with app.app_context():
        payment = attempt()
        with pytest.raises(PaymentError) as refused:
            pay(payment, "fake-valid-visa-nonce", debit_only)
        assert refused.value.code == "method_not_accepted:credit_card"
        assert "Credit cards are not accepted here" in failure_message(refused.value.code)
        assert sales_for(payments_sandbox, payment.order_id) == []
        assert pay(payment, "fake-valid-debit-nonce", debit_only).method == "debit_card"


def test_paypal_is_refused_when_switched_off(app, payments_sandbox):
    cards_only = AllowedMethods(credit_card=True, debit_card=True, paypal=False)
    with app.app_context(), pytest.raises(PaymentError, match="method_not_accepted:paypal"):
        pay(attempt(), "fake-paypal-one-time-nonce", cards_only)


def test_the_amount_comes_from_the_attempt_never_from_elsewhere(app, payments_sandbox):
    with app.app_context():
        payment = services.open_attempt(Purpose.TEST, "test:amount", 1234, "USD")
        same = services.open_attempt(Purpose.TEST, "test:amount", 2345, "USD")  # the quote changed
        assert same.id == payment.id and same.amount_cents == 2345
        paid = pay(same, "fake-valid-visa-nonce")
        (sale,) = sales_for(payments_sandbox, paid.order_id)
        assert str(sale["amount"]) == "23.45"


def test_two_concurrent_submits_of_one_attempt_make_one_sale(app, payments_sandbox):
    with app.app_context():
        payment_id = attempt(6100).id
    results, errors = [], []
    barrier = threading.Barrier(2)

    def submit(nonce):
        with app.app_context():
            barrier.wait()
            try:
                results.append(services.pay(payment_id, nonce, ALL).status)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=submit, args=(n,))
        for n in ("fake-valid-visa-nonce", "fake-valid-mastercard-nonce")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert len(sales_for(payments_sandbox, payment.order_id)) == 1
        assert payment.status == "submitted_for_settlement"
    assert "submitted_for_settlement" in results


def test_a_second_submit_after_success_changes_nothing(app, payments_sandbox):
    with app.app_context():
        payment = pay(attempt(), "fake-valid-visa-nonce")
        again = pay(payment, "fake-valid-amex-nonce")
        assert again.gateway_transaction_id == payment.gateway_transaction_id
        assert len(sales_for(payments_sandbox, payment.order_id)) == 1


def test_charge_recorded_but_response_lost_is_found_by_order_id(app, payments_sandbox):
    with app.app_context():
        payment = attempt(7700)
        payments_sandbox.set_faults(lose_response=True, times=1, only="sale")
        result = pay(payment, "fake-valid-visa-nonce")
        # The sale's answer was lost; the immediate look-up by order id found it.
        assert result.status == "submitted_for_settlement"
        assert len(sales_for(payments_sandbox, payment.order_id)) == 1


def test_unknown_outcome_is_left_unknown_then_reconciled_without_a_second_sale(app, payments_sandbox):
    with app.app_context():
        payment = attempt(7800)
        # The sale's answer is lost, and so is the immediate look-up's.
        payments_sandbox.set_faults(lose_response=True, times=2, only=["sale", "search"])
        result = pay(payment, "fake-valid-visa-nonce")
        assert result.status == "unknown"
        assert "Do not pay again" in failure_message(result.failure_code)
        # Paying again with a new nonce does not send a second sale.
        assert pay(result, "fake-valid-amex-nonce").status == "unknown"
        payments_sandbox.clear_faults()
        counts = services.reconcile(now=utcnow() + timedelta(minutes=1))
        assert counts["resolved"] == 1
        reconciled = db.session.get(Payment, payment.id)
        assert reconciled.status == "submitted_for_settlement"
        assert len(sales_for(payments_sandbox, payment.order_id)) == 1


def test_an_attempt_never_found_fails_after_the_grace_period(app, payments_sandbox):
    with app.app_context():
        payment = attempt(7900)
        payments_sandbox.set_faults(drop_connection=True, times=2, only=["sale", "search"])
        result = pay(payment, "fake-valid-visa-nonce")
        assert result.status in ("unknown", "failed")
        payments_sandbox.clear_faults()
        services.reconcile(now=utcnow() + timedelta(hours=1))
        final = db.session.get(Payment, payment.id)
        assert final.status == "failed"
        assert not final.is_paid
        assert sales_for(payments_sandbox, payment.order_id) == []


def test_rate_limited_sale_records_nothing_as_paid(app, payments_sandbox):
    with app.app_context():
        payment = attempt()
        payments_sandbox.set_faults(status=429, times=1, only="sale")
        result = pay(payment, "fake-valid-visa-nonce")
        assert result.status == "failed" and result.failure_code == "gateway_unavailable"
        assert sales_for(payments_sandbox, payment.order_id) == []


def test_gateway_down_gives_a_clear_message_and_records_nothing(migrated_url, app):
    from portal import create_app
    from tests.conftest import make_config

    down = create_app(make_config(migrated_url, PAYMENTS_SANDBOX_URL="http://127.0.0.1:9"))
    with down.app_context():
        payment = attempt()
        with pytest.raises(PaymentError) as error:
            services.pay(payment.id, "fake-valid-visa-nonce", ALL)
        assert error.value.code == "gateway_unavailable"
        assert "Nothing was charged" in failure_message(error.value.code)
        assert db.session.get(Payment, payment.id).status == "pending"
        db.session.remove()
        db.engine.dispose()
