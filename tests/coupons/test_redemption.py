"""The redemption service the checkout calls: validate, reserve with the hold, commit, release."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from portal.accounts.models import Role
from portal.coupons import services
from portal.coupons.models import Coupon, CouponRedemption
from portal.coupons.rules import Discount, Rejection
from portal.coupons.services import CouponInput
from portal.database import utcnow
from portal.extensions import db
from tests.factories import enable_ecommerce, make_training, make_user


@pytest.fixture
def shop(app):
    with app.app_context():
        enable_ecommerce()
        admin = make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, fee_cents=4900)
        return {"admin": admin.id, "organizer": organizer.id, "training": training.id}


def new_coupon(shop, **fields):
    from portal.accounts.models import User
    from portal.trainings.models import TrainingSession

    data = CouponInput(**{"kind": "percent", "percent": Decimal("20"), "max_uses": 3, **fields})
    coupon = services.create_coupon(data, db.session.get(User, shop["admin"]))
    return coupon, db.session.get(TrainingSession, shop["training"])


def test_check_gives_the_discount_without_taking_a_use(app, shop):
    with app.app_context():
        coupon, training = new_coupon(shop, code="spring20")
        outcome = services.check(" Spring-20 ", training, "guest@example.com")
        assert isinstance(outcome, Discount)
        assert (outcome.price_cents, outcome.discount_cents, outcome.due_cents) == (4900, 980, 3920)
        assert db.session.get(Coupon, coupon.id).uses == 0


def test_reserve_commit_and_the_redemption_log(app, shop):
    with app.app_context():
        coupon, training = new_coupon(shop, code="SPRING20")
        redemption = services.reserve("spring20", training, "Guest@Example.com", "registration:1")
        db.session.commit()
        assert redemption.status == "reserved" and redemption.discount_cents == 980
        assert redemption.email == "guest@example.com"
        assert db.session.get(Coupon, coupon.id).uses == 1
        assert services.commit("registration:1")
        db.session.commit()
        assert db.session.get(CouponRedemption, redemption.id).status == "committed"
        assert not services.release("registration:1")  # a committed use stays
        assert db.session.get(Coupon, coupon.id).uses == 1


def test_released_uses_come_back(app, shop):
    with app.app_context():
        coupon, training = new_coupon(shop, code="ONCEONLY", max_uses=1)
        services.reserve("onceonly", training, "a@example.com", "registration:1")
        db.session.commit()
        refused = services.reserve("onceonly", training, "b@example.com", "registration:2")
        assert isinstance(refused, Rejection) and refused.code == "used_up"
        assert services.release("registration:1")
        db.session.commit()
        assert not services.release("registration:1")  # only once
        assert db.session.get(Coupon, coupon.id).uses == 0
        again = services.reserve("onceonly", training, "b@example.com", "registration:2")
        db.session.commit()
        assert again.status == "reserved"


def test_reapplying_a_code_never_takes_two_uses(app, shop):
    with app.app_context():
        coupon, training = new_coupon(shop, code="TWICE234", max_uses=5)
        for _ in range(3):
            services.reserve("twice234", training, "a@example.com", "registration:7")
            db.session.commit()
        assert db.session.get(Coupon, coupon.id).uses == 1
        live = db.session.scalars(
            db.select(CouponRedemption).where(CouponRedemption.status == "reserved")
        ).all()
        assert len(live) == 1


def test_a_refused_code_leaves_the_previous_one_in_place(app, shop):
    with app.app_context():
        good, training = new_coupon(shop, code="GOODCODE")
        new_coupon(shop, code="USEDUP22", max_uses=1)
        services.reserve("usedup22", training, "x@example.com", "registration:99")
        services.reserve("goodcode", training, "a@example.com", "registration:1")
        db.session.commit()
        refused = services.reserve("usedup22", training, "a@example.com", "registration:1")
        db.session.commit()
        assert refused.code == "used_up"
        assert services.live_redemption("registration:1").coupon_id == good.id
        assert db.session.get(Coupon, good.id).uses == 1


def test_maximum_uses_per_email_is_enforced_and_released(app, shop):
    with app.app_context():
        coupon, training = new_coupon(shop, code="PEREMAIL", max_uses=10, max_uses_per_email=1)
        services.reserve("peremail", training, "a@example.com", "registration:1")
        db.session.commit()
        refused = services.reserve("peremail", training, "A@EXAMPLE.COM", "registration:2")
        db.session.commit()
        assert refused.code == "used_up_for_email"
        assert db.session.get(Coupon, coupon.id).uses == 1  # the refused try took nothing
        services.release("registration:1")
        db.session.commit()
        assert services.reserve("peremail", training, "a@example.com", "registration:2").status == "reserved"


def test_a_per_email_limit_set_later_counts_the_uses_made_before_it(app, shop):
    """The limit is added to a coupon already used: a live use (reserved or committed) made before
    counts against it, a released one does not."""
    from portal.accounts.models import User

    with app.app_context():
        coupon, training = new_coupon(shop, code="LATERCAP", max_uses=10)
        services.reserve("latercap", training, "a@example.com", "registration:1")
        services.commit("registration:1")
        services.reserve("latercap", training, "b@example.com", "registration:2")
        services.release("registration:2")
        db.session.commit()
        edit = CouponInput(
            kind="percent", percent=Decimal("20"), max_uses=10, max_uses_per_email=1, code="LATERCAP"
        )
        services.update_coupon(coupon, edit, db.session.get(User, shop["admin"]))

        refused = services.reserve("latercap", training, "A@example.com", "registration:3")
        db.session.commit()
        assert isinstance(refused, Rejection) and refused.code == "used_up_for_email"
        assert services.reserve("latercap", training, "b@example.com", "registration:4").status == "reserved"
        db.session.commit()
        assert db.session.get(Coupon, coupon.id).uses == 2


def test_expired_coupons_are_refused_with_their_reason(app, shop):
    with app.app_context():
        _, training = new_coupon(
            shop,
            code="OLDCODE2",
            valid_from=utcnow() - timedelta(days=10),
            valid_until=utcnow() - timedelta(days=1),
        )
        assert services.check("oldcode2", training, "a@example.com").code == "expired"
        assert services.check("NOSUCHCODE", training, "a@example.com").code == "unknown"


def test_a_fixed_coupon_never_makes_the_price_negative(app, shop):
    with app.app_context():
        _, training = new_coupon(shop, code="BIGFIXED", kind="fixed", amount_cents=10000, currency="USD")
        redemption = services.reserve("bigfixed", training, "a@example.com", "registration:1")
        assert (redemption.price_cents, redemption.discount_cents) == (4900, 4900)


def race(app, count, work):
    barrier, results = threading.Barrier(count), []

    def run(index):
        with app.app_context():
            barrier.wait()
            try:
                results.append(work(index))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_fifty_concurrent_reservations_of_three_uses_left_redeem_exactly_three(app, shop):
    from portal.trainings.models import TrainingSession

    with app.app_context():
        coupon, _ = new_coupon(shop, code="RACE2345", max_uses=5)
        training = db.session.get(TrainingSession, shop["training"])
        for n in range(2):  # two uses already taken: three left
            services.reserve("race2345", training, f"early{n}@example.com", f"registration:early{n}")
        db.session.commit()
        coupon_id = coupon.id

    def reserve(index):
        training = db.session.get(TrainingSession, shop["training"])
        outcome = services.reserve("race2345", training, f"guest{index}@example.com", f"registration:{index}")
        db.session.commit()
        return "reserved" if isinstance(outcome, CouponRedemption) else outcome.code

    results = race(app, 50, reserve)
    assert results.count("reserved") == 3
    assert results.count("used_up") == 47
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).uses == 5
        live = (
            db.select(db.func.count())
            .select_from(CouponRedemption)
            .where(CouponRedemption.status == "reserved")
        )
        assert db.session.scalar(live) == 5


def test_concurrent_reservations_by_one_email_respect_the_per_email_limit(app, shop):
    from portal.trainings.models import TrainingSession

    with app.app_context():
        coupon, _ = new_coupon(shop, code="ONEEACH2", max_uses=50, max_uses_per_email=2)
        coupon_id = coupon.id

    def reserve(index):
        training = db.session.get(TrainingSession, shop["training"])
        outcome = services.reserve("oneeach2", training, "same@example.com", f"registration:{index}")
        db.session.commit()
        return "reserved" if isinstance(outcome, CouponRedemption) else outcome.code

    results = race(app, 20, reserve)
    assert results.count("reserved") == 2
    assert results.count("used_up_for_email") == 18
    with app.app_context():
        assert db.session.get(Coupon, coupon_id).uses == 2


@pytest.mark.parametrize("limit", [{"max_uses": 1}, {"max_uses": 5, "max_uses_per_email": 1}])
def test_the_same_code_again_keeps_its_own_last_use(app, shop, limit):
    """Applying again a code whose last use this registration holds is not "used up"."""
    with app.app_context():
        coupon, training = new_coupon(shop, code="ONEUSE", **limit)
        first = services.reserve("oneuse", training, "guest@example.com", "registration:1")
        again = services.reserve("ONE-USE", training, "guest@example.com", "registration:1")
        assert isinstance(again, CouponRedemption) and again.id == first.id
        assert (again.discount_cents, db.session.get(Coupon, coupon.id).uses) == (980, 1)
        other = services.reserve("ONEUSE", training, "guest@example.com", "registration:2")
        assert isinstance(other, Rejection)
