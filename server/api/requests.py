"""Hospitality requests and approvals over the API (server/policy/requests.py holds
the rules): ``POST /api/v1/requests``, ``GET/PUT /api/v1/requests/<id>``,
``POST /api/v1/requests/<id>/submit``, ``POST /api/v1/requests/<id>/decision``,
``GET /api/v1/requests`` (mine) and ``GET /api/v1/approvals`` (what waits on me)."""

from flask import g, request

from server.api import bp
from server.auth import api_roles
from server.policy import requests as hospitality
from server.services.errors import ValidationError

STAFF = ("admin", "receptionist", "host")


def _body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    return data


@bp.post("/requests")
@api_roles(*STAFF)
def create_request():
    req = hospitality.create(_body(), g.user)
    return hospitality.as_dict(req), 201


@bp.get("/requests")
@api_roles(*STAFF)
def my_requests():
    return {"requests": [hospitality.as_dict(r) for r in hospitality.mine(g.user)]}


@bp.get("/requests/<int:request_id>")
@api_roles(*STAFF)
def get_request(request_id: int):
    return hospitality.as_dict(hospitality.visible(g.user, request_id))


@bp.put("/requests/<int:request_id>")
@api_roles(*STAFF)
def update_request(request_id: int):
    hospitality.visible(g.user, request_id)
    return hospitality.as_dict(hospitality.update(request_id, _body(), g.user))


@bp.post("/requests/<int:request_id>/submit")
@api_roles(*STAFF)
def submit_request(request_id: int):
    hospitality.visible(g.user, request_id)
    return hospitality.as_dict(hospitality.submit(request_id, g.user))


@bp.post("/requests/<int:request_id>/decision")
@api_roles(*STAFF)
def decide_request(request_id: int):
    data = _body()
    hospitality.visible(g.user, request_id)
    req = hospitality.decide(
        request_id, g.user, data.get("decision"), data.get("comment"), data.get("plan")
    )
    return hospitality.as_dict(req)


@bp.get("/approvals")
@api_roles(*STAFF)
def approvals():
    waiting = hospitality.waiting_for(g.user)
    return {"count": len(waiting), "requests": [hospitality.as_dict(r) for r in waiting]}
