"""The admin pages."""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from server.admin import (  # noqa: E402,F401  # noqa: E402,F401
    badge,
    channels,  # noqa: E402,F401
    devices,
    invitation,  # noqa: E402,F401
    kiosk_settings,  # noqa: E402,F401
    log,  # noqa: E402,F401
    outbox,  # noqa: E402,F401
    retention,  # noqa: E402,F401
    routes,
    rules,
    users,
    visit_edit,  # noqa: E402,F401
    visit_import,  # noqa: E402,F401
    watchlist,  # noqa: E402,F401
)
