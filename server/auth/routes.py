"""/login and /logout. A successful login starts a fresh session."""

from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from server.auth import bp
from server.auth.forms import LoginForm
from server.services import people


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
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = people.authenticate(form.email.data, form.password.data)
        if user is not None:
            next_url = _safe_next(request.args.get("next"))
            session.clear()  # a new session on login (no fixation)
            login_user(user)
            return redirect(next_url or home_for(user))
        error = "Wrong email or password. 邮箱或密码错误。"
    status = 401 if error else (422 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
