"""The policy's configuration over the API: ``GET /api/v1/standards`` (any member of
staff: hosts read the levels' help when filing a request) and ``PUT /api/v1/standards``
(admins; body as ``server/policy/standards.update`` documents, answer as GET)."""

from flask import g, request

from server.api import bp
from server.auth import api_roles
from server.policy import standards
from server.services.errors import ValidationError


@bp.get("/standards")
@api_roles("admin", "receptionist", "host")
def get_standards():
    return standards.overview()


@bp.put("/standards")
@api_roles("admin")
def put_standards():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    return standards.update(data, by=g.user)
