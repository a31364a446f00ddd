"""Write transactions: ``grouped`` (the group commit of check-ins on SQLite) returns
after its own transaction committed, shares one transaction among callers that arrive
together, and a batch commits or fails as a whole."""
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from server.extensions import db
from server.services import tx


@pytest.fixture
def table(app):
    db.session.execute(text("CREATE TABLE marks (n INTEGER NOT NULL)"))
    db.session.commit()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    return lambda: sorted(n for (n,) in sqlite3.connect(path).execute("SELECT n FROM marks"))


def insert(n):
    def work(cur):
        cur.execute("INSERT INTO marks (n) VALUES (?)", (n,))
        return n * 10
    return work


def test_a_lone_call_commits_before_it_returns(app, table):
    assert tx.grouped(insert(1)) == 10
    assert table() == [1]  # seen from another connection: committed


def test_work_that_raises_writes_nothing_and_raises(app, table):
    def bad(cur):
        cur.execute("INSERT INTO marks (n) VALUES (2)")
        raise ValueError("no")
    with pytest.raises(ValueError):
        tx.grouped(bad)
    assert table() == []
    assert tx.grouped(insert(3)) == 30  # the lock and the queue are free again
    assert table() == [3]


def run_together(app, works):
    """Queue ``works`` from threads while the write lock is held, then let go: the
    first thread to get the lock commits them all as one batch."""
    results = [None] * len(works)

    def call(i):
        with app.app_context():
            try:
                results[i] = tx.grouped(works[i])
            except Exception as e:  # noqa: BLE001 - the test looks at it
                results[i] = e
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(works))]
    with tx._sqlite_writers:
        for t in threads:
            t.start()
        deadline = time.time() + 10
        while len(tx._pending) < len(works) and time.time() < deadline:
            time.sleep(0.01)
        assert len(tx._pending) == len(works)
    for t in threads:
        t.join(10)
    return results


def test_callers_arriving_together_share_one_transaction(app, table):
    results = run_together(app, [insert(n) for n in range(8)])
    assert results == [n * 10 for n in range(8)]
    assert table() == list(range(8))
    assert tx._pending == []


def test_a_batch_fails_as_a_whole(app, table):
    def bad(cur):
        raise RuntimeError("disk full")
    results = run_together(app, [insert(1), bad, insert(2)])
    assert all(isinstance(r, RuntimeError) for r in results)
    assert table() == []  # nobody's rows: every caller was told it failed
