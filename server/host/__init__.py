"""The host pages."""
from flask import Blueprint

bp = Blueprint("host", __name__)

from server.host import routes  # noqa: E402,F401
from server.host import photos  # noqa: E402,F401
from server.host import follow_ups  # noqa: E402,F401
from server.host import visit_edit  # noqa: E402,F401
