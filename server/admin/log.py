"""/admin/log: the visitor log for admins — the reception page's search, table and
CSV (server/reception/log.py), its form pointing here."""

from server.admin import bp
from server.auth import page_roles
from server.reception.log import render_log


@bp.get("/log")
@page_roles("admin")
def log():
    return render_log("admin.log")
