"""The organizer's registrants page: access, exact totals and CSV, cancelling with refunds, the dry run.

Guests register and pay through the real guest pages (test client) against the
offline payment sandbox; the fee is 49.00 USD and SAVE25 takes 25 % off (36.75).
"""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.coupons import services as coupons
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from portal.payments.models import Payment, Refund
from portal.payments.services import gateway, refresh_payment
from portal.registration.models import Registration
from portal.trainings.registrants import CSV_COLUMNS
from tests.conftest import count_queries, csrf_from, login, queries_and_body
from tests.factories import enable_ecommerce, make_training, make_user

ORGANIZER = "organizer@example.com"
OTHER = "organizer2@example.com"
ADMIN = "admin@example.com"


@pytest.fixture
def site(app):
    """Two organizers' paid sessions (49.00, 5 seats each) and a 25 % coupon."""
    with app.app_context():
        enable_ecommerce()
        admin = make_user(ADMIN, role=Role.ADMIN, department=None)
        mine = make_user(ORGANIZER)
        theirs = make_user(OTHER, department="Engineering")
        coupons.create_coupon(
            CouponInput(kind="percent", code="SAVE25", percent=Decimal("25"), max_uses=10), admin
        )
        kw = dict(fee_cents=4900, capacity=5, expected_attendees=5)
        my_session = make_training(mine, title="My paid session", **kw)
        their_session = make_training(theirs, title="Their paid session", **kw)
        return {
            "mine": my_session.id,
            "my_token": my_session.public_token,
            "theirs": their_session.id,
            "their_token": their_session.public_token,
        }


# -- the guest's side, through the real pages -----------------------------------------------


def register(app, token, name, email, coupon=None):
    """A guest registers (their own browser: own client); returns (client, manage path, registration id)."""
    guest = app.test_client()
    page = guest.get(f"/s/{token}")
    response = guest.post(
        f"/s/{token}/register", data={"name": name, "email": email, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303, response.text
    manage = re.sub(r"/pay$", "", urlparse(response.headers["Location"]).path)
    if coupon:
        pay_page = guest.get(f"{manage}/pay")
        applied = guest.post(
            f"{manage}/coupon", data={"code": coupon, "csrf_token": csrf_from(pay_page.text)}
        )
        assert applied.status_code == 303, applied.text  # applied, then Post/Redirect/Get
    with app.app_context():
        registration_id = db.session.scalar(
            select(Registration.id).where(Registration.email == email.lower())
        )
    return guest, manage, registration_id


def pay(guest, manage, nonce="fake-valid-visa-nonce"):
    page = guest.get(f"{manage}/pay")
    return guest.post(
        f"{manage}/pay", data={"payment_method_nonce": nonce, "csrf_token": csrf_from(page.text)}
    )


def paid_guest(app, token, name, email, coupon=None) -> int:
    guest, manage, registration_id = register(app, token, name, email, coupon)
    assert pay(guest, manage).status_code == 303
    with app.app_context():
        assert db.session.get(Registration, registration_id).status == "confirmed"
    return registration_id


def settle(app, registration_id) -> str:
    """The bank settles the guest's sale (as overnight); returns the sale's id."""
    with app.app_context():
        payment = db.session.get(Registration, registration_id).payment
        sale_id, payment_id = payment.gateway_transaction_id, payment.id
        gateway().settle(sale_id)
        assert refresh_payment(payment_id).status == "settled"
    return sale_id


def state(app, registration_id):
    with app.app_context():
        registration = db.session.get(Registration, registration_id)
        payment = registration.payment
        return {
            "status": registration.status,
            "payment": payment.status if payment else None,
            "refunded_cents": payment.refunded_cents if payment else 0,
            "refunds": [(r.kind, r.amount_cents, r.status) for r in payment.refunds] if payment else [],
            "sale": payment.gateway_transaction_id if payment else None,
        }


def credits_on(sandbox, sale_id):
    return [
        (t["type"], t["amount"]) for t in sandbox.transactions() if t["refunded_transaction_id"] == sale_id
    ]


# -- the organizer's side --------------------------------------------------------------------


def registrants_url(session_id) -> str:
    return f"/sessions/{session_id}/registrants"


def post_as_organizer(client, session_id, path, data):
    token = csrf_from(client.get(registrants_url(session_id)).text)
    return client.post(f"/sessions/{session_id}/registrants/{path}", data={"csrf_token": token, **data})


def totals(html: str) -> dict:
    found = {
        name: re.search(rf'id="total-{name}" data-amount="([0-9.]+)"', html).group(1)
        for name in ("gross", "discounts", "refunded", "net")
    }
    found["count"] = int(re.search(r'id="total-registrations" data-count="(\d+)"', html).group(1))
    found["by_status"] = {
        status: int(count)
        for status, count in re.findall(r'data-status="([a-z_]+)" data-count="(\d+)"', html)
    }
    return found


def row(html: str, registration_id: int) -> str:
    match = re.search(rf'<tr id="registration-{registration_id}".*?</tr>', html, re.S)
    assert match, f"no row for registration {registration_id}"
    return match.group(0)


# -- access -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client, site):
    for path in (
        registrants_url(site["mine"]),
        registrants_url(site["mine"]) + "?format=csv",
        f"/sessions/{site['mine']}/cancel",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_another_organizers_session_and_registrations_answer_404(app, client, site):
    theirs = paid_guest(app, site["their_token"], "Their Guest", "their.guest@example.com")
    mine = paid_guest(app, site["my_token"], "My Guest", "my.guest@example.com")
    login(client, ORGANIZER)
    for path in (
        registrants_url(site["theirs"]),
        registrants_url(site["theirs"]) + "?format=csv",
        f"/sessions/{site['theirs']}/cancel",
    ):
        assert client.get(path).status_code == 404
    # Their registration, through their session or slipped under mine: 404 either way, nothing changes.
    for session_id in (site["theirs"], site["mine"]):
        for action in ("cancel", "refund"):
            token = csrf_from(client.get(registrants_url(site["mine"])).text)
            response = client.post(
                f"/sessions/{session_id}/registrants/{theirs}/{action}",
                data={"csrf_token": token, "refund": "full"},
            )
            assert response.status_code == 404
    # My registration under their session id: 404 too.
    assert post_as_organizer(client, site["theirs"], f"{mine}/cancel", {"refund": "full"}).status_code == 404
    assert state(app, theirs)["status"] == "confirmed" and state(app, mine)["status"] == "confirmed"
    page = client.get(registrants_url(site["mine"])).text
    assert "My Guest" in page and "Their Guest" not in page


def test_admin_sees_every_sessions_registrants(app, client, site):
    paid_guest(app, site["their_token"], "Their Guest", "their.guest@example.com")
    login(client, ADMIN)
    page = client.get(registrants_url(site["theirs"]))
    assert page.status_code == 200 and "Their Guest" in page.text


def test_session_page_links_to_registrants_and_to_the_dry_run(client, site):
    login(client, ORGANIZER)
    page = client.get(f"/sessions/{site['mine']}").text
    assert f'href="/sessions/{site["mine"]}/registrants">Registrants</a>' in page
    assert f'href="/sessions/{site["mine"]}/cancel">Cancel session</a>' in page
    # Cancelling is no longer one click away: the page has no form posting to it.
    assert f'action="/sessions/{site["mine"]}/cancel"' not in page


# -- totals and CSV -----------------------------------------------------------------------------


def test_totals_and_csv_are_exact_after_real_payments(app, client, site):
    full = paid_guest(app, site["my_token"], "Ann Full", "ann@example.com")
    coupon = paid_guest(app, site["my_token"], "Bob Coupon", "bob@example.com", coupon="SAVE25")
    _guest, _manage, pending = register(app, site["my_token"], "Cy Pending", "cy@example.com")
    declined_guest, declined_manage, declined = register(
        app, site["my_token"], "Di Declined", "di@example.com"
    )
    assert pay(declined_guest, declined_manage, "fake-processor-declined-visa-nonce").status_code == 422
    login(client, ORGANIZER)
    # Bob is cancelled with a full refund: not settled yet, so his sale is voided.
    response = post_as_organizer(client, site["mine"], f"{coupon}/cancel", {"refund": "full"})
    assert response.status_code == 303
    assert state(app, coupon)["refunds"] == [("void", 3675, "succeeded")]

    page = client.get(registrants_url(site["mine"])).text
    assert totals(page) == {
        "gross": "85.75",  # 49.00 + 36.75
        "discounts": "0.00",  # Bob's 25 % of 49.00 went with his cancelled registration (as in the reports)
        "refunded": "36.75",
        "net": "49.00",
        "count": 4,
        "by_status": {"pending_payment": 2, "confirmed": 1, "refunded": 1},
    }
    assert 'data-paid="49.00" data-refunded="0.00"' in row(page, full)
    assert 'data-paid="36.75" data-refunded="36.75"' in row(page, coupon) and "SAVE25" in row(page, coupon)
    assert 'data-paid="0.00"' in row(page, pending) and 'data-paid="0.00"' in row(page, declined)

    export = client.get(registrants_url(site["mine"]) + "?format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert (
        export.headers["Content-Disposition"]
        == f'attachment; filename="registrants-session-{site["mine"]}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(export.text)))
    picked = [
        {
            k: r[k]
            for k in (
                "registration_id",
                "name",
                "email",
                "status",
                "currency",
                "fee",
                "discount",
                "coupon",
                "paid",
                "refunded",
                "net",
                "payment_status",
            )
        }
        for r in rows
    ]
    assert picked == [
        {
            "registration_id": str(full),
            "name": "Ann Full",
            "email": "ann@example.com",
            "status": "confirmed",
            "currency": "USD",
            "fee": "49.00",
            "discount": "0.00",
            "coupon": "",
            "paid": "49.00",
            "refunded": "0.00",
            "net": "49.00",
            "payment_status": "submitted_for_settlement",
        },
        {
            "registration_id": str(coupon),
            "name": "Bob Coupon",
            "email": "bob@example.com",
            "status": "refunded",
            "currency": "USD",
            "fee": "49.00",
            "discount": "12.25",
            "coupon": "SAVE25",
            "paid": "36.75",
            "refunded": "36.75",
            "net": "0.00",
            "payment_status": "voided",
        },
        {
            "registration_id": str(pending),
            "name": "Cy Pending",
            "email": "cy@example.com",
            "status": "pending_payment",
            "currency": "USD",
            "fee": "49.00",
            "discount": "0.00",
            "coupon": "",
            "paid": "0.00",
            "refunded": "0.00",
            "net": "0.00",
            "payment_status": "",
        },
        {
            "registration_id": str(declined),
            "name": "Di Declined",
            "email": "di@example.com",
            "status": "pending_payment",
            "currency": "USD",
            "fee": "49.00",
            "discount": "0.00",
            "coupon": "",
            "paid": "0.00",
            "refunded": "0.00",
            "net": "0.00",
            "payment_status": "declined",
        },
    ]
    with app.app_context():
        ann = db.session.get(Registration, full)
        assert rows[0]["transaction_id"] == ann.payment.gateway_transaction_id
        assert rows[0]["registered_at"] == ann.created_at.isoformat()
        assert rows[0]["confirmed_at"] == ann.confirmed_at.isoformat() and rows[0]["cancelled_at"] == ""
    # The CSV's column sums are the page's totals.
    assert sum(Decimal(r["paid"]) for r in rows) == Decimal("85.75")
    assert sum(Decimal(r["net"]) for r in rows) == Decimal("49.00")


def test_csv_never_lets_a_spreadsheet_run_a_guest_field_and_the_page_escapes_markup(app, client, site):
    paid_guest(app, site["my_token"], '=HYPERLINK("http://evil.example","x")', "formula@example.com")
    paid_guest(app, site["my_token"], "<script>alert(1)</script>", "markup@example.com")
    login(client, ORGANIZER)
    page = client.get(registrants_url(site["mine"])).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = list(csv.DictReader(io.StringIO(client.get(registrants_url(site["mine"]) + "?format=csv").text)))
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert rows[1]["name"] == "<script>alert(1)</script>"


def bulk_registrants(app, session_id, count, first=0) -> list[int]:
    """``count`` confirmed guests in one INSERT, each paid 49.00 by card with 5.00 refunded (settled).

    Registered a minute apart, after everyone registered through the pages; ids in that order.
    """
    with app.app_context():
        start = utcnow().replace(microsecond=0) + timedelta(hours=1)
        registrations = []
        for number in range(first, first + count):
            moment = start + timedelta(minutes=number)
            payment = Payment(
                purpose="guest_fee",
                reference=f"bulk:{number}",
                training_session_id=session_id,
                amount_cents=4900,
                currency="USD",
                status="partially_refunded",
                gateway_transaction_id=f"bulk{number:04d}",
                method="credit_card",
                card_brand="Visa",
                card_last4="1881",
                refunded_cents=500,
                paid_at=moment,
                settled_at=moment,
                refunds=[Refund(kind="refund", amount_cents=500, currency="USD", status="succeeded")],
            )
            registrations.append(
                Registration(
                    training_session_id=session_id,
                    email=f"bulk{number:04d}@example.com",
                    name=f"Bulk {number:04d}",
                    status="confirmed",
                    price_cents=4900,
                    currency="USD",
                    payment=payment,
                    created_at=moment,
                    confirmed_at=moment,
                )
            )
        db.session.add_all(registrations)
        db.session.commit()
        return [registration.id for registration in registrations]


def registrants_listed(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr id="registration-(\d+)" class="registrant"', html)]


def pager_links(html: str) -> dict[str, str]:
    return {rel: unescape(href) for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html)}


def test_registrants_page_and_csv_cost_the_same_queries_for_one_or_many_registrants(app, client, site):
    first = paid_guest(app, site["my_token"], "Guest 0", "guest0@example.com")
    settle(app, first)
    login(client, ORGANIZER)
    assert post_as_organizer(client, site["mine"], f"{first}/cancel", {"refund": "10.00"}).status_code == 303
    url = registrants_url(site["mine"])
    few = count_queries(app, client, url)
    few_csv, body = queries_and_body(app, client, url + "?format=csv")
    assert len(body.splitlines()) == 2
    for number in range(1, 4):
        registration_id = paid_guest(app, site["my_token"], f"Guest {number}", f"guest{number}@example.com")
        settle(app, registration_id)
        post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "5.00"})
    register(app, site["my_token"], "Guest pending", "pending@example.com", coupon="SAVE25")
    assert count_queries(app, client, url) == few
    assert queries_and_body(app, client, url + "?format=csv")[0] == few_csv
    assert totals(client.get(url).text)["refunded"] == "25.00"
    # Thousands of registrants: still one page's worth of queries, and the CSV reads them in batches.
    bulk_registrants(app, site["mine"], 130)
    assert count_queries(app, client, url) == few
    assert count_queries(app, client, url + "?page=3") == few
    count, body = queries_and_body(app, client, url + "?format=csv")
    assert count == few_csv and len(body.splitlines()) == 1 + 5 + 130
    assert totals(client.get(url + "?page=3").text)["refunded"] == "675.00"  # 25.00 + 130 x 5.00


def test_registrants_are_paged_in_the_order_they_came_with_the_whole_sessions_totals(
    app, client, site, tmp_path
):
    app.instance_path = str(tmp_path)  # the cancellation email goes to tmp_path/outbox
    early = paid_guest(app, site["my_token"], "Ann Early", "ann@example.com")
    bulk = bulk_registrants(app, site["mine"], 120)
    bulk_registrants(app, site["theirs"], 60, first=500)  # another session's: never listed
    login(client, ORGANIZER)
    url = registrants_url(site["mine"])
    in_order = [early, *bulk]
    first = client.get(url).text
    assert registrants_listed(first) == in_order[:50]
    assert "Page 1 of 3" in first and pager_links(first) == {"next": f"{url}?page=2"}
    second = client.get(url + "?page=2").text
    assert registrants_listed(second) == in_order[50:100]
    assert pager_links(second) == {"prev": f"{url}?page=1", "next": f"{url}?page=3"}
    assert registrants_listed(client.get(url + "?page=3").text) == in_order[100:]
    # The totals are the whole session's (SQL aggregates), on every page.
    expected = {
        "gross": "5929.00",  # 49.00 + 120 x 49.00
        "discounts": "0.00",
        "refunded": "600.00",  # 120 x 5.00
        "net": "5329.00",
        "count": 121,
        "by_status": {"confirmed": 121},
    }
    assert totals(first) == totals(second) == expected
    row_html = row(second, bulk[60])
    assert 'data-paid="49.00" data-refunded="5.00"' in row_html and "Visa" in row_html

    # A form on page 2 posts back to page 2: a refused POST shows page 2 again, and its pager
    # still leads to the list's pages (not to the POST's own address).
    target = bulk[60]
    page_two = client.get(url + "?page=2").text
    action = f"{url}/{target}/cancel?page=2"
    assert f'action="{action}"' in page_two
    refused = client.post(action, data={"csrf_token": csrf_from(page_two), "refund": "partial", "amount": ""})
    assert refused.status_code == 422
    assert "Bulk 0060: Enter an amount above zero, or choose a full refund." in refused.text
    assert registrants_listed(refused.text) == in_order[50:100]
    assert "<details open>" in row(refused.text, target)
    assert pager_links(refused.text) == {"prev": f"{url}?page=1", "next": f"{url}?page=3"}
    # ... and a cancellation goes back to the page it came from.
    done = client.post(action, data={"csrf_token": csrf_from(page_two), "refund": "none"})
    assert done.status_code == 303 and done.headers["Location"] == f"{url}?page=2"
    assert 'data-status="cancelled"' in row(client.get(done.headers["Location"]).text, target)

    beyond = client.get(url + "?page=9")
    assert beyond.status_code == 200 and registrants_listed(beyond.text) == []
    assert "No registrants on this page." in beyond.text and totals(beyond.text)["count"] == 121


def test_the_csv_streams_every_registrant_with_the_exact_columns(app, client, site):
    early = paid_guest(app, site["my_token"], "Ann Early", "ann@example.com")
    bulk = bulk_registrants(app, site["mine"], 1100)  # more than one batch of a thousand
    login(client, ORGANIZER)
    response = client.get(registrants_url(site["mine"]) + "?format=csv")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    lines = response.get_data(as_text=True).split("\r\n")
    assert lines[-1] == ""
    rows = list(csv.reader(lines[:-1]))
    assert rows[0] == CSV_COLUMNS
    assert [int(found[0]) for found in rows[1:]] == [early, *bulk]
    with app.app_context():
        last = db.session.get(Registration, bulk[-1])
        moment = last.created_at.isoformat()
    assert rows[-1] == [
        str(bulk[-1]),
        "Bulk 1099",
        "bulk1099@example.com",
        "",
        "",
        "confirmed",
        "USD",
        "49.00",
        "0.00",
        "",
        "49.00",
        "5.00",
        "44.00",
        "partially_refunded",
        "bulk1099",
        moment,
        moment,
        "",
    ]
    # The CSV's column sums are the page's totals.
    page = client.get(registrants_url(site["mine"])).text
    assert sum(Decimal(found[12]) for found in rows[1:]) == Decimal(totals(page)["net"])


# -- cancelling one registration -------------------------------------------------------------


def test_organizer_cancels_with_a_partial_refund_recorded_on_the_payment_and_in_the_sandbox(
    app, client, site, payments_sandbox
):
    registration_id = paid_guest(app, site["my_token"], "Pat Partial", "pat@example.com")
    sale_id = settle(app, registration_id)
    login(client, ORGANIZER)
    response = post_as_organizer(
        client, site["mine"], f"{registration_id}/cancel", {"refund": "partial", "amount": "20.00"}
    )
    assert response.status_code == 303
    after = state(app, registration_id)
    assert (after["status"], after["payment"], after["refunded_cents"]) == (
        "refunded",
        "partially_refunded",
        2000,
    )
    assert after["refunds"] == [("refund", 2000, "succeeded")]
    assert credits_on(payments_sandbox, sale_id) == [("credit", Decimal("20.00"))]
    page = client.get(registrants_url(site["mine"])).text
    assert "Pat Partial&#39;s registration is cancelled; $20.00 refunded in all." in page
    assert totals(page) | {"by_status": None} == {
        "gross": "49.00",
        "discounts": "0.00",
        "refunded": "20.00",
        "net": "29.00",
        "count": 1,
        "by_status": None,
    }
    # 29.00 is still refundable: the organizer may give more back later.
    assert "Refund in full ($29.00)" in row(page, registration_id)
    more = post_as_organizer(client, site["mine"], f"{registration_id}/refund", {"refund": "9.00"})
    assert more.status_code == 303
    assert state(app, registration_id)["refunded_cents"] == 2900
    assert credits_on(payments_sandbox, sale_id) == [
        ("credit", Decimal("20.00")),
        ("credit", Decimal("9.00")),
    ]


def test_cancel_with_no_refund_keeps_the_payment(app, client, site, payments_sandbox):
    registration_id = paid_guest(app, site["my_token"], "Nora None", "nora@example.com")
    login(client, ORGANIZER)
    assert (
        post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "none"}).status_code
        == 303
    )
    after = state(app, registration_id)
    assert (after["status"], after["payment"], after["refunds"]) == (
        "cancelled",
        "submitted_for_settlement",
        [],
    )
    assert credits_on(payments_sandbox, after["sale"]) == []
    page = client.get(registrants_url(site["mine"])).text
    assert totals(page)["net"] == "49.00" and "data-refund-failed" not in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"refund": "partial", "amount": "49.01"}, "At most $49.00 can be refunded."),
        ({"refund": "60"}, "At most $49.00 can be refunded."),
        ({"refund": "partial", "amount": ""}, "Enter an amount above zero, or choose a full refund."),
        ({"refund": "partial", "amount": "1.234"}, "USD amounts have at most 2 decimal places."),
        ({"refund": "-5"}, "Enter zero or a positive amount."),
        ({"refund": "lots"}, "Enter a number, such as 12.50."),
        ({}, "Choose a full refund, no refund, or an amount."),
    ],
)
def test_a_bad_refund_amount_is_refused_and_nothing_changes(app, client, site, data, message):
    registration_id = paid_guest(app, site["my_token"], "Val Bad", "val@example.com")
    settle(app, registration_id)
    login(client, ORGANIZER)
    response = post_as_organizer(client, site["mine"], f"{registration_id}/cancel", data)
    assert response.status_code == 422
    assert f"Val Bad: {message}" in response.text.replace("&#39;", "'")
    after = state(app, registration_id)
    assert (after["status"], after["payment"], after["refunds"]) == ("confirmed", "settled", [])


def test_a_partial_refund_before_settlement_is_refused_and_nothing_changes(app, client, site):
    registration_id = paid_guest(app, site["my_token"], "Sam Soon", "sam@example.com")
    login(client, ORGANIZER)
    response = post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "10.00"})
    assert response.status_code == 422
    assert "it can only be voided in full" in response.text
    assert state(app, registration_id)["status"] == "confirmed"


def test_a_failed_refund_is_shown_and_can_be_retried(app, client, site, payments_sandbox):
    registration_id = paid_guest(app, site["my_token"], "Rita Retry", "rita@example.com")
    sale_id = settle(app, registration_id)
    login(client, ORGANIZER)
    payments_sandbox.set_faults(status=429, times=1, only="refund")
    response = post_as_organizer(
        client, site["mine"], f"{registration_id}/cancel", {"refund": "partial", "amount": "30.00"}
    )
    assert response.status_code == 303
    after = state(app, registration_id)
    assert (after["status"], after["payment"], after["refunded_cents"]) == ("cancelled", "settled", 0)
    assert after["refunds"] == [("refund", 3000, "failed")]
    assert credits_on(payments_sandbox, sale_id) == []
    page = client.get(registrants_url(site["mine"])).text
    assert (
        "the refund failed: The payment service could not be reached: nothing was refunded."
        in page.replace("&#39;", "'")
    )
    failed_row = row(page, registration_id)
    assert "data-refund-failed" in failed_row and 'data-refund-status="failed"' in failed_row
    assert 'name="refund" value="30.00">Retry refund ($30.00)</button>' in failed_row
    # The guest's seat went back at once; the money follows on the retry, as their email says.
    assert 'data-status="cancelled"' in failed_row
    with app.app_context():
        from portal.mail.models import OutboxMessage

        (told,) = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.kind == "registration_cancelled")
        ).all()
    assert (
        "Your refund of $30.00 could not be sent yet. It will be, and you will get an email when it is."
        in told
    )
    assert told.startswith(
        "Hello Rita Retry,\n\nYour registration for My paid session is cancelled.\n\nYour refund"
    )

    retry = post_as_organizer(client, site["mine"], f"{registration_id}/refund", {"refund": "30.00"})
    assert retry.status_code == 303
    after = state(app, registration_id)
    assert (after["status"], after["payment"], after["refunded_cents"]) == (
        "refunded",
        "partially_refunded",
        3000,
    )
    assert after["refunds"] == [("refund", 3000, "failed"), ("refund", 3000, "succeeded")]
    assert credits_on(payments_sandbox, sale_id) == [("credit", Decimal("30.00"))]
    page = client.get(registrants_url(site["mine"])).text
    assert "Rita Retry: $30.00 refunded." in page
    assert "data-refund-failed" not in row(page, registration_id)
    assert totals(page)["refunded"] == "30.00" and totals(page)["net"] == "19.00"


def test_refund_of_a_registration_with_nothing_left_is_refused(app, client, site):
    registration_id = paid_guest(app, site["my_token"], "Ned Nothing", "ned@example.com")
    login(client, ORGANIZER)
    # Still active: refunds go through cancelling, not this retry.
    response = post_as_organizer(client, site["mine"], f"{registration_id}/refund", {"refund": "full"})
    assert response.status_code == 409 and "Ned Nothing: nothing is left to refund." in response.text
    assert (
        post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "full"}).status_code
        == 303
    )
    response = post_as_organizer(client, site["mine"], f"{registration_id}/refund", {"refund": "full"})
    assert response.status_code == 409
    again = post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "full"})
    assert again.status_code == 409 and "can no longer be cancelled" in again.text
    assert state(app, registration_id)["refunds"] == [("void", 4900, "succeeded")]


def test_an_unpaid_registration_is_cancelled_without_a_refund_and_its_seat_goes_back(app, client, site):
    _guest, _manage, registration_id = register(app, site["my_token"], "Una Unpaid", "una@example.com")
    login(client, ORGANIZER)
    page = client.get(registrants_url(site["mine"])).text
    assert '<input type="hidden" name="refund" value="none">' in row(page, registration_id)
    assert (
        post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "none"}).status_code
        == 303
    )
    assert state(app, registration_id)["status"] == "cancelled"
    public = client.get(f"/s/{site['my_token']}").text
    assert 'data-seats-left="5"' in public
    # A refund asked for on an unpaid registration: refused, as there is nothing to give back.
    _guest, _manage, other = register(app, site["my_token"], "Ola Other", "ola@example.com")
    response = post_as_organizer(client, site["mine"], f"{other}/cancel", {"refund": "5.00"})
    assert response.status_code == 422 and "there is nothing to refund" in response.text


# -- cancelling the whole session ------------------------------------------------------------------


def test_the_dry_run_lists_exactly_what_cancelling_the_session_refunds(app, client, site, payments_sandbox):
    ann = paid_guest(app, site["my_token"], "Ann Full", "ann@example.com")
    bob = paid_guest(app, site["my_token"], "Bob Coupon", "bob@example.com", coupon="SAVE25")
    settle(app, bob)
    _guest, _manage, cy = register(app, site["my_token"], "Cy Pending", "cy@example.com")
    gone = paid_guest(app, site["my_token"], "Gil Gone", "gil@example.com")
    login(client, ORGANIZER)
    assert post_as_organizer(client, site["mine"], f"{gone}/cancel", {"refund": "full"}).status_code == 303

    preview = client.get(f"/sessions/{site['mine']}/cancel")
    assert preview.status_code == 200
    html = preview.text
    planned = re.findall(r'data-registration-id="(\d+)"\s+data-refund="([0-9.]+)"', html)
    assert planned == [(str(ann), "49.00"), (str(bob), "36.75"), (str(cy), "0.00")]
    assert 'id="cancel-summary" data-registrations="3" data-total="85.75"' in html
    assert "3 active registrations are cancelled and each guest is emailed." in html
    assert 'id="cancel-total" data-amount="85.75"' in html
    assert "Gil Gone" not in re.search(r'<table class="list" id="cancel-plan">.*</table>', html, re.S).group(
        0
    )
    # A dry run: nothing happened.
    assert state(app, ann)["status"] == "confirmed" and state(app, bob)["refunds"] == []
    assert f'<form method="post" action="/sessions/{site["mine"]}/cancel">' in html

    response = client.post(f"/sessions/{site['mine']}/cancel", data={"csrf_token": csrf_from(html)})
    assert response.status_code == 303
    refunded = {}
    for registration_id in (ann, bob, cy):
        after = state(app, registration_id)
        refunded[registration_id] = sum(
            amount for _kind, amount, status in after["refunds"] if status == "succeeded"
        )
    assert refunded == {ann: 4900, bob: 3675, cy: 0}
    assert credits_on(payments_sandbox, state(app, bob)["sale"]) == [("credit", Decimal("36.75"))]
    assert [t["status"] for t in payments_sandbox.transactions() if t["id"] == state(app, ann)["sale"]] == [
        "voided"
    ]
    with app.app_context():
        statuses = dict(db.session.execute(select(Registration.id, Registration.status)).all())
    assert statuses == {ann: "refunded", bob: "refunded", cy: "cancelled", gone: "refunded"}


def test_the_dry_run_of_a_session_with_no_one_registered(client, site):
    login(client, ORGANIZER)
    html = client.get(f"/sessions/{site['mine']}/cancel").text
    assert 'data-registrations="0" data-total="0.00"' in html
    assert "No one is registered: no guest is refunded or emailed." in html


def test_the_dry_run_of_a_cancelled_session_goes_back_to_the_session(client, site):
    login(client, ORGANIZER)
    token = csrf_from(client.get(f"/sessions/{site['mine']}/cancel").text)
    assert client.post(f"/sessions/{site['mine']}/cancel", data={"csrf_token": token}).status_code == 303
    response = client.get(f"/sessions/{site['mine']}/cancel")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/sessions/{site['mine']}")
    # The registrants page stays reachable after cancelling.
    assert client.get(registrants_url(site["mine"])).status_code == 200


def test_refund_rows_are_recorded_once_per_attempt(app, client, site):
    """No stray refund rows: one per gateway request, whatever the page shows."""
    registration_id = paid_guest(app, site["my_token"], "Ray Rows", "ray@example.com")
    settle(app, registration_id)
    login(client, ORGANIZER)
    post_as_organizer(client, site["mine"], f"{registration_id}/cancel", {"refund": "full"})
    with app.app_context():
        payment_id = db.session.get(Registration, registration_id).payment_id
        rows = db.session.scalars(select(Refund).where(Refund.payment_id == payment_id)).all()
        assert [(r.kind, r.amount_cents, r.status) for r in rows] == [("refund", 4900, "succeeded")]
        assert db.session.get(Payment, payment_id).status == "refunded"
