"""Route-wide checks (issue #10, point 2): every rule of ``app.url_map``, so a new route is covered
automatically, or makes these tests fail until it is taught here.

- every state-changing route refuses a missing, forged or foreign CSRF token and changes nothing;
- no GET changes the database (anonymous, organizer, admin);
- organizer and admin routes send anonymous visitors to the login page, and answer 404 to an
  organizer asking for another organizer's objects or for an administrator's page;
- every HTML response carries the security headers (HSTS exactly when HTTPS is configured).

Exemptions live in ``EXEMPT`` only, each with its reason; naming a route that no longer exists fails.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from werkzeug.routing import Rule

from portal import create_app
from portal.accounts import services as accounts
from portal.accounts.invitations import invitation_token
from portal.accounts.models import Role
from portal.billing import services as billing
from portal.coupons import services as coupons
from portal.coupons.services import CouponInput
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.registration import services as registration
from portal.registration.links import manage_token
from tests.conftest import app_lifecycle, csrf_from, login, make_config
from tests.factories import enable_ecommerce, make_training, make_user

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

# The one allow-list: endpoint -> (checks it is exempt from, why). Checks: "csrf", "login".
EXEMPT = {
    "payments.webhook": (
        {"csrf", "login"},
        "Braintree's server posts it: authenticated by the payload's HMAC signature (bt_signature), "
        "which a browser cannot forge, instead of a session and CSRF token.",
    ),
    "payments.hosted_return": (
        {"csrf", "login"},
        "The gateway's payment page posts the payer back from its own origin, without our cookies: "
        "only the secure token id is read, and the sale is looked up by our own inquiry, never taken "
        "from the post (a forged post can only make us ask the gateway).",
    ),
    "payments.hosted_silent_post": (
        {"csrf", "login"},
        "Payflow's server posts the result server to server; as for the return, nothing posted is "
        "believed: our inquiry to the gateway decides.",
    ),
    "payments.hosted_cancel": (
        {"csrf", "login"},
        "The gateway's page sends the payer back after Cancel: it changes nothing, only redirects.",
    ),
    "users_admin.accept_invitation": (
        {"login"},
        "The invited person has no password yet: the signed, expiring invitation token in the URL is "
        "the credential (CSRF still applies).",
    ),
    "health.healthz": ({"login"}, "Liveness probe for the load balancer: GET only, no data."),
    "health.readyz": ({"login"}, "Readiness probe (database reachable): GET only, no data."),
    "bench_hello": ({"login"}, "Benchmark baseline (only with BENCH=True): a constant string."),
    "index": ({"login"}, "Redirects to the login page or to the user's home; shows nothing."),
}

# Who may use each blueprint's routes. A new blueprint must be added here (a test fails otherwise).
#   admin: administrators only; organizer: any signed-in user, each seeing their own objects;
#   public: anyone (login, guest registration through signed links); exempt: every route in EXEMPT.
# Any rule under /admin is an administrator's route, whatever its blueprint.
BLUEPRINT_ACCESS = {
    "accounts": "public",
    "registration": "public",
    "trainings": "organizer",
    "registrants": "organizer",
    "billing": "organizer",
    "coupons": "organizer",
    "billing_admin": "organizer",
    "reports": "organizer",
    "admin": "admin",
    "users_admin": "admin",
    "payments": "admin",
    "health": "exempt",
    None: "exempt",  # routes on the app itself: index, bench_hello
}

# Which token a rule's ``<token>`` argument takes.
TOKEN_KINDS = {
    "registration.public_session": "public",
    "registration.register": "public",
    "registration.manage": "manage",
    "registration.cancel": "manage",
    "registration.apply_coupon": "manage",
    "registration.remove_coupon": "manage",
    "registration.pay": "manage",
    "users_admin.accept_invitation": "invitation",
}

# Arguments that name an object belonging to one organizer (filled with the other's for the 404 check).
OWNED = {"session_id", "registration_id", "coupon_id", "delivery_id", "payment_id"}
# Arguments that name an object of the whole site (administrators' pages only).
SHARED = {"department_id", "user_id", "message_id"}


@pytest.fixture
def app(migrated_url, payments_sandbox, tmp_path):
    """Every route the app can have (BENCH adds /bench/hello); the login limit out of the way."""
    payments_sandbox.clear_faults()
    yield from app_lifecycle(config(migrated_url, payments_sandbox, tmp_path))


def config(url, sandbox, tmp_path, **extra):
    return make_config(
        url,
        sandbox,
        BENCH=True,
        INSTANCE_PATH=str(tmp_path),
        LOGIN_RATE_LIMIT="10000 per minute",
        COUPON_RATE_LIMIT="10000 per minute",
        **extra,
    )


@dataclass
class Owned:
    organizer: int
    department: int
    session: int
    registration: int
    coupon: int
    delivery: int
    payment: int
    public_token: str
    manage_token: str


@dataclass
class World:
    owned: dict[str, Owned]  # "a" / "b" -> each organizer's objects
    department: int
    user: int
    message: int
    invitation_token: str


def _organizer_objects(email: str, department: str) -> Owned:
    organizer = make_user(email, department=department)
    training = make_training(organizer, fee_cents=4900)
    guest = registration.register(training, registration.GuestDetails("Gina Guest", f"guest-{email}"))
    batch = f"batch-{organizer.id}"
    coupon = coupons.create_coupon(
        CouponInput(kind="percent", percent=Decimal("10"), organizer_id=organizer.id, batch=batch), organizer
    )
    (delivery,) = coupons.distribute(
        batch, [(f"friend-{email}", "Friend")], "Your code {code}", "Use {code}", "", False, organizer
    )
    payment = billing.checkout(training)
    return Owned(
        organizer=organizer.id,
        department=organizer.department_id,
        session=training.id,
        registration=guest.id,
        coupon=coupon.id,
        delivery=delivery.id,
        payment=payment.id,
        public_token=training.public_token,
        manage_token=manage_token(guest.id),
    )


@pytest.fixture
def world(app) -> World:
    """Two organizers with one of everything each, an administrator, an invitation waiting."""
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        a = _organizer_objects("organizer@example.com", "Sales")
        b = _organizer_objects("other@example.com", "Engineering")
        invited = accounts.invite_user("invited@example.com", name="Ivy Invited")
        return World(
            owned={"a": a, "b": b},
            department=b.department,
            user=b.organizer,
            message=db.session.scalar(db.select(db.func.min(OutboxMessage.id))),
            invitation_token=invitation_token(invited),
        )


# -- the route list -------------------------------------------------------------------------------------


def rules(app) -> list[Rule]:
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"), key=lambda r: r.rule)


def access_of(rule: Rule) -> str:
    if rule.rule == "/admin" or rule.rule.startswith("/admin/"):
        return "admin"
    blueprint = rule.endpoint.rpartition(".")[0] or None
    return BLUEPRINT_ACCESS[blueprint]


def exempt(rule: Rule, check: str) -> bool:
    return check in EXEMPT.get(rule.endpoint, (set(), ""))[0]


def methods(rule: Rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


class UnknownArgument(LookupError):
    pass


def url_for_rule(rule: Rule, world: World, owner: str = "a") -> str:
    """A concrete URL for ``rule``, its arguments filled with real objects (``owner``'s own ones)."""
    objects = world.owned[owner]
    values = {}
    for name in rule.arguments:
        if name == "token":
            kind = TOKEN_KINDS.get(rule.endpoint)
            if kind is None:
                raise UnknownArgument(
                    f"{rule.endpoint}: which token does <token> take? Add it to TOKEN_KINDS"
                )
            values[name] = {
                "public": objects.public_token,
                "manage": objects.manage_token,
                "invitation": world.invitation_token,
            }[kind]
        elif name in OWNED:
            values[name] = getattr(objects, name.removesuffix("_id"))
        elif name in SHARED:
            values[name] = getattr(world, name.removesuffix("_id"))
        else:
            raise UnknownArgument(f"{rule.endpoint}: no fixture object for <{name}>: teach test_routes.py")
    return rule.build(values, append_unknown=False)[1]


def snapshot(app) -> dict[str, list]:
    """Every row of every table, sorted: two equal snapshots mean nothing was written."""
    with app.app_context():
        try:
            return {
                table.name: sorted(repr(tuple(row)) for row in db.session.execute(table.select()))
                for table in db.metadata.sorted_tables
            }
        finally:
            db.session.remove()


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def signed_in(app, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 303
    return client


def anonymous_with_token(app):
    """An anonymous visitor who has been on a page: a session cookie holding a CSRF secret."""
    client = app.test_client()
    return client, csrf_from(client.get("/login").text)


# -- the list itself ------------------------------------------------------------------------------------


def test_every_blueprint_is_classified(app):
    unknown = {r.endpoint.rpartition(".")[0] or None for r in rules(app)} - BLUEPRINT_ACCESS.keys()
    assert not unknown, f"new blueprints: say who may use them in BLUEPRINT_ACCESS: {unknown}"
    loose = [r.endpoint for r in rules(app) if access_of(r) == "exempt" and r.endpoint not in EXEMPT]
    assert not loose, f"routes of an 'exempt' blueprint missing from EXEMPT (with a reason): {loose}"


def test_the_allow_list_names_only_existing_routes(app):
    endpoints = {r.endpoint for r in rules(app)}
    for endpoint, (checks, reason) in EXEMPT.items():
        assert checks and checks <= {"csrf", "login"} and len(reason) > 20, endpoint
    stale = [endpoint for endpoint in EXEMPT if endpoint not in endpoints]
    assert not stale, f"EXEMPT names routes that no longer exist: {stale}"
    assert {"payments.webhook", "bench_hello", "health.healthz"} <= endpoints  # the enumeration works


def test_every_route_argument_can_be_filled(app, world):
    unknown = []
    for rule in rules(app):
        try:
            url_for_rule(rule, world)
        except UnknownArgument as exc:
            unknown.append(str(exc))
    assert not unknown, unknown


# -- CSRF -----------------------------------------------------------------------------------------------


def csrf_refused(response, htmx: bool) -> bool:
    if response.status_code != 400:
        return False
    if htmx:
        return response.headers.get("HX-Refresh") == "true"
    return "Form expired" in response.text


def test_every_state_changing_route_refuses_a_missing_or_wrong_csrf_token(app, world):
    admin = signed_in(app, "admin@example.com")
    guest, _ = anonymous_with_token(app)
    _, foreign = anonymous_with_token(app)  # a genuine token, but of someone else's session
    checked, failures = 0, []
    for rule in rules(app):
        writes = methods(rule) & WRITE_METHODS
        if not writes or exempt(rule, "csrf"):
            continue
        url = url_for_rule(rule, world)
        clients = [("admin", admin)] + ([("guest", guest)] if access_of(rule) == "public" else [])
        for method in sorted(writes):
            for who, client in clients:
                for label, data, htmx in [
                    ("no token", {}, False),
                    ("no token, htmx", {}, True),
                    ("forged token", {"csrf_token": "forged"}, False),
                    ("another session's token", {"csrf_token": foreign}, False),
                    ("another session's token, htmx", {"csrf_token": foreign}, True),
                ]:
                    before = snapshot(app)
                    headers = {"HX-Request": "true"} if htmx else {}
                    response = client.open(url, method=method, data={"name": "x", **data}, headers=headers)
                    changed = changed_tables(before, snapshot(app))
                    checked += 1
                    if not csrf_refused(response, htmx) or changed:
                        failures.append(
                            f"{method} {rule.rule} ({rule.endpoint}) as {who}, {label}: "
                            f"{response.status_code}, tables changed: {changed}"
                        )
    assert checked > 100
    assert not failures, "\n".join(failures)


# -- GET never writes; security headers -----------------------------------------------------------------

REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def header_problems(response, https: bool) -> list[str]:
    headers = response.headers
    problems = []
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if ("Strict-Transport-Security" in headers) != https:
        problems.append("HSTS " + ("missing" if https else "sent without HTTPS"))
    elif https and "max-age=" not in headers["Strict-Transport-Security"]:
        problems.append("HSTS without max-age")
    if response.mimetype != "text/html":
        return problems
    csp = headers.get("Content-Security-Policy")
    if not csp:
        return [*problems, "no CSP"]
    directives = {}
    for part in csp.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    script_src = directives.get("script-src", directives.get("default-src", []))
    if "'unsafe-inline'" in script_src or "*" in script_src or not script_src:
        problems.append(f"script-src too loose: {script_src}")
    if "'unsafe-eval'" in csp:
        problems.append("unsafe-eval in CSP")
    if directives.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors {directives.get('frame-ancestors')}")
    if headers.get("Referrer-Policy") not in REFERRER_POLICIES:
        problems.append(f"Referrer-Policy {headers.get('Referrer-Policy')}")
    return problems


def get_every_route(app, world, client, who: str, https: bool = False) -> tuple[list[str], dict]:
    """GET every GET rule as ``client``; failures (writes, 5xx, headers) and the status of each URL."""
    failures, statuses = [], {}
    for rule in rules(app):
        if "GET" not in rule.methods:
            continue
        url = url_for_rule(rule, world)
        for htmx in (False, True):
            before = snapshot(app)
            try:
                response = client.get(url, headers={"HX-Request": "true"} if htmx else {})
                response.get_data()  # a streamed body runs its queries now
            except Exception as exc:  # noqa: BLE001 - a GET that writes raises on SQLite (query_only)
                failures.append(f"GET {url} ({rule.endpoint}) as {who}: raised {exc!r}")
                continue
            label = f"GET {url} ({rule.endpoint}) as {who}{', htmx' if htmx else ''}: {response.status_code}"
            statuses[url, htmx] = response.status_code
            changed = changed_tables(before, snapshot(app))
            if changed:
                failures.append(f"{label} changed {changed}")
            if response.status_code >= 500:
                failures.append(f"{label} server error")
            failures.extend(f"{label} {problem}" for problem in header_problems(response, https))
    return failures, statuses


def test_no_get_changes_the_database_and_every_response_carries_the_security_headers(app, world):
    failures = []
    everyone = [
        ("anonymous", app.test_client()),
        ("organizer", signed_in(app, "organizer@example.com")),
        ("admin", signed_in(app, "admin@example.com")),
    ]
    seen = {}
    for who, client in everyone:
        found, statuses = get_every_route(app, world, client, who)
        failures += found
        seen[who] = statuses
    assert not failures, "\n".join(failures)
    # The sweep saw real pages, redirects and error pages, not only one kind of answer.
    assert {200, 302, 404} <= set(seen["organizer"].values())
    assert sum(status == 200 for status in seen["admin"].values()) > 40


def https_client(app):
    """A browser on https://localhost (the Secure cookie goes back; CSRF's strict Referer check passes)."""
    client = app.test_client()
    client.environ_base.update({"wsgi.url_scheme": "https", "HTTP_REFERER": "https://localhost/"})
    return client


def test_https_sites_send_hsts_on_every_response(app, world, migrated_url, payments_sandbox, tmp_path):
    https = create_app(config(migrated_url, payments_sandbox, tmp_path, HTTPS=True))
    try:
        admin, anonymous = https_client(https), https_client(https)
        assert login(admin, "admin@example.com").status_code == 303
        failures = []
        for who, client in [("anonymous", anonymous), ("admin", admin)]:
            failures += get_every_route(https, world, client, who, https=True)[0]
        assert not failures, "\n".join(failures)
    finally:
        with https.app_context():
            db.session.remove()
            db.engine.dispose()


# -- who may use what -----------------------------------------------------------------------------------


def test_organizer_and_admin_routes_send_anonymous_visitors_to_the_login_page(app, world):
    client, token = anonymous_with_token(app)
    failures, checked = [], 0
    for rule in rules(app):
        if access_of(rule) not in ("organizer", "admin") or exempt(rule, "login"):
            continue
        url = url_for_rule(rule, world)
        for method in sorted(methods(rule)):
            data = {"csrf_token": token} if method in WRITE_METHODS else None
            before = snapshot(app)
            page = client.open(url, method=method, data=data)
            htmx = client.open(url, method=method, data=data, headers={"HX-Request": "true"})
            changed = changed_tables(before, snapshot(app))
            checked += 1
            to_login = page.status_code == 302 and page.headers["Location"].startswith("/login?next=")
            htmx_to_login = htmx.status_code == 401 and htmx.headers.get("HX-Redirect", "").startswith(
                "/login?next="
            )
            if not (to_login and htmx_to_login) or changed:
                failures.append(
                    f"{method} {url} ({rule.endpoint}): {page.status_code} "
                    f"{page.headers.get('Location')}, htmx {htmx.status_code}, changed {changed}"
                )
    assert checked > 50
    assert not failures, "\n".join(failures)


def test_organizers_get_404_for_admin_routes_and_for_other_organizers_objects(app, world):
    organizer = signed_in(app, "organizer@example.com")
    token = csrf_from(organizer.get("/sessions/new").text)
    failures, checked = [], {"admin": 0, "other": 0}
    for rule in rules(app):
        access = access_of(rule)
        if exempt(rule, "login"):
            continue
        if access == "admin":
            kind, url = "admin", url_for_rule(rule, world)
        elif access == "organizer" and OWNED & rule.arguments:
            kind, url = "other", url_for_rule(rule, world, owner="b")
            if "GET" in rule.methods:  # the same page of their own is there: the 404 is about ownership
                own = organizer.get(url_for_rule(rule, world, owner="a")).status_code
                if own not in (200, 302, 303):
                    failures.append(f"GET {rule.rule} ({rule.endpoint}) of their own: {own}")
        else:
            continue
        for method in sorted(methods(rule)):
            data = {"csrf_token": token, "name": "x"} if method in WRITE_METHODS else None
            before = snapshot(app)
            response = organizer.open(url, method=method, data=data)
            changed = changed_tables(before, snapshot(app))
            checked[kind] += 1
            if response.status_code != 404 or changed:
                failures.append(
                    f"{method} {url} ({rule.endpoint}): {response.status_code}, changed {changed}"
                )
    assert checked["admin"] > 30 and checked["other"] > 15, checked
    assert not failures, "\n".join(failures)
