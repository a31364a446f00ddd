"""Write transactions.

``with write():`` ends any read snapshot the request holds, then begins a transaction
that owns the write lock from its first statement (SQLite ``BEGIN IMMEDIATE``; on
PostgreSQL the service's conditional UPDATE or ``FOR UPDATE`` does the arbitrating).
It commits on success and rolls back on any exception, so a visit is never
half-written.

On SQLite the threads of one process also queue on a Python lock before asking
SQLite: a waiter is woken the moment the writer before it commits, instead of
polling in SQLite's busy handler (which sleeps up to 100 ms between tries). Other
processes on the same file still wait through the busy timeout.

``with write_on(conn):`` is the same transaction on a plain Core connection the
caller holds (the check-in's hot path: no Session to begin, flush or commit).
"""

import threading
from contextlib import contextmanager

from server.extensions import db

_sqlite_writers = threading.Lock()


@contextmanager
def write():
    session = db.session()  # the real Session behind the scoped proxy
    if session.in_transaction():
        session.commit()
    serialise = session.get_bind().dialect.name == "sqlite"
    if serialise:
        _sqlite_writers.acquire()
    try:
        session.connection(execution_options={"immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        if serialise:
            _sqlite_writers.release()


@contextmanager
def write_on(conn):
    """``write()`` on a Core connection: ends the request's session transaction (what the
    session reads next includes this write) and ``conn``'s own read transaction, then
    one transaction holding the write lock from its first statement; commit on success,
    rollback on any exception."""
    session = db.session()
    if session.in_transaction():
        session.commit()
    if conn.in_transaction():
        conn.rollback()  # a read snapshot only: nothing to keep
    serialise = conn.dialect.name == "sqlite"
    if serialise:
        _sqlite_writers.acquire()
    try:
        conn.execution_options(immediate=True)
        with conn.begin():
            yield conn
    finally:
        if serialise:
            _sqlite_writers.release()
