"""The payments ledger, revenue per session and per organizer, and the homes, on one known history.

The history (USD, demo rates, no tax) through the real services and the sandbox:
- "Fees A" by sales@ (fee 49.00): one guest pays 49.00; one pays 44.10 with a 10% coupon;
  one pays 49.00 and cancels (the unsettled sale is voided); one is declined; one pays
  49.00, it settles, and 10.00 is refunded.
- "Fees B" by eng@ (fee 20.00): one guest pays 20.00.
- A pay-per-use session by sales@: 60 minutes x 11 people x 0.0125 = 8.25.
"""

import csv
import io
from decimal import Decimal

import pytest

from portal.accounts.models import Role
from portal.coupons import services as coupons
from portal.coupons.services import CouponInput
from portal.extensions import db
from portal.payments import services as payments
from portal.payments.models import Payment
from portal.registration import services as registration
from tests.billing.test_reports import page_rows
from tests.conftest import count_queries, login
from tests.factories import enable_ecommerce, make_training, make_user
from tests.reports.history import DECLINED, guest_pays, pay_per_use_session, settle_payment, user

LEDGER = "/admin/payments"


@pytest.fixture
def history(app):
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        sales = make_user("sales@example.com", department="Sales")
        eng = make_user("eng@example.com", department="Engineering")
        coupons.create_coupon(
            CouponInput(kind="percent", code="TEN", percent=Decimal("10"), max_uses=5), admin
        )
        fees_a = make_training(sales, title="Fees A", fee_cents=4900, capacity=10, expected_attendees=5)
        fees_b = make_training(eng, title="Fees B", fee_cents=2000, capacity=10, expected_attendees=5)
        assert guest_pays(fees_a, "g1@example.com").status == "confirmed"
        assert guest_pays(fees_a, "g2@example.com", coupon="TEN").status == "confirmed"
        g3 = guest_pays(fees_a, "g3@example.com")
        assert registration.cancel(g3.id, refund_cents=None).status == "refunded"
        assert guest_pays(fees_a, "g4@example.com", nonce=DECLINED).status == "pending_payment"
        g5 = guest_pays(fees_a, "g5@example.com")
        settle_payment(g5.payment_id)
        assert payments.refund(g5.payment_id, 1000, reason="goodwill").amount_cents == 1000
        assert guest_pays(fees_b, "g6@example.com").status == "confirmed"
        ppu = pay_per_use_session("sales@example.com")
        return {"a": fees_a.id, "b": fees_b.id, "ppu": ppu.id, "sales": sales.id, "eng": eng.id}


def totals_of(html: str, row_class: str) -> list[tuple]:
    return [
        (row["currency"], row.get("payments") or row.get("sessions"), row.get("charged") or row.get("gross"),
         row.get("refunded") or row.get("refunds"), row["net"])
        for row in page_rows(html, row_class)
    ]  # fmt: skip


# -- the ledger ------------------------------------------------------------------------------------


def test_ledger_lists_every_payment_and_refund_with_totals(client, history):
    login(client, "admin@example.com")
    page = client.get(LEDGER).text
    rows = page_rows(page, "ledger-row")
    kinds = sorted((row["kind"], row["amount"], row["counted"]) for row in rows)
    assert kinds == [
        ("payment", "20.00", "yes"),
        ("payment", "44.10", "yes"),
        ("payment", "49.00", "no"),  # declined
        ("payment", "49.00", "yes"),
        ("payment", "49.00", "yes"),
        ("payment", "49.00", "yes"),  # voided after the cancellation: taken, then given back
        ("payment", "8.25", "yes"),
        ("refund", "-10.00", "yes"),
        ("void", "-49.00", "yes"),
    ]
    assert totals_of(page, "ledger-total") == [("USD", "6", "219.35", "59.00", "160.35")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("purpose=guest_fee", [("USD", "5", "211.10", "59.00", "152.10")]),
        ("purpose=pay_per_use", [("USD", "1", "8.25", "0.00", "8.25")]),
        ("kind=refund", [("USD", "0", "0.00", "10.00", "-10.00")]),
        ("status=declined", [("USD", "0", "0.00", "0.00", "0.00")]),
        ("method=paypal", []),
        ("organizer=ENG@example.com", [("USD", "1", "20.00", "0.00", "20.00")]),
        ("organizer=nobody@example.com", []),
        ("from=2000-01-01&to=2000-12-31", []),
    ],
)
def test_ledger_filters_apply_to_rows_and_totals(client, history, query, expected):
    login(client, "admin@example.com")
    page = client.get(f"{LEDGER}?{query}").text
    assert totals_of(page, "ledger-total") == expected


def test_ledger_filters_by_session_and_by_day(client, history, app):
    login(client, "admin@example.com")
    page = client.get(f"{LEDGER}?session={history['a']}").text
    assert totals_of(page, "ledger-total") == [("USD", "4", "191.10", "59.00", "132.10")]
    assert len(page_rows(page, "ledger-row")) == 7
    with app.app_context():
        from portal.database import utcnow

        today = utcnow().date().isoformat()
    page = client.get(f"{LEDGER}?from={today}&to={today}").text
    assert totals_of(page, "ledger-total") == [("USD", "6", "219.35", "59.00", "160.35")]


def test_ledger_rejects_a_bad_filter_with_a_message(client, history):
    login(client, "admin@example.com")
    response = client.get(f"{LEDGER}?from=2026-02-30")
    assert response.status_code == 422
    response = client.get(f"{LEDGER}?from=2026-05-02&to=2026-05-01")
    assert response.status_code == 422
    assert "The last day is before the first." in response.text
    assert client.get(f"{LEDGER}?session=0").status_code == 422
    assert client.get(f"{LEDGER}?status=bogus").status_code == 422


def test_ledger_csv_has_every_filtered_row_as_plain_numbers(client, history):
    login(client, "admin@example.com")
    response = client.get(f"{LEDGER}/ledger.csv?purpose=guest_fee&kind=void")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["kind", "payment_id", "refund_id", "at"]
    assert [(r[0], r[4], r[6], r[9], r[10], r[11], r[12], r[13]) for r in rows[1:]] == [
        ("void", "guest_fee", "succeeded", "Fees A", "sales@example.com", "-49.00", "USD", "yes")
    ]


def test_ledger_pages_keep_the_filter_and_the_totals(app, client, history):
    app.config["PAGE_SIZE"] = 3
    login(client, "admin@example.com")
    seen = []
    for number, size in ((1, 3), (2, 3), (3, 2), (4, 0)):
        page = client.get(f"{LEDGER}?purpose=guest_fee&page={number}").text
        rows = page_rows(page, "ledger-row")
        assert len(rows) == size
        seen += [(row["kind"], row["payment-id"], row["amount"]) for row in rows]
        assert totals_of(page, "ledger-total") == [("USD", "5", "211.10", "59.00", "152.10")]
    assert len(set(seen)) == 8  # every guest-fee row once, none twice
    first = client.get(f"{LEDGER}?purpose=guest_fee").text
    assert 'href="/admin/payments?purpose=guest_fee&amp;page=2"' in first
    assert "Page 1 of 3" in first


# -- revenue per session and per organizer ----------------------------------------------------------


def test_revenue_per_session_has_gross_discounts_refunds_net_and_registrations(client, history):
    login(client, "admin@example.com")
    page = client.get("/admin/reports/sessions").text
    rows = {
        row["session-id"]: (row["registrations"], row["gross"], row["discounts"], row["refunds"], row["net"])
        for row in page_rows(page, "revenue-row")
    }
    assert rows == {
        str(history["a"]): ("3", "191.10", "4.90", "59.00", "132.10"),
        str(history["b"]): ("1", "20.00", "0.00", "0.00", "20.00"),
    }
    [total] = page_rows(page, "revenue-total")
    figures = ("sessions", "registrations", "gross", "discounts", "refunds", "net")
    assert tuple(total[key] for key in figures) == ("2", "4", "211.10", "4.90", "59.00", "152.10")


def test_an_unpaid_draft_with_a_fee_is_not_in_the_revenue_report(app, client, history):
    from datetime import timedelta

    from portal.admin.services import get_settings
    from portal.billing.pricing import AudioType
    from portal.database import utcnow
    from portal.trainings.services import SessionDetails, save_draft

    with app.app_context():
        details = SessionDetails(
            title="Not published", description="", start_at=utcnow() + timedelta(days=5), timezone="UTC",
            duration_minutes=60, capacity=10, expected_attendees=5, audio=AudioType.INTERNET,
            teleconference_participants=0, fee_cents=3000,
        )  # fmt: skip
        draft = save_draft(user("sales@example.com"), details, get_settings(), "schedule")
        assert (draft.status, draft.fee_cents) == ("draft", 3000)
    login(client, "admin@example.com")
    page = client.get("/admin/reports/sessions").text
    ids = {row["session-id"] for row in page_rows(page, "revenue-row")}
    assert ids == {str(history["a"]), str(history["b"])} and str(draft.id) not in ids


def test_revenue_per_session_equals_the_ledger_for_guest_fees(client, history):
    login(client, "admin@example.com")
    ledger_total = totals_of(client.get(f"{LEDGER}?purpose=guest_fee").text, "ledger-total")
    report_total = page_rows(client.get("/admin/reports/sessions").text, "revenue-total")
    assert ledger_total[0][2:] == (
        report_total[0]["gross"],
        report_total[0]["refunds"],
        report_total[0]["net"],
    )
    for session in (history["a"], history["b"]):
        ledger = totals_of(client.get(f"{LEDGER}?purpose=guest_fee&session={session}").text, "ledger-total")
        row = [r for r in page_rows(client.get("/admin/reports/sessions").text, "revenue-row")
               if r["session-id"] == str(session)][0]  # fmt: skip
        assert ledger[0][2:] == (row["gross"], row["refunds"], row["net"])


def organizer_rows(page: str) -> list[tuple]:
    return [
        (
            r["organizer"],
            r["sessions"],
            r["registrations"],
            r["gross"],
            r["discounts"],
            r["refunds"],
            r["net"],
        )
        for r in page_rows(page, "organizer-row")
    ]


ENG_ROW = ("eng@example.com", "1", "1", "20.00", "0.00", "0.00", "20.00")
SALES_ROW = ("sales@example.com", "1", "3", "191.10", "4.90", "59.00", "132.10")


def test_revenue_per_organizer_sums_their_sessions(client, history):
    login(client, "admin@example.com")
    page = client.get("/admin/reports/organizers").text
    assert organizer_rows(page) == [ENG_ROW, SALES_ROW]
    page = client.get("/admin/reports/organizers?organizer=eng@example.com").text
    assert [r["organizer"] for r in page_rows(page, "organizer-row")] == ["eng@example.com"]


def test_each_page_of_organizers_sums_its_own_organizers(app, client, history):
    # The figures are summed for the page's organizers only: each page must still be whole.
    app.config["PAGE_SIZE"] = 1
    login(client, "admin@example.com")
    first = client.get("/admin/reports/organizers").text
    second = client.get("/admin/reports/organizers?page=2").text
    assert organizer_rows(first) == [ENG_ROW]
    assert organizer_rows(second) == [SALES_ROW]
    # The totals are the whole report's, on every page.
    assert page_rows(first, "revenue-total") == page_rows(second, "revenue-total")
    assert page_rows(first, "revenue-total")[0]["net"] == "152.10"


def test_revenue_csv_streams_each_session(client, history):
    login(client, "admin@example.com")
    response = client.get("/admin/reports/sessions.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "session_id", "title", "start", "status", "organizer", "registrations",
        "gross", "discounts", "refunds", "net", "currency",
    ]  # fmt: skip
    assert sorted((r[1], r[4], r[5], r[6], r[7], r[8], r[9], r[10]) for r in rows[1:]) == [
        ("Fees A", "sales@example.com", "3", "191.10", "4.90", "59.00", "132.10", "USD"),
        ("Fees B", "eng@example.com", "1", "20.00", "0.00", "0.00", "20.00", "USD"),
    ]


# -- the homes ----------------------------------------------------------------------------------------


def test_admin_home_shows_today_and_month(client, history):
    login(client, "admin@example.com")
    response = client.get("/", follow_redirects=True)
    page = response.text
    assert response.request.path == "/admin/"
    assert 'id="today-registrations" data-count="4"' in page
    assert 'id="month-registrations" data-count="4"' in page
    assert 'id="today-revenue" data-amounts="USD:211.10"' in page
    assert 'id="month-refunds" data-amounts="USD:59.00"' in page
    assert 'id="today-pay-per-use" data-amounts="USD:8.25"' in page
    assert 'id="attention" data-count="0"' in page


def test_admin_home_lists_what_needs_attention(client, history, app):
    with app.app_context():
        from sqlalchemy import update

        from portal.payments.models import Payment

        # A sale whose answer was lost, and a disputed one (the states the gateway leaves us in).
        first, second = db.session.scalars(db.select(Payment.id).order_by(Payment.id).limit(2)).all()
        db.session.execute(update(Payment).where(Payment.id == first).values(status="unknown"))
        db.session.execute(
            update(Payment).where(Payment.id == second).values(status="disputed", dispute_status="open")
        )
        db.session.commit()
    login(client, "admin@example.com")
    page = client.get("/admin/").text
    assert 'id="unknown-payments" data-count="1"' in page
    assert 'id="disputes" data-count="1"' in page
    assert f'href="/admin/payments/{first}"' in page


def test_organizer_home_shows_upcoming_sessions_with_money(client, history):
    login(client, "sales@example.com")
    response = client.get("/", follow_redirects=True)
    assert response.request.path == "/home"
    rows = {
        r["session-id"]: (r["registrations"], r["seats-left"], r["collected"])
        for r in page_rows(response.text, "upcoming-row")
    }
    assert rows == {
        str(history["a"]): ("3", "6", "132.10"),  # 10 seats: 3 confirmed + 1 held by the declined guest
        str(history["ppu"]): ("0", "50", "0.00"),
    }  # fmt: skip


# -- permissions and size ---------------------------------------------------------------------------------


ADMIN_PAGES = [
    LEDGER,
    f"{LEDGER}/ledger.csv",
    "/admin/",
    "/admin/reports/",
    "/admin/reports/sessions",
    "/admin/reports/sessions.csv",
    "/admin/reports/organizers",
]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_organizers_never_see_admin_reports(client, history, url):
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, "sales@example.com")
    assert client.get(url).status_code == 404


def test_pages_cost_the_same_queries_with_many_rows(app, client, history):
    login(client, "admin@example.com")
    organizer = app.test_client()
    login(organizer, "sales@example.com")
    urls = [LEDGER, "/admin/", "/admin/reports/sessions", "/admin/reports/organizers"]
    few = [count_queries(app, client, url) for url in urls] + [count_queries(app, organizer, "/home")]
    with app.app_context():
        sales = user("sales@example.com")
        for number in range(12):
            training = make_training(sales, title=f"More {number}", fee_cents=1500)
            guest_pays(training, f"more{number}@example.com")
            guest_pays(training, f"other{number}@example.com")
    many = [count_queries(app, client, url) for url in urls] + [count_queries(app, organizer, "/home")]
    assert many == few


# -- the ledger's edge cases: what the gateway did behind our back ------------------------------------


def guest_fee_totals(client) -> list[tuple]:
    return totals_of(client.get(f"{LEDGER}?purpose=guest_fee").text, "ledger-total")


def test_a_sale_voided_at_the_gateway_never_counts_as_money(app, client, payments_sandbox):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        training = make_training(make_user("sales@example.com"), fee_cents=5000)
        paid = guest_pays(training, "guest@example.com")
        payment = db.session.get(Payment, paid.payment_id)
        payments.gateway().void(payment.gateway_transaction_id)  # someone voided it in the gateway's panel
        assert payments.refresh_payment(payment.id).status == "voided"
    login(client, "admin@example.com")
    page = client.get(LEDGER).text
    assert [(r["kind"], r["counted"]) for r in page_rows(page, "ledger-row")] == [("payment", "no")]
    assert guest_fee_totals(client) == [("USD", "0", "0.00", "0.00", "0.00")]


def test_a_lost_dispute_is_a_chargeback_in_the_ledger_and_the_reports(app, client, payments_sandbox):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        training = make_training(make_user("sales@example.com"), fee_cents=5000)
        payment = settle_payment(guest_pays(training, "guest@example.com").payment_id)
        assert payments.refund(payment.id, 1000, reason="goodwill").amount_cents == 1000
        txn = payment.gateway_transaction_id
    for kind in ("dispute_opened", "dispute_lost"):
        notification = payments_sandbox.sign_notification(kind, txn)
        assert client.post("/webhooks/braintree", data=notification).status_code == 200
    login(client, "admin@example.com")
    rows = page_rows(client.get(LEDGER).text, "ledger-row")
    assert sorted((r["kind"], r["amount"], r["counted"]) for r in rows) == [
        ("chargeback", "-40.00", "yes"),  # what had not been refunded
        ("payment", "50.00", "yes"),
        ("refund", "-10.00", "yes"),
    ]
    assert guest_fee_totals(client) == [("USD", "1", "50.00", "50.00", "0.00")]
    [row] = page_rows(client.get("/admin/reports/sessions").text, "revenue-row")
    assert (row["gross"], row["refunds"], row["net"]) == ("50.00", "50.00", "0.00")
    assert client.get(f"{LEDGER}?kind=chargeback").text.count('class="ledger-row') == 1


@pytest.mark.parametrize(
    "query",
    [
        "to=9999-12-31",
        "from=0001-01-01",
        "from=1999-12-31",
        "to=2200-01-01",
        "session=99999999999",
        "page=-3",
    ],
)
def test_odd_filters_get_an_answer_never_a_500(client, history, query):
    login(client, "admin@example.com")
    for url in (LEDGER, f"{LEDGER}/ledger.csv", "/admin/reports/sessions", "/admin/reports/organizers"):
        assert client.get(f"{url}?{query}").status_code in (200, 303, 422), url


@pytest.mark.parametrize("lost", ["after_the_gateway_acted", "before_it_did"])
def test_a_pay_per_use_refund_whose_answer_was_lost_is_counted_once(app, payments_sandbox, lost):
    """The department report, the ledger and the gateway agree, and the refund is never made twice."""
    from datetime import timedelta

    from portal.billing import reports as department_reports
    from portal.billing import services as billing
    from portal.database import utcnow
    from portal.payments import ledger
    from portal.trainings.models import TrainingSession

    with app.app_context():
        enable_ecommerce()
        make_user("sales@example.com", department="Sales")
        training = pay_per_use_session("sales@example.com")  # 8.25
        [charge] = billing.training_charges(training)
        settle_payment(charge.payment_id)
        if lost == "after_the_gateway_acted":
            payments_sandbox.set_faults(lose_response=True, times=2, only=["refund", "find"])
        else:
            payments_sandbox.set_faults(drop_connection=True, times=2, only=["refund", "find"])
        assert billing.refund(db.session.get(TrainingSession, training.id), 300, "estimate lowered") == 300
        payments_sandbox.clear_faults()
        payments.reconcile(now=utcnow() + timedelta(hours=2))  # resolves it, or gives up on it
        assert billing.settle_owed_refunds() == (0 if lost == "after_the_gateway_acted" else 300)
        assert billing.settle_owed_refunds() == 0

        credits = [
            t
            for t in payments_sandbox.transactions()
            if t["type"] == "credit" and t["refunded_transaction_id"] == charge.payment.gateway_transaction_id
        ]
        assert [str(t["amount"]) for t in credits] == ["3.00"]  # once, whatever was lost
        [ledger_total] = ledger.totals(ledger.LedgerFilter(purpose="pay_per_use"))
        [department] = department_reports.pay_per_use_report().totals
        assert (ledger_total.charged_cents, ledger_total.refunded_cents) == (825, 300)
        assert (department.paid_cents, department.refunded_cents) == (825, 300)
        training = db.session.get(TrainingSession, training.id)
        assert (training.paid_cents, training.refund_owed_cents) == (525, 0)


def test_a_failed_refund_needs_attention_until_a_retry_succeeds(app, client, payments_sandbox):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        training = make_training(make_user("sales@example.com"), fee_cents=5000)
        payment = settle_payment(guest_pays(training, "guest@example.com").payment_id)
        payments_sandbox.set_faults(status=429, times=1, only="refund")  # refused before it was processed
        with pytest.raises(payments.PaymentError):
            payments.refund(payment.id, 2000, reason="goodwill")
        payments_sandbox.clear_faults()
    login(client, "admin@example.com")
    assert 'id="failed-refunds" data-count="1"' in client.get("/admin/").text
    with app.app_context():
        assert payments.refund(payment.id, 2000, reason="goodwill, again").amount_cents == 2000
    page = client.get("/admin/").text
    assert 'id="failed-refunds"' not in page
    assert 'id="attention" data-count="0"' in page
