"""Who may do what. Pages use ``@page_roles(...)`` (staff session); the JSON API uses
``@api_roles(...)`` (``Authorization: Bearer <token>``). Refusals are logged."""

import logging
from functools import wraps

from flask import abort, g, request
from flask_login import current_user

from server.extensions import db, login
from server.models import User
from server.services import people, sessions
from server.services.errors import Forbidden, ServiceError

log = logging.getLogger("lobby.access")


@login.user_loader
def _load_user(user_id: str):
    """The signed-in user, only while their login session is open: a cookie replayed
    after logout (or after the user was disabled or their password changed) loads
    nobody. Flask-Login's remember cookie, were one ever set, carries no login
    session, so it cannot bring an ended session back either."""
    ok = user_id.isascii() and user_id.isdigit() and len(user_id) <= 18  # not "²", not 2**64
    if not ok or not sessions.is_live(sessions.current_id(), int(user_id)):
        return None
    user = db.session.get(User, int(user_id))
    return user if user and user.active else None


login.login_view = "auth.login"
login.session_protection = "strong"


def page_roles(*roles: str):
    """Require a signed-in user with one of ``roles`` (redirect to /login, else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login.unauthorized()
            if not current_user.has_role(*roles):
                log.warning("forbidden: user %s to %s", current_user.id, request.path)
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_roles(*roles: str):
    """Require a bearer token of a user with one of ``roles``; sets ``g.user``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = people.user_for_token(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                raise ServiceError("unauthorized", "a valid bearer token is required", status=401)
            if not user.has_role(*roles):
                log.warning("forbidden: token of user %s to %s", user.id, request.path)
                raise Forbidden("forbidden", "your role may not do this")
            g.user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator
