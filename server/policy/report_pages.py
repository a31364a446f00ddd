"""/reports: the charts and tables of server/policy/reports.py over a range of days
(``?from=YYYY-MM-DD&to=YYYY-MM-DD``, default the last 30), and each report's export
at /reports/<report>.csv and /reports/<report>.xlsx (the visit log is ``visits``).
For reception, admins and users with the ``auditor`` duty."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user

from server.auth import page_roles
from server.policy import reports
from server.services.errors import ServiceError

bp = Blueprint("reports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_context_processor
def navigation() -> dict:
    """``may_report()`` for the navigation's link (asked only when a page shows it)."""
    return {"may_report": lambda: reports.may_see(current_user)}


def reporters(view):
    """Signed-in staff (else /login), then reception, admins or auditors (else 403)."""

    @page_roles("admin", "receptionist", "host")
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not reports.may_see(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.get("/reports")
@reporters
def index():
    try:
        rng = reports.parse_range(request.args.get("from"), request.args.get("to"))
    except ServiceError as e:
        return render_template(
            "policy/reports.html",
            rng=None,
            errors=e.fields,
            values={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
            shown=[],
        ), 422
    shown = [reports.build(name, rng) for name in reports.PAGE_REPORTS]
    return render_template(
        "policy/reports.html", rng=rng, errors={}, values=rng.args(), shown=shown
    )


def _export(report_name: str, ext: str):
    try:
        rng = reports.parse_range(request.args.get("from"), request.args.get("to"))
        report = reports.build(report_name, rng)
    except ServiceError as e:
        return Response(f"{e.code}: {e.message}\n", e.status, mimetype="text/plain")
    name = reports.filename(report, rng, ext)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if ext == "csv":
        return Response(
            reports.to_csv(report),
            mimetype="text/csv",
            headers=headers,
        )
    return Response(reports.to_xlsx(report), mimetype=XLSX, headers=headers)


@bp.get("/reports/<report>.csv")
@reporters
def export_csv(report: str):
    return _export(report, "csv")


@bp.get("/reports/<report>.xlsx")
@reporters
def export_xlsx(report: str):
    return _export(report, "xlsx")
