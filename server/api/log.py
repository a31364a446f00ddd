"""The log over the API: visits of any day (``GET /api/v1/visits``) and promised
answers of any day (``GET /api/v1/follow-ups``). Hosts get only their own."""

from flask import g, request

from server.api import bp
from server.auth import api_roles
from server.services import follow_ups, visit_log, visits


@bp.get("/visits")
@api_roles("admin", "receptionist", "host")
def list_visits():
    """``?q=&from=&to=&status=&host=&page=`` (see services.visit_log) ->
    ``{"visits", "page", "pages", "total", "per_page"}``; 422 ``invalid_query`` with
    ``fields``. For hosts ``host`` is ignored: they see their own visits."""
    a = request.args
    page = visit_log.search(
        g.user,
        q=a.get("q", ""),
        from_=a.get("from", ""),
        to=a.get("to", ""),
        status=a.get("status", ""),
        host=a.get("host", ""),
        page=a.get("page", 1),
    )
    return {
        "visits": [visits.as_dict(v) for v in page.items],
        "page": page.page,
        "pages": page.pages,
        "total": page.total,
        "per_page": page.per_page,
    }


@bp.get("/follow-ups")
@api_roles("admin", "receptionist", "host")
def list_follow_ups():
    """``?status=open`` (default; or answered, cancelled), earliest deadline first:
    ``{"count", "follow_ups": [...]}``. Hosts: their own; reception and admins: all."""
    rows = follow_ups.listing(g.user, request.args.get("status", "open"))
    return {"count": len(rows), "follow_ups": [follow_ups.as_dict(t) for t in rows]}
