"""Changing a visit over the API: PATCH /api/v1/visits/<id> and its cancel."""

from flask import g

from server.api import bp
from server.api.routes import json_body
from server.auth import api_roles
from server.services import visit_changes, visits


@bp.patch("/visits/<int:visit_id>")
@api_roles("admin", "receptionist", "host")
def patch_visit(visit_id: int):
    """A partial update: ``{"visitor": {...}, "host", "expected_at", "purpose",
    "meeting_room", "kind", "stars", "valid_until"}`` (any of them) -> 200 the visit;
    422 ``invalid_visit`` with ``fields`` (unknown fields too), 403 ``forbidden`` (not
    your visit, or a host handing it on), 409 ``visit_closed``."""
    return visits.as_dict(visit_changes.update(visit_id, json_body(), g.user))


@bp.post("/visits/<int:visit_id>/cancel")
@api_roles("admin", "receptionist", "host")
def cancel_visit(visit_id: int):
    """``{"reason"}`` -> 200 the cancelled visit (again: unchanged); 422
    ``invalid_reason``, 409 ``not_expected`` once the visitor has arrived."""
    return visits.as_dict(visit_changes.cancel(visit_id, json_body().get("reason"), g.user))
