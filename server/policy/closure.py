"""After the visit (REQUIREMENTS.md D): the host's reception summary (接待总结) with the
materials used, and when a request is done.

- ``write_summary(request_id, by, summary, materials)``: the requester (or an admin)
  writes it once the request is approved (``invalid_summary`` 422, ``not_approved`` 409).
- ``closure(req)``: what is still open — ``summary`` (none yet), ``expenses`` (how many
  are still submitted or approved, not yet paid or rejected), ``follow_ups`` (promised
  answers still open on the request's visits) — and ``closed``: nothing open. The
  request's ``closed_at`` is set the moment a change (summary, expense status) finds
  nothing open.
"""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import Expense, HospitalityRequest, Task, User, Visit, utcnow
from server.services import audit
from server.services.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services.tx import write

MAX_SUMMARY = 8000
MAX_MATERIALS = 30


def _open_counts(session, request_id: int) -> tuple[int, int]:
    expenses = session.scalar(
        select(func.count(Expense.id)).where(
            Expense.request_id == request_id, Expense.status.in_(("submitted", "approved"))
        )
    )
    follow_ups = session.scalar(
        select(func.count(Task.id))
        .join(Visit, Visit.id == Task.visit_id)
        .where(
            Visit.request_id == request_id,
            Task.kind == "follow_up",
            Task.status.not_in(("done", "cancelled")),
        )
    )
    return int(expenses or 0), int(follow_ups or 0)


def closure(req: HospitalityRequest, session=None) -> dict:
    session = session or db.session
    expenses, follow_ups = _open_counts(session, req.id)
    missing_summary = not req.summary.strip()
    return {
        "summary": missing_summary,
        "expenses": expenses,
        "follow_ups": follow_ups,
        "closed": req.status == "approved"
        and not missing_summary
        and expenses == 0
        and follow_ups == 0,
        "closed_at": req.closed_at.isoformat() + "Z" if req.closed_at else None,
    }


def close_if_done(session, req: HospitalityRequest) -> None:
    if req.closed_at is None and closure(req, session)["closed"]:
        req.closed_at = utcnow()


def write_summary(request_id: int, by: User, summary, materials=None) -> HospitalityRequest:
    errors = {}
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "required: how the reception went"
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = f"at most {MAX_SUMMARY} characters"
    items = materials if materials is not None else []
    if (
        not isinstance(items, list)
        or len(items) > MAX_MATERIALS
        or any(not isinstance(m, str) or len(m) > 200 for m in items)
    ):
        errors["materials"] = f"a list of at most {MAX_MATERIALS} names"
        items = []
    if errors:
        raise ValidationError("invalid_summary", "the summary is not valid", fields=errors)
    assert isinstance(summary, str)
    with write() as session:
        req = session.scalar(
            select(HospitalityRequest).where(HospitalityRequest.id == request_id).with_for_update()
        )
        if req is None:
            raise NotFound("unknown_request", f"no request {request_id}")
        if req.requester_id != by.id and not by.has_role("admin"):
            raise Forbidden("not_yours", "the requester writes the summary")
        if req.status != "approved":
            raise Conflict("not_approved", f"request {request_id} is {req.status}")
        before = req.summary
        req.summary = summary.strip()
        req.summary_materials = [m.strip() for m in items if m.strip()]
        req.summary_at = utcnow()
        session.flush()
        close_if_done(session, req)
        audit.record(
            session,
            "request.summary",
            actor=by,
            target_type="request",
            target_id=req.id,
            before={"summary": before},
            after={"summary": req.summary, "materials": req.summary_materials},
        )
    found = db.session.get(HospitalityRequest, request_id)
    assert found is not None
    return found
