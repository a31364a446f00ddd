"""The reception summary's materials over the API (server/policy/materials.py holds the
rules): ``POST /api/v1/requests/<id>/materials`` (multipart ``file``; 201 with ``id``,
``name``, ``type``, ``size``, ``sha256``, ``url``), ``GET /api/v1/requests/<id>/materials``,
``GET /api/v1/materials/<id>`` (the file, as an attachment) and ``DELETE
/api/v1/materials/<id>``."""

from flask import g, request

from server.api import bp
from server.auth import api_roles
from server.limits import upload_limit
from server.policy import materials
from server.policy import requests as hospitality

STAFF = ("admin", "receptionist", "host")
MATERIAL_BODY = materials.MAX_SIZE + 1024 * 1024  # one 20 MB file and its multipart wrapping


@bp.post("/requests/<int:request_id>/materials")
@upload_limit(MATERIAL_BODY)
@api_roles(*STAFF)
def attach_material(request_id: int):
    """Multipart: ``file``. A body past 21 MB is 413 ``too_large`` before it is read; a
    file past 20 MB within it is 422 ``invalid_material``."""
    hospitality.visible(g.user, request_id)
    upload = request.files.get("file")
    material = materials.attach(
        request_id,
        g.user,
        upload.read(materials.MAX_SIZE + 1) if upload else None,
        (upload.filename or "") if upload else "",
    )
    return materials.as_dict(material), 201


@bp.get("/requests/<int:request_id>/materials")
@api_roles(*STAFF)
def list_materials(request_id: int):
    req = hospitality.visible(g.user, request_id)
    return {"materials": [materials.as_dict(m) for m in materials.listing(req)]}


@bp.get("/materials/<int:material_id>")
@api_roles(*STAFF)
def get_material(material_id: int):
    return materials.download(materials.get(material_id, g.user))


@bp.delete("/materials/<int:material_id>")
@api_roles(*STAFF)
def delete_material(material_id: int):
    return materials.remove(material_id, g.user)
