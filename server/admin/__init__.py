"""The admin pages."""
from flask import Blueprint

bp = Blueprint("admin", __name__)

from server.admin import badge, routes, rules  # noqa: E402,F401
from server.admin import kiosk_settings  # noqa: E402,F401
from server.admin import devices, users  # noqa: E402,F401
from server.admin import invitation  # noqa: E402,F401
from server.admin import log  # noqa: E402,F401
from server.admin import visit_edit  # noqa: E402,F401
