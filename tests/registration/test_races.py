"""Never oversell: concurrent registrations and payments for the last seats, on SQLite and PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from portal.database import utcnow
from portal.extensions import db
from portal.payments.services import AllowedMethods, PaymentError
from portal.registration import services
from portal.registration.models import Registration
from portal.trainings.models import TrainingSession
from tests.factories import enable_ecommerce, make_training, make_user

ALL = AllowedMethods(credit_card=True, debit_card=True, paypal=True)


def race(app, count, work):
    barrier, results, crashes = threading.Barrier(count), [], []

    def run(index):
        with app.app_context():
            barrier.wait()
            try:
                results.append(work(index))
            except (services.RegistrationError, PaymentError) as exc:
                results.append(exc.code)
            except Exception as exc:  # named in the assertion below, not lost in a thread
                crashes.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not crashes
    assert len(results) == count
    return results


@pytest.fixture
def last_seats(app):
    """A paid session with 5 seats, 2 of them confirmed already: 3 left."""
    with app.app_context():
        enable_ecommerce()
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, fee_cents=2500, capacity=5, expected_attendees=5)
        for n in range(2):
            registration = services.register(
                training, services.GuestDetails(f"Early {n}", f"early{n}@example.com")
            )
            services.pay(registration.id, "fake-valid-visa-nonce", ALL)
        return training.id


def check_every_sale_has_a_seat(app, sandbox):
    """Every sale belongs to a confirmed registration, or was voided or refunded."""
    with app.app_context():
        rows = db.session.execute(
            db.text("SELECT p.order_id, r.status FROM payments p JOIN registrations r ON r.payment_id = p.id")
        ).all()
    status_by_order = dict(rows)
    for sale in sandbox.transactions():
        if sale["type"] != "sale" or sale["order_id"] not in status_by_order:
            continue
        given_back = sale["status"] == "voided" or sale.get("refund_ids")
        if sale["status"] in ("submitted_for_settlement", "settled", "settling"):
            assert status_by_order[sale["order_id"]] == "confirmed" or given_back, sale


def counts(app, training_id):
    with app.app_context():
        confirmed = db.session.scalar(
            db.select(db.func.count())
            .select_from(Registration)
            .where(Registration.training_session_id == training_id, Registration.status == "confirmed")
        )
        return confirmed, db.session.get(TrainingSession, training_id).seats_taken


def test_fifty_guests_racing_for_three_seats_confirm_exactly_three(app, payments_sandbox, last_seats):
    def register_and_pay(index):
        training = db.session.get(TrainingSession, last_seats)
        registration = services.register(
            training, services.GuestDetails(f"Racer {index}", f"racer{index}@example.com")
        )
        return services.pay(registration.id, "fake-valid-visa-nonce", ALL).status

    results = race(app, 50, register_and_pay)
    assert results.count("confirmed") == 3
    assert results.count("full") == 47
    assert counts(app, last_seats) == (5, 5)
    check_every_sale_has_a_seat(app, payments_sandbox)
    with app.app_context():
        paid = db.session.execute(
            db.text("SELECT count(*) FROM payments WHERE purpose = 'guest_fee' AND status = :paid"),
            {"paid": "submitted_for_settlement"},
        ).scalar()
        assert paid == 5  # the two early guests and the three racers: nobody charged without a seat


def test_expired_holds_paying_while_newcomers_register_never_oversell(app, payments_sandbox, last_seats):
    with app.app_context():
        training = db.session.get(TrainingSession, last_seats)
        holders = [
            services.register(training, services.GuestDetails(f"Holder {n}", f"holder{n}@example.com")).id
            for n in range(3)
        ]
        db.session.execute(
            update(Registration)
            .values(hold_expires_at=utcnow() - timedelta(seconds=1))
            .where(Registration.id.in_(holders))
        )
        db.session.commit()

    def work(index):
        if index < 3:  # a holder whose hold ran out pays now
            return services.pay(holders[index], "fake-valid-visa-nonce", ALL).status
        training = db.session.get(TrainingSession, last_seats)
        registration = services.register(
            training, services.GuestDetails(f"New {index}", f"new{index}@example.com")
        )
        return services.pay(registration.id, "fake-valid-mastercard-nonce", ALL).status

    results = race(app, 30, work)
    assert results.count("confirmed") == 3
    assert counts(app, last_seats) == (5, 5)
    check_every_sale_has_a_seat(app, payments_sandbox)


def test_one_guest_submitting_many_times_at_once_gets_one_registration(app, payments_sandbox, last_seats):
    def register_same(index):
        training = db.session.get(TrainingSession, last_seats)
        return services.register(training, services.GuestDetails("Same", "same@example.com")).id

    ids = race(app, 20, register_same)
    assert len(set(ids)) == 1
    assert counts(app, last_seats) == (2, 3)


def test_a_coupon_applied_while_the_payment_starts_never_charges_the_wrong_amount(app, payments_sandbox):
    """Pay and Apply pressed at the same moment (two tabs): of the payment's claim and the coupon,
    exactly one goes first. Either the sale pays the discounted price, or the coupon is refused
    because the sale has left; never a sale for the old price given back with a "cancelled" mail."""
    from decimal import Decimal

    from portal.accounts.models import Role
    from portal.coupons.models import CouponRedemption
    from portal.coupons.services import CouponInput, create_coupon
    from portal.mail.models import OutboxMessage
    from portal.payments.models import Payment

    guests = 6
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        training = make_training(make_user("organizer@example.com"), fee_cents=10_000, capacity=50)
        create_coupon(CouponInput(kind="percent", percent=Decimal("10"), code="TENOFF", max_uses=100), admin)
        ids = [
            services.register(training, services.GuestDetails(f"Guest {n}", f"g{n}@example.com")).id
            for n in range(guests)
        ]

    def work(index):
        registration_id = ids[index // 2]
        if index % 2 == 0:
            return services.pay(registration_id, "fake-valid-visa-nonce", ALL).status
        outcome = services.apply_coupon(services.get_registration(registration_id), "TENOFF")
        return type(outcome).__name__

    results = race(app, 2 * guests, work)
    assert set(results) <= {"confirmed", "Discount", "payment_in_progress"}
    with app.app_context():
        for registration_id in ids:
            registration = services.get_registration(registration_id)
            payment = db.session.get(Payment, registration.payment_id)
            assert registration.status == "confirmed"
            # What was charged is what was due: 100.00, or 90.00 with the coupon it kept.
            assert payment.amount_cents == registration.price_cents - registration.discount_cents
            assert (payment.amount_cents, payment.refunded_cents) in ((10_000, 0), (9_000, 0))
        discounted = sum(1 for i in ids if services.get_registration(i).discount_cents)
        committed = db.session.scalar(
            db.select(db.func.count())
            .select_from(CouponRedemption)
            .where(CouponRedemption.status == "committed")
        )
        assert committed == discounted
        assert db.session.scalar(db.select(db.func.count()).where(OutboxMessage.kind == "cancelled")) == 0
        ours = set(db.session.scalars(db.select(Payment.order_id)))
    # The sandbox serves every test of the run: only this test's sales count here. None went back.
    sales = [sale for sale in payments_sandbox.transactions() if sale["order_id"] in ours]
    assert len(sales) == guests
    assert all(sale["status"] != "voided" and not sale.get("refund_ids") for sale in sales)


def wait_until_blocked(app, seconds: float = 10.0) -> None:
    """Until another connection of this database waits on a row lock (PostgreSQL). SQLite's writers
    take turns on one lock, which no view shows: there the newcomer runs before or after the cancel,
    never in between, and the outcome checked is the same."""
    import time

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            waiting = db.session.scalar(
                db.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            db.session.rollback()
            if waiting:
                return
            time.sleep(0.02)
        raise AssertionError("the registration never waited for the locked hold")


def test_a_newcomer_ending_run_out_holds_while_one_is_being_cancelled_does_not_deadlock(app, last_seats):
    """A guest cancels a hold that has run out (the hold's row locked, then its seat given back) while
    a newcomer's registration ends the run-out holds. The newcomer takes the holds' locks before the
    seat count's: it waits for the cancel, instead of holding the count the cancel waits for."""
    with app.app_context():
        training = db.session.get(TrainingSession, last_seats)
        first, second = (
            services.register(training, services.GuestDetails(f"Holder {n}", f"holder{n}@example.com")).id
            for n in range(2)
        )
        db.session.execute(
            update(Registration)
            .values(hold_expires_at=utcnow() - timedelta(seconds=1))
            .where(Registration.id.in_([first, second]))
        )
        db.session.commit()
        assert db.session.get(TrainingSession, last_seats).seats_taken == 4
        engine = db.engine

    outcome = []

    def newcomer():
        with app.app_context():
            try:
                training = db.session.get(TrainingSession, last_seats)
                registration = services.register(training, services.GuestDetails("New", "new@example.com"))
                outcome.append(registration.status)
            except Exception as exc:
                outcome.append(f"{type(exc).__name__}: {exc}")
            finally:
                db.session.remove()

    with engine.connect() as cancel:  # the cancel's statements, in its order, held open in between
        # FOR UPDATE on PostgreSQL; on SQLite the connection's BEGIN IMMEDIATE holds the writer's lock.
        cancel.execute(db.select(Registration.id).where(Registration.id == second).with_for_update())
        thread = threading.Thread(target=newcomer)
        thread.start()
        wait_until_blocked(app)
        cancel.execute(
            db.text("UPDATE training_sessions SET seats_taken = seats_taken - 1 WHERE id = :id"),
            {"id": last_seats},
        )
        cancel.execute(
            db.text("UPDATE registrations SET status = 'cancelled' WHERE id = :id"), {"id": second}
        )
        cancel.commit()
        thread.join(30)

    assert outcome == ["pending_payment"]
    with app.app_context():
        statuses = {
            registration_id: services.get_registration(registration_id).status
            for registration_id in (first, second)
        }
        assert statuses == {first: "expired", second: "cancelled"}
        # 2 paid, the newcomer's hold; the two run-out holds' seats went back, once each.
        assert db.session.get(TrainingSession, last_seats).seats_taken == 3
