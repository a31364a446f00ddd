"""Routes that belong to no blueprint: the front door, health and invitation QR."""
import io

import qrcode
from flask import abort, redirect, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from printers import fonts
from server.auth.routes import home_for
from server.extensions import db
from server.services import clock, visits

WEB_FONTS = {"NotoSansSC.otf": True, "NotoSans.ttf": False}  # name -> the CJK font?


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

    @app.get("/visits/<int:visit_id>/invitation.png")
    @login_required
    def invitation_qr(visit_id: int):
        """The invitation QR (holds the bare code) for staff allowed to see the visit."""
        visit = visits.visible_visit(current_user, visit_id)
        img = qrcode.make(visit.code, error_correction=qrcode.constants.ERROR_CORRECT_M,
                          box_size=10, border=4)
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
        """The web fonts, served from the same pinned PyPI packages the badges use."""
        cjk = WEB_FONTS.get(name)
        if cjk is None:
            abort(404)
        return send_file(fonts.font_path(cjk=cjk), max_age=365 * 24 * 3600)

    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

