"""A visitor's kiosk photo for staff: the host sees their own visitors' (the arrival
banner and the visit card), reception and admins everyone's.

The photo is personal data: it is served only to signed-in staff allowed to see the
visit (403 otherwise), never cached by shared caches, and gone with its visit.
"""

from flask import Response
from flask_login import current_user
from sqlalchemy import bindparam, select

from server.auth import page_roles
from server.extensions import db
from server.host import bp
from server.models import VisitPhoto
from server.services import photos
from server.services.visits import visible_visit

_HAS_PHOTO = select(VisitPhoto.visit_id).where(VisitPhoto.visit_id == bindparam("visit_id"))


@bp.get("/visits/<int:visit_id>/photo.jpg")
@page_roles("host", "receptionist", "admin")
def visit_photo(visit_id: int):
    visible_visit(current_user, visit_id)  # 404 no such visit, 403 another host's
    jpeg = photos.get(visit_id)
    if jpeg is None:
        return Response("no photo", status=404, mimetype="text/plain")
    resp = Response(jpeg, mimetype="image/jpeg")
    resp.headers["Cache-Control"] = "private, max-age=300"
    return resp


@bp.app_context_processor
def photo_helpers() -> dict:
    return {"visit_has_photo": visit_has_photo}


def visit_has_photo(visit_id: int) -> bool:
    """Whether the visit has a kiosk photo (reads the key only, never the picture)."""
    return db.session.scalar(_HAS_PHOTO, {"visit_id": visit_id}) is not None
