"""``lobby worker``: the print worker and the timers as a process of their own.

The process runs one ``PrintWorker`` (server/services/printing.py): it sends the
queued badges, marks failed the jobs of workers that died mid-job, polls the
printers' health, sends tour and follow-up reminders and, once a day, runs the
retention purge (services/retention.py; of several workers only one purges a given
day), logging what it does on stderr. Several may run at once on PostgreSQL (each
job is sent by one, under a lease); on SQLite one is the norm (``lobby run``'s own,
or one ``lobby worker``).

A web process without a worker of its own wakes it on PostgreSQL with a NOTIFY
after queuing a badge (``print_notify.py``): measured on loopback, a check-in's
badge is whole at the printer 30-60 ms after the scan (140 ms for a worker's first).
Besides, and alone on SQLite, the worker looks for due jobs every ``interval``
seconds (1 by default): two indexed SELECTs and a write every 5 s (heartbeat), about
3 ms of CPU a second when idle, and up to ``interval`` (half of it on average)
added to a badge's wait where nothing wakes it.

SIGTERM or SIGINT (Ctrl-C) stop it after the current job: no job is left
``sending``, its heartbeat row is removed, and it exits 0. A second signal stops it
at once (the job in flight, if any, is then failed by the next worker once its
lease has run out).
"""

import logging
import signal
import threading
from datetime import timedelta

from sqlalchemy.engine import make_url

from server.extensions import db
from server.models import utcnow
from server.services import printing
from server.services.print_leases import LEASE_SECONDS, last_heartbeat

log = logging.getLogger("server.worker")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """INFO and above on stderr, unless the process has set up logging already."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    for name in ("server", "printers"):
        logging.getLogger(name).setLevel(logging.INFO)


def _warn_if_not_alone(app, name: str) -> None:
    """SQLite serialises every writer: a second worker on one file only adds waiting."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            newest = last_heartbeat()
            db.session.remove()
        if newest is not None and utcnow() - newest < timedelta(minutes=1):
            log.warning(
                "another print worker beat %s ago on this SQLite database "
                "(lobby run starts one unless --no-worker): one is enough",
                utcnow() - newest,
            )


def _start_badge_process() -> None:
    """Start the badge process (printers/spool.py) with SIGINT and SIGTERM ignored:
    Ctrl-C reaches the whole process group and a service manager's stop the whole
    cgroup, and a child still loading (before its own initializer ignores them)
    would die with the badge it was given. An ignored signal stays ignored across
    the child's exec; this process's handlers are installed right after."""
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        printing.spooler.warm_up()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(
    app,
    name: str | None = None,
    interval: float = 1.0,
    lease: float = LEASE_SECONDS,
    poll_seconds: float | None = None,
) -> int:
    """Run a print worker in this process until SIGTERM or SIGINT; returns the exit
    status (0 after a clean stop). ``app`` is a created app with an upgraded database
    and no worker of its own."""
    configure_logging()
    worker = printing.PrintWorker(
        app, interval=interval, poll_seconds=poll_seconds, name=name, lease=lease
    )
    _warn_if_not_alone(app, worker.name)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        if stopping.is_set():  # the second one: the operator means now
            log.warning("%s again: stopping now", signal.Signals(signum).name)
            raise SystemExit(1)
        stopping.set()
        log.info("%s: stopping after the current job", signal.Signals(signum).name)
        worker.request_stop()

    _start_badge_process()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    database = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    log.info(
        "print worker %s started: database %s, polling every %gs, lease %gs",
        worker.name,
        database,
        interval,
        lease,
    )
    worker.start()
    while not worker.join(timeout=0.5):  # short joins: the signal handlers run meanwhile
        pass
    printing.spooler.close()
    log.info("print worker %s stopped", worker.name)
    return 0
