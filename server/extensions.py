"""Flask extensions, created unbound and bound to an app in ``create_app``."""

import flask_limiter
from flask import request
from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from server.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
login = LoginManager()
csrf = CSRFProtect()
htmx = HTMX()
babel = Babel()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, whose per-request pass skips the JSON API: only sign-in carries
    limits, and the API signs in with bearer tokens (its pass cost ~2.5% of a kiosk
    check-in's CPU). A limit decorated on an API view would still be checked."""

    def _check_request_limit(self, callable_name=None, in_middleware=True):
        if in_middleware and request.blueprint == "api":
            return
        super()._check_request_limit(callable_name, in_middleware)


# Sign-in attempts per account and per address (server/auth/limits.py binds it, with
# Redis storage when LOBBY_MESSAGE_QUEUE is set so every process counts together).
limiter = Limiter(key_func=get_remote_address)
