"""The reception pages."""
from flask import Blueprint

bp = Blueprint("reception", __name__)

from server.reception import routes, signatures  # noqa: E402,F401
