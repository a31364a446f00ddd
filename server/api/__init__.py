"""The JSON API, /api/v1 (bearer tokens; errors as {"error": {"code", "message"}})."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from server.api import (
    channels,  # noqa: E402,F401
    desk_requests,  # noqa: E402,F401
    drinks,  # noqa: E402,F401
    log,  # noqa: E402,F401
    materials,  # noqa: E402,F401
    me,  # noqa: E402,F401
    outbox,  # noqa: E402,F401
    policy,  # noqa: E402,F401
    reports,  # noqa: E402,F401
    requests,  # noqa: E402,F401
    routes,  # noqa: E402,F401
    visit_changes,  # noqa: E402,F401
    watchlist,  # noqa: E402,F401
)
