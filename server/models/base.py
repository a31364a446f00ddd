"""Declarative base, time helpers and the SQLite connection policy.

SQLite runs in WAL mode with a busy timeout. Transactions begin DEFERRED unless the
connection carries the execution option ``immediate=True``: services that write take
the write lock up front (``BEGIN IMMEDIATE``), because a read-then-write transaction
is what produces "database is locked" under concurrent writers. A connection marked
``one_read=True`` reads with a single statement at a time and begins nothing: SQLite
gives each statement its own snapshot, so a ``BEGIN``/``ROLLBACK`` around it would only
cost two more calls (the check-in's read; ``immediate`` still wins for its write).
"""

from datetime import UTC, datetime

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    """Naive UTC now: every timestamp in the database is naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, _record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # Let SQLAlchemy's "begin" hook emit BEGIN itself (see below).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=15000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name == "sqlite":
        options = conn.get_execution_options()
        if options.get("immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get("one_read"):
            conn.exec_driver_sql("BEGIN DEFERRED")
