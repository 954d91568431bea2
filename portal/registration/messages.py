"""What a guest reads for each registration and coupon outcome code."""

from flask_babel import lazy_gettext as _l

MESSAGES = {
    "name_required": _l("Enter your name."),
    "name_too_long": _l("Your name is too long (200 characters at most)."),
    "email_invalid": _l("Enter a valid email address, such as name@example.com."),
    "phone_invalid": _l("Enter a phone number with digits, spaces and + - ( ) only."),
    "company_required": _l("Enter your company."),
    "phone_required": _l("Enter your phone number."),
    "closed": _l("Registration for this session is closed."),
    "full": _l("This session is full. You can join the waiting list."),
    "not_awaiting_payment": _l("This registration is not waiting for a payment."),
    "payment_in_progress": _l(
        "Your payment is being processed. Do not pay again: this page updates by itself."
    ),
    "hold_expired": _l("Your seat hold has run out. Press Pay to take a seat again if one is free."),
    "not_cancellable": _l("This registration can no longer be cancelled."),
    "already_started": _l("The session has started: the registration can no longer be cancelled."),
    "not_found": _l("This registration does not exist."),
    "hold_renewed_price_changed": _l(
        "Your seat hold had run out: your seat is held again, but the coupon was released. "
        "Apply it again or pay the full fee."
    ),
    "nothing_to_refund": _l("Nothing is left to refund on this registration."),
    "given_back_price_changed": _l(
        "The amount due changed while your payment was on its way, so it was given back in full. "
        "Your seat is still held: check the amount and pay again."
    ),
}

# Unknown and inactive codes read the same: a guesser learns nothing about which codes exist.
COUPON_MESSAGES = {
    "unknown": _l("This coupon code is not valid."),
    "inactive": _l("This coupon code is not valid."),
    "not_yet_valid": _l("This coupon cannot be used yet."),
    "expired": _l("This coupon has expired."),
    "used_up": _l("This coupon has been used up."),
    "used_up_for_email": _l("This coupon has already been used with your email address."),
    "not_valid_for_session": _l("This coupon is not valid for this session."),
    "bound_to_other_email": _l("This coupon was issued to another email address."),
}


def registration_message(code: str) -> str:
    if code.startswith("refund_failed"):
        return str(_l("The registration is cancelled, but the refund failed. The organizer will retry it."))
    return str(MESSAGES.get(code, _l("Something went wrong. Please try again.")))


def coupon_message(code: str) -> str:
    return str(COUPON_MESSAGES.get(code, COUPON_MESSAGES["unknown"]))
