"""Pay-per-use reimbursement report, department budgets and "My spend".

History is made through the real services (draft -> checkout -> pay with a
sandbox nonce -> settle -> refund) against the offline payment sandbox, and every
figure is checked to the cent against the payments ledger.
"""

import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from portal.accounts.models import Department, Role, User
from portal.admin.models import AuditEntry
from portal.billing import reports
from portal.billing import services as billing
from portal.billing.models import DepartmentBudget, Reimbursement, SessionCharge
from portal.database import utcnow
from portal.extensions import db
from portal.money import plain_amount
from portal.payments import services as payments
from portal.payments.models import Payment, Purpose, Refund, RefundStatus
from portal.trainings.models import TrainingSession
from tests.conftest import count_queries, csrf_from, login, reset_database
from tests.factories import enable_ecommerce, make_user
from tests.reports.history import pay_per_use_session

REPORT = "/admin/reports/pay-per-use"
REIMBURSE = "/admin/reports/pay-per-use/reimburse"
BUDGETS = "/admin/budgets"
MY_SPEND = "/my/spend"
ALL_METHODS = payments.AllowedMethods(True, True, True)

THIS_MONTH = billing.period_of(utcnow())
LAST_MONTH = billing.period_of(utcnow().replace(day=1) - timedelta(days=1))


# -- history through the real services ------------------------------------------------------------


def setup_site():
    """Pay-per-use on (no tax), an admin, organizers in Sales and Engineering, and one without."""
    enable_ecommerce()
    make_user("admin@example.com", role=Role.ADMIN, department=None)
    make_user("sales@example.com", department="Sales")
    make_user("sales2@example.com", department="Sales")
    make_user("eng@example.com", department="Engineering")
    make_user("solo@example.com", department=None)


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def department(name: str) -> Department:
    return db.session.scalar(select(Department).where(Department.name == name))


def paid_session(email: str, duration=60, attendees=10, title="Negotiation basics") -> TrainingSession:
    """Draft, checkout and pay with a sandbox card; 60 minutes x (10 + 1) people x 0.0125 = 8.25."""
    training = pay_per_use_session(email, duration=duration, attendees=attendees, title=title)
    assert training.status == "scheduled"
    return training


def settle(training: TrainingSession) -> None:
    """Settle every payment of the session, so that refunds may be partial."""
    for charge in billing.training_charges(training):
        payment = db.session.get(Payment, charge.payment_id)
        if payment.status == "submitted_for_settlement":
            payments.gateway().settle(payment.gateway_transaction_id)
            payments.refresh_payment(payment.id)
    assert all(c.payment.status != "submitted_for_settlement" for c in billing.training_charges(training))


def refund(training: TrainingSession, cents: int) -> int:
    return billing.refund(db.session.get(TrainingSession, training.id), cents, "test")


def move_to_month(training: TrainingSession, period: str) -> None:
    """The sandbox cannot travel in time: date a session's charges and refunds into another month."""
    moment = reports.month_start(period) + timedelta(days=14, hours=12)
    db.session.execute(
        update(SessionCharge)
        .where(SessionCharge.training_session_id == training.id)
        .values(created_at=moment)
    )
    db.session.commit()


def ledger_totals() -> tuple[int, int]:
    """Straight from the payments tables: pay-per-use money taken, and succeeded refunds of it."""
    paid = db.session.scalar(
        select(func.coalesce(func.sum(Payment.amount_cents), 0)).where(
            Payment.purpose == Purpose.PAY_PER_USE, Payment.paid_at.is_not(None)
        )
    )
    refunded = db.session.scalar(
        select(func.coalesce(func.sum(Refund.amount_cents), 0))
        .join(Payment, Payment.id == Refund.payment_id)
        .where(
            Payment.purpose == Purpose.PAY_PER_USE,
            Refund.status == RefundStatus.SUCCEEDED,
            Refund.duplicate.is_(False),
        )
    )
    return int(paid), int(refunded)


@pytest.fixture
def history(app):
    """Sales: 8.25 last month, 16.50 this month with 5.00 refunded after settlement;
    Engineering: 15.75 this month, voided in full; no department: 8.25 this month."""
    with app.app_context():
        setup_site()
        s1 = paid_session("sales@example.com", title="Cold calls")
        move_to_month(s1, LAST_MONTH)
        s2 = paid_session("sales2@example.com", duration=120, title="Closing")  # 120 x 11 x 0.0125
        settle(s2)
        assert refund(s2, 500) == 500
        s3 = paid_session("eng@example.com", attendees=20, title="Code review")  # 60 x 21 x 0.0125
        assert refund(s3, 1575) == 1575  # unsettled: a void of the whole payment
        paid_session("solo@example.com", title="Solo")
        return {"s1": s1.id, "s2": s2.id, "s3": s3.id}


# -- reading the pages ----------------------------------------------------------------------------


class RowParser(HTMLParser):
    """The data-* attributes of <tr> elements with the given classes, in document order."""

    def __init__(self, classes):
        super().__init__()
        self.classes = set(classes)
        self.rows: list[dict] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "tr" and self.classes & set((found.get("class") or "").split()):
            self.rows.append(
                {
                    "class": found["class"],
                    **{k[5:]: v for k, v in found.items() if k.startswith("data-")},
                }
            )


def page_rows(html: str, *classes) -> list[dict]:
    parser = RowParser(classes)
    parser.feed(html)
    return parser.rows


NUMBERS = ("department", "period", "sessions", "paid", "refunds", "net", "currency")


def report_rows(html: str) -> list[tuple]:
    return [tuple(row[key] for key in NUMBERS) for row in page_rows(html, "report-row")]


def report_totals(html: str) -> list[tuple]:
    return [
        (row["currency"], row["sessions"], row["paid"], row["refunds"], row["net"])
        for row in page_rows(html, "total")
    ]


def post_reimburse(client, department_id, period=THIS_MONTH, currency="USD", **extra):
    token = csrf_from(client.get(REPORT).text)
    data = {"department_id": department_id, "period": period, "currency": currency, "csrf_token": token}
    return client.post(REIMBURSE, data={**data, **extra})


# -- the report -------------------------------------------------------------------------------------


def test_report_rows_and_totals_are_exact_to_the_cent(app, client, history):
    login(client, "admin@example.com")
    page = client.get(REPORT)
    assert page.status_code == 200
    assert report_rows(page.text) == [
        ("Engineering", THIS_MONTH, "1", "15.75", "15.75", "0.00", "USD"),
        ("Sales", THIS_MONTH, "1", "16.50", "5.00", "11.50", "USD"),
        ("", THIS_MONTH, "1", "8.25", "0.00", "8.25", "USD"),
        ("Sales", LAST_MONTH, "1", "8.25", "0.00", "8.25", "USD"),
    ]
    assert report_totals(page.text) == [("USD", "4", "48.75", "20.75", "28.00")]
    assert "No department" in page.text
    assert "$28.00" in page.text


def test_report_net_equals_the_payments_ledger(app, client, history):
    with app.app_context():
        report = reports.pay_per_use_report()
        paid, refunded = ledger_totals()
    assert (paid, refunded) == (4875, 2075)
    [total] = report.totals
    assert (total.paid_cents, total.refunded_cents, total.net_cents) == (paid, refunded, paid - refunded)
    assert sum(row.net_cents for row in report.rows) == paid - refunded


def test_an_administrators_void_from_the_ledger_is_a_refund_of_the_session(app, client):
    with app.app_context():
        setup_site()
        training = paid_session("sales@example.com")  # 8.25, not settled yet
        [charge] = billing.training_charges(training)
        payment_id = charge.payment_id
    login(client, "admin@example.com")
    detail = client.get(f"/admin/payments/{payment_id}")
    client.post(
        f"/admin/payments/{payment_id}/void", data={"reason": "mistake", "csrf_token": csrf_from(detail.text)}
    )
    with app.app_context():
        training = db.session.get(TrainingSession, training.id)
        refunds = [(c.kind, c.amount_cents, c.department.name) for c in billing.training_charges(training)]
        assert refunds == [("charge", 825, "Sales"), ("refund", 825, "Sales")]
        assert (training.paid_cents, billing.balance_cents(training)) == (0, 825)
        with pytest.raises(billing.BillingError, match="unpaid"):
            billing.start(training)  # nothing is paid any more: it cannot start
        assert billing.department_spend(department("Sales").id, THIS_MONTH, "USD") == 0
    assert report_totals(client.get(REPORT).text) == [("USD", "1", "8.25", "8.25", "0.00")]


def test_report_filters_by_month_and_department(app, client, history):
    login(client, "admin@example.com")
    with app.app_context():
        sales = department("Sales").id
    page = client.get(REPORT, query_string={"from": THIS_MONTH, "to": THIS_MONTH})
    assert [row[:2] for row in report_rows(page.text)] == [
        ("Engineering", THIS_MONTH),
        ("Sales", THIS_MONTH),
        ("", THIS_MONTH),
    ]
    assert report_totals(page.text) == [("USD", "3", "40.50", "20.75", "19.75")]
    page = client.get(REPORT, query_string={"department": sales})
    assert report_rows(page.text) == [
        ("Sales", THIS_MONTH, "1", "16.50", "5.00", "11.50", "USD"),
        ("Sales", LAST_MONTH, "1", "8.25", "0.00", "8.25", "USD"),
    ]
    assert report_totals(page.text) == [("USD", "2", "24.75", "5.00", "19.75")]
    page = client.get(REPORT, query_string={"department": "none"})
    assert report_rows(page.text) == [("", THIS_MONTH, "1", "8.25", "0.00", "8.25", "USD")]
    page = client.get(REPORT, query_string={"to": LAST_MONTH})
    assert [row[:2] for row in report_rows(page.text)] == [("Sales", LAST_MONTH)]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"from": "2026-13"}, "Enter a month as YYYY-MM"),
        ({"to": "last month"}, "Enter a month as YYYY-MM"),
        ({"from": "2026-05", "to": "2026-04"}, "The last month is before the first."),
        ({"department": "999999"}, "Not a valid choice"),
    ],
)
def test_report_refuses_a_bad_filter(app, client, history, args, message):
    login(client, "admin@example.com")
    page = client.get(REPORT, query_string=args)
    assert page.status_code == 422
    assert message in page.text
    assert 'id="pay-per-use-report"' not in page.text
    assert client.get(REPORT, query_string={**args, "format": "csv"}).status_code == 422


def test_csv_has_the_same_numbers_as_the_page(app, client, history):
    login(client, "admin@example.com")
    page = client.get(REPORT)
    download = client.get(REPORT, query_string={"format": "csv"})
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(download.text)))
    body = [line for line in lines if line["department"] != "Total"]
    totals = [line for line in lines if line["department"] == "Total"]
    csv_rows = [
        (
            "" if line["department"] == "No department" else line["department"],
            line["period"],
            line["sessions"],
            line["paid"],
            line["refunds"],
            line["net"],
            line["currency"],
        )
        for line in body
    ]
    assert csv_rows == report_rows(page.text)
    assert [
        (line["currency"], line["sessions"], line["paid"], line["refunds"], line["net"]) for line in totals
    ] == report_totals(page.text)
    # The filter applies to the CSV too.
    filtered = client.get(REPORT, query_string={"format": "csv", "to": LAST_MONTH}).text
    assert [line["period"] for line in csv.DictReader(io.StringIO(filtered))] == [LAST_MONTH, ""]


def test_csv_keeps_a_formula_like_department_name_as_text(app, client):
    with app.app_context():
        setup_site()
        make_user("formula@example.com", department="=HYPERLINK(1)")
        paid_session("formula@example.com")
    login(client, "admin@example.com")
    [line, _total] = list(csv.DictReader(io.StringIO(client.get(REPORT + "?format=csv").text)))
    assert line["department"] == "'=HYPERLINK(1)"
    assert line["net"] == "8.25"


def test_report_query_count_does_not_grow_with_rows(app, client):
    with app.app_context():
        setup_site()
        paid_session("sales@example.com")
    login(client, "admin@example.com")
    few = count_queries(app, client, REPORT)
    few_csv = count_queries(app, client, REPORT + "?format=csv")
    with app.app_context():
        moved = paid_session("sales2@example.com")
        move_to_month(moved, LAST_MONTH)
        settle(paid_session("eng@example.com", duration=30))
        paid_session("solo@example.com")
        refund(db.session.scalar(select(TrainingSession).order_by(TrainingSession.id.desc())), 825)
        reports.mark_reimbursed(department("Sales").id, LAST_MONTH, "USD", user("admin@example.com"))
    assert len(report_rows(client.get(REPORT).text)) == 4
    assert count_queries(app, client, REPORT) == few
    assert count_queries(app, client, REPORT + "?format=csv") == few_csv


# -- the ledger property ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSession:
    organizer: str
    duration: int
    attendees: int
    last_month: bool
    refunds: tuple[int, ...]  # cents asked for; capped at what is left to give back
    from_ledger: bool = False  # an administrator refunds from the payments ledger, not the session


ORGANIZERS = ["sales@example.com", "sales2@example.com", "eng@example.com", "solo@example.com"]

planned_sessions = st.builds(
    PlannedSession,
    organizer=st.sampled_from(ORGANIZERS),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    attendees=st.integers(min_value=1, max_value=30),
    last_month=st.booleans(),
    refunds=st.lists(st.integers(min_value=1, max_value=1500), max_size=2).map(tuple),
    from_ledger=st.booleans(),
)


def ledger_refund(training: TrainingSession, cents: int) -> int:
    """An administrator's refund of the session's payment, from the payments ledger."""
    [charge] = [c for c in billing.training_charges(training) if c.kind == "charge"]
    return payments.refund(charge.payment_id, cents, reason="from the ledger").amount_cents


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=st.lists(planned_sessions, min_size=1, max_size=3))
def test_report_totals_equal_the_ledger_for_any_history(app, plan):
    with app.app_context():
        reset_database()
        setup_site()
        for planned in plan:
            training = paid_session(planned.organizer, planned.duration, planned.attendees)
            if planned.refunds:
                settle(training)
            give_back = ledger_refund if planned.from_ledger else refund
            for asked in planned.refunds:
                left = db.session.get(TrainingSession, training.id).paid_cents
                if left > 0:
                    assert give_back(training, min(asked, left)) == min(asked, left)
            if planned.last_month:
                move_to_month(training, LAST_MONTH)

        report = reports.pay_per_use_report()
        paid, refunded = ledger_totals()
        [total] = report.totals
        assert (total.paid_cents, total.refunded_cents) == (paid, refunded)
        assert total.net_cents == paid - refunded
        assert sum(row.paid_cents for row in report.rows) == paid
        assert sum(row.refunded_cents for row in report.rows) == refunded
        assert total.sessions == len(plan)
        # Each session has paid what its payments kept, whoever gave money back.
        for training in db.session.scalars(select(TrainingSession)):
            kept = sum(
                c.payment.amount_cents - c.payment.refunded_cents
                for c in billing.training_charges(training)
                if c.kind == "charge"
            )
            assert training.paid_cents == kept
        for row in report.rows:
            if row.department_id is not None:
                assert row.net_cents == billing.department_spend(row.department_id, row.period, "USD")
        # The CSV's total row says the same.
        csv_total = list(csv.DictReader(io.StringIO(reports.report_csv(report))))[-1]
        assert (csv_total["department"], csv_total["net"]) == ("Total", plain_amount(paid - refunded, "USD"))


# -- reimbursement ----------------------------------------------------------------------------------


def test_marking_a_month_reimbursed_records_who_when_and_how_much(app, client, history):
    with app.app_context():
        sales = department("Sales").id
    login(client, "admin@example.com")
    before = utcnow()
    response = post_reimburse(client, sales, expected_net_cents="1150", to=THIS_MONTH)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{REPORT}?to={THIS_MONTH}"
    page = client.get(response.headers["Location"]).text
    assert "Sales, " + THIS_MONTH + ": marked as reimbursed ($11.50)." in page
    [row] = [
        r for r in page_rows(page, "report-row") if r["department"] == "Sales" and r["period"] == THIS_MONTH
    ]
    assert row["reimbursed"] == "yes"
    assert row["reimbursed-amount"] == "11.50"
    assert row["reimbursed-by"] == "admin@example.com"
    assert "Reimbursed $11.50 by admin@example.com on" in page
    [total] = page_rows(page, "total")
    assert total["reimbursed-amount"] == "11.50"
    with app.app_context():
        [record] = db.session.scalars(select(Reimbursement)).all()
        assert (record.department_id, record.period, record.currency, record.amount_cents) == (
            sales,
            THIS_MONTH,
            "USD",
            1150,
        )
        assert record.reimbursed_by.email == "admin@example.com"
        assert before <= record.reimbursed_at <= utcnow()
        assert row["reimbursed-at"] == record.reimbursed_at.isoformat()
        [entry] = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "billing.reimbursed")
        ).all()
        assert entry.actor_email == "admin@example.com"
        assert entry.details["amount_cents"] == 1150 and entry.details["period"] == THIS_MONTH


def test_a_second_mark_is_refused_with_a_clear_message(app, client, history):
    with app.app_context():
        sales = department("Sales").id
    login(client, "admin@example.com")
    assert post_reimburse(client, sales).status_code == 303
    again = post_reimburse(client, sales)
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).text
    assert f"Sales, {THIS_MONTH} was already marked as reimbursed by admin@example.com on" in page
    assert "It was not marked again." in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reimbursement)) == 1
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "billing.reimbursed")
            )
            == 1
        )


def test_the_service_refuses_a_second_mark_too(app, history):
    with app.app_context():
        sales, admin = department("Sales").id, user("admin@example.com")
        reports.mark_reimbursed(sales, LAST_MONTH, "USD", admin)
        with pytest.raises(reports.ReportError) as refused:
            reports.mark_reimbursed(sales, LAST_MONTH, "USD", admin)
        assert refused.value.code == "already_reimbursed"


def test_reimbursing_refuses_a_changed_net_nothing_to_pay_and_bad_input(app, client, history):
    with app.app_context():
        sales, engineering = department("Sales").id, department("Engineering").id
    login(client, "admin@example.com")
    changed = post_reimburse(client, sales, expected_net_cents="1650")
    assert "the net is now $11.50" in client.get(changed.headers["Location"]).text
    nothing = post_reimburse(client, engineering)  # 15.75 paid, 15.75 voided
    assert "nothing to reimburse" in client.get(nothing.headers["Location"]).text
    for bad in (
        {"period": "2026-13"},
        {"currency": "XXX"},
        {"department_id": "abc"},
        {"department_id": "99999"},
        {"department_id": "9" * 100_000},  # int() refuses more than 4,300 digits: it was a 500
        {"department_id": str(2**63)},  # beyond a 64-bit column
        {"department_id": "١٢"},  # Arabic-Indic digits, which int() takes
        {"expected_net_cents": "9" * 100_000},
    ):
        response = post_reimburse(client, **{"department_id": sales, **bad})
        assert "That department or month does not exist." in client.get(response.headers["Location"]).text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reimbursement)) == 0
    page = client.get(REPORT).text
    buttons = page.count('action="/admin/reports/pay-per-use/reimburse"')
    assert buttons == 2  # Sales this month and last month; not Engineering (net 0) nor "No department"


# -- permissions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [REPORT, REPORT + "?format=csv", BUDGETS])
def test_organizers_get_404_on_admin_pages(app, client, history, url):
    login(client, "sales@example.com")
    assert client.get(url).status_code == 404


def test_organizers_cannot_mark_reimbursed(app, client, history):
    with app.app_context():
        sales = department("Sales").id
    login(client, "sales@example.com")
    token = csrf_from(client.get(MY_SPEND).text)
    response = client.post(
        REIMBURSE, data={"department_id": sales, "period": THIS_MONTH, "currency": "USD", "csrf_token": token}
    )
    assert response.status_code == 404
    token = csrf_from(client.get("/sessions/").text)
    assert client.post(BUDGETS, data={"csrf_token": token, "department": sales}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Reimbursement)) == 0


@pytest.mark.parametrize("url", [REPORT, BUDGETS, MY_SPEND])
def test_anonymous_visitors_are_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_admin_navigation_links_to_reports_and_organizers_to_my_spend(app, client, history):
    login(client, "admin@example.com")
    page = client.get("/sessions/").text
    assert 'href="/admin/reports/">Reports</a>' in page
    assert f'href="{REPORT}"' in client.get("/admin/reports/").text
    for link in ("Settings", "Payments ledger"):
        assert f">{link}</a>" in page
    client.post("/logout", data={"csrf_token": csrf_from(page)})
    login(client, "sales@example.com")
    page = client.get("/sessions/").text
    assert f'href="{MY_SPEND}">My spend</a>' in page
    assert ">Reports</a>" not in page


# -- my spend --------------------------------------------------------------------------------------


def test_my_spend_shows_only_the_organizers_own_rows(app, client, history):
    login(client, "sales2@example.com")
    page = client.get(MY_SPEND)
    assert page.status_code == 200
    assert [
        (row["period"], row["sessions"], row["paid"], row["refunds"], row["net"])
        for row in page_rows(page.text, "spend-month")
    ] == [(THIS_MONTH, "1", "16.50", "5.00", "11.50")]
    assert [(row["kind"], row["amount"]) for row in page_rows(page.text, "spend-entry")] == [
        ("refund", "5.00"),
        ("charge", "16.50"),
    ]
    assert {row["session-id"] for row in page_rows(page.text, "spend-entry")} == {str(history["s2"])}
    assert "Cold calls" not in page.text and "Code review" not in page.text
    [total] = page_rows(page.text, "total")
    assert (total["paid"], total["refunds"], total["net"]) == ("16.50", "5.00", "11.50")

    client.post("/logout", data={"csrf_token": csrf_from(page.text)})
    login(client, "sales@example.com")
    page = client.get(MY_SPEND).text
    assert [row["period"] for row in page_rows(page, "spend-month")] == [LAST_MONTH]
    assert {row["session-id"] for row in page_rows(page, "spend-entry")} == {str(history["s1"])}
    assert "Closing" not in page


def test_my_spend_is_empty_for_someone_who_paid_nothing(app, client):
    with app.app_context():
        setup_site()
        paid_session("sales@example.com")
    login(client, "eng@example.com")
    page = client.get(MY_SPEND).text
    assert "You have not paid for any session yet." in page
    assert not page_rows(page, "spend-entry")


# -- budgets ---------------------------------------------------------------------------------------


def post_budget(client, **values):
    token = csrf_from(client.get(BUDGETS).text)
    return client.post(BUDGETS, data={"csrf_token": token, **values})


def test_budgets_page_sets_lists_and_removes_budgets(app, client, history):
    with app.app_context():
        sales, engineering = department("Sales").id, department("Engineering").id
    login(client, "admin@example.com")
    page = client.get(BUDGETS).text
    assert f'value="{THIS_MONTH}"' in page  # the month defaults to this one
    assert "No budgets set" in page

    response = post_budget(client, department=sales, period=THIS_MONTH, amount="50.00")
    assert response.status_code == 303
    page = client.get(BUDGETS).text
    assert f"Budget set: Sales, {THIS_MONTH}, $50.00." in page
    assert post_budget(client, department=engineering, period=THIS_MONTH, amount="0").status_code == 303
    assert post_budget(client, department=sales, period=LAST_MONTH, amount="5").status_code == 303
    page = client.get(BUDGETS).text
    rows = [
        (row["department"], row["period"], row["budget"], row["spent"], row["remaining"])
        for row in page_rows(page, "budget-row")
    ]
    assert rows == [
        ("Engineering", THIS_MONTH, "0.00", "0.00", "0.00"),
        ("Sales", THIS_MONTH, "50.00", "11.50", "38.50"),
        ("Sales", LAST_MONTH, "5.00", "8.25", "-3.25"),
    ]
    assert "over budget" in page

    # The checkout sees the same budget.
    with app.app_context():
        training = db.session.get(TrainingSession, history["s2"])
        assert billing.budget_remaining(training) == 3850

    change = client.get(BUDGETS, query_string={"department": sales, "period": THIS_MONTH}).text
    assert f'<option selected value="{sales}">Sales</option>' in change
    assert 'name="amount" type="text" value="50.00"' in change
    assert post_budget(client, department=sales, period=THIS_MONTH, amount="60").status_code == 303
    assert f"Budget changed: Sales, {THIS_MONTH}, $60.00." in client.get(BUDGETS).text
    assert post_budget(client, department=sales, period=THIS_MONTH, amount="").status_code == 303
    page = client.get(BUDGETS).text
    assert f"Budget removed: Sales, {THIS_MONTH}." in page
    assert [(r["department"], r["period"]) for r in page_rows(page, "budget-row")] == [
        ("Engineering", THIS_MONTH),
        ("Sales", LAST_MONTH),
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DepartmentBudget)) == 2
        actions = db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("billing.budget_%"))
            .order_by(AuditEntry.id)
        ).all()
        assert actions == [
            "billing.budget_created",
            "billing.budget_created",
            "billing.budget_created",
            "billing.budget_updated",
            "billing.budget_deleted",
        ]
        updated = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "billing.budget_updated"))
        assert updated.details["changes"] == {"amount_cents": [5000, 6000]}


def test_an_unchanged_budget_writes_no_audit_entry(app, client, history):
    with app.app_context():
        sales = department("Sales").id
    login(client, "admin@example.com")
    post_budget(client, department=sales, period=THIS_MONTH, amount="50")
    post_budget(client, department=sales, period=THIS_MONTH, amount="50.00")
    assert f"Nothing changed for Sales, {THIS_MONTH}." in client.get(BUDGETS).text
    with app.app_context():
        count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("billing.budget_%"))
        assert db.session.scalar(count) == 1


@pytest.mark.parametrize(
    "values, message",
    [
        ({"period": "2026-13", "amount": "10"}, "Enter a month as YYYY-MM, such as 2026-11."),
        ({"period": "", "amount": "10"}, "Enter a month."),
        ({"amount": "-5"}, "Enter zero or a positive amount."),
        ({"amount": "ten"}, "Enter a number, such as 12.50."),
        ({"amount": "1.234"}, "USD amounts have at most 2 decimal places."),
        ({"amount": "100000000"}, "This value is too large."),
        ({"department": "99999", "amount": "10"}, "Not a valid choice."),
        ({"department": "sales", "amount": "10"}, "Invalid Choice: could not coerce."),
    ],
)
def test_budgets_page_refuses_bad_input_with_422(app, client, history, values, message):
    with app.app_context():
        sales = department("Sales").id
    login(client, "admin@example.com")
    response = post_budget(client, **{"department": sales, "period": THIS_MONTH, **values})
    assert response.status_code == 422
    assert message in response.text
    assert "The budget was not saved." in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DepartmentBudget)) == 0
