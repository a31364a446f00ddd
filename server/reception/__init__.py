"""The reception pages."""
from flask import Blueprint

bp = Blueprint("reception", __name__)

from server.reception import routes, signatures  # noqa: E402,F401
from server.reception import desk_requests  # noqa: E402,F401
from server.reception import log  # noqa: E402,F401
