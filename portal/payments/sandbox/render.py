"""Braintree's XML: dasherized tags, ``type`` and ``nil`` attributes, as the SDK's parser reads them."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from portal.payments.sandbox import rules
from portal.payments.sandbox.ledger import Result
from portal.payments.sandbox.models import Dispute, Transaction
from portal.payments.sandbox.rules import Card, FieldError

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class Array:
    """``<tag type="array">`` whose children are all ``<item_tag>``."""

    item_tag: str
    items: list


@dataclass(frozen=True)
class Symbol:
    """A ``type="symbol"`` value (error attributes), a plain string to the SDK."""

    name: str


@dataclass(frozen=True)
class Raw:
    """Children whose tag names are kept as given (custom fields are not dasherized)."""

    children: dict


def node(tag: str, value, dasherize: bool = True) -> str:
    name = tag.replace("_", "-") if dasherize else tag
    if value is None:
        return f'<{name} nil="true"/>'
    if isinstance(value, bool):
        return f'<{name} type="boolean">{str(value).lower()}</{name}>'
    if isinstance(value, int):
        return f'<{name} type="integer">{value}</{name}>'
    if isinstance(value, datetime):
        return f'<{name} type="datetime">{value.strftime("%Y-%m-%dT%H:%M:%SZ")}</{name}>'
    if isinstance(value, date):
        return f'<{name} type="date">{value.isoformat()}</{name}>'
    if isinstance(value, Symbol):
        return f'<{name} type="symbol">{escape(value.name)}</{name}>'
    if isinstance(value, Array):
        if not value.items:
            return f'<{name} type="array"/>'
        inner = "".join(node(value.item_tag, item) for item in value.items)
        return f'<{name} type="array">{inner}</{name}>'
    if isinstance(value, Raw):
        if not value.children:
            return f"<{name}/>"
        return f"<{name}>{''.join(node(k, v, dasherize=False) for k, v in value.children.items())}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>{''.join(node(k, v) for k, v in value.items())}</{name}>"
    return f"<{name}>{escape(str(value))}</{name}>"


def document(tag: str, value) -> bytes:
    return (DECLARATION + node(tag, value)).encode("utf-8")


# --- transactions ---------------------------------------------------------------------------


def amount_text(value: Decimal, currency: str) -> str:
    return rules.format_amount(value, currency)


def card_fields(card: Card) -> dict:
    return {
        "token": None,
        "bin": card.bin,
        "last_4": card.last_4,
        "card_type": card.card_type,
        "expiration_month": card.expiration_month,
        "expiration_year": card.expiration_year,
        "customer_location": "US" if card.country_of_issuance == "USA" else "International",
        "cardholder_name": None,
        "image_url": f"https://assets.braintreegateway.com/payment_method_logo/{card.card_type.lower()}.png",
        "is_network_tokenized": False,
        "unique_number_identifier": card.unique_number_identifier,
        **{name: card.indicator(name) for name in rules.INDICATORS},
        "country_of_issuance": card.country_of_issuance,
        "issuing_bank": card.issuing_bank,
        "product_id": "Unknown",
        "account_type": "debit" if card.indicator("debit") == "Yes" else "credit",
    }


def transaction_fields(txn: Transaction, disputes: list[Dispute] = ()) -> dict:
    amount = amount_text(txn.amount, txn.currency)
    fields = {
        "id": txn.id,
        "status": txn.status,
        "type": txn.type,
        "currency_iso_code": txn.currency,
        "amount": amount,
        "merchant_account_id": txn.merchant_account_id,
        "order_id": txn.order_id,
        "created_at": txn.created_at,
        "updated_at": txn.updated_at,
        "customer": {"id": None, "first_name": None, "last_name": None, "email": None},
        "refund_id": txn.refund_ids[-1] if txn.refund_ids else None,
        "refund_ids": Array("item", list(txn.refund_ids)),
        "refunded_transaction_id": txn.refunded_transaction_id,
        "partial_settlement_transaction_ids": Array("item", []),
        "authorized_transaction_id": None,
        "settlement_batch_id": txn.settlement_batch_id,
        "custom_fields": Raw(dict(txn.custom_fields)),
        "avs_error_response_code": None,
        "avs_postal_code_response_code": "I",
        "avs_street_address_response_code": "I",
        "cvv_response_code": txn.cvv_response_code,
        "gateway_rejection_reason": txn.gateway_rejection_reason,
        "processor_authorization_code": txn.processor_authorization_code,
        "processor_response_code": txn.processor_response_code,
        "processor_response_text": txn.processor_response_text,
        "processor_response_type": txn.processor_response_type,
        "additional_processor_response": None,
        "processor_settlement_response_code": txn.processor_settlement_response_code,
        "processor_settlement_response_text": txn.processor_settlement_response_text,
        "network_transaction_id": txn.network_transaction_id,
        "voice_referral_number": None,
        "purchase_order_number": None,
        "tax_amount": None,
        "tax_exempt": False,
        "recurring": False,
        "channel": None,
        "plan_id": None,
        "subscription_id": None,
        "payment_instrument_type": txn.instrument.kind,
        "status_history": Array(
            "status_event",
            [
                {
                    "timestamp": e.timestamp,
                    "status": e.status,
                    "amount": amount_text(e.amount, txn.currency),
                    "user": None,
                    "transaction_source": e.source,
                }
                for e in txn.status_history
            ],
        ),
        "add_ons": Array("add_on", []),
        "discounts": Array("discount", []),
        "disputes": Array("dispute", [dispute_fields(d, txn) for d in disputes]),
        "authorization_adjustments": Array("authorization_adjustment", []),
        "three_d_secure_info": None,
    }
    if isinstance(txn.instrument, Card):
        fields["credit_card"] = card_fields(txn.instrument)
    else:
        pp = txn.instrument
        fields["paypal"] = {
            "payer_email": pp.payer_email,
            "payer_id": pp.payer_id,
            "payer_first_name": pp.payer_first_name,
            "payer_last_name": pp.payer_last_name,
            "payer_status": "VERIFIED",
            "payment_id": f"PAYID-{txn.id.upper()}",
            "authorization_id": f"AUTH-{txn.id.upper()}",
            "capture_id": f"CAPT-{txn.id.upper()}" if txn.status in ("settling", "settled") else None,
            "billing_agreement_id": pp.billing_agreement_id,
            "token": None,
            "image_url": "https://assets.braintreegateway.com/payment_method_logo/paypal.png",
            "debug_id": txn.id,
            "payee_email": None,
            "seller_protection_status": "ELIGIBLE",
            "transaction_fee_amount": None,
            "transaction_fee_currency_iso_code": None,
            "description": None,
        }
    return fields


def transaction(txn: Transaction, disputes: list[Dispute] = ()) -> bytes:
    return document("transaction", transaction_fields(txn, disputes))


def result(res: Result, disputes: list[Dispute] = ()) -> tuple[int, bytes]:
    """HTTP status and body for a transaction call: 201/200 handled by the caller, 422 here."""
    body: dict = {"errors": _errors_tree(res.errors), "message": res.message or ""}
    body["params"] = {"transaction": {k: v for k, v in res.params.items() if v is not None}}
    if res.transaction is not None:
        body["transaction"] = transaction_fields(res.transaction, disputes)
    return 422, document("api_error_response", body)


def _errors_tree(errors: list[FieldError]) -> dict:
    """``<errors><errors type="array"/><transaction><errors type="array">…`` nested by each error's path."""
    tree: dict = {"errors": Array("error", [])}
    for error in errors:
        level = tree
        for key in error.path:
            level = level.setdefault(key, {"errors": Array("error", [])})
        level["errors"].items.append(
            {"code": error.code, "attribute": Symbol(error.attribute), "message": error.message}
        )
    return tree


def validation_error(*errors: FieldError) -> bytes:
    return result(Result(errors=list(errors), message="\n".join(e.message for e in errors)))[1]


# --- search -----------------------------------------------------------------------------------

PAGE_SIZE = 50


def search_ids(ids: list[str]) -> bytes:
    return document("search_results", {"page_size": PAGE_SIZE, "ids": Array("item", ids)})


def search_page(txns: list[Transaction], disputes_for) -> bytes:
    inner = "".join(node("transaction", transaction_fields(t, disputes_for(t.id))) for t in txns)
    head = node("current_page_number", 1) + node("page_size", PAGE_SIZE) + node("total_items", len(txns))
    xml = f'<credit-card-transactions type="collection">{head}{inner}</credit-card-transactions>'
    return (DECLARATION + xml).encode("utf-8")


# --- nonces, client tokens, disputes --------------------------------------------------------------


def payment_method_nonce(nonce: str, source: rules.PaymentSource, consumed: bool) -> bytes:
    instrument = source.instrument
    fields: dict = {"nonce": nonce, "consumed": consumed, "default": False, "is_locked": False}
    if isinstance(instrument, Card):
        fields.update(
            type="CreditCard",
            description=f"ending in {instrument.last_4[-2:]}",
            details={
                "bin": instrument.bin,
                "last_two": instrument.last_4[-2:],
                "last_four": instrument.last_4,
                "card_type": instrument.card_type,
                "expiration_month": instrument.expiration_month,
                "expiration_year": instrument.expiration_year,
                "cardholder_name": None,
                "is_network_tokenized": False,
            },
            bin_data={
                **{name: instrument.indicator(name) for name in rules.INDICATORS},
                "issuing_bank": instrument.issuing_bank,
                "country_of_issuance": instrument.country_of_issuance,
                "product_id": "Unknown",
            },
        )
    elif instrument is not None:
        fields.update(
            type="PayPalAccount",
            description="PayPal",
            details={
                "email": instrument.payer_email,
                "payer_id": instrument.payer_id,
                "first_name": instrument.payer_first_name,
                "last_name": instrument.payer_last_name,
            },
        )
    else:  # e.g. fake-luhn-invalid-nonce: a card the gateway will refuse
        fields.update(type="CreditCard", description=None, details={}, bin_data=None)
    fields["three_d_secure_info"] = None
    return document("payment_method_nonce", fields)


def client_token(value: str) -> bytes:
    return document("client_token", {"value": value})


def dispute_fields(dispute: Dispute, txn: Transaction) -> dict:
    amount = amount_text(dispute.amount, dispute.currency)
    return {
        "id": dispute.id,
        "amount": amount,
        "amount_disputed": amount,
        "amount_won": amount if dispute.status == "won" else amount_text(Decimal(0), dispute.currency),
        "case_number": dispute.case_number,
        "created_at": dispute.created_at,
        "currency_iso_code": dispute.currency,
        "forwarded_comments": None,
        "kind": dispute.kind,
        "merchant_account_id": dispute.merchant_account_id,
        "reason": dispute.reason,
        "reason_code": "83",
        "reason_description": "Fraud - Card Absent Environment",
        "received_date": dispute.received_date,
        "reference_number": dispute.reference_number,
        "reply_by_date": dispute.reply_by_date,
        "status": dispute.status,
        "updated_at": dispute.updated_at,
        "original_dispute_id": None,
        "status_history": Array(
            "status_history",
            [
                {"status": e.status, "timestamp": e.timestamp, "effective_date": e.effective_date}
                for e in dispute.status_history
            ],
        ),
        "evidence": Array("evidence", []),
        "transaction": {
            "id": txn.id,
            "amount": amount_text(txn.amount, txn.currency),
            "created_at": txn.created_at,
            "order_id": txn.order_id,
            "purchase_order_number": None,
            "payment_instrument_subtype": getattr(txn.instrument, "card_type", "PayPal"),
        },
        "date_opened": dispute.received_date,
        "date_won": dispute.updated_at.date() if dispute.status == "won" else None,
    }


def dispute_element(dispute: Dispute, txn: Transaction) -> str:
    """A ``<dispute>`` element (no declaration: it goes inside a notification's subject)."""
    return node("dispute", dispute_fields(dispute, txn))


def transaction_element(txn: Transaction, disputes: list[Dispute] = ()) -> str:
    return node("transaction", transaction_fields(txn, disputes))
