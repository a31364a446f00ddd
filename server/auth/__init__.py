"""Staff sign-in (sessions) and the role checks every page and API route uses."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.record_once
def _bind(state) -> None:
    """Sign-in limits and the constant-time answer are ready before the first request."""
    from server.auth import limits
    from server.services import people

    limits.init_app(state.app)
    people._dummy_password_hash()  # made now, not during someone's first sign-in


from server.auth import routes  # noqa: E402,F401
from server.auth.access import api_roles, page_roles  # noqa: E402,F401
