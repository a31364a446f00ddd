"""JSON API views: parse the body, call one service, return its result."""

import math

from flask import g, request

from server.api import bp
from server.auth import api_roles
from server.models import LANGUAGES
from server.services import checkin, hosting, printing, tasks, visits
from server.services.errors import ValidationError

STAFF = ("admin", "receptionist")


MAX_JSON_DEPTH = 32  # our bodies nest four deep at most; 50,000 brackets is an attack


def json_body(optional: bool = False) -> dict:
    """The request's JSON object, or a 422 ``invalid_json`` for anything else: not
    JSON, not an object, nested deeper than MAX_JSON_DEPTH, or holding text that is
    not Unicode (a lone surrogate such as ``"\\ud800"`` cannot be stored or sent on), an
    integer past 64 bits (no database takes it) or NaN/Infinity.
    ``optional``: an empty body is ``{}``. The size is bounded before this reads it
    (``MAX_CONTENT_LENGTH``: 413 ``too_large``)."""
    if optional and not request.get_data(cache=True).strip():
        return {}
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # the parser's own stack: deeper than Python can nest
        data = None
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    problem = _json_problem(data)
    if problem:
        raise ValidationError("invalid_json", problem)
    return data


def _json_problem(data) -> str | None:
    """Why ``data`` (parsed JSON) cannot be taken, or None. Walked without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"the body nests deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(value, dict):
            for key, item in value.items():
                stack.append((key, depth))
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "the body holds text that is not valid Unicode (a lone surrogate)"
        elif isinstance(value, bool):
            continue
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            return "a number in the body is out of range (64-bit integers)"  # no id, no count
        elif isinstance(value, float) and not math.isfinite(value):
            return "NaN and Infinity are not JSON numbers"
    return None


def optional_text(data: dict, key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError("invalid_field", f"{key} must be text", fields={key: "must be text"})
    return value or None


@bp.post("/visits")
@api_roles("admin", "receptionist", "host")
def create_visit():
    """One visitor (``"visitor": {...}``) -> the visit; a group (``"visitors": [...]``,
    optional ``"group"`` name) -> ``{"group": {...}, "visits": [...]}``. Either may
    carry ``"valid_until"`` (an ISO date: the code works each day until then) and
    ``"invite": false`` (no invitation email to the visitors)."""
    data = json_body()
    invite = data.get("invite", True)
    if not isinstance(invite, bool):
        raise ValidationError(
            "invalid_field",
            "invite must be true or false",
            fields={"invite": "must be true or false"},
        )
    common = dict(
        host_email=data.get("host"),
        expected_at=data.get("expected_at"),
        purpose=data.get("purpose") or "",
        created_by=g.user,
        valid_until=data.get("valid_until"),
        invite=invite,
    )
    if "visitors" in data:
        group = visits.pre_register_group(
            data.get("visitors"), name=data.get("group") or "", **common
        )
        return visits.group_dict(group), 201
    visit = visits.pre_register(data.get("visitor"), **common)
    return visits.as_dict(visit), 201


@bp.get("/visits/<int:visit_id>")
@api_roles("admin", "receptionist", "host")
def get_visit(visit_id: int):
    return visits.as_dict(visits.visible_visit(g.user, visit_id))


@bp.post("/checkins")
@api_roles(*STAFF)
def create_checkin():
    data = json_body()
    language = optional_text(data, "language")
    if language is not None and language not in LANGUAGES:
        raise ValidationError(
            "invalid_language",
            "language must be one of: " + ", ".join(LANGUAGES),
            fields={"language": "zh or en"},
        )
    result = checkin.check_in(
        data.get("code"),
        kiosk=optional_text(data, "kiosk"),
        printer=optional_text(data, "printer"),
        language=language,
    )
    return result.as_dict(), 201 if result.created else 200


@bp.post("/checkouts")
@api_roles(*STAFF)
def create_checkout():
    data = json_body()
    result = checkin.check_out(data.get("code"))
    return visits.as_dict(result.visit), 200


@bp.get("/onsite")
@api_roles(*STAFF)
def onsite():
    people = [visits.as_dict(v) for v in visits.onsite()]
    return {"count": len(people), "visits": people}


@bp.get("/printers")
@api_roles(*STAFF)
def list_printers():
    return [printing.printer_dict(p) for p in printing.printers()]


@bp.post("/visits/<int:visit_id>/badge")
@api_roles(*STAFF)
def reprint_badge(visit_id: int):
    """Reprint a badge; the job records who asked and why. 202: it is queued."""
    data = json_body()
    job = printing.reprint(visit_id, data.get("reason"), requested_by=g.user)
    return {"job": printing.job_dict(job)}, 202


@bp.get("/visits/<int:visit_id>/tasks")
@api_roles("admin", "receptionist", "host")
def list_tasks(visit_id: int):
    visit = visits.visible_visit(g.user, visit_id)
    return [tasks.task_dict(t) for t in visit.tasks]


@bp.post("/visits/<int:visit_id>/tasks")
@api_roles("admin", "receptionist", "host")
def create_task(visit_id: int):
    """``{"kind": "tea", "items": [{"drink", "count"}], "note"}`` ·
    ``{"kind": "tour", "title", "starts_at", "stops": [{"place", "department", "planned_at"}]}`` ·
    ``{"kind": "follow_up", "question", "deadline", "reply_method"}``"""
    return tasks.task_dict(tasks.create(visit_id, json_body(), g.user)), 201


@bp.post("/tasks/<int:task_id>")
@api_roles("admin", "receptionist", "host")
def update_task(task_id: int):
    return tasks.task_dict(tasks.update(task_id, json_body(), g.user))


@bp.post("/visits/<int:visit_id>/acknowledge")
@api_roles("admin", "receptionist", "host")
def acknowledge(visit_id: int):
    visit = hosting.acknowledge(visit_id, g.user)
    return visits.as_dict(visit)


@bp.post("/visits/<int:visit_id>/farewell")
@api_roles("admin", "receptionist", "host")
def farewell(visit_id: int):
    data = json_body(optional=True)  # ``{"note"}``, or no body at all
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise ValidationError("invalid_field", "note must be text", fields={"note": "must be text"})
    visit, open_answers = hosting.farewell(visit_id, g.user, note=note)
    shape = visits.as_dict(visit)
    return {
        "visit": shape,
        "open_follow_ups": [tasks.task_dict(t) for t in open_answers],
        # The link the host may pass on: the visitor rates the reception there.
        "feedback_url": shape["feedback_url"],
    }


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of this API (server/api/openapi.py). Public: it names
    the routes and shapes, no data; every route it lists still needs its token."""
    from server.api import openapi

    return openapi.document()
