"""/reception: today's expected, arrived (on site) and departed visitors, printer
health with each printer's last job, and badge reprints — all live."""
from flask import render_template, request
from flask_login import current_user

from server.auth import page_roles
from server.extensions import htmx
from server.reception import bp
from server.services import printing, visits
from server.services.errors import ServiceError


def _board() -> dict:
    today = visits.today()
    return {
        "expected": [v for v in today if v.status == "expected"],
        "onsite": [v for v in today if v.status == "checked_in"],
        "left": [v for v in today if v.status == "checked_out"],
        "printers": [printing.printer_dict(p) for p in printing.printers()],
    }


@bp.get("/", strict_slashes=False)
@page_roles("receptionist", "admin")
def index():
    board = _board()
    if htmx:
        return render_template("reception/_board.html", **board)
    return render_template("reception/index.html", **board)


@bp.post("/visits/<int:visit_id>/badge")
@page_roles("receptionist", "admin")
def reprint(visit_id: int):
    """Reprint a badge from the desk; the reason is required and recorded."""
    try:
        job = printing.reprint(visit_id, request.form.get("reason", ""), requested_by=current_user)
    except ServiceError as e:
        return render_template("reception/_reprint_result.html", error=e.message), 200
    return render_template("reception/_reprint_result.html", job=job), 200, \
        {"HX-Trigger": "lobby:refresh"}
