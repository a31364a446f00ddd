"""/admin/visits/<id>/edit: reception and admins edit, reschedule, reassign or
cancel any visit (the page is shared with the host's, ``server.visit_form``)."""

from flask import url_for
from flask_login import current_user

from server import visit_form
from server.admin import bp
from server.auth import page_roles


def _home() -> str:
    """Back to the admin's list, or to reception's board for a receptionist."""
    return url_for("admin.index") if current_user.has_role("admin") else url_for("reception.index")


@bp.route("/visits/<int:visit_id>/edit", methods=["GET", "POST"])
@page_roles("admin", "receptionist")
def visit_edit(visit_id: int):
    return visit_form.edit(visit_id, "admin", _home())


@bp.post("/visits/<int:visit_id>/cancel")
@page_roles("admin", "receptionist")
def visit_cancel(visit_id: int):
    return visit_form.cancel(visit_id, "admin", _home())
