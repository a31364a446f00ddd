"""/host: the host's visitors of today, refreshed live (htmx fragment on events)."""
from flask import render_template
from flask_login import current_user

from server.auth import page_roles
from server.extensions import htmx
from server.host import bp
from server.services import visits


@bp.get("/", strict_slashes=False)
@page_roles("host")
def index():
    today = visits.today(host=current_user)
    if htmx:
        return render_template("host/_visits.html", visits=today)
    return render_template("host/index.html", visits=today)
