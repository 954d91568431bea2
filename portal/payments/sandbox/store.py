"""SQLite storage: transactions, disputes and nonces, so that a restart keeps the ledger.

Every operation holds ``SQLiteStore``'s one lock, which makes "check the nonce, then record the
sale" atomic without any further care.
"""

import json
from datetime import datetime

from portal.payments.offline_gateway import SQLiteStore
from portal.payments.sandbox.models import (
    Dispute,
    Transaction,
    dispute_from_json,
    to_json,
    transaction_from_json,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    order_id TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_order_id ON transactions (order_id);
CREATE TABLE IF NOT EXISTS disputes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    transaction_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY,
    base TEXT NOT NULL,
    created_at TEXT NOT NULL,
    consumed_at TEXT
);
"""


class Store(SQLiteStore):
    def __init__(self, path: str | None = None):
        super().__init__(path, _SCHEMA)

    # --- transactions ---

    def add_transaction(self, txn: Transaction) -> None:
        with self.atomic():
            self._db.execute(
                "INSERT INTO transactions (id, order_id, data) VALUES (?, ?, ?)",
                (txn.id, txn.order_id, json.dumps(to_json(txn))),
            )

    def save_transaction(self, txn: Transaction) -> None:
        with self.atomic():
            self._db.execute(
                "UPDATE transactions SET order_id = ?, data = ? WHERE id = ?",
                (txn.order_id, json.dumps(to_json(txn)), txn.id),
            )

    def transaction(self, txn_id: str) -> Transaction | None:
        with self.lock:
            row = self._db.execute("SELECT data FROM transactions WHERE id = ?", (txn_id,)).fetchone()
        return transaction_from_json(json.loads(row[0])) if row else None

    def transactions(self, ids: list[str] | None = None, order_id: str | None = None) -> list[Transaction]:
        """All transactions (or only these ids / this order id), oldest first."""
        where, args = [], []
        if ids is not None:
            where.append("id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps([str(i) for i in ids]))
        if order_id is not None:
            where.append("order_id = ?")
            args.append(order_id)
        sql = "SELECT data FROM transactions" + (" WHERE " + " AND ".join(where) if where else "")
        with self.lock:
            rows = self._db.execute(sql + " ORDER BY seq", args).fetchall()
        return [transaction_from_json(json.loads(row[0])) for row in rows]

    def has_transaction(self, txn_id: str) -> bool:
        with self.lock:
            return (
                self._db.execute("SELECT 1 FROM transactions WHERE id = ?", (txn_id,)).fetchone() is not None
            )

    # --- disputes ---

    def save_dispute(self, dispute: Dispute) -> None:
        with self.atomic():
            self._db.execute(
                "INSERT INTO disputes (id, transaction_id, data) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                (dispute.id, dispute.transaction_id, json.dumps(to_json(dispute))),
            )

    def disputes_for(self, txn_id: str) -> list[Dispute]:
        """A transaction's disputes, oldest first."""
        with self.lock:
            rows = self._db.execute(
                "SELECT data FROM disputes WHERE transaction_id = ? ORDER BY seq", (txn_id,)
            ).fetchall()
        return [dispute_from_json(json.loads(row[0])) for row in rows]

    # --- nonces ---

    def add_nonce(self, nonce: str, base: str, now: datetime) -> None:
        with self.atomic():
            self._db.execute(
                "INSERT INTO nonces (nonce, base, created_at) VALUES (?, ?, ?)",
                (nonce, base, now.isoformat()),
            )

    def nonce(self, nonce: str) -> tuple[str, bool] | None:
        """``(base test nonce, consumed)`` for a nonce the sandbox issued or consumed; else ``None``."""
        with self.lock:
            row = self._db.execute(
                "SELECT base, consumed_at FROM nonces WHERE nonce = ?", (nonce,)
            ).fetchone()
        return (row[0], row[1] is not None) if row else None

    def consume_nonce(self, nonce: str, base: str, now: datetime) -> None:
        with self.atomic():
            self._db.execute(
                "INSERT INTO nonces (nonce, base, created_at, consumed_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (nonce) DO UPDATE SET consumed_at = excluded.consumed_at",
                (nonce, base, now.isoformat(), now.isoformat()),
            )
