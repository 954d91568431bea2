"""Coupon administration pages: create, edit, bulk, CSV, email distribution, prepaid coupons, reports."""

import email
import html
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from email import policy

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.admin.models import AuditEntry
from portal.coupons import services
from portal.coupons.models import Coupon, CouponDelivery, CouponRedemption, Prepayment
from portal.coupons.rules import CODE_ALPHABET
from portal.database import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.trainings.models import TrainingSession
from tests.conftest import count_queries, csrf_from, login, queries_and_body
from tests.factories import enable_ecommerce, make_training, make_user, set_settings

COUPON = {
    "code": "",
    "kind": "percent",
    "value": "10",
    "max_uses": "1",
    "max_uses_per_email": "",
    "valid_from": "",
    "valid_until": "",
    "bound_email": "",
    "batch": "",
    "note": "",
    "active": "y",
}


@pytest.fixture
def site(app):
    """Coupons on (USD), an admin, two organizers with one upcoming session each."""
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        mine = make_user("organizer@example.com")
        theirs = make_user("organizer2@example.com", department="Engineering")
        ids = {
            "admin": admin.id,
            "organizer": mine.id,
            "organizer2": theirs.id,
            "mine": make_training(mine, title="My workshop", fee_cents=8000).id,
            "theirs": make_training(theirs, title="Their workshop", fee_cents=8000).id,
        }
    return ids


@pytest.fixture
def admin(client, site):
    login(client, "admin@example.com")
    return client


@pytest.fixture
def organizer(client, site):
    login(client, "organizer@example.com")
    return client


@pytest.fixture
def outbox_dir(app, tmp_path):
    app.instance_path = str(tmp_path)
    return tmp_path / "outbox"


def post_form(client, url, data, files=None):
    page = client.get(url)
    assert page.status_code == 200, url
    payload = {**data, "csrf_token": csrf_from(page.text)}
    if files:
        payload.update(files)
    return client.post(url, data=payload, content_type="multipart/form-data" if files else None)


def post_coupon(client, url="/coupons/new", **fields):
    return post_form(client, url, {**COUPON, **fields})


def post_action(client, url):
    token = csrf_from(client.get("/coupons/").text)
    return client.post(url, data={"csrf_token": token})


def make_coupon(app, site, actor="admin", **fields) -> int:
    with app.app_context():
        user = db.session.get(services.User, site[actor])
        data = services.CouponInput(**{"kind": "percent", "percent": Decimal("10"), **fields})
        return services.create_coupon(data, user).id


def coupon_by_code(app, code: str) -> Coupon:
    with app.app_context():
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == code))
        if coupon is not None:
            coupon.sessions  # noqa: B018  (loaded before the session closes)
            db.session.expunge(coupon)
        return coupon


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def redeem(app, site, code, reference, email="guest@example.com", commit=False):
    with app.app_context():
        training = db.session.get(TrainingSession, site["mine"])
        redemption = services.reserve(code, training, email, reference)
        assert isinstance(redemption, CouponRedemption), redemption
        if commit:
            assert services.commit(reference)
        db.session.commit()


def codes_listed(html: str) -> list[str]:
    return re.findall(r'<tr data-code="([A-Z0-9]+)">', html)


def error_of(page: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page)
    assert match, f"no error shown for {field_id}"
    return html.unescape(match.group(1))


def emails_in(outbox_dir) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(outbox_dir.glob("*.eml"))
    ]


# -- stable hooks, create, list ------------------------------------------------------------------------


def test_coupons_page_has_the_nav_link_the_new_coupon_link_and_the_stable_labels(admin):
    listing = admin.get("/coupons/")
    assert listing.status_code == 200
    assert '<a href="/coupons/">Coupons</a>' in listing.text
    assert '<a href="/coupons/new">New coupon</a>' in listing.text
    for link in (
        "Generate codes",
        "Import CSV",
        "Export CSV",
        "Send by email",
        "Prepaid coupons",
        "Coupon report",
    ):
        assert f">{link}</a>" in listing.text
    form = admin.get("/coupons/new").text
    for field_id, label in [
        ("code", "Code"),
        ("kind", "Discount type"),
        ("value", "Value"),
        ("max_uses", "Maximum uses"),
        ("max_uses_per_email", "Maximum uses per email"),
        ("valid_from", "Valid from"),
        ("valid_until", "Valid until"),
        ("bound_email", "Bound to email"),
        ("batch", "Batch"),
    ]:
        assert f'<label for="{field_id}">{label}</label>' in form
    assert '<option selected value="percent">Percent</option>' in form
    assert '<option value="fixed">Fixed amount</option>' in form
    assert '<option value="free">Free</option>' in form
    assert '<button type="submit">Save</button>' in form
    assert 'name="csrf_token"' in form


def test_organizers_see_the_coupons_link_but_not_prepaid_coupons(organizer):
    listing = organizer.get("/coupons/").text
    assert '<a href="/coupons/">Coupons</a>' in listing
    assert "Prepaid coupons" not in listing
    assert organizer.get("/coupons/prepaid").status_code == 404


def test_admin_creates_percent_fixed_and_free_coupons_and_sees_them_listed(app, admin):
    for fields in (
        {"code": "spring-10", "kind": "percent", "value": "12.5", "max_uses": "50", "batch": "spring"},
        {
            "code": "Fifteen Off",
            "kind": "fixed",
            "value": "15.00",
            "max_uses": "3",
            "max_uses_per_email": "1",
        },
        {"code": "freepass", "kind": "free", "value": "", "bound_email": "Vip@Example.com"},
    ):
        response = post_coupon(admin, **fields)
        assert response.status_code == 303
        assert re.fullmatch(r"/coupons/\d+", response.headers["Location"])
    listing = admin.get("/coupons/").text
    assert codes_listed(listing) == ["FREEPASS", "FIFTEENOFF", "SPRING10"]  # newest first
    assert "12.5 %" in listing and "$15.00" in listing and "vip@example.com" in listing
    assert "0 / 50" in listing and "0 / 3" in listing
    assert 'data-total="3"' in listing
    percent, fixed, free = (coupon_by_code(app, code) for code in ("SPRING10", "FIFTEENOFF", "FREEPASS"))
    assert (percent.kind, percent.percent, percent.max_uses, percent.batch) == (
        "percent",
        Decimal("12.5"),
        50,
        "spring",
    )
    assert (fixed.kind, fixed.amount_cents, fixed.currency, fixed.max_uses_per_email) == (
        "fixed",
        1500,
        "USD",
        1,
    )
    assert (free.kind, free.percent, free.amount_cents, free.bound_email) == (
        "free",
        None,
        None,
        "vip@example.com",
    )
    assert percent.organizer_id is None and percent.active is True
    detail = admin.get(f"/coupons/{free.id}").text
    assert '<code id="coupon-code">FREEPASS</code>' in detail
    assert '<tr data-action="coupon.created">' in detail and "admin@example.com" in detail


def test_an_empty_code_is_generated_and_times_are_read_in_the_viewers_zone(app, admin):
    admin.set_cookie("portal_tz", "Europe/Paris")
    response = post_coupon(admin, valid_from="2030-01-15T09:30", valid_until="2030-02-01T00:00")
    assert response.status_code == 303
    coupon_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        coupon = db.session.get(Coupon, coupon_id)
        assert len(coupon.code) == 10 and set(coupon.code) <= set(CODE_ALPHABET)
        assert coupon.valid_from.isoformat() == "2030-01-15T08:30:00+00:00"
        assert coupon.valid_until.isoformat() == "2030-01-31T23:00:00+00:00"
    edit = admin.get(f"/coupons/{coupon_id}/edit").text
    assert 'value="2030-01-15T09:30"' in edit and 'value="2030-02-01T00:00"' in edit


@pytest.mark.parametrize(
    "fields, field_id, message",
    [
        ({"value": "101"}, "value", "A percentage must be between 0 and 100."),
        ({"value": "2.555"}, "value", "A percentage has at most two decimal places, such as 12.5 or 33.33."),
        ({"kind": "fixed", "value": "-5"}, "value", "Enter zero or a positive amount."),
        ({"kind": "fixed", "value": "1.234"}, "value", "USD amounts have at most 2 decimal places."),
        ({"kind": "percent", "value": ""}, "value", "Enter the percentage to take off, between 0 and 100."),
        (
            {"max_uses": "2", "max_uses_per_email": "3"},
            "max_uses_per_email",
            "The maximum per email cannot be higher than the maximum uses.",
        ),
        (
            {"valid_from": "2030-01-02T10:00", "valid_until": "2030-01-01T10:00"},
            "valid_until",
            "The coupon must stop being valid after it starts being valid.",
        ),
        (
            {"code": "no_underscores"},
            "code",
            "Codes use letters A-Z and digits only (spaces and dashes are removed).",
        ),
        ({"bound_email": "not an email"}, "bound_email", "Enter a valid email address."),
    ],
)
def test_invalid_coupons_are_refused_with_a_message_and_every_value_kept(
    app, admin, fields, field_id, message
):
    typed = {"code": "KEEPME", "batch": "kept-batch", "note": "kept note", **fields}
    response = post_coupon(admin, **typed)
    assert response.status_code == 422
    assert error_of(response.text, field_id) == message
    for name in ("code", "batch", "value", "valid_from", "valid_until", "bound_email"):
        if typed.get(name):
            assert f'value="{typed[name]}"' in response.text, name
    assert "kept note</textarea>" in response.text
    assert count(app, Coupon) == 0


def test_a_duplicate_code_is_refused_whatever_its_case(app, admin):
    assert post_coupon(admin, code="SUMMER-24").status_code == 303
    response = post_coupon(admin, code="summer 24", value="20")
    assert response.status_code == 422
    assert error_of(response.text, "code") == (
        "Another coupon already has this code (codes ignore case, spaces and dashes)."
    )
    assert 'value="summer 24"' in response.text and 'value="20"' in response.text
    assert count(app, Coupon) == 1


def test_a_french_viewer_types_a_decimal_comma(app, admin):
    admin.set_cookie("portal_lang", "fr")
    assert post_coupon(admin, code="VIRGULE", value="12,5").status_code == 303
    assert coupon_by_code(app, "VIRGULE").percent == Decimal("12.5")
    assert "12,5" in admin.get("/coupons/").text
    for url in ("/coupons/new", "/coupons/generate", "/coupons/import", "/coupons/send", "/coupons/prepaid"):
        assert admin.get(url).status_code == 200, url
    assert admin.get("/coupons/report?by=coupon").status_code == 200


# -- edit, deactivate, delete --------------------------------------------------------------------------


def test_edit_keeps_values_and_refuses_maximum_uses_below_the_uses_taken(app, admin, site):
    coupon_id = make_coupon(app, site, code="TEAM", max_uses=3, batch="b1")
    redeem(app, site, "TEAM", "registration:1", "a@example.com")
    redeem(app, site, "TEAM", "registration:2", "b@example.com")
    page = admin.get(f"/coupons/{coupon_id}/edit").text
    assert re.search(r'<input [^>]*id="code"[^>]* readonly type="text" value="TEAM">', page)
    assert 'value="10"' in page and 'value="3"' in page and 'value="b1"' in page
    response = post_coupon(
        admin, f"/coupons/{coupon_id}/edit", code="TEAM", value="15", max_uses="1", batch="b1"
    )
    assert response.status_code == 422
    assert (
        error_of(response.text, "max_uses")
        == "The maximum uses cannot be lower than the 2 uses already taken."
    )
    assert 'value="15"' in response.text and 'value="1"' in response.text
    coupon = coupon_by_code(app, "TEAM")
    assert (coupon.max_uses, coupon.percent) == (3, Decimal("10"))
    response = post_coupon(
        admin, f"/coupons/{coupon_id}/edit", code="TEAM", value="15", max_uses="2", batch="b1"
    )
    assert response.status_code == 303
    coupon = coupon_by_code(app, "TEAM")
    assert (coupon.max_uses, coupon.percent, coupon.uses) == (2, Decimal("15"), 2)
    detail = admin.get(f"/coupons/{coupon_id}").text
    assert '<tr data-action="coupon.updated">' in detail
    assert "max_uses: 3 → 2" in detail and "percent: 10 → 15" in detail
    assert detail.count("<td>registration:") == 2


def test_lowering_maximum_uses_together_with_the_per_email_maximum(app, admin, site):
    coupon_id = make_coupon(app, site, code="PEREMAIL", max_uses=10, max_uses_per_email=5)
    response = post_coupon(
        admin, f"/coupons/{coupon_id}/edit", code="PEREMAIL", max_uses="3", max_uses_per_email="2"
    )
    assert response.status_code == 303


def test_deactivate_then_activate_is_recorded(app, admin, site):
    coupon_id = make_coupon(app, site, code="ONOFF")
    response = post_action(admin, f"/coupons/{coupon_id}/deactivate")
    assert response.status_code == 303 and response.headers["Location"] == f"/coupons/{coupon_id}"
    detail = admin.get(f"/coupons/{coupon_id}").text
    assert 'id="coupon-status" data-active="no"' in detail
    assert "Coupon ONOFF deactivated: guests can no longer use it." in detail
    assert coupon_by_code(app, "ONOFF").active is False
    assert 'data-code="ONOFF"' in admin.get("/coupons/?active=no").text
    assert 'data-code="ONOFF"' not in admin.get("/coupons/?active=yes").text
    assert post_action(admin, f"/coupons/{coupon_id}/activate").status_code == 303
    detail = admin.get(f"/coupons/{coupon_id}").text
    assert 'data-active="yes"' in detail
    actions = re.findall(r'<tr data-action="([a-z.]+)">', detail)
    assert actions == ["coupon.activated", "coupon.deactivated", "coupon.created"]  # newest first


def test_a_coupon_page_pages_its_redemptions(app, admin, site):
    app.config["PAGE_SIZE"] = 2
    coupon_id = make_coupon(app, site, code="MANY", max_uses=10)
    for number in range(5):
        redeem(app, site, "MANY", f"registration:{number}", email=f"guest{number}@example.com")
    listed = []
    for page in (1, 2, 3):
        detail = admin.get(f"/coupons/{coupon_id}?page={page}").text
        listed += re.findall(r"<td>(guest\d@example.com)</td>", detail)
    assert listed == [f"guest{number}@example.com" for number in (4, 3, 2, 1, 0)]  # newest first, once each
    first = admin.get(f"/coupons/{coupon_id}").text
    assert f'href="/coupons/{coupon_id}?page=2"' in first
    assert "No redemptions on this page." in admin.get(f"/coupons/{coupon_id}?page=9").text
    # A query argument named like the path's own value never wins over it (nor breaks the page).
    tricky = admin.get(f"/coupons/{coupon_id}?coupon_id=999")
    assert tricky.status_code == 200
    assert f'href="/coupons/{coupon_id}?page=2"' in tricky.text


def test_a_used_coupon_cannot_be_deleted_an_unused_one_can(app, admin, site):
    used_id = make_coupon(app, site, code="USED", max_uses=5)
    unused_id = make_coupon(app, site, code="UNUSED")
    redeem(app, site, "USED", "registration:7")
    detail = admin.get(f"/coupons/{used_id}").text
    assert f'action="/coupons/{used_id}/delete"' not in detail
    refusal = "This coupon has been used, so it cannot be deleted. Deactivate it instead."
    assert f'<p class="hint" id="delete-refusal">{refusal}</p>' in detail
    response = post_action(admin, f"/coupons/{used_id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == f"/coupons/{used_id}"
    assert refusal in admin.get(response.headers["Location"]).text
    assert coupon_by_code(app, "USED") is not None
    assert f'action="/coupons/{unused_id}/delete"' in admin.get(f"/coupons/{unused_id}").text
    response = post_action(admin, f"/coupons/{unused_id}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/coupons/"
    assert "Coupon UNUSED deleted." in admin.get("/coupons/").text
    assert coupon_by_code(app, "UNUSED") is None
    with app.app_context():
        assert (
            db.session.scalar(
                select(AuditEntry.action)
                .where(AuditEntry.subject_id == str(unused_id))
                .order_by(AuditEntry.id.desc())
            )
            == "coupon.deleted"
        )


# -- organizers ----------------------------------------------------------------------------------------


def test_an_organizer_sees_only_their_own_coupons(app, organizer, site):
    make_coupon(app, site, code="MINE", organizer_id=site["organizer"])
    make_coupon(app, site, code="THEIRS", organizer_id=site["organizer2"])
    make_coupon(app, site, code="SITEWIDE")
    assert codes_listed(organizer.get("/coupons/").text) == ["MINE"]
    assert organizer.get("/coupons/export.csv").text.splitlines()[1:] == ["MINE,percent,10,,0,1,,,,,,yes"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/coupons/{id}"),
        ("get", "/coupons/{id}/edit"),
        ("post", "/coupons/{id}/edit"),
        ("post", "/coupons/{id}/delete"),
        ("post", "/coupons/{id}/deactivate"),
        ("post", "/coupons/{id}/activate"),
    ],
)
def test_another_organizers_coupon_answers_404(app, organizer, site, method, path):
    theirs = make_coupon(app, site, code="THEIRS", organizer_id=site["organizer2"])
    sitewide = make_coupon(app, site, code="SITEWIDE")
    token = csrf_from(organizer.get("/coupons/").text)
    for coupon_id in (theirs, sitewide):
        url = path.format(id=coupon_id)
        data = {**COUPON, "csrf_token": token} if method == "post" else None
        assert getattr(organizer, method)(url, data=data).status_code == 404
    coupon = coupon_by_code(app, "THEIRS")
    assert (coupon.active, coupon.percent) == (True, Decimal("10"))


def test_an_organizers_coupon_is_restricted_to_them_and_to_their_own_sessions(app, organizer, site):
    page = organizer.get("/coupons/new").text
    assert 'name="organizer"' not in page
    assert "My workshop" in page and "Their workshop" not in page
    response = post_coupon(organizer, code="SNEAKY", sessions=[str(site["theirs"])])
    assert response.status_code == 422
    assert error_of(response.text, "sessions") == (
        "A coupon restricted to an organizer can only be restricted to that organizer's sessions."
    )
    assert count(app, Coupon) == 0
    # A forged organizer field is ignored: the coupon is the organizer's own.
    response = post_coupon(
        organizer, code="OWN", sessions=[str(site["mine"])], organizer=str(site["organizer2"])
    )
    assert response.status_code == 303
    coupon = coupon_by_code(app, "OWN")
    assert coupon.organizer_id == site["organizer"]
    assert [training.id for training in coupon.sessions] == [site["mine"]]
    assert organizer.get(response.headers["Location"]).status_code == 200


def test_an_admin_restricts_a_coupon_to_an_organizer(app, admin, site):
    page = admin.get("/coupons/new").text
    assert '<option selected value="">Any organizer</option>' in page
    assert "My workshop" in page and "Their workshop" in page
    response = post_coupon(
        admin, code="ORGTWO", organizer=str(site["organizer2"]), sessions=[str(site["mine"])]
    )
    assert response.status_code == 422
    assert error_of(response.text, "sessions").startswith("A coupon restricted to an organizer")
    response = post_coupon(
        admin, code="ORGTWO", organizer=str(site["organizer2"]), sessions=[str(site["theirs"])]
    )
    assert response.status_code == 303
    assert coupon_by_code(app, "ORGTWO").organizer_id == site["organizer2"]


def test_the_coupons_switch_off_hides_every_page_and_the_nav_link(app, admin, site):
    coupon_id = make_coupon(app, site, code="HIDDEN")
    with app.app_context():
        set_settings(coupons_enabled=False)
    token = csrf_from(admin.get("/sessions/").text)
    for url in (
        "/coupons/",
        "/coupons/new",
        f"/coupons/{coupon_id}",
        f"/coupons/{coupon_id}/edit",
        "/coupons/generate",
        "/coupons/import",
        "/coupons/export.csv",
        "/coupons/send",
        "/coupons/prepaid",
        "/coupons/report",
    ):
        assert admin.get(url).status_code == 404, url
    assert admin.post(f"/coupons/{coupon_id}/deactivate", data={"csrf_token": token}).status_code == 404
    assert ">Coupons</a>" not in admin.get("/sessions/").text
    with app.app_context():
        set_settings(coupons_enabled=True, ecommerce_enabled=False)  # e-commerce off turns coupons off too
    assert admin.get("/coupons/").status_code == 404
    assert ">Coupons</a>" not in admin.get("/sessions/").text


# -- filters, search, htmx -----------------------------------------------------------------------------


def test_filters_and_search(app, admin, site):
    past = utcnow() - timedelta(days=1)
    make_coupon(app, site, code="ALPHA1", batch="spring", note="for the partners")
    make_coupon(app, site, code="ALPHA2", batch="spring", active=False)
    make_coupon(app, site, code="BETA1", batch="autumn", bound_email="ana@example.com")
    make_coupon(app, site, code="OLD1", batch="autumn", valid_until=past, valid_from=past - timedelta(days=9))
    make_coupon(app, site, code="GONE1", max_uses=1)
    redeem(app, site, "GONE1", "registration:9")

    def listed(query):
        return sorted(codes_listed(admin.get("/coupons/" + query).text))

    assert listed("") == ["ALPHA1", "ALPHA2", "BETA1", "GONE1", "OLD1"]
    assert listed("?batch=spring") == ["ALPHA1", "ALPHA2"]
    assert listed("?batch=spring&active=yes") == ["ALPHA1"]
    assert listed("?active=no") == ["ALPHA2"]
    assert listed("?used_up=y") == ["GONE1"]
    assert listed("?expired=y") == ["OLD1"]
    assert listed("?q=alpha") == ["ALPHA1", "ALPHA2"]
    assert listed("?q=AUTUMN") == ["BETA1", "OLD1"]
    assert listed("?q=ana%40example") == ["BETA1"]
    assert listed("?q=partners") == ["ALPHA1"]
    assert listed("?q=al-pha-1") == ["ALPHA1"]
    assert listed("?q=100%25") == []  # a percent sign is matched literally
    page = admin.get("/coupons/?batch=spring&q=alpha")
    assert page.headers["Vary"] == "HX-Request" or "HX-Request" in page.headers["Vary"]
    assert "<html" in page.text
    assert '<option selected value="spring">spring</option>' in page.text
    assert 'value="alpha"' in page.text
    assert 'hx-get="/coupons/"' in page.text and 'hx-push-url="true"' in page.text
    assert 'hx-target="#coupon-table"' in page.text
    assert 'href="/coupons/export.csv?q=alpha&amp;batch=spring"' in page.text
    fragment = admin.get("/coupons/?batch=autumn&expired=y", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<form" not in fragment.text
    assert "HX-Request" in fragment.headers["Vary"]
    assert sorted(codes_listed(fragment.text)) == ["OLD1"]
    assert 'href="/coupons/export.csv?batch=autumn&amp;expired=y"' in fragment.text
    export = admin.get("/coupons/export.csv?batch=autumn&expired=y").text.splitlines()
    assert [line.split(",")[0] for line in export] == ["code", "OLD1"]


def bulk_coupons(app, count_, prefix, **fields) -> list[str]:
    """``count_`` coupons in one INSERT (no audit, no service): cheap rows for the paging tests.

    ``session_ids``: the sessions each is restricted to (a selectin-loaded collection on the list).
    """
    session_ids = fields.pop("session_ids", [])
    codes = [f"{prefix}{index:04d}" for index in range(count_)]
    with app.app_context():
        sessions = [db.session.get(TrainingSession, session_id) for session_id in session_ids]
        db.session.add_all(
            Coupon(code=code, kind="percent", percent=Decimal("10"), sessions=list(sessions), **fields)
            for code in codes
        )
        db.session.commit()
    return codes


def pager_links(html_text: str) -> dict[str, str]:
    """The pager's links by ``rel`` (prev / next), unescaped."""
    return {
        rel: html.unescape(href)
        for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html_text)
    }


def test_the_list_runs_the_same_number_of_queries_for_few_or_many_coupons(app, admin, site):
    """Each row shows its organizer and its sessions: one query each for the whole page, never per row."""
    bulk_coupons(app, 2, "FEW", organizer_id=site["organizer"], session_ids=[site["mine"]])
    few = count_queries(app, admin, "/coupons/")
    few_filtered = count_queries(app, admin, "/coupons/?q=few&active=yes")
    bulk_coupons(
        app, 130, "MANY", organizer_id=site["organizer2"], session_ids=[site["mine"], site["theirs"]]
    )
    assert count_queries(app, admin, "/coupons/") == few
    assert count_queries(app, admin, "/coupons/?page=2") == few
    assert count_queries(app, admin, "/coupons/?q=many&active=yes&page=3") == few_filtered
    page = admin.get("/coupons/?page=2").text
    assert len(codes_listed(page)) == 50
    assert "Sessions of organizer2@example.com" in page and "2 sessions only" in page


def test_the_list_is_paged_newest_first_and_the_pager_keeps_the_filters(app, admin, site):
    bulk_coupons(app, 5, "OTHER", batch="other")
    codes = bulk_coupons(app, 120, "SPRING", batch="spring")
    newest_first = codes[::-1]
    first = admin.get("/coupons/?batch=spring")
    assert codes_listed(first.text) == newest_first[:50]
    assert 'data-total="120"' in first.text and "120 coupons." in first.text
    assert "Page 1 of 3" in first.text
    assert pager_links(first.text) == {"next": "/coupons/?batch=spring&page=2"}
    # The export takes the filters, not the page: every match.
    assert 'href="/coupons/export.csv?batch=spring"' in first.text

    second = admin.get("/coupons/?batch=spring&page=2")
    assert codes_listed(second.text) == newest_first[50:100]
    assert "Page 2 of 3" in second.text
    assert pager_links(second.text) == {
        "prev": "/coupons/?batch=spring&page=1",
        "next": "/coupons/?batch=spring&page=3",
    }
    assert '<option selected value="spring">spring</option>' in second.text  # the form keeps the filter
    last = admin.get("/coupons/?batch=spring&page=3")
    assert codes_listed(last.text) == newest_first[100:]
    assert pager_links(last.text) == {"prev": "/coupons/?batch=spring&page=2"}

    # htmx asks for the fragment at the same URL: the pager comes with it, as real links to full pages
    # (they work without JavaScript); with htmx they swap only the list and push the URL.
    fragment = admin.get("/coupons/?batch=spring&q=spring&page=2", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "HX-Request" in fragment.headers["Vary"]
    assert codes_listed(fragment.text) == newest_first[50:100]
    assert pager_links(fragment.text) == {
        "prev": "/coupons/?batch=spring&q=spring&page=1",
        "next": "/coupons/?batch=spring&q=spring&page=3",
    }
    assert 'hx-boost="true" hx-target="#coupon-table"' in fragment.text
    # A history restore wants the full page.
    restore = admin.get(
        "/coupons/?batch=spring&page=2", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.text and codes_listed(restore.text) == newest_first[50:100]

    # Past the end, or nonsense: an empty page or the first, never an error.
    beyond = admin.get("/coupons/?batch=spring&page=9")
    assert beyond.status_code == 200 and codes_listed(beyond.text) == []
    assert (
        "No coupons on this page." in beyond.text
        and 'href="/coupons/?batch=spring&amp;page=1"' in beyond.text
    )
    assert codes_listed(admin.get("/coupons/?batch=spring&page=abc").text) == newest_first[:50]
    assert codes_listed(admin.get("/coupons/?batch=spring&page=-4").text) == newest_first[:50]
    # A filter that matches one page shows no pager.
    assert "Page 1 of" not in admin.get("/coupons/?batch=other").text


def test_the_export_streams_every_matching_coupon_in_a_fixed_number_of_queries(app, admin, site):
    few_codes = bulk_coupons(
        app, 2, "EXPA", batch="bulk", organizer_id=site["organizer"], session_ids=[site["mine"]]
    )
    few, body = queries_and_body(app, admin, "/coupons/export.csv?batch=bulk")
    assert body.decode().splitlines() == [
        ",".join(services.CSV_COLUMNS),
        *(f"{code},percent,10,,0,1,,,,bulk,,yes" for code in few_codes),
    ]
    many_codes = bulk_coupons(
        app, 1100, "EXPB", batch="bulk", organizer_id=site["organizer"], session_ids=[site["mine"]]
    )
    response = admin.get("/coupons/export.csv?batch=bulk")
    assert response.is_streamed and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).split("\r\n")
    assert lines[0] == ",".join(services.CSV_COLUMNS) and lines[-1] == ""
    assert [line.split(",")[0] for line in lines[1:-1]] == few_codes + many_codes  # oldest first, all of them
    # Read a thousand at a time: the same queries for 2 coupons as for 1,102 (sessions are not loaded).
    assert queries_and_body(app, admin, "/coupons/export.csv?batch=bulk")[0] == few


# -- bulk: generate, import, export --------------------------------------------------------------------


def test_generate_codes_with_a_prefix_and_shared_settings(app, admin, site):
    response = post_form(
        admin,
        "/coupons/generate",
        {
            **COUPON,
            "count": "5",
            "prefix": "spr-",
            "length": "8",
            "batch": "spring",
            "kind": "fixed",
            "value": "7.50",
            "max_uses": "2",
            "sessions": [str(site["mine"])],
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/coupons/?batch=spring"
    assert "5 codes generated." in admin.get(response.headers["Location"]).text
    with app.app_context():
        coupons = db.session.scalars(select(Coupon).order_by(Coupon.id)).all()
        assert len(coupons) == 5 and len({coupon.code for coupon in coupons}) == 5
        for coupon in coupons:
            assert coupon.code.startswith("SPR") and len(coupon.code) == 11
            assert set(coupon.code[3:]) <= set(CODE_ALPHABET)
            assert (coupon.kind, coupon.amount_cents, coupon.currency, coupon.max_uses, coupon.batch) == (
                "fixed",
                750,
                "USD",
                2,
                "spring",
            )
            assert [training.id for training in coupon.sessions] == [site["mine"]]


@pytest.mark.parametrize(
    "fields, field_id, message",
    [
        ({"value": "101"}, "value", "A percentage must be between 0 and 100."),
        ({"count": "5001"}, "count", "Generate between 1 and 5000 codes at a time."),
        (
            {"prefix": "ABCDEFGHIJKLMNOPQRST", "length": "32"},
            "prefix",
            "Codes have at most 40 characters, prefix included.",
        ),
        ({"prefix": "no_way"}, "prefix", "A prefix uses letters A-Z and digits only."),
    ],
)
def test_a_failed_generation_creates_nothing(app, admin, fields, field_id, message):
    data = {**COUPON, "count": "20", "prefix": "", "length": "10", "batch": "nope", **fields}
    response = post_form(admin, "/coupons/generate", data)
    assert response.status_code == 422
    assert error_of(response.text, field_id) == message
    assert count(app, Coupon) == 0


def test_an_organizers_generated_and_imported_coupons_are_their_own(app, organizer, site):
    for url in ("/coupons/generate", "/coupons/import", "/coupons/send", "/coupons/report", "/coupons/"):
        assert organizer.get(url).status_code == 200, url
    response = post_form(
        organizer,
        "/coupons/generate",
        {
            **COUPON,
            "count": "2",
            "prefix": "",
            "length": "8",
            "batch": "org",
            "organizer": str(site["admin"]),
        },
    )
    assert response.status_code == 303
    response = post_form(organizer, "/coupons/import", {**COUPON, "text": "code\nORGIMPORT\n"})
    assert response.status_code == 303
    with app.app_context():
        owners = db.session.scalars(select(Coupon.organizer_id)).all()
    assert owners == [site["organizer"]] * 3
    assert len(codes_listed(organizer.get("/coupons/").text)) == 3


GOOD_CSV = """code,kind,value,max_uses,valid_until,batch,bound_email
WELCOME-1,percent,15,5,2031-01-01T00:00:00+00:00,import,
welcome2,fixed,12.34,1,,,ana@example.com
WELCOME3,free,,2,,,
"""


def test_import_a_good_csv_creates_every_row(app, admin):
    response = post_form(
        admin, "/coupons/import", {**COUPON, "value": "", "batch": "default-batch", "text": GOOD_CSV}
    )
    assert response.status_code == 303
    assert "3 coupons imported." in admin.get(response.headers["Location"]).text
    first, second, third = (coupon_by_code(app, code) for code in ("WELCOME1", "WELCOME2", "WELCOME3"))
    assert (first.kind, first.percent, first.max_uses, first.batch) == ("percent", Decimal("15"), 5, "import")
    assert first.valid_until.isoformat() == "2031-01-01T00:00:00+00:00"
    assert (second.kind, second.amount_cents, second.currency, second.bound_email, second.batch) == (
        "fixed",
        1234,
        "USD",
        "ana@example.com",
        "default-batch",
    )
    assert (third.kind, third.max_uses) == ("free", 2)


def test_import_an_uploaded_file_with_defaults_for_missing_columns(app, admin):
    upload = {"file": (io.BytesIO(b"\xef\xbb\xbfcode\nFILEA\nFILEB\n"), "codes.csv")}
    data = {**COUPON, "kind": "fixed", "value": "5", "batch": "from-file"}
    response = post_form(admin, "/coupons/import", data, files=upload)
    assert response.status_code == 303
    for code in ("FILEA", "FILEB"):
        coupon = coupon_by_code(app, code)
        assert (coupon.kind, coupon.amount_cents, coupon.batch) == ("fixed", 500, "from-file")


BAD_CSV = """code,kind,value,max_uses
GOOD1,percent,10,1
taken,percent,10,1
GOOD1,percent,10,1
BAD2,bogus,1,1
BAD3,percent,120,1
BAD4,percent,ten,1
"""


def test_import_a_bad_csv_lists_each_bad_row_and_creates_nothing(app, admin, site):
    make_coupon(app, site, code="TAKEN")
    response = post_form(admin, "/coupons/import", {**COUPON, "text": BAD_CSV})
    assert response.status_code == 422
    table = response.text.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(\d+)</td><td><code>([A-Z0-9]*)</code></td><td>([^<]+)</td></tr>", table)
    assert rows == [
        ("3", "TAKEN", "Another coupon already has this code (codes ignore case, spaces and dashes)."),
        ("4", "GOOD1", "This code appears more than once in the file."),
        ("5", "BAD2", "The kind must be percent, fixed or free."),
        ("6", "BAD3", "A percentage must be between 0 and 100."),
        ("7", "BAD4", "A value, number or date cannot be read: check this row."),
    ]
    assert "Nothing was imported: fix these lines" in response.text
    assert count(app, Coupon) == 1
    response = post_form(admin, "/coupons/import", {**COUPON, "text": "name\nx\n"})
    assert response.status_code == 422
    assert "The first line must name the columns, one of them &#34;code&#34;." in response.text
    response = post_form(admin, "/coupons/import", {**COUPON, "text": ""})
    assert error_of(response.text, "text") == "Choose a CSV file or paste its lines."


def test_export_then_import_round_trip(app, admin, site):
    until = "2031-06-30T22:00:00+00:00"
    make_coupon(
        app, site, code="RT1", percent=Decimal("12.5"), max_uses=5, max_uses_per_email=2, batch="fresh"
    )
    make_coupon(
        app,
        site,
        code="RT2",
        kind="fixed",
        amount_cents=1999,
        currency="USD",
        batch="fresh",
        bound_email="bo@example.com",
        valid_until=datetime.fromisoformat(until),
    )
    make_coupon(app, site, code="RT3", kind="free", max_uses=3, batch="fresh", active=False)
    make_coupon(app, site, code="OTHER", batch="other")
    export = admin.get("/coupons/export.csv?batch=fresh")
    assert export.status_code == 200
    assert export.mimetype == "text/csv"
    assert export.headers["Content-Disposition"].startswith('attachment; filename="coupons-')
    assert export.text.splitlines() == [
        "code,kind,value,currency,uses,max_uses,max_uses_per_email,"
        "valid_from,valid_until,batch,bound_email,active",
        "RT1,percent,12.5,,0,5,2,,,fresh,,yes",
        f"RT2,fixed,19.99,USD,0,1,,,{until},fresh,bo@example.com,yes",
        "RT3,free,,,0,3,,,,fresh,,no",
    ]
    for code in ("RT1", "RT2", "RT3"):
        assert post_action(admin, f"/coupons/{coupon_by_code(app, code).id}/delete").status_code == 303
    assert count(app, Coupon) == 1
    response = post_form(admin, "/coupons/import", {**COUPON, "value": "", "text": export.text})
    assert response.status_code == 303
    assert admin.get("/coupons/export.csv?batch=fresh").text == export.text


# -- distribution by email -----------------------------------------------------------------------------


SEND = {
    "batch": "mailing",
    "recipients": "",
    "bind": "y",
    "subject": "Your code {code}",
    "body": "Hello {name},\nyour code is {code}.\nRegister at {link}\n",
    "link": "",
}


def make_batch(app, site, batch="mailing", count_=3, actor="admin", **fields):
    with app.app_context():
        user = db.session.get(services.User, site[actor])
        data = services.CouponInput(kind="percent", percent=Decimal("20"), batch=batch, **fields)
        return [coupon.code for coupon in services.generate_coupons(count_, "M", 8, data, user)]


@pytest.mark.parametrize("bind", [True, False])
def test_send_gives_each_recipient_its_own_code(app, admin, site, outbox_dir, bind):
    codes = make_batch(app, site)
    with app.app_context():
        token = db.session.get(TrainingSession, site["mine"]).public_token
    page = admin.get("/coupons/send").text
    assert "{code}" in page and "{name}" in page and "{link}" in page
    data = {**SEND, "recipients": "Ana@Example.com, Ana Lima\n\nbob@example.com\n", "link": str(site["mine"])}
    if not bind:
        del data["bind"]
    response = post_form(admin, "/coupons/send", data)
    assert response.status_code == 303 and response.headers["Location"] == "/coupons/?batch=mailing"
    assert "2 coupons sent by email." in admin.get(response.headers["Location"]).text
    link = f"http://localhost/s/{token}"
    messages = emails_in(outbox_dir)
    assert [message["To"] for message in messages] == ["Ana Lima <ana@example.com>", "bob@example.com"]
    sent_codes = []
    for message, name in zip(messages, ("Ana Lima", ""), strict=True):
        code = message["Subject"].removeprefix("Your code ")
        assert code in codes
        sent_codes.append(code)
        assert message.get_body(("plain",)).get_content() == (
            f"Hello {name},\nyour code is {code}.\nRegister at {link}\n"
        )
    assert len(set(sent_codes)) == 2
    with app.app_context():
        deliveries = db.session.scalars(select(CouponDelivery).order_by(CouponDelivery.id)).all()
        assert [(d.email, d.name, d.coupon.code) for d in deliveries] == [
            ("ana@example.com", "Ana Lima", sent_codes[0]),
            ("bob@example.com", "", sent_codes[1]),
        ]
        bound = {coupon.code: coupon.bound_email for coupon in db.session.scalars(select(Coupon))}
    expected = {"ana@example.com", "bob@example.com"} if bind else {None}
    assert {bound[code] for code in sent_codes} == expected
    detail = admin.get(f"/coupons/{coupon_by_code(app, sent_codes[0]).id}").text
    assert "Ana Lima &lt;ana@example.com&gt;" in detail and ">Resend</button>" in detail


def test_send_from_an_uploaded_csv(app, admin, site, outbox_dir):
    make_batch(app, site)
    upload = {"file": (io.BytesIO(b'email,name\ncy@example.com,Cy\ndee@example.com,"Dee, Jr"\n'), "list.csv")}
    data = {**SEND, "subject": "Code {code}\r\nBcc: everyone@example.com"}
    response = post_form(admin, "/coupons/send", data, files=upload)
    assert response.status_code == 303
    messages = emails_in(outbox_dir)
    assert [message["To"] for message in messages] == ["Cy <cy@example.com>", '"Dee, Jr" <dee@example.com>']
    # A line break typed in the subject never becomes a header of its own.
    assert all(message["Bcc"] is None for message in messages)
    assert all(message["Subject"].endswith(" Bcc: everyone@example.com") for message in messages)


def test_not_enough_codes_sends_nothing(app, admin, site, outbox_dir):
    make_batch(app, site, count_=2)
    data = {**SEND, "recipients": "a@example.com\nb@example.com\nc@example.com"}
    response = post_form(admin, "/coupons/send", data)
    assert response.status_code == 422
    assert error_of(response.text, "batch") == (
        "Not enough unsent codes in this batch: 2 left. Generate more codes first; nothing was sent."
    )
    assert "a@example.com\nb@example.com\nc@example.com</textarea>" in response.text
    assert count(app, OutboxMessage) == 0 and count(app, CouponDelivery) == 0
    assert emails_in(outbox_dir) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Coupon.bound_email.is_not(None))) == 0


def test_bad_recipient_lines_are_listed_and_nothing_is_sent(app, admin, site, outbox_dir):
    make_batch(app, site)
    data = {**SEND, "recipients": "ok@example.com\nnot-an-address, Nobody\nOK@example.com"}
    response = post_form(admin, "/coupons/send", data)
    assert response.status_code == 422
    assert error_of(response.text, "recipients") == (
        'Line 2: "not-an-address" is not an email address. Line 3: ok@example.com is listed twice.'
    )
    assert count(app, OutboxMessage) == 0


def test_resend_queues_a_second_message(app, admin, site, outbox_dir):
    make_batch(app, site, count_=1)
    assert post_form(admin, "/coupons/send", {**SEND, "recipients": "ana@example.com"}).status_code == 303
    with app.app_context():
        delivery = db.session.scalar(select(CouponDelivery))
        delivery_id, coupon_id, code = delivery.id, delivery.coupon_id, delivery.coupon.code
    response = post_action(admin, f"/coupons/deliveries/{delivery_id}/resend")
    assert response.status_code == 303 and response.headers["Location"] == f"/coupons/{coupon_id}"
    detail = admin.get(response.headers["Location"]).text
    assert "Coupon sent again to ana@example.com." in detail
    assert '<tr data-action="coupon.resent">' in detail
    messages = emails_in(outbox_dir)
    assert [message["To"] for message in messages] == ["ana@example.com", "ana@example.com"]
    assert all(code in message.get_body(("plain",)).get_content() for message in messages)
    with app.app_context():
        assert db.session.get(CouponDelivery, delivery_id).sent_count == 2
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_organizers_send_only_their_own_coupons(app, client, site, outbox_dir):
    make_batch(app, site, batch="shared", count_=2, organizer_id=site["organizer2"], actor="organizer2")
    login(client, "organizer@example.com")
    assert "shared" not in client.get("/coupons/send").text
    with app.app_context():
        delivery_coupon = db.session.scalar(select(Coupon.id))
    response = post_form(client, "/coupons/send", {**SEND, "batch": "shared", "recipients": "x@example.com"})
    assert response.status_code == 422
    assert count(app, OutboxMessage) == 0
    assert client.get(f"/coupons/{delivery_coupon}").status_code == 404


def test_resend_of_another_organizers_delivery_answers_404(app, client, site, outbox_dir):
    make_batch(app, site, batch="theirs", count_=1, organizer_id=site["organizer2"], actor="organizer2")
    other = app.test_client()
    login(other, "organizer2@example.com")
    assert (
        post_form(
            other, "/coupons/send", {**SEND, "batch": "theirs", "recipients": "z@example.com"}
        ).status_code
        == 303
    )
    with app.app_context():
        delivery_id = db.session.scalar(select(CouponDelivery.id))
    login(client, "organizer@example.com")
    assert post_action(client, f"/coupons/deliveries/{delivery_id}/resend").status_code == 404
    assert count(app, OutboxMessage) == 1


# -- prepaid coupons -----------------------------------------------------------------------------------


def test_prepaid_coupons_are_free_bound_to_the_guest_and_emailed(app, admin, outbox_dir):
    data = {
        "email": "Gina@Example.com",
        "name": "Gina Guest",
        "amount": "240.00",
        "reference": "INV-42",
        "sessions_count": "3",
        "valid_until": "",
    }
    response = post_form(admin, "/coupons/prepaid", data)
    assert response.status_code == 303
    with app.app_context():
        prepayment = db.session.scalar(select(Prepayment))
        assert (prepayment.email, prepayment.name, prepayment.amount_cents, prepayment.currency) == (
            "gina@example.com",
            "Gina Guest",
            24000,
            "USD",
        )
        assert (prepayment.reference, prepayment.sessions_count) == ("INV-42", 3)
        coupons = prepayment.coupons
        assert len(coupons) == 3
        assert {(c.kind, c.max_uses, c.bound_email, c.batch) for c in coupons} == {
            ("free", 1, "gina@example.com", f"prepaid-{prepayment.id}")
        }
        codes = sorted(coupon.code for coupon in coupons)
    assert response.headers["Location"] == f"/coupons/?batch=prepaid-{prepayment.id}"
    listing = admin.get(response.headers["Location"]).text
    assert "Prepayment recorded: 3 free coupons sent to gina@example.com." in listing
    assert sorted(codes_listed(listing)) == codes
    messages = emails_in(outbox_dir)
    assert [message["To"] for message in messages] == ["Gina Guest <gina@example.com>"] * 3
    mailed = sorted(
        next(code for code in codes if code in message.get_body(("plain",)).get_content())
        for message in messages
    )
    assert mailed == codes


@pytest.mark.parametrize(
    "fields, field_id, message",
    [
        ({"email": "nobody"}, "email", "Enter a valid email address."),
        ({"amount": "-1"}, "amount", "Enter zero or a positive amount."),
        ({"sessions_count": "0"}, "sessions_count", "The number of sessions must be between 1 and 100."),
        ({"reference": ""}, "reference", "Enter the payment's reference, such as an invoice number."),
        (
            {"valid_until": "2001-01-01T00:00"},
            "valid_until",
            "Choose a moment in the future, or leave empty.",
        ),
    ],
)
def test_a_bad_prepayment_is_refused_and_sends_nothing(app, admin, outbox_dir, fields, field_id, message):
    data = {
        "email": "gina@example.com",
        "name": "Gina",
        "amount": "10",
        "reference": "R1",
        "sessions_count": "1",
        "valid_until": "",
        **fields,
    }
    response = post_form(admin, "/coupons/prepaid", data)
    assert response.status_code == 422
    assert error_of(response.text, field_id) == message
    assert count(app, Prepayment) == 0 and count(app, Coupon) == 0 and emails_in(outbox_dir) == []


# -- report --------------------------------------------------------------------------------------------


def test_report_totals_after_committed_redemptions(app, admin, site):
    make_coupon(app, site, code="QUARTER", percent=Decimal("25"), max_uses=5, batch="launch")
    make_coupon(
        app, site, code="TENOFF", kind="fixed", amount_cents=1000, currency="USD", max_uses=5, batch="launch"
    )
    make_coupon(app, site, code="SOLO", kind="free", max_uses=5)
    redeem(app, site, "QUARTER", "registration:1", "a@example.com", commit=True)
    redeem(app, site, "QUARTER", "registration:2", "b@example.com", commit=True)
    redeem(app, site, "TENOFF", "registration:3", "c@example.com", commit=True)
    redeem(app, site, "SOLO", "registration:4", "d@example.com", commit=True)
    redeem(app, site, "TENOFF", "registration:5", "e@example.com")  # reserved only: not counted
    page = admin.get("/coupons/report").text
    assert '<tr data-key="" data-uses="1" data-discount="80.00" data-revenue="0.00">' in page
    assert '<tr data-key="launch" data-uses="3" data-discount="50.00" data-revenue="190.00">' in page
    assert "$50.00" in page and "$190.00" in page
    assert 'data-currency="USD" data-uses="4" data-discount="130.00" data-revenue="190.00"' in page
    assert "$130.00" in page
    by_coupon = admin.get("/coupons/report?by=coupon").text
    assert '<tr data-key="QUARTER" data-uses="2" data-discount="40.00" data-revenue="120.00">' in by_coupon
    assert '<tr data-key="TENOFF" data-uses="1" data-discount="10.00" data-revenue="70.00">' in by_coupon
    csv_response = admin.get("/coupons/report?by=batch&format=csv")
    assert csv_response.mimetype == "text/csv"
    assert csv_response.headers["Content-Disposition"] == 'attachment; filename="coupon-report-by-batch.csv"'
    assert csv_response.text.splitlines() == [
        "batch,coupons,uses,discount,revenue,currency",
        ",1,1,80.00,0.00,USD",
        "launch,2,3,50.00,190.00,USD",
    ]
    assert admin.get("/coupons/report?by=coupon&format=csv").text.splitlines() == [
        "coupon,coupons,uses,discount,revenue,currency",
        "QUARTER,1,2,40.00,120.00,USD",
        "SOLO,1,1,80.00,0.00,USD",
        "TENOFF,1,1,10.00,70.00,USD",
    ]


def test_an_organizers_report_counts_only_their_coupons(app, client, site):
    make_coupon(app, site, code="MINE", organizer_id=site["organizer"], batch="own")
    make_coupon(app, site, code="SITEWIDE", batch="site")
    redeem(app, site, "MINE", "registration:1", commit=True)
    redeem(app, site, "SITEWIDE", "registration:2", commit=True)
    login(client, "organizer@example.com")
    assert client.get("/coupons/report?format=csv").text.splitlines() == [
        "batch,coupons,uses,discount,revenue,currency",
        "own,1,1,8.00,72.00,USD",
    ]


def bulk_redemptions(app, codes, price_cents=8000, discount_cents=800, currency="USD", status="committed"):
    """One redemption of each coupon, inserted at once (the report only reads them)."""
    with app.app_context():
        ids = dict(db.session.execute(select(Coupon.code, Coupon.id).where(Coupon.code.in_(codes))).all())
        db.session.add_all(
            CouponRedemption(
                coupon_id=ids[code],
                reference=f"bulk:{currency}:{status}:{code}",
                email=f"{code.lower()}@example.com",
                price_cents=price_cents,
                discount_cents=discount_cents,
                currency=currency,
                status=status,
            )
            for code in codes
        )
        db.session.commit()


def report_keys(html_text: str) -> list[str]:
    return re.findall(r'<tr data-key="([^"]*)" data-uses=', html_text)


def test_the_report_by_coupon_is_paged_and_its_totals_cover_every_row(app, admin, site):
    codes = bulk_coupons(app, 120, "USE", batch="big")
    bulk_redemptions(app, codes)  # 120 x 8.00 off 80.00
    bulk_redemptions(app, codes[:30], price_cents=5000, discount_cents=500, currency="EUR")
    bulk_redemptions(app, codes[30:40], status="released")  # not counted
    # By coupon and currency: 150 rows, ordered by code then currency.
    expected = sorted([(code, "USD") for code in codes] + [(code, "EUR") for code in codes[:30]])
    first = admin.get("/coupons/report?by=coupon")
    assert report_keys(first.text) == [code for code, _currency in expected[:50]]
    assert "Page 1 of 3" in first.text
    assert pager_links(first.text) == {"next": "/coupons/report?by=coupon&page=2"}
    second = admin.get("/coupons/report?by=coupon&page=2").text
    assert report_keys(second) == [code for code, _currency in expected[50:100]]
    assert pager_links(second) == {
        "prev": "/coupons/report?by=coupon&page=1",
        "next": "/coupons/report?by=coupon&page=3",
    }
    # The totals are the whole report's, summed in SQL, on every page: not the visible rows'.
    for page in (first.text, second):
        assert 'data-currency="EUR" data-uses="30" data-discount="150.00" data-revenue="1350.00"' in page
        assert 'data-currency="USD" data-uses="120" data-discount="960.00" data-revenue="8640.00"' in page
    by_batch = admin.get("/coupons/report").text
    assert report_keys(by_batch) == ["big", "big"]  # EUR, then USD
    assert '<tr data-key="big" data-uses="120" data-discount="960.00" data-revenue="8640.00">' in by_batch
    assert 'data-currency="USD" data-uses="120" data-discount="960.00" data-revenue="8640.00"' in by_batch
    assert "Page 1 of" not in by_batch

    response = admin.get("/coupons/report?by=coupon&format=csv")
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == 'attachment; filename="coupon-report-by-coupon.csv"'
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "coupon,coupons,uses,discount,revenue,currency"
    assert lines[1:3] == ["USE0000,1,1,5.00,45.00,EUR", "USE0000,1,1,8.00,72.00,USD"]
    assert lines[-1] == "USE0119,1,1,8.00,72.00,USD"
    assert len(lines) == 1 + 150


def test_the_report_and_its_csv_cost_the_same_queries_for_few_or_many_coupons(app, admin, site):
    codes = bulk_coupons(app, 2, "FEW")
    bulk_redemptions(app, codes)
    few = {by: count_queries(app, admin, f"/coupons/report?by={by}") for by in ("batch", "coupon")}
    few_csv = queries_and_body(app, admin, "/coupons/report?by=coupon&format=csv")[0]
    many = bulk_coupons(app, 1200, "MANY", batch="many")
    bulk_redemptions(app, many, currency="EUR", price_cents=5000, discount_cents=500)
    for by in ("batch", "coupon"):
        assert count_queries(app, admin, f"/coupons/report?by={by}") == few[by]
    assert count_queries(app, admin, "/coupons/report?by=coupon&page=7") == few["coupon"]
    count, body = queries_and_body(app, admin, "/coupons/report?by=coupon&format=csv")
    assert count == few_csv and len(body.splitlines()) == 1 + 1202


@pytest.mark.parametrize(
    "change, status",
    [
        ({"valid_until": -1}, "Expired"),
        ({"valid_from": +1}, "Not yet valid"),
        ({"uses": 5}, "Used up"),
        ({}, "Active"),
    ],
    ids=["expired", "not-yet-valid", "used-up", "active"],
)
def test_a_coupons_status_says_whether_a_guest_can_use_it_now(app, admin, site, change, status):
    from datetime import timedelta

    from sqlalchemy import update

    from portal.database import utcnow

    coupon_id = make_coupon(app, site, code="STATE", max_uses=5)
    values = {
        key: utcnow() + timedelta(days=days) if key.startswith("valid_") else days
        for key, days in change.items()
    }
    if values:
        with app.app_context():
            db.session.execute(update(Coupon).where(Coupon.id == coupon_id).values(**values))
            db.session.commit()
    detail = admin.get(f"/coupons/{coupon_id}").text
    assert f'id="coupon-status" data-active="yes">{status}</strong>' in detail
    if "valid_from" in change:
        assert "not yet valid" in admin.get("/coupons/").text
