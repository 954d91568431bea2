"""Locale and time-zone selection, and the template filters that format with Babel."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import dates, numbers
from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal import money

LANG_COOKIE = "portal_lang"
TZ_COOKIE = "portal_tz"


def supported_language(candidate: str | None) -> str | None:
    """``candidate`` as one of the site's languages (``fr``, ``fr-CA`` and ``fr_FR`` give ``fr``), or None."""
    if not candidate:
        return None
    languages = current_app.config["LANGUAGES"]
    code = candidate.strip().replace("_", "-").lower()
    if code in languages:
        return code
    primary = code.split("-", 1)[0]
    return primary if primary in languages else None


def select_locale() -> str:
    """?lang= (the switcher on every page), then the remembered choice (a cookie), then the browser's."""
    if not has_request_context():  # CLI commands and background jobs
        return current_app.config["DEFAULT_LOCALE"]
    for candidate in (request.args.get("lang"), request.cookies.get(LANG_COOKIE)):
        language = supported_language(candidate)
        if language:
            return language
    return (
        request.accept_languages.best_match(current_app.config["LANGUAGES"])
        or current_app.config["DEFAULT_LOCALE"]
    )


def current_language() -> str:
    """The language in use now (a request's, or the site default), to store with what a guest
    creates so that mail sent to them later is in their language."""
    locale = get_locale()
    return supported_language(str(locale) if locale else None) or current_app.config["DEFAULT_LOCALE"]


@contextmanager
def recipient_locale(language: str | None) -> Iterator[None]:
    """Render mail and attachments in the recipient's language, whoever's request sends them."""
    with force_locale(supported_language(language) or current_app.config["DEFAULT_LOCALE"]):
        yield


def in_locale(language: str | None, caller) -> str:
    """Template helper: ``{% call in_locale(registration.locale) %}...{% endcall %}``."""
    with recipient_locale(language):
        return caller()


def language_url(language: str) -> str:
    """This page in ``language``: the same endpoint and query, with ``lang`` set (the switcher)."""
    if request.endpoint is None:  # a 404 page: no endpoint to build on
        return f"?lang={language}"
    args = request.args.to_dict(flat=False)
    args["lang"] = [language]
    return url_for(request.endpoint, **{**args, **(request.view_args or {})})


def is_timezone(name: str | None) -> bool:
    if not name or name not in _all_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _all_timezones() -> frozenset[str]:
    """IANA region zones and UTC, without aliases such as ``localtime`` or ``posix/...``."""
    cached = getattr(_all_timezones, "cache", None)
    if cached is None:
        cached = _all_timezones.cache = frozenset(
            name
            for name in available_timezones()
            if name == "UTC" or ("/" in name and not name.startswith(("Etc/", "posix", "right/", "SystemV/")))
        )
    return cached


def timezone_choices() -> tuple[str, ...]:
    """Every zone a form offers, sorted once per process (a select of about 430 options)."""
    cached = getattr(timezone_choices, "cache", None)
    if cached is None:
        cached = timezone_choices.cache = tuple(sorted(_all_timezones()))
    return cached


def is_offered_timezone(name: str | None) -> bool:
    return name in _all_timezones()


def select_timezone() -> str:
    """The viewer's zone: ?tz=, then the browser's (a cookie set by app.js), then the account's."""
    if not has_request_context():
        return current_app.config["DEFAULT_TIMEZONE"]
    if "viewer_tz" in g:
        return g.viewer_tz
    zone = None
    for candidate in (request.args.get("tz"), request.cookies.get(TZ_COOKIE)):
        if is_timezone(candidate):
            zone = candidate
            break
    if zone is None and current_user and current_user.is_authenticated:
        zone = current_user.timezone
    g.viewer_tz = zone or current_app.config["DEFAULT_TIMEZONE"]
    return g.viewer_tz


def format_money(minor_units: int, currency: str) -> str:
    return money.format_money(minor_units, currency, str(get_locale()))


def format_in_zone(value: datetime, zone: str | None = None, style: str = "full") -> str:
    """An aware datetime in ``zone`` (default: the viewer's), formatted for the locale."""
    tz = ZoneInfo(zone or select_timezone())
    locale = get_locale()
    local = value.astimezone(tz)
    day = dates.format_date(local, "full" if style == "full" else "medium", locale=locale)
    time = dates.format_time(local, "short", tzinfo=tz, locale=locale)
    if tz.key == "UTC":
        zone_name = "UTC"
    else:
        zone_name = dates.get_timezone_location(tz, locale=locale) if style == "full" else local.tzname()
    return f"{day}, {time} ({zone_name})"


def format_number(value) -> str:
    return numbers.format_decimal(value, locale=get_locale())


def format_exact_money(amount: Decimal, currency: str) -> str:
    return money.format_exact(amount, currency, str(get_locale()))


def _labeller(labels: dict):
    """A template helper that shows a stored code (a status) in the viewer's language."""

    def label(code: str) -> str:
        return str(labels.get(code, code))

    return label


STATUS_LABELS = {
    "draft": _l("Draft (unpaid)"),
    "scheduled": _l("Scheduled"),
    "started": _l("Started"),
    "cancelled": _l("Cancelled"),
}


status_label = _labeller(STATUS_LABELS)


def audio_label(audio: str) -> str:
    from portal.trainings.forms import AUDIO_LABELS

    return str(AUDIO_LABELS.get(audio, audio))


PAYMENT_STATUS_LABELS = {
    "pending": _l("Awaiting payment"),
    "processing": _l("Processing"),
    "unknown": _l("Being confirmed"),
    "submitted_for_settlement": _l("Paid (settling)"),
    "settled": _l("Paid"),
    "declined": _l("Declined"),
    "gateway_rejected": _l("Refused by the payment service"),
    "failed": _l("Failed"),
    "voided": _l("Voided"),
    "refunded": _l("Refunded"),
    "partially_refunded": _l("Partly refunded"),
    "disputed": _l("Disputed"),
}


payment_status_label = _labeller(PAYMENT_STATUS_LABELS)


REGISTRATION_STATUS_LABELS = {
    "pending_payment": _l("Awaiting payment"),
    "confirmed": _l("Confirmed"),
    "waitlisted": _l("On the waiting list"),
    "expired": _l("Seat hold expired"),
    "cancelled": _l("Cancelled"),
    "refunded": _l("Cancelled and refunded"),
}


registration_status_label = _labeller(REGISTRATION_STATUS_LABELS)


PURPOSE_LABELS = {
    "guest_fee": _l("Guest fee"),
    "pay_per_use": _l("Pay-per-use"),
    "test": _l("Test charge"),
}


purpose_label = _labeller(PURPOSE_LABELS)


# The ledger's rows: a payment, or money given back on one.
LEDGER_KIND_LABELS = {
    "payment": _l("Payment"),
    "refund": _l("Refund"),
    "void": _l("Void"),
    "chargeback": _l("Chargeback"),
}


ledger_kind_label = _labeller(LEDGER_KIND_LABELS)


REFUND_STATUS_LABELS = {
    "pending": _l("Being refunded"),
    "unknown": _l("Being confirmed"),
    "succeeded": _l("Done"),
    "failed": _l("Failed"),
}


refund_status_label = _labeller(REFUND_STATUS_LABELS)


METHOD_LABELS = {
    "credit_card": _l("credit card"),
    "debit_card": _l("debit card"),
    "paypal": _l("PayPal"),
}


def method_label(payment) -> str:
    """e.g. "Visa credit card ···· 1111" or "PayPal (payer@example.com)"; never more of a card."""
    if not payment.method:
        return ""
    label = str(METHOD_LABELS.get(payment.method, payment.method))
    if payment.method == "paypal":
        return f"{label} ({payment.paypal_email})" if payment.paypal_email else label
    if payment.card_brand:  # "Visa credit card", "carte de crédit Visa"
        label = gettext("%(brand)s %(method)s", brand=payment.card_brand, method=label)
    last4 = f" ···· {payment.card_last4}" if payment.card_last4 else ""
    return f"{label}{last4}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["exact_money"] = format_exact_money
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.globals.update(
        status_label=status_label,
        audio_label=audio_label,
        method_label=method_label,
        payment_status_label=payment_status_label,
        purpose_label=purpose_label,
        ledger_kind_label=ledger_kind_label,
        refund_status_label=refund_status_label,
        registration_status_label=registration_status_label,
        viewer_timezone=select_timezone,
        get_locale=get_locale,
        in_locale=in_locale,
        language_url=language_url,
    )
    app.jinja_env.filters["plain_amount"] = money.plain_amount
    app.jinja_env.filters["in_zone"] = format_in_zone

    @app.after_request
    def remember_language(response):
        """A language chosen with ?lang= is remembered for a year; pages vary with the browser's."""
        language = supported_language(request.args.get("lang"))
        if language:
            response.set_cookie(
                LANG_COOKIE, language, max_age=365 * 86400, samesite="Lax", secure=app.config["HTTPS"]
            )
        if response.mimetype == "text/html":
            response.vary.add("Accept-Language")
        return response
