"""Kiosk views. Every view but pairing needs a paired, unrevoked kiosk (device cookie).

A scan posts ``code`` (what a keyboard-wedge scanner typed, or a URL ending in it)
and gets back a fragment: welcome, goodbye or a refusal. Unknown codes count against
the kiosk: past KIOSK_FAILED_SCAN_LIMIT an hour it refuses to look codes up (guessing).
"""
import threading
import time
from collections import defaultdict, deque

from flask import (
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from kiosk import bp
from server.realtime import KIOSK_COOKIE
from server.services import checkin, devices
from server.services.errors import ServiceError

FAILURES_KEY = "lobby_kiosk_failures"
_failures_lock = threading.Lock()
COOKIE_MAX_AGE = 400 * 24 * 3600


@bp.before_request
def require_paired_kiosk():
    if request.endpoint == "kiosk.pair":
        return None
    g.kiosk = devices.kiosk_for_credential(request.cookies.get(KIOSK_COOKIE))
    if g.kiosk is None:
        return render_template("kiosk/unpaired.html"), 403
    return None


@bp.get("/pair/<token>")
def pair(token: str):
    """Pair this browser once: set the device cookie and go to the kiosk."""
    try:
        kiosk, credential = devices.pair_kiosk(token)
    except ServiceError as e:
        return render_template("kiosk/unpaired.html", reason=e.code), 403
    resp = make_response(redirect(url_for("kiosk.index")))
    resp.set_cookie(KIOSK_COOKIE, credential, max_age=COOKIE_MAX_AGE, httponly=True,
                    samesite="Lax", secure=request.is_secure)
    return resp


@bp.get("/", strict_slashes=False)
def index():
    return render_template("kiosk/index.html", kiosk=g.kiosk,
                           idle_seconds=current_app.config["KIOSK_IDLE_SECONDS"])


def _recent_failures(kiosk_id: int) -> deque:
    """Times of this kiosk's unknown-code scans in the last hour (per process)."""
    per_kiosk = current_app.extensions.setdefault(FAILURES_KEY, defaultdict(deque))
    recent = per_kiosk[kiosk_id]
    while recent and time.monotonic() - recent[0] > 3600:
        recent.popleft()
    return recent


def _too_many_failures(kiosk_id: int) -> bool:
    with _failures_lock:
        return len(_recent_failures(kiosk_id)) >= current_app.config["KIOSK_FAILED_SCAN_LIMIT"]


def _count_failure(kiosk_id: int) -> None:
    with _failures_lock:
        _recent_failures(kiosk_id).append(time.monotonic())


@bp.post("/scan")
def scan():
    """Check in (or, for a badge, out) the visitor whose code was scanned."""
    if _too_many_failures(g.kiosk.id):
        return _result("kiosk/_refused.html", reason="too_many_attempts", status=429)
    try:
        outcome, result = checkin.scan(request.form.get("code", ""), kiosk=g.kiosk)
    except ServiceError as e:
        if e.code in ("unknown_code", "invalid_code"):
            _count_failure(g.kiosk.id)
        return _result("kiosk/_refused.html", reason=e.code)
    template = "kiosk/_welcome.html" if outcome == "welcome" else "kiosk/_goodbye.html"
    return _result(template, visit=result.visit)


def _result(template: str, status: int = 200, **context):
    """htmx gets the fragment; a browser without JS gets the whole page around it."""
    if request.headers.get("HX-Request"):
        # htmx 2 does not swap error responses: the refusal is content, so 200.
        return render_template(template, **context), 200
    return render_template("kiosk/index.html", kiosk=g.kiosk, result_template=template,
                           idle_seconds=current_app.config["KIOSK_IDLE_SECONDS"],
                           **context), status
