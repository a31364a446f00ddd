"""The reception pages."""
from flask import Blueprint

bp = Blueprint("reception", __name__)

from server.reception import routes  # noqa: E402,F401
