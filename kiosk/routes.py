"""Kiosk views: pairing, the start screen, scanning, the photo step, welcome, goodbye.

Every view but pairing needs a paired, unrevoked kiosk (device cookie). Each request
carries the visitor's language as ``lang`` (when absent: the kiosk's default, or for a
kiosk with none set, the browser's Accept-Language). A scan
posts ``code`` (what a keyboard-wedge scanner or the camera read, or a URL ending in
it). A code that exists is always processed at once; unknown codes take a token from
the kiosk's bucket (kiosk/limits.py), and while it is empty an unknown code is refused
(``too_many_attempts``) for the few seconds until a token comes back.
"""

import base64

from flask import (
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from kiosk import bp
from kiosk.flow import goodbye, proceed, read_ticket, refused, screen, welcome
from kiosk.limits import SCANS
from server import i18n
from server.limits import upload_limit
from server.models import DESK_REQUEST_KINDS
from server.realtime import KIOSK_COOKIE
from server.services import checkin, desk, devices, kiosk_settings, photos, watchlist
from server.services.errors import ServiceError

COOKIE_MAX_AGE = 400 * 24 * 3600


@bp.before_request
def require_paired_kiosk():
    if request.endpoint == "kiosk.pair":
        return None
    g.kiosk = devices.kiosk_for_credential(request.cookies.get(KIOSK_COOKIE))
    if g.kiosk is None:
        return render_template("kiosk/unpaired.html"), 403
    g.language = i18n.language(request.values.get("lang")) or default_language()
    return None


def default_language() -> str:
    """The language a visitor is greeted in before they choose: the kiosk's own, else
    (a kiosk with no language set) the browser's Accept-Language (zh-CN → zh), else
    English. kiosk.js sends the language on every request, so it holds across steps."""
    return (
        i18n.language(g.kiosk.language)
        or request.accept_languages.best_match(i18n.LANGUAGES)
        or i18n.DEFAULT
    )


@bp.errorhandler(ServiceError)
def service_error(e: ServiceError):
    """A refusal on the kiosk is a screen the visitor can read, never an error page
    (a limit reached is a 429 to a browser without JavaScript)."""
    return refused(e.code, status=429 if e.status == 429 else 200)


def page_context() -> dict:
    settings = kiosk_settings.get()
    return {
        "kiosk": g.kiosk,
        "settings": settings,
        "language": g.language,
        "default_language": default_language(),
        "languages": i18n.LANGUAGE_NAMES,
        "welcome_message": kiosk_settings.welcome_message(settings, g.language),
        "idle_seconds": current_app.config["KIOSK_IDLE_SECONDS"],
        "result_seconds": current_app.config["KIOSK_RESULT_SECONDS"],
    }


@bp.get("/pair/<token>")
def pair(token: str):
    """Pair this browser once: set the device cookie and go to the kiosk."""
    try:
        kiosk, credential = devices.pair_kiosk(token)
    except ServiceError as e:
        return render_template("kiosk/unpaired.html", reason=e.code), 403
    resp = make_response(redirect(url_for("kiosk.index")))
    resp.set_cookie(
        KIOSK_COOKIE,
        credential,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return resp


@bp.get("/", strict_slashes=False)
def index():
    return render_template("kiosk/index.html", **page_context())


@bp.get("/start")
def start():
    """The start screen alone (the language switch and the idle reset load it)."""
    return render_template("kiosk/_start.html", **page_context())


@bp.get("/logo")
def logo():
    settings = kiosk_settings.get()
    if not settings.logo_png:
        return Response(status=404)
    resp = Response(settings.logo_png, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


@bp.post("/scan")
def scan():
    """A scanned code: an invitation goes on to the next step (rules, photo, welcome);
    the badge of a visitor on site checks them out with a goodbye."""
    try:  # the code is looked up first (one indexed read): a real one never waits
        outcome, visit = checkin.identify(request.form.get("code", ""))
    except ServiceError as e:
        if e.code in ("unknown_code", "invalid_code") and not SCANS.take(g.kiosk.id).ok:
            return refused("too_many_attempts", status=429)
        if getattr(e, "visit", None) is not None:  # a known visitor turned away: tell the desk
            desk.turned_away(e.visit, g.kiosk, e.code)
        return refused(e.code)
    if outcome == "leave":
        return goodbye(checkin.check_out(visit.code).visit)
    if outcome == "arrive":  # on the watchlist: "see reception" now, not after rules and photo
        watchlist.screen(visit, g.kiosk)
    return proceed(visit)


@bp.get("/step")
def step():
    """The current step again (the language switch), from the ticket."""
    visit, steps = read_ticket(request.args.get("ticket"))
    if steps.get("done"):
        return welcome(visit) if visit.status == "checked_in" else goodbye(visit)
    return proceed(visit, steps)


@bp.post("/photo")
@upload_limit(photos.MAX_BYTES * 4 // 3 + 64 * 1024)  # a 3 MB photo as a base64 data URL
def photo():
    """The photo step: a JPEG from the kiosk camera (``photo``, as a file or a data
    URL), or ``skip``. Either way the visitor is then checked in."""
    visit, steps = read_ticket(request.form.get("ticket"))
    if not request.form.get("skip"):
        data = None
        upload = request.files.get("photo")
        if upload is not None:
            data = upload.read(photos.MAX_BYTES + 1)
        elif (url := request.form.get("photo_data", "")).startswith("data:image/jpeg;base64,"):
            try:
                data = base64.b64decode(url.split(",", 1)[1], validate=True)
            except ValueError:
                data = b""
        if data is not None and visit.status == "expected":
            try:
                photos.save(visit.id, data)
            except ServiceError:  # the photo is optional: a bad one is no photo
                current_app.logger.warning("kiosk %s sent an unreadable photo", g.kiosk.id)
    return proceed(visit, {**steps, "photo": True})


@bp.post("/checkin")
def check_in():
    """Finish: check the visitor of the ticket in (all steps done)."""
    visit, steps = read_ticket(request.form.get("ticket"))
    if visit.status == "checked_in":
        return welcome(visit)
    return proceed(visit, steps)


@bp.get("/refused")
def refused_again():
    reason = request.args.get("reason", "")
    return refused(reason if reason.replace("_", "").isalnum() and len(reason) < 40 else "")


@bp.get("/see-reception")
def see_reception():
    reason = request.args.get("reason", "")
    return screen(
        "kiosk/_see_reception.html",
        # leave_at_desk: "I'm leaving" by name alone (kiosk/lookup.py); reception checks out.
        reason=reason if reason in DESK_REQUEST_KINDS or reason == "leave_at_desk" else "help",
    )
