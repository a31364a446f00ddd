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


def run_together(app, works, after=None):
    """Queue ``works`` from threads while the write lock is held, then let go: the
    first thread to get the lock commits them all as one batch. ``after(i)`` gives
    caller i's ``on_commit``."""
    results = [None] * len(works)

    def call(i):
        with app.app_context():
            try:
                results[i] = tx.grouped(works[i], on_commit=after(i) if after else None)
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


def test_after_commit_work_runs_at_the_commit_in_queue_order(app, table):
    """What must follow the commit (the live alert of a check-in) runs the moment the
    batch commits, by whoever committed it, in the order the callers queued; each
    caller's own result is what its work returned."""
    seen = []
    results = run_together(app, [insert(n) for n in range(6)],
                           after=lambda i: lambda result: seen.append((i, result, table())))
    assert results == [n * 10 for n in range(6)]
    assert [(i, r) for i, r, _ in seen] == [(n, n * 10) for n in range(6)]
    assert all(rows == list(range(6)) for _, _, rows in seen)  # committed, seen elsewhere


def test_after_commit_work_does_not_run_when_the_batch_fails(app, table):
    seen = []

    def bad(cur):
        raise RuntimeError("disk full")
    run_together(app, [insert(1), bad], after=lambda i: seen.append)
    assert seen == [] and table() == []


def test_after_commit_work_that_raises_harms_nobody(app, table):
    seen = []

    def after(i):
        def run(result):
            if i == 0:
                raise ValueError("broken listener")
            seen.append(result)
        return run
    results = run_together(app, [insert(1), insert(2)], after=after)
    assert results == [10, 20] and seen == [20] and table() == [1, 2]
    assert tx.grouped(insert(3)) == 30  # the lock is free again
