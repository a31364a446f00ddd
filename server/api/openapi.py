"""The OpenAPI 3.1 document of the JSON API, served at ``GET /api/v1/openapi.json``.

Written by hand, next to the views it describes; ``tests/test_openapi.py`` compares
its paths and methods with the app's registered ``/api/v1`` rules (a route missing
here, or described here but gone, fails), and ``tests/test_fuzz_api.py`` runs
schemathesis against it (no 5xx, every answer in the shape and status documented).
"""

from typing import Any

API_PREFIX = "/api/v1"

NULLABLE_TEXT: dict[str, Any] = {"type": ["string", "null"]}
WHEN: dict[str, Any] = {
    "type": ["string", "null"],
    "description": "ISO 8601 date-time with offset, or null",
}
ID: dict[str, Any] = {"type": "integer"}


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "error": _obj(
                {
                    "code": {"type": "string", "description": "stable; clients match on it"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "field name -> what is wrong with it",
                    },
                },
                ["code", "message"],
            )
        },
        ["error"],
    ),
    "Visitor": _obj(
        {
            "name": {"type": "string"},
            "company": NULLABLE_TEXT,
            "email": NULLABLE_TEXT,
            "phone": NULLABLE_TEXT,
            "title": NULLABLE_TEXT,
        },
        ["name"],
    ),
    "Person": _obj(
        {"id": ID, "name": {"type": "string"}, "email": {"type": "string"}},
        ["id", "name", "email"],
    ),
    "Visit": _obj(
        {
            "id": ID,
            "code": {"type": "string"},
            "status": {"enum": ["expected", "checked_in", "checked_out", "cancelled"]},
            "state": {"type": "string"},
            "expected_at": WHEN,
            "purpose": NULLABLE_TEXT,
            "checked_in_at": WHEN,
            "checked_out_at": WHEN,
            "visitor": _ref("Visitor"),
            "host": _ref("Person"),
            "kiosk": NULLABLE_TEXT,
            "meeting_room": NULLABLE_TEXT,
            "acknowledged_at": WHEN,
            "requirements": NULLABLE_TEXT,
            "kind": NULLABLE_TEXT,
            "stars": {"type": ["integer", "null"]},
            "valid_until": {"type": ["string", "null"], "description": "ISO date"},
            "group": {
                "oneOf": [
                    {"type": "null"},
                    _obj({"id": ID, "name": {"type": "string"}}, ["id", "name"]),
                ]
            },
            "cancelled_at": WHEN,
            "cancel_reason": NULLABLE_TEXT,
            "admit_reason": NULLABLE_TEXT,
            "delegate": {
                "oneOf": [{"type": "null"}, _ref("Delegate")],
                "description": "who meets the visitor while the host is away, else null",
            },
        },
        ["id", "code", "status", "checked_in_at", "checked_out_at", "visitor", "host"],
    ),
    "Delegate": _obj({"id": ID, "name": {"type": "string"}}, ["id", "name"]),
    "Me": _obj(
        {
            "id": ID,
            "name": {"type": "string"},
            "email": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string"}},
            "away": {"type": "boolean", "description": "away_until is still ahead"},
            "away_until": WHEN,
            "delegate": {"oneOf": [{"type": "null"}, _ref("Person")]},
        },
        ["id", "name", "email", "roles", "away", "away_until", "delegate"],
    ),
    "Drink": _obj(
        {
            "id": ID,
            "name": {"type": "string"},
            "name_zh": {"type": "string"},
            "active": {"type": "boolean"},
        },
        ["id", "name", "name_zh", "active"],
    ),
    "Group": _obj(
        {
            "group": _obj(
                {
                    "id": ID,
                    "name": {"type": "string"},
                    "expected_at": WHEN,
                    "size": {"type": "integer"},
                },
                ["id", "name", "size"],
            ),
            "visits": {"type": "array", "items": _ref("Visit")},
        },
        ["group", "visits"],
    ),
    "Task": _obj(
        {
            "id": ID,
            "visit_id": ID,
            "kind": {"enum": ["tea", "tour", "farewell", "follow_up"]},
            "status": {"type": "string"},
            "details": {"type": "object"},
            "assignee": NULLABLE_TEXT,
            "created_by": NULLABLE_TEXT,
            "done_by": NULLABLE_TEXT,
            "starts_at": WHEN,
            "created_at": WHEN,
            "updated_at": WHEN,
            "started_at": WHEN,
            "done_at": WHEN,
            "stops": {
                "type": "array",
                "items": _obj(
                    {
                        "place": {"type": "string"},
                        "department": NULLABLE_TEXT,
                        "planned_at": WHEN,
                    },
                    ["place"],
                ),
            },
        },
        ["id", "visit_id", "kind", "status"],
    ),
    "PrintJob": _obj(
        {
            "id": ID,
            "visit_id": {"type": ["integer", "null"]},
            "status": {"type": "string"},
            "error": NULLABLE_TEXT,
            "reason": NULLABLE_TEXT,
            "reprint": {"type": "boolean"},
            "attempts": {"type": "integer"},
            "printer": NULLABLE_TEXT,
            "requested_by": NULLABLE_TEXT,
            "created_at": WHEN,
            "finished_at": WHEN,
        },
        ["id", "status"],
    ),
    "Printer": _obj(
        {
            "name": {"type": "string"},
            "url": {"type": "string"},
            "status": NULLABLE_TEXT,
            "detail": NULLABLE_TEXT,
            "checked_at": WHEN,
            "queued": {"type": "integer"},
            "last_job": {"oneOf": [{"type": "null"}, _ref("PrintJob")]},
        },
        ["name", "url", "status", "last_job"],
    ),
    "DeskRequest": _obj(
        {
            "id": ID,
            "kind": {"type": "string"},
            "status": {"type": "string"},
            "visit_id": {"type": ["integer", "null"]},
            "visitor": _obj({"name": NULLABLE_TEXT, "company": NULLABLE_TEXT}),
            "kiosk": NULLABLE_TEXT,
            "details": {"type": ["object", "null"]},
            "created_at": WHEN,
            "handled_at": WHEN,
        },
        ["id", "kind", "status"],
    ),
    "FollowUp": {
        "allOf": [
            _ref("Task"),
            _obj(
                {
                    "question": {"type": "string"},
                    "reply_method": NULLABLE_TEXT,
                    "answer": {"type": "string"},
                    "deadline": WHEN,
                    "overdue": {"type": "boolean"},
                    "visitor": _obj(
                        {
                            "name": NULLABLE_TEXT,
                            "company": NULLABLE_TEXT,
                            "email": NULLABLE_TEXT,
                            "phone": NULLABLE_TEXT,
                        }
                    ),
                    "host": _ref("Person"),
                },
                ["question", "deadline", "overdue", "visitor", "host"],
            ),
        ]
    },
    "Channel": _obj(
        {
            "id": ID,
            "name": {"type": "string"},
            "kind": {
                "type": "string",
                "enum": ["email", "webhook", "wecom", "dingtalk", "feishu", "slack"],
            },
            "url": {"type": "string", "description": "where it goes, credentials masked"},
            "signed": {"type": "boolean"},
            "for": {"type": ["string", "null"], "description": "the person's email; null: site"},
            "events": {
                "type": "array",
                "items": {"type": "string", "enum": ["arrival", "waiting", "tea", "tour"]},
                "description": "what it carries; empty: all",
            },
            "active": {"type": "boolean"},
            "created_at": WHEN,
            "secret": {"type": "string", "description": "a webhook's new secret, shown once"},
        },
        ["id", "name", "kind", "url", "signed", "events", "active"],
    ),
    "OutboxMessage": _obj(
        {
            "id": ID,
            "kind": {"type": "string"},
            "recipient": {"type": "string"},
            "subject": {"type": "string"},
            "purpose": {"type": "string"},
            "visit_id": {"type": ["integer", "null"]},
            "status": {"type": "string", "enum": ["queued", "sending", "sent", "failed"]},
            "attempts": {"type": "integer"},
            "last_error": {"type": "string"},
            "next_attempt_at": WHEN,
            "created_at": WHEN,
            "sent_at": WHEN,
        },
        ["id", "kind", "status", "attempts"],
    ),
    "WatchlistEntry": _obj(
        {
            "id": ID,
            "name": {"type": "string"},
            "company": NULLABLE_TEXT,
            "phone": NULLABLE_TEXT,
            "email": NULLABLE_TEXT,
            "reason": NULLABLE_TEXT,
            "active": {"type": "boolean"},
            "created_at": WHEN,
            "created_by": {"type": ["integer", "null"]},
            "removed_at": WHEN,
        },
        ["id", "name", "active"],
    ),
    "Standard": _obj(
        {
            "id": ID,
            "scheme": {"type": "string"},
            "level": {"type": ["integer", "string"]},
            "version": {"type": "integer"},
            "meal_cap": {"type": ["number", "null"]},
            "lodging_cap": {"type": ["number", "null"]},
            "transport_cap": {"type": ["number", "null"]},
        },
        ["id", "scheme", "level", "version"],
    ),
    "Standards": _obj(
        {
            "scheme": {"type": "string", "description": "the scheme in force"},
            "schemes": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _ref("Standard")},
            },
        },
        ["scheme", "schemes"],
    ),
    "HospitalityRequest": _obj(
        {
            "id": ID,
            "status": {"type": "string"},
            "step": NULLABLE_TEXT,
            "requester": _ref("Person"),
            "client": _obj(
                {
                    "company": {"type": "string"},
                    "star_level": {"type": ["integer", "string", "null"]},
                    "background": NULLABLE_TEXT,
                }
            ),
            "visitors": {"type": ["array", "null"]},
            "purpose": NULLABLE_TEXT,
            "arrives_at": WHEN,
            "departs_at": WHEN,
            "estimate": _obj(
                {"total": {"type": ["number", "null"]}, "items": {"type": "array"}}, ["total"]
            ),
            "history": {"type": "array"},
            "visits": {"type": "array"},
            "created_at": WHEN,
            "summary": _obj(
                {
                    "text": NULLABLE_TEXT,
                    "materials": {"type": "array", "items": {"type": "string"}},
                    "material_files": {"type": "array", "items": _ref("Material")},
                    "at": WHEN,
                }
            ),  # an approved request's reception summary (接待总结)
        },
        ["id", "status", "requester", "client", "estimate", "history", "visits"],
    ),
    "HospitalityRequestInput": _obj(
        {
            "client": _obj(
                {
                    "company": {"type": "string"},
                    "star_level": {"type": "integer"},
                    "background": {"type": "string"},
                },
                ["company", "star_level"],
            ),
            "purpose": {"type": "string"},
            "arrives_at": {"type": "string", "format": "date-time"},
            "departs_at": {"type": "string", "format": "date-time"},
            "attendees": {"type": "integer", "minimum": 1, "maximum": 500},
            "president_attends": {"type": "boolean"},
            "materials": {"type": "array", "items": {"type": "string"}},
            "visitors": {"type": "array", "items": {"type": "object"}},
            "items": {"type": "array", "items": {"type": "object"}},
            "president_override": _obj({"reason": {"type": "string"}}, ["reason"]),
        },
        ["client", "purpose"],
    ),
    "Expense": _obj(
        {
            "id": ID,
            "request": ID,
            "kind": {"type": "string"},
            "amount": {"type": ["number", "null"]},
            "spent_at": WHEN,
            "note": NULLABLE_TEXT,
            "status": {"type": "string"},
            "status_reason": NULLABLE_TEXT,
            "receipt": _obj(
                {"type": NULLABLE_TEXT, "name": NULLABLE_TEXT, "sha256": NULLABLE_TEXT}
            ),
            "created_at": WHEN,
        },
        ["id", "request", "kind", "amount", "status"],
    ),
    "BudgetIncrease": _obj(
        {
            "id": ID,
            "request": ID,
            "amount": {"type": ["number", "null"]},
            "reason": NULLABLE_TEXT,
            "status": {"type": "string"},
            "step": NULLABLE_TEXT,
            "history": {"type": "array"},
        },
        ["id", "request", "amount", "status"],
    ),
    "Material": _obj(
        {
            "id": ID,
            "request": ID,
            "name": {"type": "string", "description": "as uploaded, ending in its real type"},
            "type": {"type": "string", "description": "what the bytes really are (MIME)"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "url": {"type": "string", "description": "GET it for the file"},
            "uploaded_by": {
                "oneOf": [{"type": "null"}, _obj({"id": ID, "name": {"type": "string"}})]
            },
            "created_at": WHEN,
        },
        ["id", "name", "type", "size", "sha256", "url"],
    ),
    "AuditEntry": _obj(
        {
            "id": ID,
            "at": WHEN,
            "actor": _obj({"id": {"type": ["integer", "null"]}, "name": NULLABLE_TEXT}),
            "action": {"type": "string"},
            "target": _obj({"type": NULLABLE_TEXT, "id": {"type": ["integer", "string", "null"]}}),
            "before": {},
            "after": {},
            "note": NULLABLE_TEXT,
            "hash": {"type": "string"},
            "prev_hash": NULLABLE_TEXT,
        },
        ["id", "at", "action", "hash"],
    ),
    "Violation": _obj(
        {
            "id": ID,
            "person": {"oneOf": [{"type": "null"}, _ref("Person")]},
            "rule": {"type": "string"},
            "date": {"type": "string"},
            "note": NULLABLE_TEXT,
            "multiplier": {"type": ["integer", "number", "null"]},
            "fine": {"type": "number"},
            "manager": {"type": ["object", "null"]},
            "manager_share": {"type": "number"},
            "request": {"type": ["integer", "null"]},
        },
        ["id", "rule", "date", "fine"],
    ),
    "Room": _obj(
        {
            "id": ID,
            "name": {"type": "string"},
            "capacity": {"type": "integer"},
            "projector": {"type": "boolean"},
            "active": {"type": "boolean"},
        },
        ["id", "name", "capacity"],
    ),
    "VisitorInput": _obj(
        {
            "name": {"type": "string", "maxLength": 200},
            "company": {"type": "string", "maxLength": 200},
            "title": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "maxLength": 254},
            "phone": {"type": "string", "maxLength": 50},
        },
        ["name"],
    ),
    # A visitor being booked: as VisitorInput, and the language of their invitation.
    "NewVisitor": _obj(
        {
            "name": {"type": "string", "maxLength": 200},
            "company": {"type": "string", "maxLength": 200},
            "title": {"type": "string", "maxLength": 200},
            "email": {"type": "string", "maxLength": 254},
            "phone": {"type": "string", "maxLength": 50},
            "language": {
                "type": "string",
                "enum": ["", "en", "zh"],
                "description": "the invitation's language ('': the site's)",
            },
        },
        ["name"],
    ),
}

ERROR_TEXT = {
    400: "Bad request",
    401: "No valid bearer token (`unauthorized`)",
    403: "The token's role may not do this, or not your visit (`forbidden`)",
    404: "No such object (`not_found`, `unknown_code`)",
    405: (
        "`method_not_allowed`: an id past 64 bits where the path has another method too"
        " (the router checks the method before the id's range)"
    ),
    409: "Refused in the object's present state (a stable `code` says why)",
    413: "The body is larger than the server takes (`too_large`)",
    422: "Malformed input (`invalid_json`, `invalid_visit`, ...; `fields` names each problem)",
}


def _error(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_TEXT[status],
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _path_id(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    }


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _op(
    summary: str,
    roles: tuple[str, ...],
    ok: dict[int, dict[str, Any]],
    errors: tuple[int, ...] = (),
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    duties: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One operation: its roles (``x-roles``; ``x-duties``: a user of another role with
    one of these duties may call it too), answers, and the errors it may give. Every
    operation may answer 401 and 403 (the token, the role); one with a body may
    answer 413 and 422."""
    responses: dict[str, Any] = {str(status): answer for status, answer in ok.items()}
    codes = {401, 403, *errors}
    if body is not None:
        codes.update((413, 422))
    if parameters and any(p["in"] == "path" for p in parameters):
        codes.update((404, 405))
    for status in sorted(codes):
        responses[str(status)] = _error(status)
    op: dict[str, Any] = {
        "summary": summary,
        "x-roles": list(roles),
        "security": [{"bearer": []}],
        "responses": responses,
    }
    if duties:
        op["x-duties"] = list(duties)
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = body
    return op


STAFF = ("admin", "receptionist")
ALL_STAFF = ("admin", "receptionist", "host")
VISIT_ID = [_path_id("visit_id")]

VISIT_BOOKING = {
    "host": {"type": "string", "description": "the host's email"},
    "expected_at": {
        "type": ["string", "null"],
        "format": "date-time",
        "description": "ISO 8601 date-time (naive: site-local)",
    },
    "purpose": {"type": "string", "maxLength": 500},
    "valid_until": {
        "type": ["string", "null"],
        "format": "date",
        "description": "ISO date: the code works each day until then",
    },
}

INVITE = {
    "invite": {
        "type": "boolean",
        "description": "false: no invitation email to the visitor(s) (default true)",
    }
}

PATHS: dict[str, dict[str, Any]] = {
    "/visits": {
        "post": _op(
            "Pre-register one visitor (`visitor`) or a group (`visitors`, `group`)",
            ALL_STAFF,
            {
                201: _ok(
                    "The visit, or the group and its visits",
                    {"oneOf": [_ref("Visit"), _ref("Group")]},
                )
            },
            body=_body(
                {
                    "oneOf": [
                        _obj(
                            {"visitor": _ref("NewVisitor"), **VISIT_BOOKING, **INVITE},
                            ["visitor", "host"],
                        ),
                        _obj(
                            {
                                "visitors": {"type": "array", "items": _ref("NewVisitor")},
                                "group": {"type": "string"},
                                **VISIT_BOOKING,
                                **INVITE,
                            },
                            ["visitors", "host"],
                        ),
                    ]
                }
            ),
        ),
        "get": _op(
            "The visitor log of any day, newest first, 50 a page (hosts: their own)",
            ALL_STAFF,
            {
                200: _ok(
                    "One page",
                    _obj(
                        {
                            "visits": {"type": "array", "items": _ref("Visit")},
                            "page": {"type": "integer"},
                            "pages": {"type": "integer"},
                            "total": {"type": "integer"},
                            "per_page": {"type": "integer"},
                        },
                        ["visits", "page", "pages", "total", "per_page"],
                    ),
                )
            },
            errors=(422,),
            parameters=[
                _query("q", "part of the visitor's name or company"),
                _query("from", "first local day", {"type": "string", "format": "date"}),
                _query("to", "last local day", {"type": "string", "format": "date"}),
                _query(
                    "status",
                    "expected, checked_in, checked_out, cancelled or walk_in",
                ),
                _query("host", "part of the host's name or email, or their id"),
                _query("page", "page number, from 1"),
            ],
        ),
    },
    "/visits/{visit_id}": {
        "get": _op(
            "One visit", ALL_STAFF, {200: _ok("The visit", _ref("Visit"))}, parameters=VISIT_ID
        ),
        "patch": _op(
            "Change a booked visit (any of the fields)",
            ALL_STAFF,
            {200: _ok("The visit", _ref("Visit"))},
            errors=(409,),
            parameters=VISIT_ID,
            body=_body(
                {
                    "type": "object",
                    "properties": {
                        "visitor": _ref("VisitorInput"),
                        "meeting_room": {"type": "string", "maxLength": 120},
                        "kind": {"type": "string"},
                        "stars": {"type": ["integer", "null"]},
                        **VISIT_BOOKING,
                    },
                    "additionalProperties": False,
                }
            ),
        ),
    },
    "/visits/{visit_id}/cancel": {
        "post": _op(
            "Cancel a visit not yet arrived (again: unchanged)",
            ALL_STAFF,
            {200: _ok("The cancelled visit", _ref("Visit"))},
            errors=(409,),
            parameters=VISIT_ID,
            body=_body(_obj({"reason": {"type": "string", "maxLength": 300}}, ["reason"])),
        ),
    },
    "/visits/{visit_id}/badge": {
        "post": _op(
            "Reprint the visit's badge (queued)",
            STAFF,
            {202: _ok("The queued job", _obj({"job": _ref("PrintJob")}, ["job"]))},
            errors=(409,),
            parameters=VISIT_ID,
            body=_body(_obj({"reason": {"type": "string"}}, ["reason"])),
        ),
    },
    "/visits/{visit_id}/tasks": {
        "get": _op(
            "The visit's tasks",
            ALL_STAFF,
            {200: _ok("Tasks", {"type": "array", "items": _ref("Task")})},
            parameters=VISIT_ID,
        ),
        "post": _op(
            "Add a task: tea (`items`), tour (`title`, `starts_at`, `stops`), follow_up"
            " (`question`, `deadline`, `reply_method`)",
            ALL_STAFF,
            {201: _ok("The task", _ref("Task"))},
            errors=(409,),
            parameters=VISIT_ID,
            body=_body(
                _obj(
                    {
                        "kind": {"enum": ["tea", "tour", "farewell", "follow_up"]},
                        "items": {
                            "type": "array",
                            "items": _obj(
                                {"drink": {"type": "string"}, "count": {"type": "integer"}}
                            ),
                        },
                        "note": {"type": "string"},
                        "title": {"type": "string"},
                        "starts_at": {"type": "string", "format": "date-time"},
                        "stops": {
                            "type": "array",
                            "items": _obj(
                                {
                                    "place": {"type": "string"},
                                    "department": {"type": "string"},
                                    "planned_at": {"type": "string", "format": "date-time"},
                                }
                            ),
                        },
                        "question": {"type": "string"},
                        "deadline": {"type": "string", "format": "date-time"},
                        "reply_method": {"enum": ["phone", "email", "meeting", "wechat", "letter"]},
                    },
                    ["kind"],
                )
            ),
        ),
    },
    "/visits/{visit_id}/acknowledge": {
        "post": _op(
            "The host has seen the arrival",
            ALL_STAFF,
            {200: _ok("The visit", _ref("Visit"))},
            errors=(409,),
            parameters=VISIT_ID,
        ),
    },
    "/visits/{visit_id}/farewell": {
        "post": _op(
            "See the visitor off; answers the promised replies still open",
            ALL_STAFF,
            {
                200: _ok(
                    "The visit and its open follow-ups",
                    _obj(
                        {
                            "visit": _ref("Visit"),
                            "open_follow_ups": {"type": "array", "items": _ref("Task")},
                        },
                        ["visit", "open_follow_ups"],
                    ),
                )
            },
            errors=(409, 422),
            parameters=VISIT_ID,
            body=_body(_obj({"note": {"type": "string"}}), required=False),
        ),
    },
    "/tasks/{task_id}": {
        "post": _op(
            "Move a task on (`status`; a follow-up's `answer`)",
            ALL_STAFF,
            {200: _ok("The task", _ref("Task"))},
            errors=(409,),
            parameters=[_path_id("task_id")],
            body=_body(
                _obj({"status": {"type": "string"}, "answer": {"type": "string"}}, ["status"])
            ),
        ),
    },
    "/checkins": {
        "post": _op(
            "Check a visitor in by code: 201 the first time, 200 again (no second alert)",
            STAFF,
            {
                200: _ok("Already checked in", _ref("Visit")),
                201: _ok("Checked in", _ref("Visit")),
            },
            errors=(404, 409),
            body=_body(
                _obj(
                    {
                        "code": {
                            "type": "string",
                            "description": "the code, or a URL ending in it",
                        },
                        "kiosk": {"type": "string"},
                        "printer": {"type": "string"},
                        "language": {"enum": ["zh", "en"]},
                    },
                    ["code"],
                )
            ),
        ),
    },
    "/checkouts": {
        "post": _op(
            "Check a visitor out by code",
            STAFF,
            {200: _ok("The visit", _ref("Visit"))},
            errors=(404, 409),
            body=_body(_obj({"code": {"type": "string"}}, ["code"])),
        ),
    },
    "/onsite": {
        "get": _op(
            "Who is in the building now",
            STAFF,
            {
                200: _ok(
                    "Visits checked in",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "visits": {"type": "array", "items": _ref("Visit")},
                        },
                        ["count", "visits"],
                    ),
                )
            },
        ),
    },
    "/printers": {
        "get": _op(
            "Printers, their status and last job",
            STAFF,
            {200: _ok("Printers", {"type": "array", "items": _ref("Printer")})},
        ),
    },
    "/desk-requests": {
        "get": _op(
            "Open kiosk requests for the desk, oldest first",
            STAFF,
            {
                200: _ok(
                    "Requests",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "requests": {"type": "array", "items": _ref("DeskRequest")},
                        },
                        ["count", "requests"],
                    ),
                )
            },
        ),
    },
    "/desk-requests/{request_id}/done": {
        "post": _op(
            "Close a kiosk request",
            STAFF,
            {200: _ok("The request", _ref("DeskRequest"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
        ),
    },
    "/follow-ups": {
        "get": _op(
            "Promised answers, earliest deadline first (hosts: their own)",
            ALL_STAFF,
            {
                200: _ok(
                    "Follow-ups",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "follow_ups": {"type": "array", "items": _ref("FollowUp")},
                        },
                        ["count", "follow_ups"],
                    ),
                )
            },
            errors=(422,),
            parameters=[_query("status", "open (default), answered or cancelled")],
        ),
    },
    "/watchlist": {
        "get": _op(
            "Watchlist entries, newest first (`?all=1`: removed ones too)",
            ("admin",),
            {
                200: _ok(
                    "Entries",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "entries": {"type": "array", "items": _ref("WatchlistEntry")},
                        },
                        ["count", "entries"],
                    ),
                )
            },
            parameters=[_query("all", "1, true or yes: removed entries too")],
        ),
        "post": _op(
            "Add an entry (audited)",
            ("admin",),
            {201: _ok("The entry", _ref("WatchlistEntry"))},
            body=_body(
                _obj(
                    {
                        "name": {"type": "string"},
                        "company": {"type": "string"},
                        "phone": {"type": "string"},
                        "email": {"type": "string"},
                        "reason": {"type": "string"},
                    },
                    ["name", "reason"],
                )
            ),
        ),
    },
    "/outbox": {
        "get": _op(
            "Messages sent or to send (emails, chat), newest first, at most 200",
            ("admin",),
            {
                200: _ok(
                    "Messages",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "messages": {"type": "array", "items": _ref("OutboxMessage")},
                        },
                        ["count", "messages"],
                    ),
                )
            },
            errors=(422,),
            parameters=[
                _query("visit", "a visit's id: its messages only"),
                _query("status", "queued, sending, sent or failed"),
            ],
        ),
    },
    "/outbox/{message_id}/resend": {
        "post": _op(
            "Queue a message again (due now, attempts from zero)",
            ("admin",),
            {200: _ok("The message", _ref("OutboxMessage"))},
            errors=(409,),
            parameters=[_path_id("message_id")],
        ),
    },
    "/channels": {
        "get": _op(
            "Alert channels: the site's defaults and everyone's own (credentials masked)",
            ("admin",),
            {
                200: _ok(
                    "Channels",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "channels": {"type": "array", "items": _ref("Channel")},
                        },
                        ["count", "channels"],
                    ),
                )
            },
        ),
        "post": _op(
            "Add a channel (without `for`: the site's default for everyone); a webhook"
            " given no secret gets one, in the answer once",
            ("admin",),
            {201: _ok("The channel", _ref("Channel"))},
            errors=(404, 409),
            body=_body(
                _obj(
                    {
                        "name": {"type": "string", "maxLength": 120},
                        "kind": {
                            "type": "string",
                            "enum": ["email", "webhook", "wecom", "dingtalk", "feishu", "slack"],
                        },
                        "url": {"type": "string", "description": "http(s) URL; email: address"},
                        "secret": {"type": "string", "maxLength": 300},
                        "for": {"type": ["string", "null"], "description": "a person's email"},
                        "events": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "arrival, waiting, tea, tour (empty: all)",
                        },
                    },
                    ["name", "kind", "url"],
                )
            ),
        ),
    },
    "/channels/{channel_id}": {
        "delete": _op(
            "Remove a channel (its unsent messages are marked failed)",
            ("admin",),
            {204: {"description": "Removed"}},
            parameters=[_path_id("channel_id")],
        ),
    },
    "/channels/{channel_id}/test": {
        "post": _op(
            "Queue a test message to a channel (the worker sends it)",
            ("admin",),
            {202: _ok("The queued message", _ref("OutboxMessage"))},
            parameters=[_path_id("channel_id")],
        ),
    },
    "/me": {
        "get": _op(
            "The token's user: whether they are away, and their delegate",
            ALL_STAFF,
            {200: _ok("The user", _ref("Me"))},
        ),
        "patch": _op(
            'Set or clear (null or "") being away and the delegate; a key left out is'
            " unchanged. While away, arrivals also alert the delegate (an active host, not"
            " oneself) and the kiosk names them",
            ALL_STAFF,
            {200: _ok("The user", _ref("Me"))},
            body=_body(
                _obj(
                    {
                        "away_until": {
                            "type": ["string", "null"],
                            "description": "ISO 8601 date-time in the future (naive: site-local)",
                        },
                        "delegate": {
                            "type": ["string", "integer", "null"],
                            "description": "the delegate's email or user id",
                        },
                    }
                )
            ),
        ),
    },
    "/drinks": {
        "get": _op(
            "The drinks menu (tea service), inactive drinks too",
            ALL_STAFF,
            {200: _ok("Drinks, by name", {"type": "array", "items": _ref("Drink")})},
        ),
    },
    "/watchlist/{entry_id}": {
        "delete": _op(
            "Remove an entry (kept, marked removed; audited)",
            ("admin",),
            {200: _ok("The entry", _ref("WatchlistEntry"))},
            errors=(409,),
            parameters=[_path_id("entry_id")],
        ),
    },
    "/standards": {
        "get": _op(
            "The star-level standards: the scheme in force and each scheme's levels",
            ALL_STAFF,
            {200: _ok("Standards", _ref("Standards"))},
        ),
        "put": _op(
            "Change the scheme in force and/or levels (a new version of each level changed)",
            ("admin",),
            {200: _ok("Standards, as GET answers", _ref("Standards"))},
            errors=(409,),
            body=_body(
                _obj(
                    {
                        "scheme": {"type": "string"},
                        "levels": {"type": "array", "items": {"type": "object"}},
                    }
                )
            ),
        ),
    },
    "/requests": {
        "post": _op(
            "File a hospitality request (priced from the star level's standard)",
            ALL_STAFF,
            {201: _ok("The request", _ref("HospitalityRequest"))},
            errors=(409,),
            body=_body(_ref("HospitalityRequestInput")),
        ),
        "get": _op(
            "My hospitality requests",
            ALL_STAFF,
            {
                200: _ok(
                    "Requests",
                    _obj(
                        {"requests": {"type": "array", "items": _ref("HospitalityRequest")}},
                        ["requests"],
                    ),
                )
            },
        ),
    },
    "/requests/{request_id}": {
        "get": _op(
            "One hospitality request (404 to whoever may not see it)",
            ALL_STAFF,
            {200: _ok("The request", _ref("HospitalityRequest"))},
            parameters=[_path_id("request_id")],
        ),
        "put": _op(
            "Change a returned request",
            ALL_STAFF,
            {200: _ok("The request", _ref("HospitalityRequest"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body=_body(_ref("HospitalityRequestInput")),
        ),
    },
    "/requests/{request_id}/submit": {
        "post": _op(
            "Submit a returned request again",
            ALL_STAFF,
            {200: _ok("The request", _ref("HospitalityRequest"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
        ),
    },
    "/requests/{request_id}/decision": {
        "post": _op(
            "Decide the step waiting on you: approve, return or reject (with a comment)",
            ALL_STAFF,
            {200: _ok("The request", _ref("HospitalityRequest"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body=_body(
                _obj(
                    {
                        "decision": {"enum": ["approve", "return", "reject"]},
                        "comment": {"type": "string"},
                        "plan": _obj(
                            {
                                "schedule": {"type": "string"},
                                "venue": {"type": "string"},
                                "dining": {"type": "string"},
                            }
                        ),
                    },
                    ["decision"],
                )
            ),
        ),
    },
    "/requests/{request_id}/arrangement": {
        "put": _op(
            "File the reception arrangement sheet (requester, marketing or an admin)",
            ALL_STAFF,
            {200: _ok("The request", _ref("HospitalityRequest"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body=_body({"type": "object", "description": "the sheet's fields"}),
        ),
    },
    "/requests/{request_id}/arrangement.pdf": {
        "get": _op(
            "The arrangement sheet as PDF",
            ALL_STAFF,
            {
                200: {
                    "description": "The sheet",
                    "content": {"application/pdf": {"schema": {"type": "string"}}},
                }
            },
            parameters=[_path_id("request_id")],
        ),
    },
    "/rooms": {
        "get": _op(
            "Every active room; with `from` and `to` (and `people`): those free then",
            ALL_STAFF,
            {
                200: _ok(
                    "Rooms",
                    _obj({"rooms": {"type": "array", "items": _ref("Room")}}, ["rooms"]),
                )
            },
            errors=(422,),
            parameters=[
                _query("from", "start, ISO 8601", {"type": "string", "format": "date-time"}),
                _query("to", "end, ISO 8601", {"type": "string", "format": "date-time"}),
                _query("people", "how many the room must hold (1 to 10000)"),
            ],
        ),
    },
    "/rooms/{room_id}/bookings": {
        "post": _op(
            "Book a room (bookings never overlap: 409)",
            ALL_STAFF,
            {
                201: _ok(
                    "The booking",
                    _obj(
                        {
                            "id": ID,
                            "room": _ref("Room"),
                            "starts_at": WHEN,
                            "ends_at": WHEN,
                            "request": {"type": ["integer", "null"]},
                            "cancelled": {"type": "boolean"},
                        },
                        ["id", "room", "starts_at", "ends_at"],
                    ),
                )
            },
            errors=(409,),
            parameters=[_path_id("room_id")],
            body=_body(
                _obj(
                    {
                        "starts_at": {"type": "string", "format": "date-time"},
                        "ends_at": {"type": "string", "format": "date-time"},
                        "request": {"type": "integer"},
                    },
                    ["starts_at", "ends_at"],
                )
            ),
        ),
    },
    "/requests/{request_id}/expenses": {
        "post": _op(
            "Record an expense of the request, with its receipt (multipart)",
            ALL_STAFF,
            {201: _ok("The expense", _ref("Expense"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": _obj(
                            {
                                "kind": {"type": "string"},
                                "amount": {"type": "string"},
                                "spent_at": {"type": "string", "format": "date-time"},
                                "note": {"type": "string"},
                                "receipt": {"type": "string", "format": "binary"},
                            },
                            ["kind", "amount"],
                        )
                    }
                },
            },
        ),
    },
    "/expenses": {
        "get": _op(
            "Every expense (`?status=`): admins, and staff with the finance or auditor duty",
            ("admin",),
            {
                200: _ok(
                    "Expenses",
                    _obj({"expenses": {"type": "array", "items": _ref("Expense")}}, ["expenses"]),
                )
            },
            errors=(422,),
            parameters=[_query("status", "submitted, approved, paid or rejected")],
            duties=("finance", "auditor"),
        ),
    },
    "/expenses/{expense_id}/status": {
        "post": _op(
            "Finance approves, pays or rejects an expense",
            ALL_STAFF,
            {200: _ok("The expense", _ref("Expense"))},
            errors=(409,),
            parameters=[_path_id("expense_id")],
            body=_body(
                _obj({"status": {"type": "string"}, "reason": {"type": "string"}}, ["status"])
            ),
        ),
    },
    "/expenses/{expense_id}/receipt": {
        "get": _op(
            "The expense's receipt (finance, auditors, admins, or who may see the request)",
            ALL_STAFF,
            {
                200: {
                    "description": "The receipt file, as uploaded",
                    "content": {"*/*": {"schema": {"type": "string"}}},
                }
            },
            parameters=[_path_id("expense_id")],
        ),
    },
    "/requests/{request_id}/budget-increase": {
        "post": _op(
            "Ask for a larger budget (it passes its own approval steps)",
            ALL_STAFF,
            {201: _ok("The increase", _ref("BudgetIncrease"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body=_body(
                _obj(
                    {"amount": {"type": ["number", "string"]}, "reason": {"type": "string"}},
                    ["amount", "reason"],
                )
            ),
        ),
    },
    "/budget-increases/{increase_id}/decision": {
        "post": _op(
            "Decide the budget increase's step waiting on you",
            ALL_STAFF,
            {200: _ok("The increase", _ref("BudgetIncrease"))},
            errors=(409,),
            parameters=[_path_id("increase_id")],
            body=_body(
                _obj(
                    {
                        "decision": {"enum": ["approve", "return", "reject"]},
                        "comment": {"type": "string"},
                    },
                    ["decision"],
                )
            ),
        ),
    },
    "/requests/{request_id}/summary": {
        "post": _op(
            "The host's reception summary and the materials used",
            ALL_STAFF,
            {200: _ok("The request", _ref("HospitalityRequest"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body=_body(
                _obj(
                    {
                        "summary": {"type": "string"},
                        "materials": {"type": "array", "items": {"type": "string"}},
                    },
                    ["summary"],
                )
            ),
        ),
    },
    "/requests/{request_id}/materials": {
        "post": _op(
            "Attach a file to the reception summary (multipart `file`: PDF, PNG, JPEG, WebP,"
            " .docx, .xlsx or .pptx judged by its bytes, at most 20 MB, 30 per request;"
            " the requester or an admin, once the request is approved)",
            ALL_STAFF,
            {201: _ok("The material", _ref("Material"))},
            errors=(409,),
            parameters=[_path_id("request_id")],
            body={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": _obj({"file": {"type": "string", "format": "binary"}}, ["file"])
                    }
                },
            },
        ),
        "get": _op(
            "The files attached to the reception summary (who may see the request)",
            ALL_STAFF,
            {
                200: _ok(
                    "Materials, oldest first",
                    _obj(
                        {"materials": {"type": "array", "items": _ref("Material")}},
                        ["materials"],
                    ),
                )
            },
            parameters=[_path_id("request_id")],
        ),
    },
    "/materials/{material_id}": {
        "get": _op(
            "The file, as an attachment under its name (RFC 5987), with nosniff and a"
            " sandboxing Content-Security-Policy (who may see the request)",
            ALL_STAFF,
            {
                200: {
                    "description": "The file, as uploaded",
                    "content": {"*/*": {"schema": {"type": "string"}}},
                }
            },
            parameters=[_path_id("material_id")],
        ),
        "delete": _op(
            "Remove a material while the request is open (`request_closed` after; audited)",
            ALL_STAFF,
            {200: _ok("The material removed", _ref("Material"))},
            errors=(409,),
            parameters=[_path_id("material_id")],
        ),
    },
    "/feedback": {
        "get": _op(
            "Client feedback per host and department (reception, admins, the auditor duty)",
            STAFF,
            {
                200: _ok(
                    "Averages over the days",
                    _obj(
                        {
                            "from": {"type": "string"},
                            "to": {"type": "string"},
                            "hosts": {"type": "array"},
                            "departments": {"type": "array"},
                        },
                        ["from", "to", "hosts", "departments"],
                    ),
                )
            },
            errors=(422,),
            parameters=[
                _query("from", "first local day", {"type": "string", "format": "date"}),
                _query(
                    "to", "last local day (today by default)", {"type": "string", "format": "date"}
                ),
            ],
            duties=("auditor",),
        ),
    },
    "/audit": {
        "get": _op(
            "The audit trail, newest first (admins and the auditor duty; read-only)",
            ("admin",),
            {
                200: _ok(
                    "Entries",
                    _obj({"entries": {"type": "array", "items": _ref("AuditEntry")}}, ["entries"]),
                )
            },
            errors=(422,),
            parameters=[
                _query("who", "part of the actor's name"),
                _query("what", "part of the action"),
                _query("from", "first day", {"type": "string", "format": "date"}),
                _query("to", "last day", {"type": "string", "format": "date"}),
                _query("before", "an entry id: the page after it"),
            ],
            duties=("auditor",),
        ),
    },
    "/violations": {
        "get": _op(
            "The violations register (admins and the auditor duty)",
            ("admin",),
            {
                200: _ok(
                    "Violations",
                    _obj(
                        {"violations": {"type": "array", "items": _ref("Violation")}},
                        ["violations"],
                    ),
                )
            },
            duties=("auditor",),
        ),
        "post": _op(
            "Record a violation and its fine (the auditor duty only, whatever the role)",
            (),
            {201: _ok("The violation", _ref("Violation"))},
            errors=(404, 409),
            body=_body(
                _obj(
                    {
                        "person": {"type": "string", "description": "their email"},
                        "rule": {"type": "string"},
                        "date": {"type": "string", "format": "date"},
                        "note": {"type": "string"},
                        "serious": {"type": "boolean"},
                        "multiplier": {"type": "integer"},
                        "request": {"type": "integer"},
                    },
                    ["person", "rule", "date"],
                )
            ),
            duties=("auditor",),
        ),
    },
    "/approvals": {
        "get": _op(
            "Hospitality requests waiting on my decision",
            ALL_STAFF,
            {
                200: _ok(
                    "Requests",
                    _obj(
                        {
                            "count": {"type": "integer"},
                            "requests": {"type": "array", "items": _ref("HospitalityRequest")},
                        },
                        ["count", "requests"],
                    ),
                )
            },
        ),
    },
    **{
        f"/reports/{{report}}.{ext}": {
            "get": _op(
                f"A report as {ext.upper()} (reception, admins and users with the auditor"
                " duty): `visits` (the visit log, one row per visit), `daily`, `weekly`,"
                " `hours`, `waits`, `kinds`, `tea`, `tours` or `spend`; text cells that"
                " begin with = + - @ get a leading '",
                STAFF,
                {
                    200: {
                        "description": "The report",
                        "content": {mime: {"schema": {"type": "string"}}},
                    }
                },
                errors=(404, 422),
                duties=("auditor",),
                parameters=[
                    {
                        "name": "report",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "enum": [
                                "visits",
                                "daily",
                                "weekly",
                                "hours",
                                "waits",
                                "kinds",
                                "tea",
                                "tours",
                                "spend",
                            ],
                        },
                    },
                    _query(
                        "from",
                        "first day, YYYY-MM-DD (site time; default 30 days ago)",
                        {"type": "string", "format": "date"},
                    ),
                    _query(
                        "to",
                        "last day, YYYY-MM-DD (default today)",
                        {"type": "string", "format": "date"},
                    ),
                ],
            ),
        }
        for ext, mime in (
            ("csv", "text/csv"),
            ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        )
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "x-roles": ["anonymous"],
            "security": [],
            "responses": {"200": _ok("OpenAPI 3.1", {"type": "object"})},
        },
    },
}


def document() -> dict[str, Any]:
    """The whole OpenAPI document (a fresh dict: callers may change their copy)."""
    import copy

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Lobby JSON API",
            "version": "1",
            "description": (
                "Visitor check-in and reception. Every call but this document needs "
                "`Authorization: Bearer <token>` (`lobby token create EMAIL`); `x-roles` "
                "names the roles that may call it. Errors are "
                '`{"error": {"code", "message", "fields"?}}` with a stable `code`; bad '
                "input is a 4xx, never a 500."
            ),
        },
        "servers": [{"url": API_PREFIX}],
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": copy.deepcopy(PATHS),
    }
