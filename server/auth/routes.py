"""/login and /logout. A successful login starts a fresh session and a LoginSession
row; logout ends that row, so the old cookie opens nothing (server/services/sessions.py).
Failed sign-ins are rate-limited per account and per address (server/auth/limits.py)."""

import logging
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from server.auth import bp, limits
from server.auth.forms import LoginForm
from server.services import people, sessions

log = logging.getLogger("lobby.auth")

LOCKED = (
    "Too many sign-in attempts. Wait a few minutes and try again. "
    "登录尝试次数过多，请几分钟后再试。"
)


def home_for(user) -> str:
    if user.has_role("admin"):
        return url_for("admin.index")
    if user.has_role("receptionist"):
        return url_for("reception.index")
    return url_for("host.index")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limits.per_account
@limits.per_address
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = people.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            login_id = sessions.start(user, request.remote_addr or "", request.user_agent.string)
            session.clear()  # a new session on login (no fixation)
            login_user(user)
            session[sessions.SESSION_KEY] = login_id
            return redirect(next_url or home_for(user))
        log.warning("failed sign-in for %r from %s", form.email.data[:254], request.remote_addr)
        error = "Wrong email or password. 邮箱或密码错误。"
    status = 401 if error else (422 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.errorhandler(429)
def too_many_attempts(_e):
    """Past a sign-in limit: the form again, saying so (the password was not checked)."""
    response = render_template("auth/login.html", form=LoginForm(), error=LOCKED)
    return response, 429, {"Retry-After": "60"}


@bp.post("/logout")
def logout():
    sessions.end(sessions.current_id(), "logout")  # the cookie, replayed, opens nothing
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
