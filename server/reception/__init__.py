"""The reception pages."""

from flask import Blueprint

bp = Blueprint("reception", __name__)

from server.reception import (  # noqa: E402,F401
    desk_requests,  # noqa: E402,F401
    log,  # noqa: E402,F401
    routes,
    signatures,
)
