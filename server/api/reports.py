"""Reports over the API: ``GET /api/v1/reports/<report>.csv`` and ``.xlsx``
(``?from=YYYY-MM-DD&to=YYYY-MM-DD``, default the last 30 days; server/policy/reports.py
holds the queries). Reception, admins and users with the ``auditor`` duty; an unknown
report is ``unknown_report`` (404), bad dates ``invalid_range`` (422 with ``fields``)."""

from flask import Response, g, request

from server.api import bp
from server.auth import api_roles
from server.policy import reports
from server.services.errors import Forbidden

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(name: str) -> tuple[reports.Report, reports.Range]:
    if not reports.may_see(g.user):
        raise Forbidden("forbidden", "reports are for reception, admins and auditors")
    rng = reports.parse_range(request.args.get("from"), request.args.get("to"))
    return reports.build(name, rng), rng


def _headers(report: reports.Report, rng: reports.Range, ext: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{reports.filename(report, rng, ext)}"'}


@bp.get("/reports/<report>.csv")
@api_roles("admin", "receptionist", "host")
def report_csv(report: str):
    found, rng = _report(report)
    return Response(
        reports.to_csv(found),
        mimetype="text/csv",
        headers=_headers(found, rng, "csv"),
    )


@bp.get("/reports/<report>.xlsx")
@api_roles("admin", "receptionist", "host")
def report_xlsx(report: str):
    found, rng = _report(report)
    return Response(reports.to_xlsx(found), mimetype=XLSX, headers=_headers(found, rng, "xlsx"))
