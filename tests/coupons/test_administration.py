"""Bulk codes, CSV, distribution by email, prepaid coupons, reports, the change log."""

import csv
import email
import io
from decimal import Decimal
from email import policy

import pytest

from portal.accounts.models import Role, User
from portal.admin.models import AuditEntry
from portal.coupons import rules, services
from portal.coupons.models import Coupon, CouponDelivery, Prepayment
from portal.coupons.services import CouponInput, CouponServiceError
from portal.csvutil import row as csv_row
from portal.extensions import db
from portal.mail.services import deliver_pending
from portal.trainings.models import TrainingSession
from tests.factories import enable_ecommerce, make_training, make_user


@pytest.fixture
def admin(app, tmp_path):
    app.instance_path = str(tmp_path)
    with app.app_context():
        enable_ecommerce()
        user = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        make_training(organizer, fee_cents=5000)
        return user.id


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_generating_codes_is_all_or_nothing(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin)
        coupons = services.generate_coupons(
            25, "spring-", 10, CouponInput(kind="free", max_uses=1, batch="Spring"), actor
        )
        assert len({c.code for c in coupons}) == 25
        assert all(c.code.startswith("SPRING") and len(c.code) == 16 for c in coupons)
        assert all(set(c.code[6:]) <= set(rules.CODE_ALPHABET) for c in coupons)
        with pytest.raises(CouponServiceError, match="percent_out_of_range"):
            services.generate_coupons(
                10, "BAD", 10, CouponInput(kind="percent", percent=Decimal("120")), actor
            )
        assert count(Coupon) == 25
        (entry,) = db.session.scalars(
            db.select(AuditEntry).where(AuditEntry.action == "coupon.generated")
        ).all()
        assert entry.details["count"] == 25 and entry.actor_email == "admin@example.com"


def test_csv_export_then_import_round_trips(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin)
        services.create_coupon(
            CouponInput(kind="percent", code="TENOFF22", percent=Decimal("12.5"), max_uses=4, batch="Fall"),
            actor,
        )
        services.create_coupon(
            CouponInput(
                kind="fixed",
                code="FIVEOFF2",
                amount_cents=500,
                currency="USD",
                max_uses_per_email=1,
                max_uses=3,
                batch="Fall",
                bound_email="vip@example.com",
            ),
            actor,
        )
        exported = services.export_csv(list(db.session.scalars(db.select(Coupon).order_by(Coupon.code))))
        # The download streams the same lines from the query, a thousand at a time.
        streamed = services.export_rows(db.select(Coupon).order_by(Coupon.code))
        assert [csv_row(values) for values in streamed] == list(csv.reader(io.StringIO(exported)))[1:]
        assert exported.splitlines()[0] == ",".join(services.CSV_COLUMNS)
        assert "FIVEOFF2,fixed,5.00,USD,0,3,1,,,Fall,vip@example.com,yes" in exported
        assert "TENOFF22,percent,12.5,,0,4,,,,Fall,,yes" in exported
        # Import the same rows under new codes: identical settings come back.
        renamed = exported.replace("TENOFF22", "TENOFF33").replace("FIVEOFF2", "FIVEOFF3")
        report = services.import_csv(renamed, actor, CouponInput(kind="free"))
        assert report.ok and len(report.created) == 2
        copy = services.find_coupon("fiveoff3")
        assert (copy.kind, copy.amount_cents, copy.currency, copy.max_uses, copy.max_uses_per_email) == (
            "fixed",
            500,
            "USD",
            3,
            1,
        )
        assert copy.bound_email == "vip@example.com" and copy.batch == "Fall"
        assert services.find_coupon("tenoff33").percent == Decimal("12.5")


def test_a_bad_import_row_creates_nothing_and_is_reported_by_line(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin)
        text = (
            "code,kind,value\nGOOD2345,percent,10\nBAD CODE!,percent,10\n"
            "GOOD2345,percent,10\nOK234567,percent,150\n"
        )
        report = services.import_csv(text, actor, CouponInput(kind="free"))
        assert not report.ok
        assert report.errors == [
            (3, "BADCODE!", "code_bad_characters"),
            (4, "GOOD2345", "duplicate_in_file"),
            (5, "OK234567", "percent_out_of_range"),
        ]
        assert count(Coupon) == 0


def test_distribution_gives_each_recipient_its_own_code_by_email(app, admin, tmp_path):
    with app.app_context():
        actor = db.session.get(User, admin)
        services.generate_coupons(
            3, "WELCOME", 8, CouponInput(kind="percent", percent=Decimal("15"), batch="Welcome"), actor
        )
        deliveries = services.distribute(
            "Welcome",
            [("Ann@Example.com", "Ann"), ("bob@example.com", "Bob")],
            "Your code {code}",
            "Hello {name}, use {code} at {link}.",
            "https://portal.example/s/abc",
            True,
            actor,
        )
        assert deliver_pending() == 2
        codes = {d.email: services.find_coupon(d.coupon.code) for d in deliveries}
        assert codes["ann@example.com"].bound_email == "ann@example.com"
        assert codes["ann@example.com"].code != codes["bob@example.com"].code
        bodies = {}
        for path in sorted((tmp_path / "outbox").glob("*.eml")):
            parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
            bodies[parsed["To"]] = (parsed["Subject"], parsed.get_body(("plain",)).get_content().strip())
        ann_code = codes["ann@example.com"].code
        assert bodies["Ann <ann@example.com>"] == (
            f"Your code {ann_code}",
            f"Hello Ann, use {ann_code} at https://portal.example/s/abc.",
        )
        # Only one unsent code is left: three more recipients are refused, and nothing is sent.
        with pytest.raises(CouponServiceError, match="not_enough_codes"):
            services.distribute(
                "Welcome", [("c@example.com", ""), ("d@example.com", "")], "s", "b", "", False, actor
            )
        assert count(CouponDelivery) == 2
        services.resend(deliveries[0], actor)
        assert deliver_pending() == 1
        assert db.session.get(CouponDelivery, deliveries[0].id).sent_count == 2


def test_placeholders_are_only_replaced_never_evaluated(app, admin):
    text = services.render_template_text("{code} {name} {link} {code.__class__} {0}", "ABC", "Ann", "L")
    assert text == "ABC Ann L {code.__class__} {0}"


def test_a_prepayment_issues_free_coupons_bound_to_the_guest(app, admin, tmp_path):
    with app.app_context():
        actor = db.session.get(User, admin)
        prepayment = services.record_prepayment("Guest@Example.com", "Gina", 15000, "USD", "INV-42", 3, actor)
        assert deliver_pending() == 3
        prepayment = db.session.get(Prepayment, prepayment.id)
        assert len(prepayment.coupons) == 3
        assert {(c.kind, c.max_uses, c.bound_email) for c in prepayment.coupons} == {
            ("free", 1, "guest@example.com")
        }
        training = db.session.scalar(db.select(TrainingSession))
        assert services.check(prepayment.coupons[0].code, training, "guest@example.com").due_cents == 0
        assert (
            services.check(prepayment.coupons[0].code, training, "other@example.com").code
            == "bound_to_other_email"
        )
        assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3


def test_the_report_sums_committed_redemptions_only(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin)
        training = db.session.scalar(db.select(TrainingSession))
        services.create_coupon(
            CouponInput(kind="percent", code="REPORT22", percent=Decimal("20"), max_uses=5, batch="Report"),
            actor,
        )
        for n in range(3):
            services.reserve("report22", training, f"g{n}@example.com", f"registration:{n}")
        services.commit("registration:0")
        services.commit("registration:1")
        services.release("registration:2")
        db.session.commit()
        (row,) = services.usage_report(actor, by="batch")
        assert (row.key, row.uses, row.discount_cents, row.revenue_cents) == ("Report", 2, 2000, 8000)
        assert services.usage_totals(actor) == [services.UsageTotal("USD", 2, 2000, 8000)]
        assert services.usage_csv_header("batch") == [
            "batch",
            "coupons",
            "uses",
            "discount",
            "revenue",
            "currency",
        ]
        assert list(services.usage_csv_rows(actor, "batch")) == [["Report", 1, 2, "20.00", "80.00", "USD"]]


def test_maximum_uses_can_never_drop_below_redemptions(app, admin):
    with app.app_context():
        actor = db.session.get(User, admin)
        training = db.session.scalar(db.select(TrainingSession))
        coupon = services.create_coupon(CouponInput(kind="free", code="KEEPTWO2", max_uses=5), actor)
        for n in range(2):
            services.reserve("keeptwo2", training, f"g{n}@example.com", f"registration:{n}")
        db.session.commit()
        with pytest.raises(CouponServiceError, match="max_uses_below_redemptions"):
            services.update_coupon(coupon, CouponInput(kind="free", max_uses=1), actor)
        services.update_coupon(db.session.get(Coupon, coupon.id), CouponInput(kind="free", max_uses=2), actor)
        assert db.session.get(Coupon, coupon.id).max_uses == 2
        with pytest.raises(CouponServiceError, match="has_redemptions"):
            services.delete_coupon(db.session.get(Coupon, coupon.id), actor)
