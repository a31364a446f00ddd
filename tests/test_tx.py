"""Write transactions: ``write()`` commits what its block wrote or nothing of it, and
the writers of one process take SQLite's write lock in turn (none lost, none refused
with "database is locked")."""

import sqlite3
import threading

import pytest
from sqlalchemy import text

from server.extensions import db
from server.services import tx


@pytest.fixture
def counter(app):
    db.session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
    db.session.execute(text("INSERT INTO counter (n) VALUES (0)"))
    db.session.commit()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    return lambda: sqlite3.connect(path).execute("SELECT n FROM counter").fetchone()[0]


def test_a_write_is_committed_when_the_block_ends(app, counter):
    with tx.write() as session:
        session.execute(text("UPDATE counter SET n = 7"))
    assert counter() == 7  # seen from another connection


def test_a_write_that_raises_leaves_nothing_and_frees_the_lock(app, counter):
    with pytest.raises(ValueError), tx.write() as session:
        session.execute(text("UPDATE counter SET n = 5"))
        raise ValueError("half-way")
    assert counter() == 0
    with tx.write() as session:  # the in-process lock was let go
        session.execute(text("UPDATE counter SET n = n + 1"))
    assert counter() == 1


def test_a_write_ends_the_read_snapshot_before_it(app, counter):
    """A request that read first, then writes, writes on the newest data: the read
    transaction is ended, not upgraded (which SQLite would refuse as busy)."""
    assert db.session.execute(text("SELECT n FROM counter")).scalar() == 0
    with sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")) as c:
        c.execute("UPDATE counter SET n = 41")
    with tx.write() as session:
        session.execute(text("UPDATE counter SET n = n + 1"))
    assert counter() == 42


def test_forty_writers_at_once_each_read_modify_write_without_losing_one(app, counter):
    errors = []
    barrier = threading.Barrier(40)

    def add_one():
        with app.app_context():
            try:
                barrier.wait()
                with tx.write() as session:
                    n = session.execute(text("SELECT n FROM counter")).scalar()
                    session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=add_one) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and counter() == 40
