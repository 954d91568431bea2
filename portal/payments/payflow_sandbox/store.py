"""SQLite storage: secure tokens, transactions, answered request ids and silent posts.

Every operation holds ``SQLiteStore``'s one lock, so that "check the token, record the sale, mark
the token used" (or "look up the request id, process, remember the answer") is one atomic step
without further care.
Amounts are kept as exact decimal strings ("12.50"), times as ISO 8601 in UTC.

Tokens and transactions are JSON documents beside the columns they are looked up by: every value is
then quoted on its own, so that no two digit-only values (last four digits, authorization code,
date) sit side by side in the file looking like one long number to a card-number scan.
"""

import json
import sqlite3
from decimal import Decimal

from portal.payments.offline_gateway import SQLiteStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pnref TEXT NOT NULL UNIQUE,
    origid TEXT,
    trxtype TEXT NOT NULL,
    custref TEXT,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_custref ON transactions (custref);
CREATE INDEX IF NOT EXISTS transactions_origid ON transactions (origid);
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    response BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS silent_posts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    status INTEGER,
    error TEXT,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

# Every transaction has these keys, in this order.
TRANSACTION_KEYS = (
    "pnref",
    "trxtype",
    "origid",
    "amount",
    "currency",
    "custref",
    "invnum",
    "result",
    "respmsg",
    "transstate",
    "card_type",
    "last4",
    "authcode",
    "secure_token_id",
    "created_at",
)


class Store(SQLiteStore):
    def __init__(self, path: str | None = None):
        super().__init__(path, _SCHEMA)
        self._db.row_factory = sqlite3.Row

    def _one(self, sql: str, args: tuple) -> sqlite3.Row | None:
        with self.lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple = ()) -> list[dict]:
        with self.lock:
            return [dict(row) for row in self._db.execute(sql, args).fetchall()]

    def _write(self, sql: str, args: tuple) -> None:
        with self.atomic():
            self._db.execute(sql, args)

    # --- secure tokens ---

    def add_token(self, token: dict) -> None:
        self._write(
            "INSERT INTO tokens (token_id, data) VALUES (?, ?)", (token["token_id"], json.dumps(token))
        )

    def token(self, token_id: str) -> dict | None:
        row = self._one("SELECT data FROM tokens WHERE token_id = ?", (token_id,))
        return json.loads(row["data"]) if row else None

    def update_token(self, token_id: str, **changes) -> None:
        with self.atomic():
            token = {**self.token(token_id), **changes}
            self._db.execute("UPDATE tokens SET data = ? WHERE token_id = ?", (json.dumps(token), token_id))

    # --- transactions ---

    def add_transaction(self, txn: dict) -> None:
        txn = {key: txn.get(key) for key in TRANSACTION_KEYS}
        self._write(
            "INSERT INTO transactions (pnref, origid, trxtype, custref, data) VALUES (?, ?, ?, ?, ?)",
            (txn["pnref"], txn["origid"], txn["trxtype"], txn["custref"], json.dumps(txn)),
        )

    def transaction(self, pnref: str) -> dict | None:
        row = self._one("SELECT data FROM transactions WHERE pnref = ?", (pnref,))
        return json.loads(row["data"]) if row else None

    def transactions(self) -> list[dict]:
        """Every transaction, oldest first."""
        return [json.loads(row["data"]) for row in self._all("SELECT data FROM transactions ORDER BY seq")]

    def latest_sale(self, custref: str) -> dict | None:
        row = self._one(
            "SELECT data FROM transactions WHERE custref = ? AND trxtype = 'S' ORDER BY seq DESC LIMIT 1",
            (custref,),
        )
        return json.loads(row["data"]) if row else None

    def credited(self, sale_pnref: str) -> Decimal:
        """What the credits against a sale add up to."""
        rows = self._all("SELECT data FROM transactions WHERE origid = ? AND trxtype = 'C'", (sale_pnref,))
        return sum((Decimal(json.loads(row["data"])["amount"]) for row in rows), Decimal("0.00"))

    def set_transstate(self, pnref: str, transstate: int) -> None:
        with self.atomic():
            txn = {**self.transaction(pnref), "transstate": transstate}
            self._db.execute("UPDATE transactions SET data = ? WHERE pnref = ?", (json.dumps(txn), pnref))

    # --- request ids (duplicate detection) ---

    def response(self, request_id: str) -> bytes | None:
        row = self._one("SELECT response FROM requests WHERE request_id = ?", (request_id,))
        return bytes(row["response"]) if row else None

    def save_response(self, request_id: str, response: bytes) -> None:
        self._write("INSERT INTO requests (request_id, response) VALUES (?, ?)", (request_id, response))

    # --- silent posts ---

    def add_silent_post(self, url: str, status: int | None, error: str | None, fields: dict, at: str) -> None:
        self._write(
            "INSERT INTO silent_posts (url, status, error, fields, created_at) VALUES (?, ?, ?, ?, ?)",
            (url, status, error, json.dumps(fields), at),
        )

    def silent_posts(self) -> list[dict]:
        """Every delivery attempt, oldest first."""
        rows = self._all("SELECT url, status, error, fields, created_at FROM silent_posts ORDER BY seq")
        return [{**row, "fields": json.loads(row["fields"])} for row in rows]
