"""Request helpers shared by every blueprint: HTMX-aware rendering, security headers."""

import re

from flask import Response, current_app, g, make_response, render_template, request

from portal.database import READS_ONLY_FLAG

CSP_DIRECTIVES = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-src": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}


def allow_in_csp(sources: dict[str, list[str]]) -> None:
    """Let this response load from more hosts (e.g. Braintree's iframes on a payment page)."""
    extra = g.setdefault("csp_extra", {})
    for directive, hosts in sources.items():
        extra.setdefault(directive, []).extend(hosts)


def content_security_policy() -> str:
    extra = g.get("csp_extra", {})
    parts = []
    for directive, sources in CSP_DIRECTIVES.items():
        added = extra.get(directive, [])
        if added and sources == ["'none'"]:
            sources = []
        parts.append(" ".join([directive, *sources, *added]))
    return "; ".join(parts)


# Methods that never change state: their requests read only (on SQLite, without the write lock).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_ONLY_WHEN = "portal_reads_only_when"


def reads_only_when(predicate):
    """Declare that a POST to this view only reads when ``predicate()`` holds (a live estimate).

    Put it right under ``@bp.route``. A write in such a request fails loudly on SQLite.
    """

    def mark(view):
        setattr(view, _READS_ONLY_WHEN, predicate)
        return view

    return mark


def mark_reads_only() -> None:
    """Before anything touches the database: does this request only read?"""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    predicate = getattr(view, _READS_ONLY_WHEN, None)
    setattr(g, READS_ONLY_FLAG, request.method in SAFE_METHODS or (predicate is not None and predicate()))


# What a form field naming a row or an amount in cents may hold: ASCII digits (``int()`` also takes
# Arabic-Indic ones and underscores) and few enough of them for a 64-bit column.
_ID_TEXT = re.compile(r"[0-9]{1,18}")
_CENTS_TEXT = re.compile(r"-?[0-9]{1,15}")


def id_from(text: str | None) -> int | None:
    """A row id posted as text, or None when it cannot name a row."""
    return int(text) if text and _ID_TEXT.fullmatch(text) and int(text) > 0 else None


def cents_from(text: str | None) -> int | None:
    """A whole number of cents posted as text (a hidden field, not a typed amount), or None."""
    return int(text) if text and _CENTS_TEXT.fullmatch(text) else None


def is_htmx() -> bool:
    """An htmx request that wants a fragment (a history restore wants the full page).

    Asking marks the response as depending on it: ``add_security_headers`` then sends
    ``Vary: HX-Request`` whatever the answer is (a fragment, a page, a redirect of either kind).
    """
    g.varies_on_htmx = True
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context) -> Response:
    """Contact.app's pattern: one endpoint, the fragment for htmx, the full page otherwise.

    The page template ``include``s the fragment, so both share their markup.
    """
    template = fragment if is_htmx() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    if g.get("varies_on_htmx"):
        response.vary.add("HX-Request")
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", g.get("cross_origin_opener_policy", "same-origin"))
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["HTTPS"]:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if response.mimetype == "text/html":
        # Pages carry per-user data and CSRF tokens: keep them out of shared caches.
        headers.setdefault("Cache-Control", "no-store")
    return response
