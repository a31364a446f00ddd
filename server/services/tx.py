"""Write transactions.

``with write():`` ends any read snapshot the request holds, then begins a transaction
that owns the write lock from its first statement (SQLite ``BEGIN IMMEDIATE``; on
PostgreSQL the service adds ``FOR UPDATE`` where it reads a row it will change). It
commits on success and rolls back on any exception, so a visit is never half-written.
"""
from contextlib import contextmanager

from server.extensions import db


@contextmanager
def write():
    session = db.session()  # the real Session behind the scoped proxy
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"immediate": True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
