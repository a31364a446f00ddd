"""The watchlist over the API (admins): ``GET /api/v1/watchlist`` (``?all=1`` with the
removed entries), ``POST`` an entry (``{"name", "company"?, "phone"?, "email"?,
"reason"}`` -> 201), ``DELETE /api/v1/watchlist/<id>`` (soft: 200 with the entry, 404
unknown, 409 ``already_removed``). Matching and auditing: server/services/watchlist.py."""

from flask import g, request

from server.api import bp
from server.api.routes import json_body
from server.auth import api_roles
from server.services import watchlist


@bp.get("/watchlist")
@api_roles("admin")
def list_watchlist():
    """``{"count", "entries": [...]}``, newest first."""
    include_removed = request.args.get("all", "") in ("1", "true", "yes")
    rows = [watchlist.entry_dict(e) for e in watchlist.entries(include_removed)]
    return {"count": len(rows), "entries": rows}


@bp.post("/watchlist")
@api_roles("admin")
def add_to_watchlist():
    """422 ``invalid_entry`` (with ``fields``) or ``invalid_json``; 201 with the entry."""
    return watchlist.entry_dict(watchlist.add(json_body(), by=g.user)), 201


@bp.delete("/watchlist/<int:entry_id>")
@api_roles("admin")
def remove_from_watchlist(entry_id: int):
    return watchlist.entry_dict(watchlist.remove(entry_id, by=g.user))
