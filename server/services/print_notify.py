"""Waking print workers in other processes on PostgreSQL: LISTEN/NOTIFY.

A web process without a worker of its own (``lobby run --no-worker``) sends
``NOTIFY lobby_print_jobs`` after queuing a badge (``notify``); every print worker
on that database LISTENs (``Listener``, a thread beside the worker's loop) and is
woken at once, instead of finding the job at its next poll (up to ``--interval``
later). The poll stays: a notification lost while a listener reconnects costs at
most one interval. PostgreSQL only: NOTIFY is per database, so two sites on one
server never wake each other. On SQLite both calls do nothing.
"""

import logging
import threading
from collections.abc import Callable

from sqlalchemy import text

from server.extensions import db

log = logging.getLogger(__name__)
CHANNEL = "lobby_print_jobs"


def notify() -> None:
    """Tell the print workers of this database there is a badge (PostgreSQL only).
    Call it after the job's transaction committed: the NOTIFY commits on its own."""
    if db.engine.dialect.name != "postgresql":
        return
    try:
        with db.engine.connect() as conn:
            conn.execute(text(f"NOTIFY {CHANNEL}"))
            conn.commit()
    except Exception:  # the worker's poll finds the job anyway
        log.warning("could not notify the print workers", exc_info=True)


class Listener:
    """A thread that calls ``wake()`` on every notification, reconnecting after a
    lost connection, until stopped (within a second)."""

    def __init__(self, app, wake: Callable[[], None]):
        self.url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.wake = wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lobby-print-listen", daemon=True)

    @staticmethod
    def wanted(app) -> bool:
        return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    def start(self) -> "Listener":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _conninfo(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo(), autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake()
            except Exception as e:  # the database restarted: listen again shortly
                log.warning("print job notifications lost (%s); listening again", e)
                self._stop.wait(2.0)
