"""Hospitality requests and approvals over the API (server/policy/requests.py holds
the rules): ``POST /api/v1/requests``, ``GET/PUT /api/v1/requests/<id>``,
``POST /api/v1/requests/<id>/submit``, ``POST /api/v1/requests/<id>/decision``,
``GET /api/v1/requests`` (mine) and ``GET /api/v1/approvals`` (what waits on me)."""

from datetime import datetime, time

from flask import g, request

from server.api import bp
from server.api.routes import json_body
from server.auth import api_roles
from server.limits import upload_limit
from server.policy import requests as hospitality
from server.services.errors import ValidationError

STAFF = ("admin", "receptionist", "host")


def _body() -> dict:
    return json_body()  # one parser for the API: depth, text and numbers checked


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
    from server.policy import expenses

    waiting = hospitality.waiting_for(g.user)
    increases = expenses.waiting_increases(g.user)
    return {
        "count": len(waiting) + len(increases),
        "requests": [hospitality.as_dict(r) for r in waiting],
        "budget_increases": [expenses.increase_dict(i) for i in increases],
    }


@bp.put("/requests/<int:request_id>/arrangement")
@api_roles(*STAFF)
def file_arrangement(request_id: int):
    from server.policy import arrangements

    hospitality.visible(g.user, request_id)
    arrangements.file(request_id, _body(), g.user)
    return hospitality.as_dict(hospitality.get(request_id))


@bp.get("/requests/<int:request_id>/arrangement.pdf")
@api_roles(*STAFF)
def arrangement_pdf(request_id: int):
    from flask import Response

    from server.policy import arrangements

    req = hospitality.visible(g.user, request_id)
    resp = Response(arrangements.pdf(req), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="arrangement-{request_id}.pdf"'
    return resp


@bp.get("/rooms")
@api_roles(*STAFF)
def list_rooms():
    """Every room; with ``from`` and ``to`` (and ``people``), the rooms free then that
    hold that many."""
    from server.policy import rooms

    start, end = request.args.get("from"), request.args.get("to")
    if start is None and end is None:
        return {"rooms": [rooms.room_dict(r) for r in rooms.rooms(active_only=True)]}
    starts, ends = rooms.parse_span(start, end)
    people = request.args.get("people", "1")
    if not (people.isascii() and people.isdigit()) or not 1 <= int(people) <= 10_000:
        raise ValidationError(
            "invalid_people", "people is a whole number", fields={"people": "1 to 10000"}
        )
    return {"rooms": [rooms.room_dict(r) for r in rooms.free_rooms(starts, ends, int(people))]}


@bp.post("/rooms/<int:room_id>/bookings")
@api_roles(*STAFF)
def book_room(room_id: int):
    from server.policy import rooms

    data = _body()
    request_id = data.get("request")
    if request_id is not None:
        if isinstance(request_id, bool) or not isinstance(request_id, int):
            raise ValidationError(
                "invalid_booking", "request is a request id", fields={"request": "an id"}
            )
        hospitality.visible(g.user, request_id)
    booking = rooms.book(room_id, data.get("starts_at"), data.get("ends_at"), request_id, g.user)
    return rooms.booking_dict(booking), 201


# ---------------------------------------------------- budgets, expenses, increases
RECEIPT_BODY = 11 * 1024 * 1024  # a 10 MB receipt and the other fields


@bp.post("/requests/<int:request_id>/expenses")
@upload_limit(RECEIPT_BODY)
@api_roles(*STAFF)
def add_expense(request_id: int):
    """Multipart: ``kind``, ``amount``, ``spent_at``, ``note``, ``receipt`` (a file)."""
    from server.policy import expenses

    hospitality.visible(g.user, request_id)
    upload = request.files.get("receipt")
    expense = expenses.add(
        request_id,
        g.user,
        request.form.get("kind"),
        request.form.get("amount"),
        request.form.get("spent_at"),
        request.form.get("note", ""),
        upload.read(expenses.MAX_RECEIPT + 1) if upload else None,
        upload.filename or "" if upload else "",
    )
    return expenses.as_dict(expense), 201


@bp.get("/expenses")
@api_roles(*STAFF)
def list_expenses():
    """Finance, auditors and admins: every expense (``?status=`` to filter)."""
    from server.policy import expenses

    _finance_or_audit()
    status = request.args.get("status") or None
    if status is not None and status not in ("submitted", "approved", "paid", "rejected"):
        raise ValidationError("invalid_status", "status filter", fields={"status": "a state"})
    return {"expenses": [expenses.as_dict(e) for e in expenses.listing(status)]}


def _finance_or_audit() -> None:
    from server.policy import organisation
    from server.services.errors import Forbidden

    if not (g.user.has_role("admin") or organisation.duties_of(g.user) & {"finance", "auditor"}):
        raise Forbidden("forbidden", "finance, auditors and admins only")


@bp.post("/expenses/<int:expense_id>/status")
@api_roles(*STAFF)
def expense_status(expense_id: int):
    from server.policy import expenses

    data = _body()
    expense = expenses.set_status(expense_id, g.user, data.get("status"), data.get("reason"))
    return expenses.as_dict(expense)


@bp.get("/expenses/<int:expense_id>/receipt")
@api_roles(*STAFF)
def expense_receipt(expense_id: int):
    from flask import Response

    from server.policy import expenses

    expense = expenses.get(expense_id)
    try:
        _finance_or_audit()
    except Exception:
        hospitality.visible(g.user, expense.request_id)
    resp = Response(expense.receipt, mimetype=expense.receipt_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="receipt-{expense.id}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.post("/requests/<int:request_id>/budget-increase")
@api_roles(*STAFF)
def ask_budget_increase(request_id: int):
    from server.policy import expenses

    hospitality.visible(g.user, request_id)
    data = _body()
    inc = expenses.ask_increase(request_id, g.user, data.get("amount"), data.get("reason"))
    return expenses.increase_dict(inc), 201


@bp.post("/budget-increases/<int:increase_id>/decision")
@api_roles(*STAFF)
def decide_budget_increase(increase_id: int):
    from server.policy import expenses

    data = _body()
    inc = expenses.decide_increase(increase_id, g.user, data.get("decision"), data.get("comment"))
    return expenses.increase_dict(inc)


@bp.get("/feedback")
@api_roles(*STAFF)
def feedback_rollup():
    """Reception, admins and auditors: scores per host and department, ``from``/``to``
    (dates, site-local; the last 30 days by default)."""
    from datetime import timedelta

    from server.policy import feedback, organisation
    from server.services import clock
    from server.services.errors import Forbidden
    from server.services.visits import parse_day

    allowed = g.user.has_role("admin", "receptionist") or "auditor" in organisation.duties_of(
        g.user
    )
    if not allowed:
        raise Forbidden("forbidden", "reception, admins and auditors only")
    errors = {}
    days = {}
    for key in ("from", "to"):
        try:
            days[key] = parse_day(request.args.get(key))
        except ValueError:
            errors[key] = "a date, YYYY-MM-DD"
    if errors:
        raise ValidationError("invalid_range", "the dates are not valid", fields=errors)
    today = clock.to_local(clock.utcnow()).date()
    last = days["to"] or today
    first = days["from"] or last - timedelta(days=30)
    if first > last:
        raise ValidationError("invalid_range", "from is after to", fields={"from": "not after to"})
    start = clock.to_utc_naive(datetime.combine(first, time()))
    end = clock.to_utc_naive(datetime.combine(last + timedelta(days=1), time()))
    return {"from": first.isoformat(), "to": last.isoformat(), **feedback.rollup(start, end)}


@bp.post("/requests/<int:request_id>/summary")
@api_roles(*STAFF)
def request_summary(request_id: int):
    """The host's reception summary: ``{"summary", "materials": [names]}``."""
    from server.policy import closure

    hospitality.visible(g.user, request_id)
    data = _body()
    closure.write_summary(request_id, g.user, data.get("summary"), data.get("materials"))
    return hospitality.as_dict(hospitality.get(request_id))


@bp.get("/audit")
@api_roles(*STAFF)
def audit_trail():
    """Auditors and admins: the audit trail, newest first (``who``, ``what``, ``from``,
    ``to`` (dates), ``before`` (an id: the next page))."""
    from datetime import date

    from server.policy import audit_pages
    from server.services.errors import Forbidden

    if not audit_pages.may_audit(g.user):
        raise Forbidden("forbidden", "auditors and admins only")
    args = request.args
    errors = {}
    days: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = args.get(key)
        days[key] = audit_pages._day(raw)
        if raw and days[key] is None:
            errors[key] = "a date, YYYY-MM-DD"
    before = args.get("before", "")
    if before and not (before.isascii() and before.isdigit() and len(before) < 18):
        errors["before"] = "an entry id"
    if errors:
        raise ValidationError("invalid_filter", "the filters are not valid", fields=errors)
    found = audit_pages.entries(
        args.get("who", "")[:100],
        args.get("what", "")[:60],
        days["from"],
        days["to"],
        int(before) if before else None,
    )
    return {"entries": [audit_pages.entry_dict(e) for e in found]}


@bp.post("/violations")
@api_roles(*STAFF)
def record_violation():
    """Auditors: ``{"person": email, "rule", "date", "note", "serious"?, "multiplier"?,
    "request"?}`` → 201 with the fine."""
    from server.policy import violations

    data = _body()
    v = violations.record(
        g.user,
        data.get("person"),
        data.get("rule"),
        data.get("date"),
        data.get("note", ""),
        serious=data.get("serious", False),
        multiplier=data.get("multiplier"),
        request_id=data.get("request"),
    )
    return violations.as_dict(v), 201


@bp.get("/violations")
@api_roles(*STAFF)
def list_violations():
    from server.policy import audit_pages, violations
    from server.services.errors import Forbidden

    if not audit_pages.may_audit(g.user):
        raise Forbidden("forbidden", "auditors and admins only")
    return {"violations": [violations.as_dict(v) for v in violations.listing()]}
