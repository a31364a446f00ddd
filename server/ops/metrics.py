"""Prometheus metrics of this process (``prometheus-client``), served by ``health.py``.

Each process has its own registry (no multiprocess mode): scrape every ``lobby run``
and ``lobby worker`` process on its own. Two kinds of figures:
- this process's: ``lobby_alerts_sent_total`` (visitor_arrived alerts pushed, one per
  room addressed: the host's and reception's), ``lobby_sockets`` (Socket.IO clients
  connected here), ``lobby_request_seconds`` (histogram by method, endpoint and status
  class); they start from zero when the process starts, as Prometheus counters do;
- the site's, read from the database at scrape time, so they are right across restarts
  and the same from every process (aggregate them with ``max``, not ``sum``):
  ``lobby_checkins_total`` (visits ever checked in), ``lobby_print_jobs{state}``,
  ``lobby_printer_up{printer}`` (1 while the printer's last known state can print).
"""

from __future__ import annotations

import threading
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)
ALERTS = Counter(
    "lobby_alerts_sent", "visitor_arrived alerts pushed, one per room addressed", registry=REGISTRY
)
SOCKETS = Gauge("lobby_sockets", "Socket.IO clients connected to this process", registry=REGISTRY)
LATENCY = Histogram(
    "lobby_request_seconds",
    "HTTP request time in this process",
    ["method", "endpoint", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_latency: dict[tuple[str, str, str], Histogram] = {}  # LATENCY's children by labels
_sockets_lock = threading.Lock()
_sockets = {"n": 0}


def alert_sent(kind: str, rooms) -> None:
    """Called by realtime.py for every event it pushes."""
    if kind == "visitor_arrived":
        ALERTS.inc(len(rooms) if isinstance(rooms, (list, tuple, set)) else 1)


def socket_connected() -> None:
    with _sockets_lock:
        _sockets["n"] += 1
        SOCKETS.set(_sockets["n"])


def socket_disconnected() -> None:
    with _sockets_lock:
        _sockets["n"] = max(0, _sockets["n"] - 1)
        SOCKETS.set(_sockets["n"])


class SiteCollector:
    """Figures read from the database when scraped (needs an app context then)."""

    def describe(self):
        return [
            CounterMetricFamily("lobby_checkins", "visits checked in, ever"),
            GaugeMetricFamily("lobby_print_jobs", "badge print jobs by state"),
            GaugeMetricFamily("lobby_printer_up", "1 while the printer can print"),
        ]

    def collect(self):
        from sqlalchemy import func, select

        from server.extensions import db
        from server.models import JOB_STATES, PRINTABLE_STATES, Printer, PrintJob, Visit

        checkins = db.session.scalar(
            select(func.count()).select_from(Visit).where(Visit.checked_in_at.is_not(None))
        )
        yield CounterMetricFamily("lobby_checkins", "visits checked in, ever", value=checkins)
        jobs = GaugeMetricFamily("lobby_print_jobs", "badge print jobs by state", labels=["state"])
        counts = dict(
            db.session.execute(
                select(PrintJob.status, func.count()).group_by(PrintJob.status)
            ).all()
        )
        for state in sorted(set(JOB_STATES) | set(counts)):
            jobs.add_metric([state], counts.get(state, 0))
        yield jobs
        up = GaugeMetricFamily(
            "lobby_printer_up", "1 while the printer can print", labels=["printer"]
        )
        for name, status in db.session.execute(select(Printer.name, Printer.status)):
            up.add_metric([name], 1 if status in PRINTABLE_STATES else 0)
        yield up


REGISTRY.register(SiteCollector())


def init_app(app) -> None:
    """Time every request (the histogram); /socket.io never reaches Flask's hooks."""
    from flask import g, request

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(resp):
        started = g.pop("metrics_started", None)
        if started is not None:
            endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
            key = (request.method, endpoint, f"{resp.status_code // 100}xx")
            child = _latency.get(key)
            if child is None:  # labels() validates and locks: once per label set
                child = _latency.setdefault(key, LATENCY.labels(*key))
            child.observe(time.perf_counter() - started)
        return resp
