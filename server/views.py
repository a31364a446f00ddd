"""Routes that belong to no blueprint: the front door, health and invitation QR."""

import io
import re
from pathlib import Path

import qrcode
from flask import Response, abort, redirect, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from printers import fonts
from server import webfonts
from server.auth.routes import home_for
from server.extensions import db
from server.services import clock, visits

WEB_FONTS = {"NotoSansSC.otf": True, "NotoSans.ttf": False}  # name -> the CJK font?


def site_texts() -> dict[str, str]:
    """The site's own texts, by the font slice that carries them: the company and the
    welcome messages on the kiosk's start page, the rules on the rules step."""
    from server.services import kiosk_settings, rules

    settings, current = kiosk_settings.get(), rules.current()
    return {
        "sc-start": settings.company_name + settings.welcome_en + settings.welcome_zh,
        "sc-rules": (current.text_en + current.text_zh) if current else "",
    }


def register(app):
    @app.get("/")
    def index():
        if current_user.is_authenticated:
            return redirect(home_for(current_user))
        return redirect(url_for("auth.login"))

    @app.get("/healthz")
    def healthz():
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
            return {"status": "degraded", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}

    @app.get("/favicon.ico")
    def favicon():
        """Browsers ask for /favicon.ico whatever the page links (the pages link the SVG)."""
        return send_file(
            Path(app.static_folder) / "favicon.ico", mimetype="image/x-icon", max_age=7 * 24 * 3600
        )

    @app.get("/visits/<int:visit_id>/invitation.png")
    @login_required
    def invitation_qr(visit_id: int):
        """The invitation QR (holds the bare code) for staff allowed to see the visit."""
        visit = visits.visible_visit(current_user, visit_id)
        img = qrcode.make(
            visit.code, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4
        )
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        buf.seek(0)
        resp = send_file(buf, mimetype="image/png", download_name=f"invitation-{visit.id}.png")
        resp.headers["Cache-Control"] = "private, no-store"
        return resp

    @app.template_filter("localtime")
    def localtime(ts, fmt: str = "%H:%M"):
        """A stored naive-UTC time in the site's zone; the date too when not today."""
        local = clock.to_local(ts)
        if local is None:
            return ""
        today = clock.to_local(clock.utcnow()).date()
        return local.strftime(fmt if local.date() == today else "%Y-%m-%d " + fmt)

    @app.get("/fonts/<name>")
    def font(name: str):
        """The whole fonts (the badges' pinned PyPI packages): the pages' last resort
        for characters no subset has, on machines without such system fonts."""
        cjk = WEB_FONTS.get(name)
        if cjk is None:
            abort(404)
        return send_file(fonts.font_path(cjk=cjk), max_age=365 * 24 * 3600)

    def font_slices():
        """The web font subsets (server/webfonts.py) for the UI and the site's texts."""
        return webfonts.plan(site_texts())

    @app.get("/fonts/faces.css")
    def font_faces():
        """The @font-face rules (kiosk.css and lobby.css import them): revalidated on
        every load, so a changed catalog reaches the pages; the fonts' URLs change."""
        css = webfonts.stylesheet(
            font_slices(), lambda s: url_for("font_subset", filename=s.filename)
        )
        resp = Response(css, mimetype="text/css")
        resp.cache_control.no_cache = True
        resp.add_etag()
        return resp.make_conditional(request)

    @app.get("/fonts/subset/<filename>")
    def font_subset(filename: str):
        """A WOFF2 subset, built on first request, cached under DATA_DIR; immutable."""
        found = webfonts.find(font_slices(), filename)
        if found is None:
            abort(404)
        resp = Response(
            webfonts.load(found, Path(app.config["DATA_DIR"]) / "webfonts"), mimetype="font/woff2"
        )
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        resp.set_etag(found.key)
        return resp.make_conditional(request)

    from server import extrafonts

    extrafonts.register(app)  # subsets for the rare characters a page shows

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Content-Security-Policy", content_security_policy())
        if request.is_secure or app.config["HSTS"]:
            resp.headers.setdefault("Strict-Transport-Security", HSTS)
        return resp


HSTS = "max-age=31536000; includeSubDomains"
# No inline script anywhere (static/js/ holds every script; data reaches them through
# data-* attributes, htmx's eval is off: <meta name="htmx-config"> in the page heads).
# Inline styles stay allowed: htmx injects its indicator <style>, some pages carry a
# <style> block, and the issue asks for no inline *script*. blob: workers: the kiosk's
# QR decoder (qr-scanner builds its worker from a Blob). blob:/data: images: the kiosk
# photo preview and the signature pad.
CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'"
)
# A Host header fit to be named in the policy (anything else: 'self' alone).
PLAIN_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def content_security_policy() -> str:
    """The CSP, with the page's own host's WebSocket URLs in connect-src: CSP 3
    browsers let 'self' match them already; older WebKit (kiosk tablets) wants them
    named for Socket.IO's websocket."""
    host = request.host
    if not PLAIN_HOST.fullmatch(host):
        return CSP
    scheme = "wss" if request.is_secure else "ws"
    return f"{CSP} {scheme}://{host}"
