"""The auditors' pages: ``/audit`` (the trail, filtered by who, what and when; its chain
checked), ``/reports/audit?month=YYYY-MM`` (the month's audit report: page, print and
``/reports/audit.pdf``) and ``/violations`` (the register; auditors record, with the
fine from configuration). Auditors (the ``auditor`` duty) and admins only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from server.auth import page_roles
from server.extensions import db
from server.models import AuditEntry
from server.policy import audit_report, organisation, violations
from server.services import audit, audit_checkins, clock
from server.services.errors import ServiceError

bp = Blueprint("audit", __name__)
PAGE = 100


def may_audit(user) -> bool:
    return user.has_role("admin") or "auditor" in organisation.duties_of(user)


def _require_auditor() -> None:
    if not may_audit(current_user):
        abort(403)


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw) if raw.isascii() else None
    except ValueError:
        return None


def entries(
    who: str = "",
    what: str = "",
    start: date | None = None,
    end: date | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> list[AuditEntry]:
    """The trail's entries matching the filters, newest first (check-ins folded in
    first: ``services/audit_checkins.py``)."""
    audit_checkins.catch_up(db.session)
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if who:
        q = q.where(AuditEntry.actor.ilike(f"%{who}%"))
    if what:
        q = q.where(AuditEntry.action.ilike(f"{what}%") | AuditEntry.target_type.ilike(f"{what}%"))
    if start:
        q = q.where(AuditEntry.at >= clock.to_utc_naive(datetime.combine(start, time())))
    if end:
        q = q.where(
            AuditEntry.at < clock.to_utc_naive(datetime.combine(end + timedelta(days=1), time()))
        )
    if before:
        q = q.where(AuditEntry.id < before)
    return list(db.session.scalars(q))


def entry_dict(e: AuditEntry) -> dict:
    return {
        "id": e.id,
        "at": clock.iso(e.at),
        "actor": {"id": e.actor_id, "name": e.actor},
        "action": e.action,
        "target": {"type": e.target_type, "id": e.target_id},
        "before": e.before,
        "after": e.after,
        "note": e.note,
        "hash": e.hash,
        "prev_hash": e.prev_hash,
    }


@bp.get("/audit")
@page_roles("admin", "receptionist", "host")
def trail():
    _require_auditor()
    args = request.args
    start, end = _day(args.get("from")), _day(args.get("to"))
    before = args.get("before", "")
    found = entries(
        args.get("who", "")[:100],
        args.get("what", "")[:60],
        start,
        end,
        int(before) if before.isascii() and before.isdigit() and len(before) < 18 else None,
    )
    return render_template(
        "policy/audit.html",
        entries=found,
        filters={k: args.get(k, "") for k in ("who", "what", "from", "to")},
        broken=audit.verify(db.session),
        more=found[-1].id if len(found) == PAGE else None,
    )


@bp.get("/reports/audit")
@page_roles("admin", "receptionist", "host")
def report():
    _require_auditor()
    try:
        first = audit_report.parse_month(request.args.get("month"))
    except ValueError:
        return render_template(
            "policy/audit_report.html", report=None, error="month: YYYY-MM", month=""
        ), 422
    return render_template(
        "policy/audit_report.html",
        report=audit_report.build(first),
        error="",
        month=first.strftime("%Y-%m"),
        rules=violations.rules(),
    )


@bp.get("/reports/audit.pdf")
@page_roles("admin", "receptionist", "host")
def report_pdf():
    _require_auditor()
    try:
        first = audit_report.parse_month(request.args.get("month"))
    except ValueError:
        abort(422)
    resp = Response(audit_report.pdf(audit_report.build(first)), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="audit-{first:%Y-%m}.pdf"'
    return resp


@bp.post("/violations")
@page_roles("admin", "receptionist", "host")
def record_violation():
    _require_auditor()
    f = request.form
    month = f.get("month", "")
    multiplier = f.get("multiplier", "").strip()
    try:
        violations.record(
            current_user,
            f.get("person", ""),
            f.get("rule", ""),
            f.get("date", ""),
            f.get("note", ""),
            serious=f.get("serious") == "1",
            multiplier=int(multiplier) if multiplier.isascii() and multiplier.isdigit() else None,
        )
    except ServiceError as e:
        first = audit_report.parse_month(month) if month else audit_report.parse_month(None)
        return render_template(
            "policy/audit_report.html",
            report=audit_report.build(first),
            error="",
            month=first.strftime("%Y-%m"),
            rules=violations.rules(),
            violation_errors=e.fields or {"person": e.message},
            form=f,
        ), e.status if e.status < 500 else 400
    return redirect(url_for("audit.report", month=month or None, _anchor="violations"), code=303)
