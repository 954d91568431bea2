"""Bad input fuzzing (issue #10, point 5): Hypothesis-generated values for every field of every form
the app renders never produce a 5xx, and never leave anything half-written.

Which forms: every page of the URL map is fetched as the user who may use it (an administrator,
an organizer, a guest holding a manage link), and every ``<form method="post">`` on it is read:
its action, its fields and their current values. Each state-changing rule of ``app.url_map``
then gets POSTs built from its form, with a valid CSRF token of that user's session: each field
either keeps its value from the page or takes a hostile one (huge, empty, unicode, markup, NUL
bytes, negative and overflowing numbers, ``1e309``, ``NaN``, long decimals with either separator).
First, every field alone takes each of ``PARSER_BREAKERS`` (the rest as on the page), deterministically.
A rule whose form was not found on any page fails the test, so a new form is fuzzed or explained.

After every POST:
- never a 5xx (nor an exception);
- a refusal (4xx) changed nothing: every row of every table is the same as before;
- whatever was stored is whole: the cross-row invariants in ``half_written`` hold (every held or
  confirmed registration counted in its session's seats, coupon uses matching their redemptions,
  a coupon delivery with its outbox message, a prepayment with its coupon, ...).

The fixtures and the route table come from tests/web/test_routes.py (two organizers with one of
everything each, an administrator, an invitation). Runs about a minute per database;
``PORTAL_FUZZ_EXAMPLES=500`` (examples per form, default 40) runs longer.
"""

import os
import time
from html.parser import HTMLParser
from urllib.parse import urlsplit

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from portal.extensions import db
from tests.conftest import card_data_in, csrf_from
from tests.web import test_routes
from tests.web.test_routes import (
    EXEMPT,
    access_of,
    changed_tables,
    methods,
    rules,
    signed_in,
    snapshot,
    url_for_rule,
)

# The route tests' fixtures: every route (BENCH), rate limits out of the way, the two organizers' world.
app = test_routes.app
world = test_routes.world

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "40"))

# Rules whose form is not on any page of the fixture's world (it shows only in another state:
# a paid payment, a used department, an applied coupon, ...), with the fields it reads. Any
# other rule's form must be found by the crawl.
FIELDS_ELSEWHERE = {
    "payments.webhook": ["bt_signature", "bt_payload"],  # Braintree's server posts it, no page has it
    # The gateway's hosted checkout page posts these (Payflow Pro), from its own origin.
    "payments.hosted_return": ["SECURETOKENID", "RESULT", "PNREF", "AMT", "RESPMSG"],
    "payments.hosted_silent_post": ["SECURETOKENID", "RESULT", "PNREF", "AMT", "RESPMSG"],
    "payments.hosted_cancel": ["SECURETOKENID"],
    "payments.pay": ["payment_method_nonce"],
    "payments.refund": ["amount", "reason", "scope"],
    "payments.retry": [],
    "payments.void": ["reason"],
    "billing_admin.reimburse": ["department_id", "period", "currency", "expected_net_cents"],
    "registrants.refund_registration": ["refund", "amount"],
    "users_admin.delete_department": [],
    "users_admin.reactivate": [],
    "users_admin.resend_invitation": [],
    "coupons.activate": [],
    "coupons.delete": [],
    "registration.cancel": [],
    "registration.remove_coupon": [],
}

# Fuzzed last: they end the objects (or the session) the other rules work on.
LAST = (".delete", ".deactivate", ".cancel", "logout", ".delete_department", "cancel_registration")

# Tables a refused request may still write, and why.
WRITTEN_WHEN_REFUSED = {
    "registration.pay": (
        {"payments", "registrations"},
        "the checkout opens its attempt (pending: nothing charged, reused by the next try, see the "
        "'one open attempt per purchase' invariant) before the gateway says whether the nonce is usable",
    ),
}

HUGE = 100_000
HOSTILE = [
    "",
    " ",
    "\t\n",
    "x" * HUGE,
    "9" * HUGE,
    "é" * (HUGE // 2),
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7*7 }}",
    "'; DROP TABLE users; --",
    "\x00",
    "a\x00b",
    "-1",
    "0",
    "-0",
    str(10**30),
    str(-(10**30)),
    str(2**31),
    str(2**63),
    "1e309",
    "-1e309",
    "1e-309",
    "NaN",
    "nan",
    "Infinity",
    "-inf",
    "0x10",
    "1_000",
    "0." + "3" * 60,
    "1" * 40 + ".5",
    "1,5",
    "1.5",
    "1.234,56",
    "1,234.56",
    "12,50",
    "١٢٣",  # Arabic-Indic digits
    "１２",  # full-width digits
    "\u202e123",  # right-to-left override
    "😀" * 50,
    "2026-02-30T25:61",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "10000-01-01T00:00",
    "a@b",
    "guest@example.com",  # valid ones too, so that requests get past validation and store things
    "o'brien+tag@example.com",
    "名前@example.com",
    "@example.com",
    "x" * 300 + "@example.com",
    "%s%n%x",
    "../../etc/passwd",
    "Europe/Nowhere",
    "true",
    "on",
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.builds(
        lambda whole, fraction, separator: f"{whole}{separator}{fraction}",
        st.integers(min_value=-(10**6), max_value=10**12),
        st.integers(min_value=0, max_value=10**40),
        st.sampled_from([".", ","]),
    ),
    # Never a Luhn-valid 13-19 digit run: the app rightly stores what a user types in a name, and
    # the suite's check that no card data is stored (tests/conftest.py) must keep meaning something.
).filter(lambda value: not card_data_in(value))


# -- the forms on the pages -------------------------------------------------------------------------------


class FormReader(HTMLParser):
    """Every POST form: its action and its fields with their current values (as a browser would send)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self.current: dict[str, list[str]] | None = None
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            action = urlsplit(attrs.get("action") or self.page_url).path
            self.current = {}
            self.forms.append((action, self.current))
        if self.current is None or not attrs.get("name"):
            return
        name = attrs["name"]
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                self.current.setdefault(name, [])
                if "checked" in attrs:
                    self.current[name].append(attrs.get("value") or "on")
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.current.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "textarea":
            self.textarea = name
            self.current.setdefault(name, []).append("")
        elif tag == "select":
            self.select, self.select_first, self.select_chosen = name, None, False
            self.current.setdefault(name, [])
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in attrs:
                self.current[self.select].append(value)
                self.select_chosen = True

    def handle_data(self, data):
        if self.current is not None and self.textarea:
            self.current[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.current is not None and self.select:
            if not self.select_chosen and self.select_first is not None:
                self.current[self.select].append(self.select_first)
            self.select = None


def forms_on(html: str, page_url: str) -> list[tuple[str, dict[str, list[str]]]]:
    reader = FormReader(page_url)
    reader.feed(html)
    return reader.forms


def crawl(app, world, client) -> dict[str, dict[str, list[str]]]:
    """Action path -> the fields (and page values) of a form posting there, on any page ``client`` sees."""
    found: dict[str, dict[str, list[str]]] = {}
    for rule in rules(app):
        if "GET" not in rule.methods or access_of(rule) == "exempt":
            continue
        url = url_for_rule(rule, world)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for action, fields in forms_on(response.text, url):
            merged = found.setdefault(action, {})
            for name, values in fields.items():
                merged.setdefault(name, values)
    return found


def who(rule: Rule) -> str:
    """The user a rule is for (an organizer's rule falls back to the administrator: /coupons/prepaid)."""
    return {"admin": "admin", "organizer": "organizer", "public": "guest", "exempt": "guest"}[access_of(rule)]


# -- what "whole" means -------------------------------------------------------------------------------------

INVARIANTS = {
    "a session's seat count is its held and confirmed registrations": """
        SELECT t.id FROM training_sessions t WHERE t.seats_taken != (
            SELECT COUNT(*) FROM registrations r
            WHERE r.training_session_id = t.id AND r.status IN ('pending_payment', 'confirmed'))""",
    "a held registration has its expiry, a confirmed one its time": """
        SELECT id FROM registrations
        WHERE (status = 'pending_payment' AND hold_expires_at IS NULL)
           OR (status = 'confirmed' AND confirmed_at IS NULL)
           OR TRIM(name) = '' OR TRIM(email) = ''""",
    "a coupon's uses are its live redemptions": """
        SELECT c.id FROM coupons c WHERE c.uses != (
            SELECT COUNT(*) FROM coupon_redemptions r
            WHERE r.coupon_id = c.id AND r.status IN ('reserved', 'committed'))""",
    "a coupon has a code and the value its kind needs": """
        SELECT id FROM coupons WHERE TRIM(code) = ''
           OR (kind = 'percent' AND percent IS NULL)
           OR (kind = 'fixed' AND (amount_cents IS NULL OR currency IS NULL))""",
    "a coupon delivery has its message": """
        SELECT d.id FROM coupon_deliveries d LEFT JOIN outbox_messages m ON m.id = d.outbox_message_id
        WHERE m.id IS NULL""",
    "a prepayment has its coupon": """
        SELECT p.id FROM prepayments p
        WHERE NOT EXISTS (SELECT 1 FROM coupons c WHERE c.prepayment_id = p.id)""",
    "a session has a title, an organizer and a currency": """
        SELECT id FROM training_sessions WHERE TRIM(title) = '' OR organizer_id IS NULL
           OR LENGTH(currency) != 3""",
    "a user has an email": "SELECT id FROM users WHERE TRIM(email) = ''",
    "a message has a recipient and a subject": """
        SELECT id FROM outbox_messages WHERE TRIM(to_email) = '' OR subject IS NULL""",
    "a payment is for a positive amount": "SELECT id FROM payments WHERE amount_cents <= 0",
    "one open attempt per purchase": """
        SELECT MIN(id) FROM payments WHERE status IN ('pending', 'processing', 'unknown')
        GROUP BY purpose, reference HAVING COUNT(*) > 1""",
    "a registration's payment is its own": """
        SELECT r.id FROM registrations r JOIN payments p ON p.id = r.payment_id
        WHERE p.reference != 'registration:' || CAST(r.id AS VARCHAR(20))""",
}


def half_written(app) -> list[str]:
    with app.app_context():
        try:
            return [
                f"{rule}: rows {ids}"
                for rule, sql in INVARIANTS.items()
                if (ids := db.session.scalars(text(sql)).all())
            ]
        finally:
            db.session.remove()


# -- the fuzzing --------------------------------------------------------------------------------------------


def form_strategy(fields: dict[str, list[str]]):
    """Each field keeps its page value (one of them) or takes a hostile one; or is left out."""
    drawn = {}
    for name, values in fields.items():
        if name == "csrf_token":
            continue
        page_value = st.just(values if values else [])
        hostile = st.one_of(VALUES.map(lambda value: [value]), st.lists(VALUES, min_size=2, max_size=3))
        drawn[name] = st.one_of(page_value, hostile, hostile, st.just(None))
    return st.fixed_dictionaries(drawn)


# Values that break parsers rather than rules: each is sent alone in every field of every form, beside
# the page's values, before the random combinations (which found ``int("9" * 100_000)`` only sometimes).
PARSER_BREAKERS = ["9" * HUGE, str(2**63), str(-(10**30)), "1e309", "NaN", "\x00", "١٢"]


def fuzz_rule(app, rule: Rule, url: str, client, token: str | None, fields, failures: list[str]) -> int:
    tried, found = [], []

    def fail(message: str):
        found.append(message)
        raise AssertionError(message)

    def send(form: dict, htmx: bool):
        data = [(name, value) for name, values in form.items() if values is not None for value in values]
        if token is not None:
            data.append(("csrf_token", token))
        headers = {"HX-Request": "true"} if htmx else {}
        try:
            response = client.post(url, data=MultiDict(data), headers=headers)
            response.get_data()
        except Exception as exc:  # noqa: BLE001 - TESTING propagates what would be a 500
            fail(f"POST {rule.rule} ({rule.endpoint}) raised {exc!r} with {summary(form)}")
        tried.append(response.status_code)
        label = f"POST {rule.rule} ({rule.endpoint}) {response.status_code} with {summary(form)}"
        if response.status_code >= 500:
            fail(label)
        return response, label

    def sweep():
        page_values = {name: values for name, values in fields.items() if name != "csrf_token"}
        for name in page_values:
            for value in PARSER_BREAKERS:
                send({**page_values, name: [value]}, htmx=False)
        problems = half_written(app)
        if problems:
            fail(f"POST {rule.rule} ({rule.endpoint}) with one field broken at a time left {problems}")

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: every try is two table dumps; the report shows the form
        suppress_health_check=list(HealthCheck),
    )
    @given(form=form_strategy(fields), htmx=st.booleans())
    def post(form, htmx):
        before = snapshot(app)
        response, label = send(form, htmx)
        if response.status_code >= 400:
            allowed = WRITTEN_WHEN_REFUSED.get(rule.endpoint, (set(), ""))[0]
            changed = set(changed_tables(before, snapshot(app))) - allowed
            if changed:
                fail(f"{label} refused but changed {sorted(changed)}")
        problems = half_written(app)
        if problems:
            fail(f"{label} left {problems}")
        after = snapshot(app)
        stored = {table: [row for row in rows if card_data_in(row)] for table, rows in after.items()}
        if any(stored.values()):
            fail(f"{label} stored card data or a nonce: { {t: r for t, r in stored.items() if r} }")

    try:
        sweep()
        post()
    except Exception as exc:  # noqa: BLE001 - collected: every rule is fuzzed before the test fails
        failures.append(found[0] if found else f"{rule.endpoint}: {type(exc).__name__}: {str(exc)[:1500]}")
    return len(tried)


def summary(form: dict) -> str:
    def short(value: str) -> str:
        return repr(value if len(value) <= 40 else f"{value[:20]}...({len(value)} chars)")

    return "{" + ", ".join(f"{name}: {[short(v) for v in values] if values is not None else 'absent'}"
                           for name, values in form.items()) + "}"  # fmt: skip


def test_every_form_field_survives_hostile_values(app, world):
    assert not half_written(app), "the fixture's world itself breaks an invariant"
    clients = {
        "admin": signed_in(app, "admin@example.com"),
        "organizer": signed_in(app, "organizer@example.com"),
        "guest": app.test_client(),
    }
    tokens = {
        name: csrf_from(client.get("/login", follow_redirects=True).text) for name, client in clients.items()
    }
    found = {name: crawl(app, world, client) for name, client in clients.items()}
    failures, missing, posted, timings = [], [], 0, {}
    post_rules = [rule for rule in rules(app) if "POST" in methods(rule)]
    for rule in sorted(
        post_rules, key=lambda r: (r.endpoint.endswith(LAST), r.endpoint == "accounts.logout")
    ):
        url = url_for_rule(rule, world)
        path = urlsplit(url).path
        user = who(rule)
        fields = found[user].get(path)
        if fields is None and user != "admin" and path in found["admin"]:
            user, fields = "admin", found["admin"][path]  # /coupons/prepaid; /logout, fuzzed last
        if fields is None and rule.endpoint in FIELDS_ELSEWHERE:
            fields = {name: [] for name in FIELDS_ELSEWHERE[rule.endpoint]}
        if fields is None:
            missing.append(f"{rule.endpoint} ({url})")
            continue
        exempt_csrf = "csrf" in EXEMPT.get(rule.endpoint, (set(), ""))[0]
        started = time.perf_counter()
        posted += fuzz_rule(
            app, rule, url, clients[user], None if exempt_csrf else tokens[user], fields, failures
        )
        timings[rule.endpoint] = round(time.perf_counter() - started, 2)
    print("seconds per rule:", sorted(timings.items(), key=lambda item: -item[1]))
    problems = failures + (
        [f"forms found on no page (add them to FIELDS_ELSEWHERE): {missing}"] if missing else []
    )
    assert not problems, "\n\n".join(problems)
    assert posted >= EXAMPLES * 10
