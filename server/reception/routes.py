"""/reception: today's expected, arrived (on site) and departed visitors, live."""
from flask import render_template

from server.auth import page_roles
from server.extensions import htmx
from server.reception import bp
from server.services import visits


def _board() -> dict:
    today = visits.today()
    return {
        "expected": [v for v in today if v.status == "expected"],
        "onsite": [v for v in today if v.status == "checked_in"],
        "left": [v for v in today if v.status == "checked_out"],
    }


@bp.get("/", strict_slashes=False)
@page_roles("receptionist", "admin")
def index():
    board = _board()
    if htmx:
        return render_template("reception/_board.html", **board)
    return render_template("reception/index.html", **board)
