"""A ledger of 100,000 rows: the page stays a page, and the CSV streams in bounded memory."""

import tracemalloc

from sqlalchemy import insert

from portal.accounts.models import Role
from portal.database import utcnow
from portal.extensions import db
from portal.payments.models import Payment
from tests.conftest import count_queries, login
from tests.factories import enable_ecommerce, make_training, make_user

ROWS = 100_000
# The CSV is about 30 MB; streaming must never hold more than a small part of it.
MEMORY_BOUND = 8 * 1024 * 1024


def load_payments(organizer_id: int, training_id: int, rows: int = ROWS) -> None:
    now = utcnow()
    for start in range(0, rows, 10_000):
        db.session.execute(
            insert(Payment),
            [
                {
                    "purpose": "guest_fee",
                    "reference": f"registration:{number}",
                    "amount_cents": 100 + number % 900,
                    "currency": "USD",
                    "status": "settled",
                    "method": "credit_card",
                    "card_brand": "Visa",
                    "card_last4": "1111",
                    "training_session_id": training_id,
                    "organizer_id": organizer_id,
                    "refunded_cents": 0,
                    "created_at": now,
                    "updated_at": now,
                    "paid_at": now,
                }
                for number in range(start, min(start + 10_000, rows))
            ],
        )
    db.session.commit()


def test_a_100000_row_ledger_pages_and_streams_in_bounded_memory(app, client):
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, title="A long session title " * 9, fee_cents=100)
        load_payments(organizer.id, training.id)
    login(client, "admin@example.com")

    page = client.get("/admin/payments").text
    assert page.count('class="ledger-row') == app.config["PAGE_SIZE"]
    expected_total = sum(100 + number % 900 for number in range(ROWS))
    assert f'data-payments="{ROWS}"' in page
    assert f'data-charged="{expected_total // 100}.{expected_total % 100:02d}"' in page
    assert count_queries(app, client, "/admin/payments?page=2000") == count_queries(
        app, client, "/admin/payments"
    )

    response = client.get("/admin/payments/ledger.csv", buffered=False)
    tracemalloc.start()
    try:
        size = lines = 0
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    assert lines == ROWS + 1  # the header and every row
    assert size > 3 * MEMORY_BOUND  # the file is far bigger than what was held at once
    assert peak < MEMORY_BOUND, f"peak {peak} bytes while streaming {size} bytes"


def test_a_slow_csv_download_never_blocks_writers(app, client):
    """While a download is half read, another request can still write (SQLite: no lock held)."""
    with app.app_context():
        enable_ecommerce()
        make_user("admin@example.com", role=Role.ADMIN, department=None)
        organizer = make_user("organizer@example.com")
        training = make_training(organizer, fee_cents=100)
        load_payments(organizer.id, training.id, rows=5_000)
    login(client, "admin@example.com")
    response = client.get("/admin/payments/ledger.csv", buffered=False)
    chunks = iter(response.response)
    try:
        first = next(chunks)
        assert first.startswith(b"kind,payment_id")
        with app.app_context():
            # A write from elsewhere in the middle of the download: it must not wait for it.
            make_user("writer@example.com")
        rest = b"".join(chunks)
    finally:
        response.close()
    assert (first + rest).count(b"\n") == 5_001
