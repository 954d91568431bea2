"""The seat path's queries reach their rows through an index keyed on everything they look for.

Every registration looks up the guest's active registration and ends the session's run-out
holds; the public page counts those holds. Through an index on (session, status) alone,
each of them walks every pending guest of the session: the thousandth guest of a rush paid
for the 999 before. The plans are read from the database itself (EXPLAIN) for the statements
the requests really ran, with their parameters.

SQLite only: its planner picks an index by the shape of the query (what is checked here), while
PostgreSQL's weighs statistics, so on a few test rows any plan is right; ``make bench-pages``
reads its pages at a million registrations.
"""

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests.factories import enable_ecommerce, make_training, make_user
from tests.registration.helpers import register

RUN_OUT_HOLDS = "hold_expires_at <="
ACTIVE_LOOKUP = "registrations.email ="
HOLD_RANGE = "ix_registrations_session_status_hold (training_session_id=? AND status=? AND hold_expires_at<?)"


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


def plan_of(app, statement: str, parameters) -> str:
    with app.app_context():
        connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in cursor.fetchall())
    finally:
        connection.close()


@pytest.fixture
def paid_session(app):
    with app.app_context():
        enable_ecommerce()
        training = make_training(make_user("organizer@example.com"), fee_cents=4900, capacity=50)
        return training.public_token


def test_registering_and_the_public_page_use_the_indexes_made_for_them(app, client, backend, paid_session):
    if backend != "sqlite":
        pytest.skip("PostgreSQL plans by statistics (see the module's docstring)")

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
        plan = plan_of(app, statement, parameters)
        assert "uq_registrations_active_email" in plan, plan
    for statement, parameters in run_out:
        plan = plan_of(app, statement, parameters)
        # A range on the expiry within the session's pending guests, not a walk over them.
        assert HOLD_RANGE in plan, plan
    for statement, parameters in statements:
        plan = plan_of(app, statement, parameters)
        assert "SCAN registrations" not in plan, statement
