"""Badge printing off the check-in path, and printer health.

Check-in only writes a PrintJob row (``queued``). A PrintWorker thread per server
process drains the queue and polls printer health; the badge itself is drawn and
sent by a child process (``printers/spool.py``), off this process's GIL:

- Before sending, the printer's status is asked (DLE EOT). A printer that is out of
  paper, has its cover open, reports an error or does not answer keeps its jobs
  ``queued`` with a growing backoff (``next_attempt_at``); when it is back they print
  in the order they were queued. A kiosk's fallback printer takes over jobs whose
  printer is down.
- A job is ``sending`` while on the wire, then ``done``; a connection that drops
  mid-job marks it ``failed`` with the reason (never done), and reception can reprint.
- Status changes and finished jobs go out as ``printer_status`` events.
- A badge's fate goes to the kiosk it was printed for (and reception) as
  ``badge_status``: ``printed``, ``waiting`` (held: out of paper, unreachable...) or
  ``failed``, so the kiosk tells the visitor to take it or to ask at the desk.
"""
import logging
import threading
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from printers.connection import PrinterError, paper_width
from printers.spool import Spooler
from printers.status import PrinterStatus, query_status
from server import realtime
from server.extensions import db
from server.models import PRINTABLE_STATES, Kiosk, Printer, PrintJob, Visit, utcnow
from server.services import badges, clock
from server.services.errors import Conflict, ValidationError
from server.services.tx import write

log = logging.getLogger(__name__)
EXTENSION_KEY = "lobby_print_worker"
MAX_BACKOFF = 60.0
REMINDER_SECONDS = 60.0  # how often the worker looks for tours to remind
DRAIN_BATCH = 100         # due jobs taken per pass; the next pass takes the next ones
# Badges are drawn and sent by a child process, off this process's GIL (one per
# server process, started by the PrintWorker when it starts, or by the first badge).
spooler = Spooler()


def backoff(attempts: int) -> float:
    """Seconds to wait before trying a down printer again: 2, 4, 8 ... up to a minute."""
    return min(MAX_BACKOFF, 2.0 ** max(1, attempts))


def job_dict(job: PrintJob | None) -> dict | None:
    if job is None:
        return None
    return {"id": job.id, "visit_id": job.visit_id, "status": job.status, "error": job.error,
            "reason": job.reason, "reprint": job.reprint, "attempts": job.attempts,
            "printer": job.printer.name if job.printer_id else None,
            "requested_by": job.requested_by.name if job.requested_by_id else None,
            "created_at": clock.iso(job.created_at), "finished_at": clock.iso(job.finished_at)}


def badge_state(visit_id: int) -> str:
    """How the visit's latest badge is doing: "none", "printing", "printed",
    "waiting" (held at a printer that cannot print now) or "failed"."""
    job = db.session.scalar(select(PrintJob).where(PrintJob.visit_id == visit_id)
                            .order_by(PrintJob.id.desc()).limit(1))
    if job is None:
        return "none"
    if job.status == "done":
        return "printed"
    if job.status == "failed":
        return "failed"
    return "waiting" if job.error.startswith("waiting") else "printing"


def _badge_event(session, job: PrintJob, state: str):
    """``badge_status`` for the kiosk that printed it (when a kiosk did) and reception."""
    visit = session.get(Visit, job.visit_id)
    rooms = ["reception"] + ([f"kiosk:{visit.kiosk_id}"] if visit.kiosk_id else [])
    return realtime.record(session, "badge_status", {
        "visit_id": job.visit_id, "job_id": job.id, "state": state,
        "error": job.error, "reprint": job.reprint}, rooms)


def last_job(printer: Printer) -> PrintJob | None:
    return db.session.scalar(select(PrintJob).where(PrintJob.printer_id == printer.id)
                             .order_by(PrintJob.id.desc()).limit(1))


def printer_dict(printer: Printer) -> dict:
    queued = db.session.scalar(select(db.func.count(PrintJob.id)).where(
        PrintJob.printer_id == printer.id, PrintJob.status.in_(("queued", "sending"))))
    return {"name": printer.name, "url": printer.url, "status": printer.status,
            "detail": printer.status_detail, "checked_at": clock.iso(printer.status_checked_at),
            "queued": queued, "last_job": job_dict(last_job(printer))}


def printers() -> list[Printer]:
    return list(db.session.scalars(select(Printer).order_by(Printer.name)))


def _announce_printer(printer_id: int) -> None:
    with write() as session:
        printer = session.get(Printer, printer_id)
        event = realtime.record(session, "printer_status", printer_dict(printer), ["reception"])
    realtime.announce([event])


def check_printer(printer: Printer | None, url: str) -> PrinterStatus:
    """Ask the printer; store and announce the state when it changed."""
    status = query_status(url, timeout=current_app.config["PRINTER_TIMEOUT"])
    if printer is None:
        return status
    changed = (printer.status, printer.status_detail) != (status.state, status.detail)
    with write() as session:
        row = session.get(Printer, printer.id)
        row.status, row.status_detail, row.status_checked_at = status.state, status.detail, utcnow()
    if changed:
        log.info("printer %s is %s %s", printer.name, status.state, status.detail)
        _announce_printer(printer.id)
    return status


def poll_printers() -> dict[str, str]:
    """Health check of every named printer; returns name -> state."""
    return {p.name: check_printer(p, p.url).state for p in printers()}


def enqueue(session, visit: Visit, printer: Printer | None, url: str, reason: str = "check-in",
            requested_by=None) -> PrintJob:
    """Add a job in the caller's transaction."""
    job = PrintJob(visit_id=visit.id, printer_id=printer.id if printer else None, printer_url=url,
                   reason=reason, reprint=reason != "check-in",
                   requested_by_id=requested_by.id if requested_by else None)
    session.add(job)
    return job


def reprint(visit_id: int, reason, requested_by) -> PrintJob:
    """Print a visit's badge again, recording who asked and why."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 300:
        raise ValidationError("invalid_reason", "say why the badge is reprinted (1-300 characters)",
                              fields={"reason": "required"})
    with write() as session:
        visit = session.get(Visit, visit_id)
        if visit is None:
            from server.services.errors import NotFound
            raise NotFound("not_found", f"no visit {visit_id}")
        if visit.status != "checked_in":
            raise Conflict("not_checked_in", "only a visitor on site gets a badge")
        previous = session.scalar(select(PrintJob).where(PrintJob.visit_id == visit_id)
                                  .order_by(PrintJob.id.desc()).limit(1))
        printer = previous.printer if previous and previous.printer_id else None
        url = printer.url if printer else (previous.printer_url if previous
                                           else current_app.config["DEFAULT_PRINTER"])
        job = enqueue(session, visit, printer, url, reason=reason.strip(), requested_by=requested_by)
    wake()
    return job


def _due_jobs(limit: int) -> list:
    """The first ``limit`` jobs due now, in queue order, as plain rows (id, printer_id,
    printer_url): ORM objects for a burst's thousands of queued badges would all be
    expired and reloaded at every commit of the pass."""
    now = utcnow()
    return list(db.session.execute(
        select(PrintJob.id, PrintJob.printer_id, PrintJob.printer_url).where(
            PrintJob.status == "queued",
            (PrintJob.next_attempt_at.is_(None)) | (PrintJob.next_attempt_at <= now))
        .order_by(PrintJob.id).limit(limit)))


def _hold(url: str, why: str) -> None:
    """Keep every queued job of this printer waiting, one backoff step later."""
    events = []
    with write() as session:
        for job in session.scalars(select(PrintJob).where(PrintJob.printer_url == url,
                                                          PrintJob.status == "queued")):
            job.attempts += 1
            job.error = f"waiting: {why}"
            job.next_attempt_at = utcnow() + timedelta(seconds=backoff(job.attempts))
            if job.attempts == 1:  # the first hold: the visitor is told once
                events.append(_badge_event(session, job, "waiting"))
    realtime.announce(events)


def _fallback_for(job: PrintJob) -> Printer | None:
    """The kiosk's fallback printer, when it has one that can print now."""
    kiosk = job.visit.kiosk if job.visit.kiosk_id else None
    if not isinstance(kiosk, Kiosk) or not kiosk.fallback_printer_id:
        return None
    fallback = db.session.get(Printer, kiosk.fallback_printer_id)
    if fallback is None or fallback.id == job.printer_id:
        return None
    return fallback if check_printer(fallback, fallback.url).state in PRINTABLE_STATES else None


def _move_to(job_id: int, fallback: Printer) -> None:
    with write() as session:
        job = session.get(PrintJob, job_id)
        job.fallback_from_id = job.printer_id
        job.printer_id, job.printer_url = fallback.id, fallback.url
        job.next_attempt_at = None


def _send(job_id: int) -> bool:
    """Claim and send one job. Returns False when the printer went away (job requeued)."""
    with write() as tx:  # the claim: queued -> sending, so two workers never share a job
        claimed = tx.execute(update(PrintJob).where(PrintJob.id == job_id,
                                                    PrintJob.status == "queued")
                             .values(status="sending")).rowcount
    if not claimed:
        return True  # another worker has it
    job = db.session.get(PrintJob, job_id)
    width = paper_width(job.printer_url)
    status, error = "done", ""
    try:
        spooler.print_badge(job.printer_url, badges.badge_for(job.visit), width,
                            badges.current_layout(width),
                            timeout=current_app.config["PRINTER_TIMEOUT"])
    except PrinterError as e:
        if e.code in ("unreachable", "timeout", "offline"):
            # never reached the printer: nothing printed; drain() holds it for later
            status, error = "queued", f"waiting: {e.code}"
        else:  # e.g. "dropped": part of it may have printed; a person decides on a reprint
            status, error = "failed", f"{e.code}: {e.message}"
    except Exception as e:  # a bad badge must not kill the worker
        log.exception("print job %s failed", job_id)
        status, error = "failed", f"error: {e}"
    events = []
    with write() as tx:
        row = tx.get(PrintJob, job_id)
        row.status, row.error = status, error
        row.finished_at = None if status == "queued" else utcnow()
        printer_id = row.printer_id
        if status != "queued":
            events.append(_badge_event(tx, row, "printed" if status == "done" else "failed"))
    realtime.announce(events)
    if printer_id:
        _announce_printer(printer_id)
    return status != "queued"


def recover_interrupted() -> int:
    """Jobs left ``sending`` by a server that stopped mid-job: part of the badge may
    have printed, so they are marked failed (never done) and reception can reprint."""
    with write() as tx:
        return tx.execute(update(PrintJob).where(PrintJob.status == "sending").values(
            status="failed", error="interrupted: the server stopped while sending",
            finished_at=utcnow())).rowcount


def drain(pace: float = 0.0, limit: int = DRAIN_BATCH) -> int:
    """One pass over the due jobs (the first ``limit``), printer by printer, in queue
    order. Returns how many jobs reached an end state (done or failed). ``pace``
    seconds pass between two jobs: a thermal printer needs about that long per badge
    anyway, and a burst of check-ins gets the CPU while the badges follow at the
    printer's speed. A job another worker took meanwhile is skipped (``_send`` claims)."""
    finished = 0
    held: set[str] = set()
    for n, job in enumerate(_due_jobs(limit)):
        if n and pace:
            time.sleep(pace)
        if job.printer_url in held:
            continue
        printer = db.session.get(Printer, job.printer_id) if job.printer_id else None
        state = check_printer(printer, job.printer_url)
        if state.state not in PRINTABLE_STATES:
            fallback = _fallback_for(db.session.get(PrintJob, job.id))
            if fallback is not None:
                _move_to(job.id, fallback)
                if _send(job.id):
                    finished += 1
                continue
            _hold(job.printer_url, state.state)
            held.add(job.printer_url)
            continue
        if _send(job.id):
            finished += 1
        else:
            _hold(job.printer_url, "unreachable")
            held.add(job.printer_url)
    return finished


class PrintWorker:
    """The background thread of a server process: drains the print queue when woken,
    retries due jobs every second, polls every printer's health every
    ``poll_seconds`` and sends tour reminders (the policy's one-hour rule)."""

    def __init__(self, app, interval: float = 1.0, poll_seconds: float | None = None):
        self.app = app
        self.interval = interval
        self.poll_seconds = poll_seconds if poll_seconds is not None else \
            app.config["PRINTER_POLL_SECONDS"]
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lobby-print-worker", daemon=True)

    def start(self) -> "PrintWorker":
        self._thread.start()
        return self

    def _recover(self) -> bool:
        """Once per start, before any job: jobs a previous run left mid-send."""
        try:
            if recovered := recover_interrupted():
                log.warning("%d print jobs were interrupted by a stop: marked failed", recovered)
        except SQLAlchemyError:  # the database is still being migrated: next pass
            db.session.rollback()
            return False
        return True

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from server.services import follow_ups, tasks  # housekeeping on this thread
        spooler.warm_up()  # the badge process starts now, not with the first visitor
        last_poll = last_reminders = 0.0
        recovered = False
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            with self.app.app_context():
                try:
                    recovered = recovered or self._recover()
                    if not recovered:
                        continue
                    if self.poll_seconds and time.monotonic() - last_poll >= self.poll_seconds:
                        last_poll = time.monotonic()
                        poll_printers()
                    if time.monotonic() - last_reminders >= REMINDER_SECONDS:
                        last_reminders = time.monotonic()
                        tasks.send_tour_reminders()
                        follow_ups.send_follow_up_reminders()
                    drain(pace=self.app.config["PRINT_PACING_SECONDS"])
                except Exception:
                    log.exception("print worker pass failed")
                finally:
                    db.session.remove()


def wake() -> None:
    """Tell this process's worker there is work (no-op when none runs)."""
    worker = current_app.extensions.get(EXTENSION_KEY)
    if worker is not None:
        worker.wake()
