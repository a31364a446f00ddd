"""Who holds a print job, and which print workers are alive.

A worker takes a queued job with a lease: ``claim`` turns it ``sending`` with
``leased_by`` = the worker's name and ``lease_until`` = now + lease, in one write
transaction. On PostgreSQL the row is read ``FOR UPDATE SKIP LOCKED``, so a second
worker passes over a job being claimed instead of queueing behind it; SQLite renders
no FOR UPDATE and its write lock (``BEGIN IMMEDIATE``) does the same. The UPDATE is
conditional on ``status = 'queued'`` as well: a job is sent by exactly one worker.

A live worker renews the leases of its jobs with every heartbeat (``Heartbeat``, a
thread beside the worker's loop), so a slow printer never costs it its job. A worker
that died (SIGKILL, power cut) stops renewing; once its lease has passed, another
worker, or itself on restart, marks the job failed (``printing.recover_interrupted``):
never done, never sent a second time without a person asking.

Each worker keeps one ``WorkerHeartbeat`` row named ``host:pid``. Its ``beat_at`` is
the last time the worker's loop made progress (a pass or a job), not merely that the
process is alive: a stuck loop shows as an ageing heartbeat. ``last_heartbeat()`` is
what /readyz asks.
"""

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from server.extensions import db
from server.models import PrintJob, WorkerHeartbeat, utcnow
from server.services.tx import write

log = logging.getLogger(__name__)
LEASE_SECONDS = 60.0  # longer than a badge takes (render ~20 ms, a slow printer ~3 s)
BEAT_SECONDS = 5.0  # heartbeat and lease renewal; at most a third of the lease


def worker_name() -> str:
    """This process's worker name: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(job_id: int, worker: str, lease: float = LEASE_SECONDS) -> bool:
    """Take job ``job_id`` for ``worker`` if it is still queued: it becomes ``sending``
    under a lease of ``lease`` seconds. False when another worker has it (or had it)."""
    with write() as tx:
        free = tx.scalar(
            select(PrintJob.id)
            .where(PrintJob.id == job_id, PrintJob.status == "queued")
            .with_for_update(skip_locked=True)
        )
        if free is None:
            return False
        return (
            tx.execute(
                update(PrintJob)
                .where(PrintJob.id == job_id, PrintJob.status == "queued")
                .values(
                    status="sending",
                    leased_by=worker,
                    lease_until=utcnow() + timedelta(seconds=lease),
                )
            ).rowcount
            == 1
        )


def release(job_id: int, worker: str) -> None:
    """Give a claimed job back to the queue unsent (its printer cannot print now)."""
    with write() as tx:
        tx.execute(
            update(PrintJob)
            .where(
                PrintJob.id == job_id, PrintJob.status == "sending", PrintJob.leased_by == worker
            )
            .values(status="queued", leased_by="", lease_until=None)
        )


def beat(
    name: str, alive_at: datetime, lease: float = LEASE_SECONDS, started_at: datetime | None = None
) -> int:
    """Write ``name``'s heartbeat (``beat_at`` = ``alive_at``) and renew the leases of
    the jobs it is sending to now + ``lease``. Returns how many leases it renewed."""
    with write() as tx:
        row = tx.get(WorkerHeartbeat, name)
        if row is None:  # this process's row: a worker beats only from its own process
            row = WorkerHeartbeat(
                name=name,
                host=socket.gethostname()[:120],
                pid=os.getpid(),
                started_at=started_at or utcnow(),
            )
            tx.add(row)
        row.beat_at = alive_at
        return tx.execute(
            update(PrintJob)
            .where(PrintJob.leased_by == name, PrintJob.status == "sending")
            .values(lease_until=utcnow() + timedelta(seconds=lease))
        ).rowcount


def forget(name: str) -> None:
    """A worker that stopped cleanly takes its heartbeat row with it."""
    with write() as tx:
        tx.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.name == name))


def last_heartbeat() -> datetime | None:
    """The newest ``beat_at`` of any print worker (naive UTC), None when none ever beat."""
    return db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))


class Heartbeat:
    """A thread that calls ``beat`` every ``seconds`` (at most a third of the lease)
    with the time ``alive()`` reports, until stopped; the last beat is removed then."""

    def __init__(
        self,
        app,
        name: str,
        alive: Callable[[], datetime],
        lease: float = LEASE_SECONDS,
        seconds: float = BEAT_SECONDS,
    ):
        self.app, self.name, self.alive, self.lease = app, name, alive, lease
        self.seconds = min(seconds, lease / 3)
        self.started_at = utcnow()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="lobby-worker-heartbeat", daemon=True
        )

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self.app.app_context():
            try:
                forget(self.name)
            except Exception:  # the database is gone: the row just ages
                log.warning("could not remove heartbeat of %s", self.name)
            finally:
                db.session.remove()

    def _run(self) -> None:
        while True:
            with self.app.app_context():
                try:
                    beat(self.name, self.alive(), self.lease, self.started_at)
                except Exception:  # a database hiccup: the next beat tries again
                    log.exception("heartbeat of %s failed", self.name)
                finally:
                    db.session.remove()
            if self._stop.wait(self.seconds):
                return
