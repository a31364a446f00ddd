"""The host pages."""

from flask import Blueprint

bp = Blueprint("host", __name__)

from server.host import (
    follow_ups,  # noqa: E402,F401
    photos,  # noqa: E402,F401
    routes,  # noqa: E402,F401
    settings,  # noqa: E402,F401
    visit_edit,  # noqa: E402,F401
)
