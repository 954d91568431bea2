"""Locale and time-zone selection, and the template filters that format with Babel."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import dates, numbers
from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import force_locale, get_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from portal import money
from portal.timezones import is_repeated_instant, is_second_occurrence

LANG_COOKIE = "portal_lang"
TZ_COOKIE = "portal_tz"
# Set when the guest picked a zone themselves (?tz=): app.js then leaves portal_tz alone.
TZ_CHOSEN_COOKIE = "portal_tz_chosen"
# ?tz=auto forgets an explicit choice: the browser's zone is detected again.
TZ_AUTO = "auto"


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


def timezone_options(selected: str | None) -> Markup:
    """The ``<option>`` list of every offered zone, built once per process, ``selected`` marked."""
    html = getattr(timezone_options, "cache", None)
    if html is None:
        html = timezone_options.cache = "".join(
            f'<option value="{escape(name)}">{escape(name.replace("_", " "))}</option>'
            for name in timezone_choices()
        )
    if selected and is_offered_timezone(selected):
        needle = f'<option value="{escape(selected)}">'
        html = html.replace(needle, needle[:-1] + " selected>", 1)
    return Markup(html)


def timezone_chosen() -> bool:
    """Whether the viewer picked their zone (now, or earlier: the marker cookie) rather than detection."""
    if not has_request_context():
        return False
    explicit = request.args.get("tz")
    if explicit == TZ_AUTO:
        return False
    return is_timezone(explicit) or request.cookies.get(TZ_CHOSEN_COOKIE) == "1"


def select_timezone() -> str:
    """The viewer's zone: ?tz=, then the remembered one (a cookie: picked with ?tz=, or detected by
    app.js), then the account's."""
    if not has_request_context():
        return current_app.config["DEFAULT_TIMEZONE"]
    if "viewer_tz" in g:
        return g.viewer_tz
    zone = None
    explicit = request.args.get("tz")
    # ?tz=auto drops the remembered zone: the account's (or the site's) until app.js detects again.
    remembered = None if explicit == TZ_AUTO else request.cookies.get(TZ_COOKIE)
    # Earlier app.js versions stored the zone percent-encoded ("Asia%2FTokyo").
    for candidate in (explicit, unquote(remembered) if remembered else None):
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
    if is_repeated_instant(value, tz):  # 01:30 twice on a fall-back day: name the offset
        zone_name = f"{zone_name}, {dates.get_timezone_gmt(local, 'long', locale=locale)}"
    return f"{day}, {time} ({zone_name})"


def repeated_time_note(value: datetime, zone: str) -> str | None:
    """For a start whose wall time happens twice (the clocks go back that night): which one it is."""
    tz = ZoneInfo(zone)
    if not is_repeated_instant(value, tz):
        return None
    local = value.astimezone(tz)
    time = dates.format_time(local, "short", tzinfo=tz, locale=get_locale())
    offset = dates.get_timezone_gmt(local, "long", locale=get_locale())
    if is_second_occurrence(value, tz):
        return gettext(
            "%(time)s happens twice that night as the clocks go back: this is the second one, "
            "after the change (%(offset)s).",
            time=time,
            offset=offset,
        )
    return gettext(
        "%(time)s happens twice that night as the clocks go back: this is the first one, "
        "before the change (%(offset)s).",
        time=time,
        offset=offset,
    )


def format_number(value) -> str:
    return _format_number(str(value), str(get_locale() or current_app.config["DEFAULT_LOCALE"]))


@lru_cache(maxsize=money.FORMAT_CACHE_SIZE)
def _format_number(value: str, locale: str) -> str:
    # By the text, as money.format_exact: counts and percentages repeat on every page. Every digit
    # given is kept (the locale's pattern alone stops at 3: a tax of 8.1234% read "8.123%").
    return numbers.format_decimal(Decimal(value), locale=locale, decimal_quantization=False)


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
        timezone_chosen=timezone_chosen,
        timezone_options=timezone_options,
        repeated_time_note=repeated_time_note,
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
        remember_timezone(response, app.config["HTTPS"])
        return response


def remember_timezone(response, secure: bool) -> None:
    """A zone picked with ?tz= is remembered for a year, marked as the guest's own choice so that
    app.js's detection does not replace it; ?tz=auto hands the choice back to detection."""
    zone = request.args.get("tz")
    if is_timezone(zone):
        for name, value in ((TZ_COOKIE, zone), (TZ_CHOSEN_COOKIE, "1")):
            response.set_cookie(name, value, max_age=365 * 86400, samesite="Lax", secure=secure)
    elif zone == TZ_AUTO:
        for name in (TZ_COOKIE, TZ_CHOSEN_COOKIE):
            response.delete_cookie(name, samesite="Lax", secure=secure)
