"""Staff sign-in (sessions) and the role checks every page and API route uses."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from server.auth import routes  # noqa: E402,F401
from server.auth.access import api_roles, page_roles  # noqa: E402,F401
