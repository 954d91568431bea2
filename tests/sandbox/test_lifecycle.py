"""After the sale: find, search, submit for settlement, settle, refund, void, reverse."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from braintree import TransactionSearch
from braintree.exceptions import NotFoundError, UnexpectedError

from tests.sandbox.helpers import sale, settled_sale


def code_of(result):
    assert not result.is_success and result.transaction is None
    (error,) = result.errors.deep_errors
    return error.code


def unique(prefix="order"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --- find ------------------------------------------------------------------------------------


def test_find_returns_the_stored_transaction(gateway):
    created = sale(gateway, "42.00", "fake-valid-debit-nonce", order_id=unique()).transaction
    found = gateway.transaction.find(created.id)
    assert (found.id, found.status, found.amount, found.order_id) == (
        created.id,
        created.status,
        Decimal("42.00"),
        created.order_id,
    )
    assert found.credit_card_details.debit == "Yes" and found.created_at == created.created_at


def test_find_a_declined_transaction(gateway):
    declined = sale(gateway, "2001.00").transaction
    assert gateway.transaction.find(declined.id).processor_response_text == "Insufficient Funds"


@pytest.mark.parametrize("txn_id", ["nosuchid", "bad id!"])
def test_find_unknown_raises_not_found(gateway, txn_id):
    with pytest.raises(NotFoundError, match="not found"):
        gateway.transaction.find(txn_id)


# --- search --------------------------------------------------------------------------------------


def test_search_by_order_id_finds_exactly_that_order(gateway):
    order_id = unique()
    mine = sale(gateway, order_id=order_id).transaction
    sale(gateway, order_id=order_id + "-other")
    results = gateway.transaction.search(TransactionSearch.order_id == order_id)
    assert results.maximum_size == 1 and [t.id for t in results.items] == [mine.id]
    assert results.first.amount == Decimal("10.00")


def test_search_for_an_unknown_order_is_empty(gateway):
    results = gateway.transaction.search(TransactionSearch.order_id == unique())
    assert results.maximum_size == 0 and list(results.items) == []


def test_search_text_operators_and_combined_criteria(gateway):
    prefix = unique("batch")
    approved = sale(gateway, order_id=prefix + "-a").transaction
    declined = sale(gateway, "2000.00", order_id=prefix + "-b").transaction
    starts = gateway.transaction.search(TransactionSearch.order_id.starts_with(prefix))
    assert [t.id for t in starts.items] == [approved.id, declined.id]
    only_declined = gateway.transaction.search(
        TransactionSearch.order_id.starts_with(prefix),
        TransactionSearch.status.in_list(["processor_declined", "gateway_rejected"]),
    )
    assert [t.id for t in only_declined.items] == [declined.id]
    not_a = gateway.transaction.search(
        TransactionSearch.order_id.starts_with(prefix), TransactionSearch.order_id != prefix + "-a"
    )
    assert [t.id for t in not_a] == [declined.id]


def test_search_by_ids_type_amount_and_created_at(gateway):
    order_id = unique()
    sold = settled_sale(gateway, "30.00", order_id=order_id)
    credit = gateway.transaction.refund(sold.id, "5.00").transaction
    by_ids = gateway.transaction.search(TransactionSearch.ids.in_list([sold.id, credit.id]))
    assert sorted(t.id for t in by_ids) == sorted([sold.id, credit.id])
    credits = gateway.transaction.search(
        TransactionSearch.ids.in_list([sold.id, credit.id]), TransactionSearch.type == "credit"
    )
    assert [t.id for t in credits] == [credit.id]
    by_amount = gateway.transaction.search(
        TransactionSearch.ids.in_list([sold.id, credit.id]),
        TransactionSearch.amount.between("20.00", "40.00"),
    )
    assert [t.id for t in by_amount] == [sold.id]
    recent = gateway.transaction.search(
        TransactionSearch.order_id == order_id,
        TransactionSearch.created_at >= datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5),
    )
    assert [t.id for t in recent] == [sold.id]


def test_search_pages_through_more_than_one_page(gateway):
    prefix = unique("many")
    created = [sale(gateway, "1.00", order_id=f"{prefix}-{i:02d}").transaction.id for i in range(55)]
    results = gateway.transaction.search(TransactionSearch.order_id.starts_with(prefix))
    assert results.maximum_size == 55 and [t.id for t in results.items] == created


def test_an_unsupported_search_criterion_is_refused_not_ignored(gateway):
    with pytest.raises(UnexpectedError):
        gateway.transaction.search(TransactionSearch.customer_email == "a@example.com")


# --- submit for settlement, settle ---------------------------------------------------------------------


def test_submit_an_authorization_for_settlement(gateway):
    authorized = sale(gateway, "50.00", submit=False).transaction
    result = gateway.transaction.submit_for_settlement(authorized.id)
    assert result.is_success and result.transaction.status == "submitted_for_settlement"
    assert [e.status for e in result.transaction.status_history] == ["authorized", "submitted_for_settlement"]


def test_submit_for_settlement_of_a_smaller_amount(gateway):
    authorized = sale(gateway, "50.00", submit=False).transaction
    assert code_of(gateway.transaction.submit_for_settlement(authorized.id, "60.00")) == "91522"
    result = gateway.transaction.submit_for_settlement(authorized.id, "35.00")
    assert (result.transaction.amount, result.transaction.status_history[-1].amount) == (
        Decimal("35.00"),
        Decimal("35.00"),
    )
    assert code_of(gateway.transaction.submit_for_settlement(authorized.id)) == "91507"


def test_settle_and_settlement_decline(gateway):
    sold = settled_sale(gateway)
    assert sold.settlement_batch_id and sold.processor_settlement_response_code == "1000"
    declined = gateway.testing.settlement_decline_transaction(sale(gateway).transaction.id)
    assert declined.transaction.status == "settlement_declined"
    assert declined.transaction.processor_settlement_response_text == "Settlement Declined"
    assert code_of(gateway.testing.settle_transaction(sale(gateway, submit=False).transaction.id)) == "91575"


def test_paypal_settlement_test_amounts(gateway):
    declined = sale(gateway, "4001.50", "fake-paypal-one-time-nonce").transaction
    assert gateway.testing.settle_transaction(declined.id).transaction.status == "settlement_declined"
    pending = sale(gateway, "4002.00", "fake-paypal-one-time-nonce").transaction
    assert gateway.testing.settle_transaction(pending.id).transaction.status == "settlement_pending"
    card = sale(gateway, "4001.50").transaction
    assert gateway.testing.settle_transaction(card.id).transaction.status == "settled"


def test_settle_unknown_is_not_found(gateway):
    with pytest.raises(NotFoundError):
        gateway.testing.settle_transaction("nosuchid")


# --- refunds -------------------------------------------------------------------------------------------


def test_full_refund_creates_a_credit_linked_to_the_sale(gateway, server):
    sold = settled_sale(gateway, "25.00", order_id=unique())
    result = gateway.transaction.refund(sold.id)
    assert result.is_success
    credit = result.transaction
    assert (credit.type, credit.status, credit.amount, credit.refunded_transaction_id) == (
        "credit",
        "submitted_for_settlement",
        Decimal("25.00"),
        sold.id,
    )
    assert (credit.processor_response_code, credit.processor_response_text) == ("1002", "Processed")
    assert credit.order_id is None and credit.credit_card_details.last_4 == sold.credit_card_details.last_4
    original = gateway.transaction.find(sold.id)
    assert original.refund_ids == [credit.id] and original.status == "settled"
    assert code_of(gateway.transaction.refund(sold.id)) == "91512"
    (row,) = [r for r in server.transactions() if r["id"] == credit.id]
    assert (row["type"], row["refunded_transaction_id"], row["amount"]) == (
        "credit",
        sold.id,
        Decimal("25.00"),
    )


def test_partial_refunds_up_to_the_amount(gateway):
    sold = settled_sale(gateway, "10.00")
    assert gateway.transaction.refund(sold.id, "4.00").transaction.amount == Decimal("4.00")
    over = gateway.transaction.refund(sold.id, "7.00")
    assert code_of(over) == "91521" and over.message == "Refund amount is too large."
    assert gateway.transaction.refund(sold.id, "6.00").is_success
    assert code_of(gateway.transaction.refund(sold.id, "0.01")) == "91512"
    assert len(gateway.transaction.find(sold.id).refund_ids) == 2


def test_refund_without_an_amount_refunds_what_is_left(gateway):
    sold = settled_sale(gateway, "10.00")
    gateway.transaction.refund(sold.id, "2.50")
    assert gateway.transaction.refund(sold.id).transaction.amount == Decimal("7.50")


def test_refund_with_its_own_order_id(gateway):
    sold = settled_sale(gateway)
    credit = gateway.transaction.refund(sold.id, {"amount": "1.00", "order_id": "refund-1"}).transaction
    assert credit.order_id == "refund-1"


@pytest.mark.parametrize("amount, code", [("abc", "81503"), ("0", "81531"), ("-1.00", "81501")])
def test_refund_amount_validation(gateway, amount, code):
    assert code_of(gateway.transaction.refund(settled_sale(gateway).id, amount)) == code


def test_an_unsettled_sale_cannot_be_refunded(gateway):
    submitted = sale(gateway).transaction
    result = gateway.transaction.refund(submitted.id)
    assert code_of(result) == "91506" and result.message == "Cannot refund transaction unless it is settled."
    assert code_of(gateway.transaction.refund(sale(gateway, "2000.00").transaction.id)) == "91506"


def test_a_credit_cannot_be_refunded(gateway):
    credit = gateway.transaction.refund(settled_sale(gateway).id).transaction
    gateway.testing.settle_transaction(credit.id)
    assert code_of(gateway.transaction.refund(credit.id)) == "91505"


def test_a_voided_refund_frees_its_amount(gateway):
    sold = settled_sale(gateway, "10.00")
    credit = gateway.transaction.refund(sold.id).transaction
    assert gateway.transaction.void(credit.id).transaction.status == "voided"
    assert gateway.transaction.refund(sold.id).transaction.amount == Decimal("10.00")


def test_refund_unknown_is_not_found(gateway):
    with pytest.raises(NotFoundError):
        gateway.transaction.refund("nosuchid")


def test_jpy_refund(gateway):
    sold = settled_sale(gateway, "1200", merchant_account_id="jpy_account")
    credit = gateway.transaction.refund(sold.id, "200").transaction
    assert (credit.amount, credit.currency_iso_code) == (Decimal("200"), "JPY")


# --- void, reverse ----------------------------------------------------------------------------------


@pytest.mark.parametrize("submit", [False, True])
def test_void_before_settlement(gateway, submit):
    t = sale(gateway, submit=submit).transaction
    result = gateway.transaction.void(t.id)
    assert result.is_success and result.transaction.status == "voided"
    assert result.transaction.status_history[-1].status == "voided"


def test_void_rules(gateway):
    settled = settled_sale(gateway)
    result = gateway.transaction.void(settled.id)
    assert code_of(result) == "91504" and result.message.startswith(
        "Transaction can only be voided if status is authorized"
    )
    voided = sale(gateway).transaction
    gateway.transaction.void(voided.id)
    assert code_of(gateway.transaction.void(voided.id)) == "91504"
    assert code_of(gateway.transaction.void(sale(gateway, "2000.00").transaction.id)) == "91504"


def test_a_voided_sale_can_neither_settle_nor_refund(gateway):
    t = sale(gateway).transaction
    gateway.transaction.void(t.id)
    assert code_of(gateway.testing.settle_transaction(t.id)) == "91575"
    assert code_of(gateway.transaction.refund(t.id)) == "91506"


def test_reverse_voids_before_settlement_and_refunds_after(gateway):
    authorized = sale(gateway).transaction
    assert gateway.transaction.reverse(authorized.id).transaction.status == "voided"
    settled = settled_sale(gateway, "8.00")
    credit = gateway.transaction.reverse(settled.id).transaction
    assert (credit.type, credit.amount, credit.refunded_transaction_id) == (
        "credit",
        Decimal("8.00"),
        settled.id,
    )
    assert code_of(gateway.transaction.reverse(sale(gateway, "2000.00").transaction.id)) == "915282"
