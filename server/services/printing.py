"""Badge printing off the check-in path.

Check-in only writes a PrintJob row (``queued``). A PrintWorker thread per server
process claims queued jobs one at a time (``queued -> sending``), renders the badge
and sends it to the job's printer URL, then marks it ``sent`` or ``failed`` with the
reason. A printer that does not answer fails its job within the printer timeout;
it never touches the visit.
"""
import logging
import threading

from flask import current_app
from sqlalchemy import select, update

from printers.badge import Badge, render_badge
from printers.connection import PrinterError, paper_width, print_badge
from server.extensions import db
from server.models import PrintJob, utcnow
from server.services import clock

log = logging.getLogger(__name__)
EXTENSION_KEY = "lobby_print_worker"


def badge_for(job: PrintJob) -> Badge:
    visit = job.visit
    local = clock.to_local(visit.checked_in_at or utcnow())
    return Badge(visitor_name=visit.visitor.name, company=visit.visitor.company,
                 host_name=visit.host.name, date_text=local.strftime("%Y-%m-%d %H:%M"),
                 code=visit.code)


def _claim_next() -> PrintJob | None:
    """Take the oldest queued job; a conditional UPDATE so two workers never share one."""
    job_id = db.session.scalar(select(PrintJob.id).where(PrintJob.status == "queued")
                               .order_by(PrintJob.id).limit(1))
    if job_id is None:
        db.session.rollback()
        return None
    claimed = db.session.execute(update(PrintJob).where(PrintJob.id == job_id,
                                                        PrintJob.status == "queued")
                                 .values(status="sending", attempts=PrintJob.attempts + 1))
    db.session.commit()
    return db.session.get(PrintJob, job_id) if claimed.rowcount else _claim_next()


def run_job(job: PrintJob) -> None:
    """Render and send one claimed job, recording the outcome."""
    try:
        image = render_badge(badge_for(job), width=paper_width(job.printer_url))
        print_badge(job.printer_url, image, timeout=current_app.config["PRINTER_TIMEOUT"])
    except PrinterError as e:
        job.status, job.error = "failed", f"{e.code}: {e}"
    except Exception as e:  # a bad badge must not kill the worker
        log.exception("print job %s failed", job.id)
        job.status, job.error = "failed", f"error: {e}"
    else:
        job.status, job.error = "sent", ""
    job.finished_at = utcnow()
    db.session.commit()


def drain() -> int:
    """Print every queued job now, in this thread. Returns how many were handled."""
    count = 0
    while (job := _claim_next()) is not None:
        run_job(job)
        count += 1
    return count


class PrintWorker:
    """A daemon thread that drains the queue whenever woken (and every few seconds)."""

    def __init__(self, app, interval: float = 5.0):
        self.app = app
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lobby-print-worker", daemon=True)

    def start(self) -> "PrintWorker":
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            with self.app.app_context():
                try:
                    drain()
                except Exception:
                    log.exception("print worker pass failed")
                finally:
                    db.session.remove()


def wake() -> None:
    """Tell this process's worker there is work (no-op when none runs)."""
    worker = current_app.extensions.get(EXTENSION_KEY)
    if worker is not None:
        worker.wake()
