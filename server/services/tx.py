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

``grouped(work)`` is the group commit of the hot path (check-ins) on SQLite: under a
burst, a writer that holds the lock is descheduled from the GIL by the other request
threads between its statements, so the lock is held ~10x longer than the work takes
and becomes the bottleneck. Instead each caller queues its ``work`` and asks for the
lock; the first to get it writes everything queued so far in ONE transaction and
commits, and the others find their work done. A lone caller is a batch of one.
"""
import logging
import threading
from contextlib import contextmanager

from server.extensions import db

log = logging.getLogger(__name__)
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


class _Job:
    __slots__ = ("work", "on_commit", "result", "error", "done")

    def __init__(self, work, on_commit):
        self.work, self.on_commit = work, on_commit
        self.result, self.error, self.done = None, None, False


_pending: list[_Job] = []
_pending_lock = threading.Lock()


def grouped(work, on_commit=None):
    """Run ``work(cursor)`` (a sqlite3 cursor) in a write transaction that may be shared
    with concurrent callers; return its result once that transaction has committed.
    A batch commits or fails as a whole: if any work raises, or the COMMIT does,
    nothing of the batch is written and every caller in it raises. SQLite only.

    ``on_commit(result)``, when given, runs right after the COMMIT, in the thread
    that committed the batch, in the order the callers queued, and never for a batch
    that failed. It is for what must follow the commit without waiting for its caller
    to be scheduled again (a check-in's live alert); it runs under the write lock, so
    it must be quick, and an exception in it is logged and harms nobody."""
    session = db.session()
    if session.in_transaction():
        session.commit()  # end this request's read snapshot first, as write() does
    job = _Job(work, on_commit)
    with _pending_lock:
        _pending.append(job)
    with _sqlite_writers:
        if not job.done:  # nobody took it yet: lead a batch of all that is queued
            _commit_batch()
    if job.error is not None:
        raise job.error
    return job.result


def _commit_batch() -> None:
    with _pending_lock:
        batch = _pending[:]
        _pending.clear()
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for job in batch:
                job.result = job.work(cur)
            cur.execute("COMMIT")
        except BaseException as e:
            cur.execute("ROLLBACK")
            for job in batch:
                job.result, job.error = None, e
        else:
            for job in batch:
                if job.on_commit is not None:
                    try:
                        job.on_commit(job.result)
                    except Exception:
                        log.exception("after-commit work of a grouped write failed")
    except BaseException as e:  # no transaction at all (e.g. the database is gone)
        for job in batch:
            job.result, job.error = None, job.error or e
    finally:
        conn.close()
        for job in batch:
            job.done = True

