"""/host/visits/<id>/edit: a host edits, reschedules or cancels their own visit
(not someone else's: 403; the host stays the host). The page is shared with
reception's, ``server.visit_form``."""

from flask import url_for

from server import visit_form
from server.auth import page_roles
from server.host import bp


@bp.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@page_roles("host")
def visit_edit(visit_id: int):
    return visit_form.edit(visit_id, "host", url_for("host.index"))


@bp.post("/visits/<int:visit_id>/cancel")
@page_roles("host")
def visit_cancel(visit_id: int):
    return visit_form.cancel(visit_id, "host", url_for("host.index"))
