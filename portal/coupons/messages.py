"""What an administrator (or a guest) reads for each coupon error code.

Codes come from ``CouponServiceError`` (services.py) and from the validation
and rejection codes of ``rules.py``; views map them here, never show a code.
"""

from flask_babel import lazy_gettext as _l

# Validation of the coupon settings an administrator typed (rules.validate_terms / validate_code).
_VALIDATION = {
    "percent_missing": _l("Enter the percentage to take off, between 0 and 100."),
    "percent_out_of_range": _l("A percentage must be between 0 and 100."),
    "percent_too_precise": _l("A percentage has at most two decimal places, such as 12.5 or 33.33."),
    "amount_missing": _l("Enter the amount to take off."),
    "amount_negative": _l("The amount cannot be negative."),
    "currency_unknown": _l("A fixed amount needs a known currency; check the site's currency."),
    "max_uses_below_one": _l("A coupon can be used at least once: enter 1 or more."),
    "per_email_below_one": _l("Enter 1 or more, or leave empty for no limit per email."),
    "per_email_above_max": _l("The maximum per email cannot be higher than the maximum uses."),
    "window_not_aware": _l("Dates need a time zone, such as 2026-12-01T09:30:00+00:00."),
    "window_inverted": _l("The coupon must stop being valid after it starts being valid."),
    "code_required": _l("Enter a code."),
    "code_bad_characters": _l("Codes use letters A-Z and digits only (spaces and dashes are removed)."),
    "code_too_long": _l("Codes have at most 40 characters, prefix included."),
    "code_too_short": _l("Generated codes have at least 8 random characters."),
    "moment_not_aware": _l("The date needs a time zone."),
    "price_negative": _l("The price cannot be negative."),
}

# Errors of the administration services (services.CouponServiceError.code).
_SERVICE = {
    "max_uses_below_redemptions": lambda detail: _l(
        "The maximum uses cannot be lower than the %(uses)s uses already taken.", uses=detail
    ),
    "organizer_restriction_required": _l("Organizers can only create coupons for their own sessions."),
    "unknown_session": _l("One of the chosen sessions does not exist any more."),
    "max_uses_out_of_range": _l("Maximum uses must be between 1 and 1000000."),
    "session_of_another_organizer": _l(
        "A coupon restricted to an organizer can only be restricted to that organizer's sessions."
    ),
    "code_taken": _l("Another coupon already has this code (codes ignore case, spaces and dashes)."),
    "no_free_code": _l("No unused code could be found; try a longer code length."),
    "has_redemptions": _l("This coupon has been used, so it cannot be deleted. Deactivate it instead."),
    "was_sent": _l("This coupon was sent to someone, so it cannot be deleted. Deactivate it instead."),
    "count_out_of_range": _l("Generate between 1 and 5000 codes at a time."),
    "length_out_of_range": _l("The random part of a code has between 8 and 32 characters."),
    "prefix_bad_characters": _l("A prefix uses letters A-Z and digits only."),
    "missing_code_column": _l('The first line must name the columns, one of them "code".'),
    "no_rows": _l("The file has no coupon rows."),
    "duplicate_in_file": _l("This code appears more than once in the file."),
    "kind_unknown": _l("The kind must be percent, fixed or free."),
    "value_malformed": _l("A value, number or date cannot be read: check this row."),
    "no_recipients": _l("Enter at least one email address."),
    "duplicate_recipient": _l("An email address appears more than once."),
    "not_enough_codes": lambda detail: _l(
        "Not enough unsent codes in this batch: %(left)s left. Generate more codes first; nothing was sent.",
        left=detail or 0,
    ),
    "email_invalid": _l("Enter a valid email address."),
    "sessions_count_out_of_range": _l("The number of sessions must be between 1 and 100."),
}

# Why a guest's code was refused (rules.RejectReason). Unknown and inactive read alike, on purpose.
_REJECTIONS = {
    "unknown": _l("This coupon code is not valid."),
    "inactive": _l("This coupon code is not valid."),
    "not_yet_valid": _l("This coupon cannot be used yet."),
    "expired": _l("This coupon has expired."),
    "not_valid_for_session": _l("This coupon cannot be used for this session."),
    "bound_to_other_email": _l("This coupon belongs to another email address."),
    "used_up": _l("This coupon has been used up."),
    "used_up_for_email": _l("This coupon was already used with this email address as often as allowed."),
}

MESSAGES = {**_REJECTIONS, **_VALIDATION, **_SERVICE}

# The form field each code belongs to (anything else is a form-wide error).
FIELD_OF = {
    "percent_missing": "value",
    "percent_out_of_range": "value",
    "percent_too_precise": "value",
    "amount_missing": "value",
    "amount_negative": "value",
    "currency_unknown": "value",
    "value_malformed": "value",
    "max_uses_below_one": "max_uses",
    "max_uses_below_redemptions": "max_uses",
    "per_email_below_one": "max_uses_per_email",
    "per_email_above_max": "max_uses_per_email",
    "window_not_aware": "valid_until",
    "window_inverted": "valid_until",
    "code_required": "code",
    "code_bad_characters": "code",
    "code_too_long": "code",
    "code_taken": "code",
    "organizer_restriction_required": "organizer",
    "unknown_session": "sessions",
    "session_of_another_organizer": "sessions",
    "count_out_of_range": "count",
    "length_out_of_range": "length",
    "code_too_short": "length",
    "prefix_bad_characters": "prefix",
    "not_enough_codes": "batch",
    "email_invalid": "email",
    "sessions_count_out_of_range": "sessions_count",
}


def coupon_message(code: str, detail: str = "") -> str:
    """The sentence for an error code (a generic one for a code without its own)."""
    message = MESSAGES.get(code)
    if message is None:
        return str(_l("This could not be done (%(code)s).", code=code))
    return str(message(detail) if callable(message) else message)
