"""Badge printing off the check-in path, and printer health.

Check-in only writes a PrintJob row (``queued``). A PrintWorker thread (in the server
process, or in ``lobby worker`` processes, several at once) drains the queue and polls
printer health; the badge itself is drawn and sent by a child process
(``printers/spool.py``), off this process's GIL:

- Before sending, the printer's status is asked (DLE EOT). A printer that is out of
  paper, has its cover open, reports an error or does not answer keeps its jobs
  ``queued`` with a growing backoff (``next_attempt_at``); when it is back they print
  in the order they were queued. A kiosk's fallback printer takes over jobs whose
  printer is down.
- A job is ``sending`` while on the wire, then ``done``; a connection that drops
  mid-job marks it ``failed`` with the reason (never done), and reception can reprint.
  A worker holds the job it sends under a lease (``print_leases.py``): each job is
  sent by one worker, and one whose worker died mid-job is ``failed`` after its lease.
- Status changes and finished jobs go out as ``printer_status`` events.
- A badge's fate goes to the kiosk it was printed for (and reception) as
  ``badge_status``: ``printed``, ``waiting`` (held: out of paper, unreachable...) or
  ``failed``, so the kiosk tells the visitor to take it or to ask at the desk.
"""

import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from printers.connection import PrinterError, paper_width
from printers.spool import Spooler
from printers.status import PrinterStatus, query_status
from server import realtime
from server.extensions import db
from server.models import PRINTABLE_STATES, Kiosk, Printer, PrintJob, Visit, utcnow
from server.services import badges, clock, print_notify
from server.services.errors import Conflict, ValidationError
from server.services.print_leases import (
    LEASE_SECONDS,
    claim,
    last_heartbeat,  # noqa: F401  (printing.last_heartbeat(): what /readyz asks)
    release,
    worker_name,
)
from server.services.tx import write

log = logging.getLogger(__name__)
EXTENSION_KEY = "lobby_print_worker"
MAX_BACKOFF = 60.0
DRAIN_BATCH = 100  # due jobs taken per pass; the next pass takes the next ones
# Badges are drawn and sent by a child process, off this process's GIL (one per
# server process, started by the PrintWorker when it starts, or by the first badge).
spooler = Spooler()


def backoff(attempts: int) -> float:
    """Seconds to wait before trying a down printer again: 2, 4, 8 ... up to a minute."""
    return min(MAX_BACKOFF, 2.0 ** max(1, attempts))


def job_dict(job: PrintJob | None) -> dict | None:
    if job is None:
        return None
    return {
        "id": job.id,
        "visit_id": job.visit_id,
        "status": job.status,
        "error": job.error,
        "reason": job.reason,
        "reprint": job.reprint,
        "attempts": job.attempts,
        "printer": job.printer.name if job.printer is not None else None,
        "requested_by": job.requested_by.name if job.requested_by_id else None,
        "created_at": clock.iso(job.created_at),
        "finished_at": clock.iso(job.finished_at),
    }


def badge_state(visit_id: int) -> str:
    """How the visit's latest badge is doing: "none", "printing", "printed",
    "waiting" (held at a printer that cannot print now) or "failed"."""
    job = db.session.scalar(
        select(PrintJob).where(PrintJob.visit_id == visit_id).order_by(PrintJob.id.desc()).limit(1)
    )
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
    return realtime.record(
        session,
        "badge_status",
        {
            "visit_id": job.visit_id,
            "job_id": job.id,
            "state": state,
            "error": job.error,
            "reprint": job.reprint,
        },
        rooms,
    )


def last_job(printer: Printer) -> PrintJob | None:
    return db.session.scalar(
        select(PrintJob)
        .where(PrintJob.printer_id == printer.id)
        .order_by(PrintJob.id.desc())
        .limit(1)
    )


def printer_dict(printer: Printer) -> dict:
    queued = db.session.scalar(
        select(db.func.count(PrintJob.id)).where(
            PrintJob.printer_id == printer.id, PrintJob.status.in_(("queued", "sending"))
        )
    )
    return {
        "name": printer.name,
        "url": printer.url,
        "status": printer.status,
        "detail": printer.status_detail,
        "checked_at": clock.iso(printer.status_checked_at),
        "queued": queued,
        "last_job": job_dict(last_job(printer)),
    }


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


def enqueue(
    session,
    visit: Visit,
    printer: Printer | None,
    url: str,
    reason: str = "check-in",
    requested_by=None,
) -> PrintJob:
    """Add a job in the caller's transaction."""
    job = PrintJob(
        visit_id=visit.id,
        printer_id=printer.id if printer else None,
        printer_url=url,
        reason=reason,
        reprint=reason != "check-in",
        requested_by_id=requested_by.id if requested_by else None,
    )
    session.add(job)
    return job


def reprint(visit_id: int, reason, requested_by) -> PrintJob:
    """Print a visit's badge again, recording who asked and why."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 300:
        raise ValidationError(
            "invalid_reason",
            "say why the badge is reprinted (1-300 characters)",
            fields={"reason": "required"},
        )
    with write() as session:
        visit = session.get(Visit, visit_id)
        if visit is None:
            from server.services.errors import NotFound

            raise NotFound("not_found", f"no visit {visit_id}")
        if visit.status != "checked_in":
            raise Conflict("not_checked_in", "only a visitor on site gets a badge")
        previous = session.scalar(
            select(PrintJob)
            .where(PrintJob.visit_id == visit_id)
            .order_by(PrintJob.id.desc())
            .limit(1)
        )
        printer = previous.printer if previous and previous.printer_id else None
        url = (
            printer.url
            if printer
            else (previous.printer_url if previous else current_app.config["DEFAULT_PRINTER"])
        )
        job = enqueue(
            session, visit, printer, url, reason=reason.strip(), requested_by=requested_by
        )
    wake()
    return job


def _due_jobs(limit: int) -> list:
    """The first ``limit`` jobs due now, in queue order, as plain rows (id, printer_id,
    printer_url): ORM objects for a burst's thousands of queued badges would all be
    expired and reloaded at every commit of the pass."""
    now = utcnow()
    return list(
        db.session.execute(
            select(PrintJob.id, PrintJob.printer_id, PrintJob.printer_url)
            .where(
                PrintJob.status == "queued",
                (PrintJob.next_attempt_at.is_(None)) | (PrintJob.next_attempt_at <= now),
            )
            .order_by(PrintJob.id)
            .limit(limit)
        )
    )


def _hold(url: str, why: str) -> None:
    """Keep every queued job of this printer waiting, one backoff step later."""
    events = []
    with write() as session:
        for job in session.scalars(
            select(PrintJob).where(PrintJob.printer_url == url, PrintJob.status == "queued")
        ):
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


def _send(job_id: int, worker: str) -> bool:
    """Send one job ``worker`` has claimed. Returns False when the printer went away
    (the job is queued again, unsent)."""
    job = db.session.get_one(PrintJob, job_id)
    visit_id, url = job.visit_id, job.printer_url
    width = paper_width(url)
    status, error = "done", ""
    started = time.monotonic()
    try:
        spooler.print_badge(
            job.printer_url,
            badges.badge_for(job.visit),
            width,
            badges.current_layout(width),
            timeout=current_app.config["PRINTER_TIMEOUT"],
        )
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
        row = tx.get(PrintJob, job_id, with_for_update=True)
        if row.status != "sending" or row.leased_by != worker:
            # our lease ran out and another worker marked it failed: that stands
            log.warning(
                "print job %s ended %s after its lease was lost (now %s)",
                job_id,
                status,
                row.status,
            )
            return True
        row.status, row.error, row.lease_until = status, error, None
        if status == "queued":
            row.leased_by = ""
        row.finished_at = None if status == "queued" else utcnow()
        printer_id = row.printer_id
        if status != "queued":
            events.append(_badge_event(tx, row, "printed" if status == "done" else "failed"))
    log.info(
        "print job %s (visit %s) %s on %s in %.0f ms%s",
        job_id,
        visit_id,
        status,
        url,
        (time.monotonic() - started) * 1000,
        f": {error}" if error else "",
    )
    realtime.announce(events)
    if printer_id:
        _announce_printer(printer_id)
    return status != "queued"


def recover_interrupted() -> int:
    """Jobs left ``sending`` by a worker that died mid-job (its lease has run out: a
    live worker keeps renewing it): part of the badge may have printed, so they are
    marked failed (never done, never sent again unasked) and reception can reprint.
    Jobs of live workers are not touched. Returns how many it marked."""
    now = utcnow()
    expired = (PrintJob.status == "sending") & (
        PrintJob.lease_until.is_(None) | (PrintJob.lease_until < now)
    )
    if db.session.scalar(select(PrintJob.id).where(expired).limit(1)) is None:
        db.session.rollback()  # the common case: a read, no write transaction
        return 0
    events = []
    with write() as tx:
        for job in tx.scalars(select(PrintJob).where(expired).with_for_update(skip_locked=True)):
            job.status, job.finished_at, job.lease_until = "failed", now, None
            job.error = (
                f"interrupted: worker {job.leased_by or '(unknown)'} died mid-job; "
                "part of the badge may have printed"
            )
            log.warning("print job %s: %s", job.id, job.error)
            events.append(_badge_event(tx, job, "failed"))
    realtime.announce(events)
    return len(events)


def drain(
    pace: float = 0.0,
    limit: int = DRAIN_BATCH,
    worker: str | None = None,
    lease: float = LEASE_SECONDS,
    keep_going=None,
) -> int:
    """One pass over the due jobs (the first ``limit``), printer by printer, in queue
    order. Returns how many jobs reached an end state (done or failed). Each job is
    claimed first under a lease for ``worker`` (this process's ``host:pid`` by
    default): a job another worker took meanwhile is skipped, so several workers may
    drain at once and each job is sent by one. ``pace`` seconds pass between two jobs
    sent: a thermal printer needs about that long per badge anyway, and a burst of
    check-ins gets the CPU while the badges follow at the printer's speed.
    ``keep_going()``, when given, is asked before each job: False ends the pass
    (a worker told to stop finishes its current job and no more)."""
    worker = worker or worker_name()
    finished = sent = 0
    held: set[str] = set()
    for job in _due_jobs(limit):
        if keep_going is not None and not keep_going():
            break
        if job.printer_url in held or not claim(job.id, worker, lease):
            continue
        if sent and pace:
            time.sleep(pace)
        sent += 1
        printer = db.session.get(Printer, job.printer_id) if job.printer_id else None
        state = check_printer(printer, job.printer_url)
        if state.state not in PRINTABLE_STATES:
            fallback = _fallback_for(db.session.get_one(PrintJob, job.id))
            if fallback is not None:
                _move_to(job.id, fallback)
                if _send(job.id, worker):
                    finished += 1
                continue
            release(job.id, worker)
            _hold(job.printer_url, state.state)
            held.add(job.printer_url)
            continue
        if _send(job.id, worker):
            finished += 1
        else:
            _hold(job.printer_url, "unreachable")
            held.add(job.printer_url)
    return finished


def wake() -> None:
    """Tell a worker there is work: this process's own when it runs one, else the
    ``lobby worker`` processes (PostgreSQL NOTIFY; on SQLite they find the job at
    their next poll, within ``interval``)."""
    worker = current_app.extensions.get(EXTENSION_KEY)
    if worker is not None:
        worker.wake()
    else:
        print_notify.notify()


def __getattr__(name: str):
    """``printing.PrintWorker`` (server/__init__.py and tests import it from here)
    lives in print_worker.py, which imports this module: loaded when first asked."""
    if name == "PrintWorker":
        from server.services.print_worker import PrintWorker

        return PrintWorker
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
