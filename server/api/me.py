"""The signed-in user's own settings over the API: ``GET /api/v1/me`` and ``PATCH
/api/v1/me`` ``{"away_until", "delegate"}`` (either key may be left out: unchanged;
null or "" clears it). Away and delegates: server/services/away.py."""

from flask import g

from server.api import bp
from server.api.routes import json_body
from server.auth import api_roles
from server.extensions import db
from server.models import User
from server.services import away
from server.services.errors import NotFound, ValidationError

ALL_STAFF = ("admin", "receptionist", "host")


def _me(user_id: int) -> dict:
    user = db.session.get(User, user_id)
    if user is None:  # deleted since the token was read
        raise NotFound("unknown_user", "no such user")
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "roles": sorted(user.role_set),
        **away.as_dict(user),
    }


@bp.get("/me")
@api_roles(*ALL_STAFF)
def get_me():
    """Who the token belongs to, and whether they are away (and their delegate)."""
    return _me(g.user.id)


@bp.patch("/me")
@api_roles(*ALL_STAFF)
def update_me():
    """Set or clear ``away_until`` and ``delegate`` (422 with the field's reason)."""
    data = json_body()
    unknown = sorted(set(data) - {"away_until", "delegate"})
    if unknown:
        raise ValidationError(
            "invalid_field",
            f"unknown field {unknown[0]}",
            fields={key: "not a field of /me" for key in unknown},
        )
    away.set_away(
        g.user.id,
        away_until=data.get("away_until", away.UNSET),
        delegate=data.get("delegate", away.UNSET),
    )
    db.session.expire_all()
    return _me(g.user.id)
