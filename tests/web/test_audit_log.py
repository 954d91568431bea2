"""The audit log: what writes to it (each audited category), the page, its filters, CSV and paging.

Money moves through the real services and the real braintree SDK against the offline sandbox;
entries for the page's own tests are inserted as rows (the log only ever takes inserts).
"""

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask_login import login_user
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError

from portal.accounts.models import Role, User
from portal.admin.models import AuditEntry
from portal.admin.services import AuditFilter, audit_csv_rows, get_settings
from portal.billing import reports
from portal.billing import services as billing
from portal.billing.pricing import AudioType
from portal.coupons import services as coupons
from portal.coupons.models import CouponDelivery
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from portal.mail import services as mail
from portal.mail.models import OutboxMessage
from portal.payments import services as payments
from portal.payments.models import Payment, Purpose
from portal.trainings.models import TrainingSession
from portal.trainings.services import SessionDetails, save_draft
from tests.conftest import count_queries, csrf_from, login
from tests.factories import enable_ecommerce, make_user

AUDIT = "/admin/audit"
OUTBOX = "/admin/outbox"
ALL_METHODS = payments.AllowedMethods(True, True, True)
ROW = re.compile(r'<tr class="audit-entry" data-id="(\d+)" data-action="([^"]*)" data-actor="([^"]*)"')
_counter = iter(range(10**9))


@pytest.fixture
def admin(app, client):
    with app.app_context():
        make_user("admin@example.com", role=Role.ADMIN, department=None)
    login(client, "admin@example.com")
    return client


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def entries(action: str | None = None, prefix: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    if prefix:
        query = query.where(AuditEntry.action.startswith(prefix))
    return list(db.session.scalars(query))


def actions(prefix: str = "") -> list[str]:
    return [entry.action for entry in entries(prefix=prefix or None)]


def add(action, at=None, actor=None, subject=(None, None), ip="10.0.0.1", **details) -> int:
    """One entry as a row (the page's tests need chosen times and actors)."""
    entry = AuditEntry(
        action=action,
        at=at or utcnow(),
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else None,
        subject_type=subject[0],
        subject_id=subject[1],
        details=details,
        ip=ip,
    )
    db.session.add(entry)
    db.session.commit()
    return entry.id


def shown(html: str) -> list[tuple[str, str]]:
    """(action, actor) of each row on the page, top to bottom."""
    return [(action, actor) for _id, action, actor in ROW.findall(html)]


# -- audited categories: each writes its entry with who and what ------------------------------------


def test_settings_changes_are_logged_with_old_and_new_values_and_shown_readably(app, admin):
    page = admin.get("/admin/settings")
    form = {
        "ecommerce_enabled": "y",
        "credit_cards_enabled": "y",
        "currency": "eur",
        "person_minute_rate": "0.0125",
        "toll_rate": "0",
        "toll_free_rate": "0",
        "callback_rate": "0",
        "hold_minutes": "15",
        "offer_minutes": "60",
        "refund_until_hours": "24",
        "pay_per_use_refundable": "y",
        "csrf_token": csrf_from(page.text),
    }
    assert admin.post("/admin/settings", data=form).status_code == 303
    with app.app_context():
        (entry,) = entries("settings.updated")
        assert entry.actor_email == "admin@example.com" and entry.ip == "127.0.0.1"
        assert entry.subject_type == "SiteSettings" and entry.subject_id == "1"
        changes = entry.details["changes"]
        assert changes["person_minute_rate"] == ["0", "0.0125"]
        assert changes["currency"] == ["USD", "EUR"]
        assert changes["ecommerce_enabled"] == [False, True]
    html = admin.get(AUDIT).text
    assert shown(html) == [("settings.updated", "admin@example.com")]
    assert "<strong>Settings changed</strong>" in html
    assert "<dt>Person-minute rate</dt><dd>0 → 0.0125</dd>" in html
    assert "<dt>Currency</dt><dd>USD → EUR</dd>" in html
    assert "<dt>Enable e-commerce</dt><dd>no → yes</dd>" in html
    assert "<td>127.0.0.1</td>" in html
    assert '<a href="/admin/audit?subject_type=SiteSettings&amp;subject_id=1">Site settings #1</a>' in html


def test_coupon_changes_are_logged_with_their_actor(app, admin, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        enable_ecommerce()
        actor = user("admin@example.com")
        coupon = coupons.create_coupon(
            CouponInput(kind="percent", code="AUDIT10", percent=Decimal("10"), max_uses=5), actor
        )
        coupons.update_coupon(
            coupon, CouponInput(kind="percent", code="AUDIT10", percent=Decimal("15"), max_uses=5), actor
        )
        coupons.set_active(coupon, False, actor)
        coupons.set_active(coupon, True, actor)
        spare = coupons.create_coupon(CouponInput(kind="free", code="SPARE123", max_uses=1), actor)
        coupons.delete_coupon(spare, actor)
        coupons.generate_coupons(2, "GEN", 10, CouponInput(kind="free", max_uses=1, batch="Mail"), actor)
        report = coupons.import_csv("code\nIMPORTED1\n", actor, CouponInput(kind="free", max_uses=1))
        assert not report.errors
        coupons.distribute("Mail", [("guest@example.com", "Guest")], "Code", "Use {code}", "", False, actor)
        delivery = db.session.scalar(select(CouponDelivery))
        coupons.resend(delivery, actor)
        logged = entries(prefix="coupon.")
        assert [entry.action for entry in logged] == [
            "coupon.created",
            "coupon.updated",
            "coupon.deactivated",
            "coupon.activated",
            "coupon.created",
            "coupon.deleted",
            "coupon.generated",
            "coupon.imported",
            "coupon.distributed",
            "coupon.resent",
        ]
        assert {entry.actor_email for entry in logged} == {"admin@example.com"}
        assert logged[1].details["changes"]["percent"] == ["10", "15"]
        assert logged[5].details["code"] == "SPARE123"
        assert logged[6].details["count"] == 2 and logged[7].details["count"] == 1
        assert logged[8].details["count"] == 1 and logged[9].details["email"] == "guest@example.com"
        coupon_id = str(coupon.id)
    html = admin.get(AUDIT, query_string={"subject_type": "Coupon", "subject_id": coupon_id}).text
    assert [action for action, _ in shown(html)] == [
        "coupon.activated",
        "coupon.deactivated",
        "coupon.updated",
        "coupon.created",
    ]
    assert "<dt>Percent</dt><dd>10 → 15</dd>" in html


def start_test_charge(client, amount="49.00") -> str:
    page = client.get("/admin/payments/test")
    response = client.post(
        "/admin/payments/test", data={"amount": amount, "csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 303
    return response.headers["Location"]


def pay_test_charge(client, nonce: str) -> int:
    pay_url = start_test_charge(client)
    page = client.get(pay_url)
    client.post(pay_url, data={"payment_method_nonce": nonce, "csrf_token": csrf_from(page.text)})
    return int(pay_url.split("/")[-2])


def test_payments_charged_and_declined_are_logged_with_the_payer(app, admin):
    with app.app_context():
        enable_ecommerce()
    charged_id = pay_test_charge(admin, "fake-valid-visa-nonce")
    declined_id = pay_test_charge(admin, "fake-processor-declined-visa-nonce")
    with app.app_context():
        (charged,) = entries("payment.charged")
        payment = db.session.get(Payment, charged_id)
        assert charged.subject_type == "Payment" and charged.subject_id == str(charged_id)
        assert charged.actor_email == "admin@example.com" and charged.ip == "127.0.0.1"
        assert charged.details["order_id"] == payment.order_id
        assert charged.details["amount_cents"] == 4900 and charged.details["currency"] == "USD"
        assert charged.details["transaction"] == payment.gateway_transaction_id
        assert charged.details["method"] == "credit_card" and charged.details["card_brand"] == "Visa"
        assert charged.details["card_last4"] == payment.card_last4
        (declined,) = entries("payment.declined")
        assert declined.subject_id == str(declined_id) and declined.actor_email == "admin@example.com"
        assert declined.details["failure_code"] == "declined:2000"
    html = admin.get(AUDIT, query_string={"action": "payment."}).text
    assert shown(html) == [
        ("payment.declined", "admin@example.com"),
        ("payment.charged", "admin@example.com"),
    ]
    assert "<dt>Amount cents</dt><dd>$49.00</dd>" in html


def test_an_unknown_outcome_and_its_reconciliation_are_logged(app, payments_sandbox):
    with app.app_context():
        payment = payments.open_attempt(Purpose.TEST, f"audit:{next(_counter)}", 4200, "USD")
        payments_sandbox.set_faults(lose_response=True, times=2, only=["sale", "search"])
        assert payments.pay(payment.id, "fake-valid-visa-nonce", ALL_METHODS).status == "unknown"
        payments_sandbox.clear_faults()
        (unknown,) = entries("payment.unknown")
        assert unknown.subject_id == str(payment.id) and unknown.actor_email is None
        assert unknown.details["reason"].startswith("sale: ")  # the answer was lost, nothing more
        assert payments.reconcile(now=utcnow() + timedelta(minutes=5))["resolved"] == 1
        (reconciled,) = entries("payment.reconciled")
        assert reconciled.subject_id == str(payment.id) and reconciled.actor_email is None
        assert reconciled.details["gateway_status"] == "submitted_for_settlement"
        assert reconciled.details["transaction"] == db.session.get(Payment, payment.id).gateway_transaction_id
        assert reconciled.details["duplicates"] == []


def test_a_reconciled_duplicate_sale_and_its_give_back_are_logged(app, payments_sandbox):
    with app.app_context():
        payment = payments.open_attempt(Purpose.TEST, f"audit:{next(_counter)}", 5200, "USD")
        gateway = payments_sandbox.gateway()
        sales = [
            gateway.transaction.sale(
                {
                    "amount": "52.00",
                    "payment_method_nonce": "fake-valid-visa-nonce",
                    "order_id": payment.order_id,
                    "options": {"submit_for_settlement": True},
                }
            ).transaction.id
            for _ in range(2)
        ]
        db.session.execute(
            update(Payment).where(Payment.id == payment.id).values(status="unknown", sent_at=utcnow())
        )
        db.session.commit()
        payments.reconcile(now=utcnow() + timedelta(minutes=1))
        (reconciled,) = entries("payment.reconciled")
        assert reconciled.details["transaction"] == sales[0] and reconciled.details["duplicates"] == [
            sales[1]
        ]
        (given_back,) = entries("payment.duplicate_given_back")
        assert given_back.subject_id == str(payment.id)
        assert (
            given_back.details["duplicate_sale"] == sales[1] and given_back.details["duplicate_cents"] == 5200
        )


def paid_test_payment(settle=True) -> Payment:
    payment = payments.open_attempt(Purpose.TEST, f"audit:{next(_counter)}", 4900, "USD")
    payment = payments.pay(payment.id, "fake-valid-visa-nonce", ALL_METHODS)
    if settle:
        payments.gateway().settle(payment.gateway_transaction_id)
        payments.refresh_payment(payment.id)
    return db.session.get(Payment, payment.id)


def test_refunds_and_voids_by_an_administrator_are_logged(app, admin, payments_sandbox):
    with app.app_context():
        enable_ecommerce()
        settled = paid_test_payment().id
        unsettled = paid_test_payment(settle=False).id
        failing = paid_test_payment().id
        (refreshed, *_) = entries("payment.status_changed")
        assert refreshed.details["status"] == ["submitted_for_settlement", "settled"]
    page = admin.get(f"/admin/payments/{settled}")
    token = csrf_from(page.text)
    admin.post(
        f"/admin/payments/{settled}/refund", data={"amount": "10.00", "reason": "late", "csrf_token": token}
    )
    admin.post(f"/admin/payments/{unsettled}/void", data={"reason": "mistake", "csrf_token": token})
    payments_sandbox.set_faults(status=429, times=1, only="refund")
    admin.post(f"/admin/payments/{failing}/refund", data={"scope": "full", "csrf_token": token})
    with app.app_context():
        logged = entries(prefix="refund.") + entries(prefix="void.")
        assert {entry.actor_email for entry in logged} == {"admin@example.com"}
        assert [(e.action, e.subject_id) for e in logged] == [
            ("refund.requested", str(settled)),
            ("refund.succeeded", str(settled)),
            ("refund.requested", str(failing)),
            ("refund.failed", str(failing)),
            ("void.requested", str(unsettled)),
            ("void.succeeded", str(unsettled)),
        ]
        requested, succeeded, _, failed, _, voided = logged
        assert requested.details["refund_cents"] == 1000 and requested.details["reason"] == "late"
        assert succeeded.details["status"] == "partially_refunded" and succeeded.details["transaction"]
        assert failed.details["message"] == "gateway: TooManyRequestsError"
        assert voided.details["status"] == "voided" and voided.details["refund_cents"] == 4900


def test_a_refund_whose_answer_was_lost_is_logged_when_reconciled(app, payments_sandbox):
    with app.app_context():
        payment = paid_test_payment()
        payments_sandbox.set_faults(lose_response=True, times=2, only=["refund", "find"])
        with pytest.raises(payments.PaymentError):
            payments.refund(payment.id, 1000)
        payments_sandbox.clear_faults()
        payments.reconcile(now=utcnow() + timedelta(minutes=5))
        assert actions("refund.") == ["refund.requested", "refund.unknown", "refund.reconciled"]
        reconciled = entries("refund.reconciled")[0]
        assert reconciled.details["refund_status"] == "succeeded" and reconciled.actor_email is None


def test_a_dispute_webhook_is_logged_with_where_it_came_from(app, client, payments_sandbox):
    with app.app_context():
        payment = paid_test_payment(settle=False)
    notification = payments_sandbox.sign_notification("dispute_opened", payment.gateway_transaction_id)
    assert client.post("/webhooks/braintree", data=notification).text.strip() == "applied"
    with app.app_context():
        (entry,) = entries("payment.webhook")
        assert entry.subject_id == str(payment.id) and entry.actor_email is None and entry.ip == "127.0.0.1"
        assert entry.details["kind"] == "dispute_opened"
        assert entry.details["status"] == ["submitted_for_settlement", "disputed"]


def pay_per_use_session(organizer: User) -> TrainingSession:
    details = SessionDetails(
        title="Budgeting",
        description="",
        start_at=utcnow().replace(microsecond=0) + timedelta(days=5),
        timezone="UTC",
        duration_minutes=60,
        capacity=50,
        expected_attendees=10,
        audio=AudioType.INTERNET,
        teleconference_participants=0,
        fee_cents=0,
    )
    training = save_draft(organizer, details, get_settings(), "schedule")
    payment = billing.checkout(training)
    assert billing.pay(training.id, payment.id, "fake-valid-visa-nonce", ALL_METHODS).is_paid
    return db.session.get(TrainingSession, training.id)


def test_pay_per_use_charges_and_reimbursements_are_logged_with_their_actor(app):
    with app.app_context():
        enable_ecommerce()
        admin_user = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("sales@example.com", department="Sales")
        with app.test_request_context():
            login_user(organizer)  # the organizer pays from their own request
            training = pay_per_use_session(organizer)
        (paid,) = entries("pay_per_use.paid")
        assert paid.actor_email == "sales@example.com"
        assert paid.subject_type == "TrainingSession" and paid.subject_id == str(training.id)
        assert paid.details["amount_cents"] == 825
        (charged,) = entries("payment.charged")
        assert charged.actor_email == "sales@example.com" and charged.details["purpose"] == "pay_per_use"
        department_id = organizer.department_id
        record = reports.mark_reimbursed(department_id, billing.period_of(utcnow()), "USD", admin_user)
        (reimbursed,) = entries("billing.reimbursed")
        assert reimbursed.actor_email == "admin@example.com"
        assert reimbursed.subject_type == "Reimbursement" and reimbursed.subject_id == str(record.id)
        assert reimbursed.details["amount_cents"] == 825 and reimbursed.details["department"] == "Sales"


# -- append-only ------------------------------------------------------------------------------------


def test_entries_can_be_neither_changed_nor_deleted(app):
    with app.app_context():
        entry_id = add("settings.updated", changes={"currency": ["USD", "EUR"]})
        attempts = [
            lambda: db.session.execute(update(AuditEntry).values(action="forged")),
            lambda: db.session.execute(delete(AuditEntry).where(AuditEntry.id == entry_id)),
        ]
        for attempt in attempts:
            with pytest.raises(DBAPIError, match="append-only"):
                attempt()
                db.session.commit()
            db.session.rollback()
        entry = db.session.get(AuditEntry, entry_id)
        entry.details = {"changes": {}}
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry_id))
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        db.session.expire_all()
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert (entry.id, entry.action) == (entry_id, "settings.updated")
        assert entry.details == {"changes": {"currency": ["USD", "EUR"]}}


# -- the page: filters, CSV, pages -----------------------------------------------------------------

MARCH_9_LATE = datetime(2026, 3, 9, 22, 30, tzinfo=UTC)  # 23:30 in Paris: still March 9 there
MARCH_10_EARLY = datetime(2026, 3, 9, 23, 30, tzinfo=UTC)  # 00:30 in Paris: March 10 there


@pytest.fixture
def history(app, admin):
    """Five entries by two people (and the system), on three subjects, across a Paris midnight."""
    with app.app_context():
        boss = user("admin@example.com")
        other = make_user("Second.Admin@Example.com", role=Role.ADMIN, department=None)
        ids = {
            "old": add("settings.updated", datetime(2026, 3, 1, 9, tzinfo=UTC), boss, ("SiteSettings", "1")),
            "late": add("payment.charged", MARCH_9_LATE, None, ("Payment", "7"), ip="203.0.113.9"),
            "early": add("refund.requested", MARCH_10_EARLY, other, ("Payment", "7"), refund_cents=100),
            "coupon": add("coupon.created", datetime(2026, 3, 12, tzinfo=UTC), other, ("Coupon", "7")),
            "charge": add("payment.charged", datetime(2026, 3, 15, tzinfo=UTC), boss, ("Payment", "8")),
        }
    return ids


def ids_on(client, **args) -> list[int]:
    response = client.get(AUDIT, query_string=args)
    assert response.status_code == 200, response.text
    return [int(entry_id) for entry_id, _action, _actor in ROW.findall(response.text)]


def test_the_page_lists_every_entry_newest_first_with_who_when_what_and_where(admin, history):
    html = admin.get(AUDIT, query_string={"tz": "UTC"}).text
    assert shown(html) == [
        ("payment.charged", "admin@example.com"),
        ("coupon.created", "second.admin@example.com"),
        ("refund.requested", "second.admin@example.com"),
        ("payment.charged", ""),
        ("settings.updated", "admin@example.com"),
    ]
    assert '<time datetime="2026-03-09T22:30:00+00:00">Mar 9, 2026, 10:30\u202fPM (UTC)</time>' in html
    assert "<td>System</td>" in html and "<td>203.0.113.9</td>" in html
    assert "<strong>Refund requested</strong> <code>refund.requested</code>" in html
    assert "<dt>Refund cents</dt><dd>100</dd>" in html
    assert '<a href="/admin/audit?subject_type=Payment&amp;subject_id=7">Payment #7</a>' in html
    assert "Whole days in your time zone (UTC)." in html
    # The filter offers the actions present, and their prefixes.
    for option in ('value="payment."', 'value="payment.charged"', 'value="coupon.created"', 'value="Coupon"'):
        assert option in html


def test_the_period_is_in_the_viewers_time_zone(admin, history):
    day = {"from": "2026-03-10", "to": "2026-03-10"}
    assert ids_on(admin, tz="Europe/Paris", **day) == [history["early"]]
    assert ids_on(admin, tz="UTC", **day) == []
    assert ids_on(admin, tz="UTC", **{"from": "2026-03-09", "to": "2026-03-09"}) == [
        history["early"],
        history["late"],
    ]
    assert ids_on(admin, tz="UTC", **{"from": "2026-03-10"}) == [history["charge"], history["coupon"]]
    assert ids_on(admin, tz="UTC", to="2026-03-09") == [history["early"], history["late"], history["old"]]
    assert (
        "Whole days in your time zone (Europe/Paris)."
        in admin.get(AUDIT, query_string={"tz": "Europe/Paris"}).text
    )


def test_the_action_filter_takes_one_action_or_a_prefix(admin, history):
    assert ids_on(admin, action="payment.charged") == [history["charge"], history["late"]]
    assert ids_on(admin, action="payment.") == [history["charge"], history["late"]]
    assert ids_on(admin, action="refund.") == [history["early"]]
    assert ids_on(admin, action="refund") == []  # not a prefix without its dot
    assert ids_on(admin, action="user.created") == []  # nothing yet: an empty list, not an error


def test_the_actor_filter_matches_part_of_the_email_in_any_case(admin, history):
    assert ids_on(admin, actor="SECOND") == [history["coupon"], history["early"]]
    assert ids_on(admin, actor="admin@") == [
        history["charge"],
        history["coupon"],
        history["early"],
        history["old"],
    ]
    assert ids_on(admin, actor="100%_") == []  # LIKE wildcards are taken literally


def test_the_subject_filter_takes_a_type_and_a_number(admin, history):
    assert ids_on(admin, subject_type="Payment", subject_id="7") == [history["early"], history["late"]]
    assert ids_on(admin, subject_type="Payment") == [history["charge"], history["early"], history["late"]]
    assert ids_on(admin, subject_id="7") == [history["coupon"], history["early"], history["late"]]
    assert ids_on(admin, subject_type="Payment", subject_id="7", actor="second", action="refund.") == [
        history["early"]
    ]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"from": "2026-02-30"}, "Not a valid date value."),
        ({"from": "2026-03-10", "to": "2026-03-09"}, "The last day is before the first."),
        ({"action": "payment' OR 1=1"}, "Choose an action from the list."),
        ({"subject_type": "Payment;"}, "Choose a subject from the list."),
    ],
)
def test_a_bad_filter_answers_422_with_the_reason(admin, history, args, message):
    response = admin.get(AUDIT, query_string=args)
    assert response.status_code == 422
    assert message in response.text.replace("&#39;", "'")
    assert admin.get(AUDIT, query_string={**args, "format": "csv"}).status_code == 422


def test_the_csv_has_the_filtered_rows_in_utc(admin, history):
    response = admin.get(AUDIT, query_string={"format": "csv", "subject_type": "Payment", "subject_id": "7"})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-log-start-to-now.csv"'
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows == [
        ["id", "at", "actor_email", "action", "subject_type", "subject_id", "ip", "details"],
        [
            str(history["early"]),
            "2026-03-09T23:30:00+00:00",
            "second.admin@example.com",
            "refund.requested",
            "Payment",
            "7",
            "10.0.0.1",
            '{"refund_cents": 100}',
        ],
        [
            str(history["late"]),
            "2026-03-09T22:30:00+00:00",
            "",
            "payment.charged",
            "Payment",
            "7",
            "203.0.113.9",
            "{}",
        ],
    ]
    page = admin.get(AUDIT, query_string={"subject_type": "Payment", "subject_id": "7"}).text
    assert 'href="/admin/audit?format=csv&amp;subject_type=Payment&amp;subject_id=7"' in page
    named = admin.get(AUDIT, query_string={"format": "csv", "from": "2026-03-01", "to": "2026-03-31"})
    assert (
        named.headers["Content-Disposition"]
        == 'attachment; filename="audit-log-2026-03-01-to-2026-03-31.csv"'
    )
    assert len(list(csv.reader(io.StringIO(named.get_data(as_text=True))))) == 6


def test_the_csv_reads_in_batches_without_losing_or_repeating_a_row(app):
    with app.app_context():
        made = [add("payment.charged", ip=None, n=n) for n in range(23)]
        rows = list(audit_csv_rows(AuditFilter(action="payment."), batch=5))
        assert [row[0] for row in rows] == made[::-1]
        assert json.loads(rows[0][7]) == {"n": 22} and rows[0][6] == ""


def test_pages_of_fifty_keep_the_filter(app, admin):
    with app.app_context():
        first = add("coupon.created")
        for _ in range(59):
            add("payment.charged")
        last = add("coupon.created")
    page_one = admin.get(AUDIT).text
    assert len(ROW.findall(page_one)) == 50 and "Page 1 of 2" in page_one
    assert 'rel="next" href="/admin/audit?page=2"' in page_one
    page_two = admin.get(AUDIT, query_string={"page": 2}).text
    assert len(ROW.findall(page_two)) == 11 and int(ROW.findall(page_two)[-1][0]) == first
    assert ids_on(admin, action="coupon.created") == [last, first]
    filtered = admin.get(AUDIT, query_string={"action": "payment."}).text
    assert 'rel="next" href="/admin/audit?action=payment.&amp;page=2"' in filtered
    assert ids_on(admin, page=99) == []  # past the end: empty, not an error


def test_the_query_count_does_not_grow_with_the_entries(app, admin):
    def make(count):
        with app.app_context():
            actor = user("admin@example.com")
            for n in range(count):
                add(
                    f"payment.kind{n % 7}",
                    actor=actor if n % 2 else None,
                    subject=("Payment", str(n)),
                    amount=n,
                )
                add(
                    "settings.updated",
                    actor=actor,
                    subject=("SiteSettings", "1"),
                    changes={"currency": ["A", "B"]},
                )

    make(3)
    few = count_queries(app, admin, AUDIT)
    make(30)
    many = count_queries(app, admin, AUDIT)
    assert few == many, (few, many)


def test_admins_have_the_nav_link_organizers_404_anonymous_to_login(app, admin, client):
    assert f'<a href="{AUDIT}">Audit log</a>' in admin.get("/admin/settings").text
    other = app.test_client()
    with app.app_context():
        make_user("organizer@example.com")
    login(other, "organizer@example.com")
    assert other.get(AUDIT).status_code == 404
    assert other.get(AUDIT, query_string={"format": "csv"}).status_code == 404
    assert "Audit log" not in other.get("/sessions/").text
    anonymous = app.test_client()
    response = anonymous.get(AUDIT)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- the outbox list: paginated and filtered in SQL -------------------------------------------------


def test_the_outbox_is_filtered_and_paged_in_sql(app, admin):
    with app.app_context():
        for n in range(55):
            mail.queue(f"guest{n}@example.com", f"Hello {n}", "Body", kind="coupon")
        mail.queue("Someone.Else@Example.org", "Receipt", "Body", kind="confirmation")
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert total == 56
    rows = re.compile(r'<tr class="outbox-message" data-id="(\d+)" data-status="(\w+)"')
    page_one = admin.get(OUTBOX).text
    assert len(rows.findall(page_one)) == 50 and "Page 1 of 2" in page_one
    assert "Receipt" in page_one  # newest first
    assert len(rows.findall(admin.get(OUTBOX, query_string={"page": 2}).text)) == 6
    only = admin.get(OUTBOX, query_string={"kind": "confirmation"}).text
    assert len(rows.findall(only)) == 1 and "someone.else@example.org" in only.lower()
    assert len(rows.findall(admin.get(OUTBOX, query_string={"to": "ELSE@"}).text)) == 1
    assert len(rows.findall(admin.get(OUTBOX, query_string={"status": "pending", "to": "guest1"}).text)) == 11
    assert rows.findall(admin.get(OUTBOX, query_string={"status": "sent"}).text) == []
    assert admin.get(OUTBOX, query_string={"status": "bogus"}).status_code == 422
    few = count_queries(app, admin, OUTBOX)
    with app.app_context():
        for n in range(20):
            mail.queue(f"more{n}@example.com", "More", "Body", kind="reminder")
        db.session.commit()
    assert count_queries(app, admin, OUTBOX) == few
