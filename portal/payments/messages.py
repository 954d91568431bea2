"""What a payer or an administrator reads for each payment failure code."""

from flask_babel import lazy_gettext as _l

_DECLINES = {
    "2000": _l("Your card was declined by the bank. Try another card or payment method."),
    "2001": _l("Insufficient funds. Try another card or payment method."),
    "2002": _l("Your card's limit was exceeded. Try another card or payment method."),
    "2003": _l("Your card's activity limit was exceeded. Try another card or payment method."),
    "2004": _l("Your card has expired. Try another card."),
    "2005": _l("The card number is not valid. Check it or try another card."),
    "2006": _l("The expiry date is not valid. Check it or try another card."),
    "2010": _l("The security code (CVV) was refused. Check it or try another card."),
    "2015": _l("Your bank does not allow this payment. Try another card or payment method."),
    # Payflow Pro's RESULT codes (two or three digits; Braintree's are four).
    "12": _l("Your card was declined by the bank. Try another card or payment method."),
    "23": _l("The card number is not valid. Check it or try another card."),
    "24": _l("The expiry date is not valid. Check it or try another card."),
    "50": _l("Insufficient funds. Try another card or payment method."),
    "51": _l("Your card's limit was exceeded. Try another card or payment method."),
    "114": _l("The security code (CVV) was refused. Check it or try another card."),
}

_MESSAGES = {
    "declined": _l("Your card was declined by the bank. Try another card or payment method."),
    "rejected:fraud": _l(
        "The payment service's fraud checks refused this payment. Try another payment method."
    ),
    "rejected": _l("The payment service refused this payment. Try another payment method."),
    "invalid:81715": _l("The card number is not valid. Check it or try another card."),
    "invalid:91564": _l("This payment form was already used. Choose your payment method again."),
    "invalid:91565": _l("This payment form has expired. Choose your payment method again."),
    "invalid": _l("The payment details were not accepted. Check them or try another payment method."),
    "failed": _l("The payment could not be processed and nothing was charged. Please try again."),
    "settlement_declined": _l("The bank refused the payment when it was settled."),
    "gateway_unavailable": _l(
        "The payment service is unavailable right now. "
        "Nothing was charged; please try again in a few minutes."
    ),
    "outcome_unknown": _l(
        "We are confirming your payment with the payment service. "
        "Do not pay again: this page updates by itself."
    ),
    "no_charge_found": _l("The payment service has no record of this payment; nothing was charged."),
    "checkout_abandoned": _l(
        "The payment page was left without paying, and its time ran out. Nothing was charged; "
        "press Pay to start again."
    ),
    "checkout_in_progress": _l(
        "Your payment is open on the payment service's page. Finish it there, or wait a few minutes "
        "and press Pay again."
    ),
    "unknown_nonce": _l("Choose a payment method, then press Pay."),
    "method_not_accepted:credit_card": _l("Credit cards are not accepted here. Use another payment method."),
    "method_not_accepted:debit_card": _l("Debit cards are not accepted here. Use another payment method."),
    "method_not_accepted:paypal": _l("PayPal is not accepted here. Use another payment method."),
    "method_not_accepted": _l("This payment method is not accepted here. Use another one."),
    "already_paid": _l("This has already been paid."),
    "currency_not_supported": _l(
        "Payments in this currency are not set up yet. Nothing was charged; please tell the organizer."
    ),
    "amount_mismatch": _l("The payment service charged a different amount; it was cancelled at once."),
    "refund_in_progress": _l("Another refund of this payment is still being processed. Try again shortly."),
    "refund_outcome_unknown": _l(
        "The payment service has not confirmed the refund yet. Do not refund again: it is being checked."
    ),
    "charged_back": _l(
        "The payer's bank already took this money back (a lost dispute): nothing is left to refund."
    ),
    "not_refundable": _l("Only a paid payment can be refunded."),
    "refund_amount_invalid": _l("The refund must be more than zero and no more than what is left to refund."),
    "partial_refund_needs_settlement": _l(
        "This payment has not settled yet: "
        "it can only be voided in full, or refunded in part after it settles."
    ),
    "refund_refused": _l("The payment service refused the refund."),
    "void_refused": _l("The payment service refused to void this payment."),
    "not_voidable": _l("Only a payment that has not settled yet can be voided."),
}


def failure_message(code: str | None) -> str:
    """The most specific message for a code such as ``declined:2001`` or ``rejected:fraud``."""
    if not code:
        return ""
    family, _, detail = code.partition(":")
    if family == "declined" and detail in _DECLINES:
        return str(_DECLINES[detail])
    for key in (code, family):
        if key in _MESSAGES:
            return str(_MESSAGES[key])
    return str(_MESSAGES["failed"])
