"""Kiosk requests for the desk over the API: what is open, and closing one."""

from flask import g

from server.api import bp
from server.auth import api_roles
from server.services import desk


@bp.get("/desk-requests")
@api_roles("admin", "receptionist")
def list_desk_requests():
    """The open requests, oldest first: ``{"count", "requests": [...]}``."""
    rows = [desk.request_dict(r) for r in desk.open_requests()]
    return {"count": len(rows), "requests": rows}


@bp.post("/desk-requests/<int:request_id>/done")
@api_roles("admin", "receptionist")
def desk_request_done(request_id: int):
    """Close a request: 200 with it, 404 unknown, 409 ``already_handled``."""
    return desk.request_dict(desk.handle(request_id, g.user))
