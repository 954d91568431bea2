"""The seat path's queries reach their rows through an index keyed on everything they look for.

Every registration looks up the guest's active registration and ends the session's run-out
holds; the public page counts those holds. Through an index on (session, status) alone,
each of them walks every pending guest of the session: the thousandth guest of a rush paid
for the 999 before. The plans are read from the database itself (EXPLAIN) for the statements
the requests really ran, with their parameters.

SQLite's planner picks an index by the shape of the query. PostgreSQL's weighs statistics: on a
few test rows any plan is right, so there the session first gets a few thousand pending guests
and the table is analyzed, as on a site in the middle of a rush.
"""

from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from portal.database import utcnow
from portal.extensions import db
from portal.registration.models import Registration
from tests.factories import enable_ecommerce, make_training, make_user
from tests.registration.helpers import register

RUN_OUT_HOLDS = "hold_expires_at <="
ACTIVE_LOOKUP = "registrations.email ="


def statements_run(app, action) -> list[tuple[str, object]]:
    """The SELECTs and UPDATEs on registrations that ``action()`` ran, with their parameters."""
    with app.app_context():
        engine = db.engine
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany):
        if "FROM registrations" in statement or statement.startswith("UPDATE registrations"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def plan_of(app, backend: str, statement: str, parameters) -> str:
    with app.app_context():
        connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        if backend == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + statement, parameters)
        return "\n".join(str(row[0]) for row in cursor.fetchall())
    finally:
        connection.rollback()
        connection.close()


# What each backend's plan says for a range on the hold expiry within the session's pending guests.
HOLD_RANGE = {
    "sqlite": "ix_registrations_session_status_hold "
    "(training_session_id=? AND status=? AND hold_expires_at<?)",
    "postgresql": "ix_registrations_session_status_hold",
}


@pytest.fixture
def paid_session(app, backend):
    with app.app_context():
        enable_ecommerce()
        training = make_training(make_user("organizer@example.com"), fee_cents=4900, capacity=10_000)
        if backend == "postgresql":
            now = utcnow()
            db.session.execute(
                insert(Registration),
                [
                    {
                        "training_session_id": training.id,
                        "email": f"rush{number}@example.com",
                        "name": f"Rush {number}",
                        "status": "pending_payment",
                        "price_cents": 4900,
                        "discount_cents": 0,
                        "currency": "USD",
                        "hold_expires_at": now + timedelta(minutes=30),
                    }
                    for number in range(5000)
                ],
            )
            db.session.commit()
            db.session.execute(text("ANALYZE registrations"))
            db.session.commit()
        return training.public_token


def test_registering_and_the_public_page_use_the_indexes_made_for_them(app, client, backend, paid_session):
    def guests_and_a_reader():
        for number in range(3):
            registered = register(client, paid_session, f"Guest {number}", f"g{number}@example.com")
            assert registered.status_code == 303
        assert client.get(f"/s/{paid_session}").status_code == 200

    statements = statements_run(app, guests_and_a_reader)
    lookups = [s for s in statements if ACTIVE_LOOKUP in s[0]]
    run_out = [s for s in statements if RUN_OUT_HOLDS in s[0]]
    assert len(lookups) >= 3 and len(run_out) >= 4  # one each per registration, and the page's count
    for statement, parameters in lookups:
        plan = plan_of(app, backend, statement, parameters)
        assert "uq_registrations_active_email" in plan, plan
    for statement, parameters in run_out:
        plan = plan_of(app, backend, statement, parameters)
        # A range on the expiry within the session's pending guests, not a walk over them.
        assert HOLD_RANGE[backend] in plan, plan
        if backend == "postgresql":
            assert "hold_expires_at <=" in plan.split("Index Cond:", 1)[-1], plan
    for statement, parameters in statements:
        plan = plan_of(app, backend, statement, parameters)
        assert "SCAN registrations" not in plan and "Seq Scan on registrations" not in plan, plan
