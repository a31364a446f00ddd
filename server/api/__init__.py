"""The JSON API, /api/v1 (bearer tokens; errors as {"error": {"code", "message"}})."""
from flask import Blueprint

bp = Blueprint("api", __name__)

from server.api import routes  # noqa: E402,F401
from server.api import desk_requests  # noqa: E402,F401
from server.api import log  # noqa: E402,F401
from server.api import visit_changes  # noqa: E402,F401
