"""Engine set-up and column types shared by every domain package."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import DateTime, String, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and ``BEGIN IMMEDIATE`` transactions.

    SQLAlchemy's documented pysqlite recipe: the driver's own transaction
    handling is turned off and every transaction starts with ``BEGIN
    IMMEDIATE``, so a read-then-write never fails with "database is locked" and
    conditional updates on seats and coupon uses are exact.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=5000",
            "foreign_keys=ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get(READ_ONLY):
            # A deferred reader: under WAL it reads a snapshot and never blocks a writer.
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


# Execution option marking a connection that only reads (see ``stream_rows``).
READ_ONLY = "portal_read_only"


def stream_rows(statement, batch: int = 1000):
    """The rows of a long read (a CSV export), fetched ``batch`` at a time on a connection of their own.

    The connection only reads: on SQLite it does not take the write lock for the
    length of a download (every other transaction is ``BEGIN IMMEDIATE``), and on
    PostgreSQL the rows come from a server-side cursor. For column SELECTs (rows, not ORM objects).
    """
    from portal.extensions import db

    with db.engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True}, yield_per=batch)
        yield from connection.execute(statement)


def stream_objects(statement, batch: int = 1000):
    """``stream_rows`` for an ORM SELECT: the objects, loaded by a read-only session of their own."""
    from sqlalchemy.orm import Session

    from portal.extensions import db

    with db.engine.connect() as connection:
        connection.execution_options(**{READ_ONLY: True})
        with Session(bind=connection) as session:
            yield from session.scalars(statement.execution_options(yield_per=batch))


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class DecimalText(TypeDecorator):
    """An exact decimal stored as text: rates keep their sub-cent digits as typed."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError("DecimalText stores Decimal values only")
        return format(value, "f")

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation as exc:  # pragma: no cover - only a corrupted row
            raise ValueError(f"not a decimal: {value!r}") from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


def render_migration_type(type_, obj, autogen_context):
    """Alembic autogenerate: write our column types as the plain types they store."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, DecimalText):
        return "sa.String(length=32)"
    return False
