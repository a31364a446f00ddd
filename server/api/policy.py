"""The policy's configuration over the API: ``GET /api/v1/standards`` (any member of
staff: hosts read the levels' help when filing a request) and ``PUT /api/v1/standards``
(admins; body as ``server/policy/standards.update`` documents, answer as GET)."""

from flask import g

from server.api import bp
from server.api.routes import json_body
from server.auth import api_roles
from server.policy import standards


@bp.get("/standards")
@api_roles("admin", "receptionist", "host")
def get_standards():
    return standards.overview()


@bp.put("/standards")
@api_roles("admin")
def put_standards():
    return standards.update(json_body(), by=g.user)
