"""The print worker's loop: one thread that sends badges and runs the timers.

Inside ``lobby run`` it is a thread of the server process (started by
``create_app``); ``lobby worker`` (server/worker.py) runs one in a process of its
own. Beside it run its ``Heartbeat`` (print_leases.py: renews the leases of the jobs
it sends and shows it alive) and, on PostgreSQL, its ``Listener`` (print_notify.py:
woken the moment another process queues a badge).
"""

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db
from server.models import utcnow
from server.services import print_notify, printing
from server.services.print_leases import LEASE_SECONDS, Heartbeat, worker_name

log = logging.getLogger("server.services.printing")  # one logger for badges, wherever sent
REMINDER_SECONDS = 60.0  # how often the worker looks for tours and promised answers to remind
# How often the worker asks whether the daily retention purge is due (one SELECT when
# not; services/retention.py claims the day so one worker of several purges).
PURGE_CHECK_SECONDS = 600.0
PURGE_FIRST_DELAY = 60.0  # not in the worker's first seconds: badges first
# Check-ins into the audit trail this often (every reader of the trail folds them in
# first, so none is ever missing there; off the passes that send badges under a burst).
AUDIT_FOLD_SECONDS = 30.0
OUTBOX_SECONDS = 3.0  # messages sent per pass until this passes (then badges again)


class PrintWorker:
    """The print worker: a thread that drains the print queue when woken, retries due
    jobs every ``interval`` seconds, marks failed the jobs of workers that died
    mid-job, polls every printer's health every ``poll_seconds`` and sends tour and
    follow-up reminders. Inside ``lobby run`` it is a thread of the server; ``lobby
    worker`` (server/worker.py) runs one as a process of its own. It holds each job
    it sends under a lease of ``lease`` seconds, renewed by its ``Heartbeat``."""

    def __init__(
        self,
        app,
        interval: float = 1.0,
        poll_seconds: float | None = None,
        name: str | None = None,
        lease: float = LEASE_SECONDS,
    ):
        self.app = app
        self.interval = interval
        self.poll_seconds = (
            poll_seconds if poll_seconds is not None else app.config["PRINTER_POLL_SECONDS"]
        )
        self.name = name or worker_name()
        self.lease = lease
        self.alive_at = utcnow()  # the loop's last sign of progress (the heartbeat's)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lobby-print-worker", daemon=True)
        self._heartbeat = Heartbeat(app, self.name, lambda: self.alive_at, lease)
        # other processes' badges wake it at once on PostgreSQL (else: the poll)
        self._listener = (
            print_notify.Listener(app, self.wake) if print_notify.Listener.wanted(app) else None
        )

    def start(self) -> "PrintWorker":
        self._heartbeat.start()
        if self._listener is not None:
            self._listener.start()
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def request_stop(self) -> None:
        """Stop after the current job (returns at once; ``join`` waits)."""
        self._stop.set()
        self._wake.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the loop to end; then the heartbeat stops. True when it ended."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        self._heartbeat.stop()
        if self._listener is not None:
            self._listener.stop()
        return True

    def stop(self, timeout: float | None = 10) -> None:
        self.request_stop()
        self.join(timeout)

    def _keep_going(self) -> bool:
        self.alive_at = utcnow()
        return not self._stop.is_set()

    def _outbox_budget(self, seconds: float) -> Callable[[], bool]:
        """``keep_going`` for one pass of the outbox: until stopped or ``seconds`` pass."""
        until = time.monotonic() + seconds
        return lambda: self._keep_going() and time.monotonic() < until

    def _run(self) -> None:
        from server.notify import alerts, outbox
        from server.policy import arrangements  # housekeeping here
        from server.services import audit_checkins, follow_ups, retention, tasks

        printing.spooler.warm_up()  # the badge process starts now, not with the first visitor
        last_poll = last_reminders = last_fold = 0.0
        last_purge_check = time.monotonic() - PURGE_CHECK_SECONDS + PURGE_FIRST_DELAY
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.alive_at = utcnow()
            with self.app.app_context():
                try:
                    try:
                        printing.recover_interrupted()
                    except SQLAlchemyError:  # the database is still being migrated
                        db.session.rollback()
                        continue
                    if self.poll_seconds and time.monotonic() - last_poll >= self.poll_seconds:
                        last_poll = time.monotonic()
                        printing.poll_printers()
                    if time.monotonic() - last_reminders >= REMINDER_SECONDS:
                        last_reminders = time.monotonic()
                        if (
                            sent := tasks.send_tour_reminders()
                            + follow_ups.send_follow_up_reminders()
                            + arrangements.send_overdue_notices()
                        ):
                            log.info("%d reminders sent", sent)
                    if time.monotonic() - last_purge_check >= PURGE_CHECK_SECONDS:
                        last_purge_check = time.monotonic()
                        if purged := retention.purge_if_due(actor_label=f"worker:{self.name}"):
                            log.info("retention purge: %s", purged.counts)
                    printing.drain(
                        pace=self.app.config["PRINT_PACING_SECONDS"],
                        worker=self.name,
                        lease=self.lease,
                        keep_going=self._keep_going,
                    )
                    # then the outbox (emails, chat): badges first, and a few seconds
                    # of messages at most per pass before looking at badges again;
                    # the new events' alerts are queued first (notify/alerts.py)
                    alerts.run()
                    outbox.send_due(keep_going=self._outbox_budget(OUTBOX_SECONDS))
                    if time.monotonic() - last_fold >= AUDIT_FOLD_SECONDS:
                        last_fold = time.monotonic()
                        audit_checkins.catch_up(db.session)
                except Exception:
                    log.exception("print worker pass failed")
                finally:
                    db.session.remove()
