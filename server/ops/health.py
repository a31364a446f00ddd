"""``/readyz`` and ``/metrics`` (``/healthz`` lives in server/views.py: the process answers).

- ``GET /readyz`` (anyone: load balancers and probes carry no credentials) →
  ``200 {"ready": true, "checks": {...}}`` when the database answers, Redis answers
  (only when ``LOBBY_MESSAGE_QUEUE`` is set) and a print worker beat within
  ``HEARTBEAT_MAX_AGE`` seconds; else ``503`` with the same shape, the failing checks
  named by a short state (never an exception text: the page is public).
- ``GET /metrics`` (Prometheus text format, see metrics.py): from loopback, or with
  ``Authorization: Bearer <LOBBY_METRICS_TOKEN>``; ``403`` otherwise. The client address
  is Flask's ``remote_addr``, the forwarded one when ProxyFix is configured
  (``LOBBY_PROXY_HOPS``): behind a proxy without it, every request looks like loopback.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text

from server.extensions import db
from server.models import WorkerHeartbeat, utcnow
from server.ops import metrics

bp = Blueprint("ops", __name__)
HEARTBEAT_MAX_AGE = 60  # seconds
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def _last_heartbeat():
    try:  # the print worker's own answer, where it gives one
        from server.services.printing import last_heartbeat
    except ImportError:
        return db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
    return last_heartbeat()


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception:
        db.session.rollback()
        return "unreachable"


def _redis(url: str) -> str:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
        return "ok"
    except Exception:
        return "unreachable"


def _worker() -> str:
    try:
        beat = _last_heartbeat()
    except Exception:
        db.session.rollback()
        return "unknown"
    if beat is None:
        return "none"
    age = (utcnow() - beat).total_seconds()
    return "ok" if age < HEARTBEAT_MAX_AGE else f"stale ({int(age)} s)"


@bp.get("/readyz")
def readyz():
    checks = {"database": _database()}
    if current_app.config.get("MESSAGE_QUEUE"):
        checks["redis"] = _redis(current_app.config["MESSAGE_QUEUE"])
    checks["worker"] = _worker() if checks["database"] == "ok" else "unknown"
    ready = all(state == "ok" for state in checks.values())
    resp = jsonify({"ready": ready, "checks": checks})
    resp.status_code = 200 if ready else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _may_scrape() -> bool:
    if request.remote_addr in LOOPBACK:
        return True
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:  # no token configured: loopback only
        return False
    sent = request.headers.get("Authorization", "")
    return sent.startswith("Bearer ") and hmac.compare_digest(
        sent[len("Bearer ") :].encode(), expected.encode()
    )


@bp.get("/metrics")
def metrics_page():
    if not _may_scrape():
        return {
            "error": {
                "code": "forbidden",
                "message": "metrics are for loopback or the metrics token",
            }
        }, 403
    return Response(generate_latest(metrics.REGISTRY), mimetype=CONTENT_TYPE_LATEST)
