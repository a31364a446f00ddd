"""Walk-ins at the kiosk: "I don't have an appointment".

The form asks for name, company, phone, the purpose (the policy's purposes as large
choices) and the host, found by typing part of their name: ``/kiosk/hosts`` answers
with at most eight buttons (name and department only); tapping one asks
``/kiosk/hosts/pick`` for the chosen host's card, which holds the hidden ``host_id``.

With a host the visit is created and goes on like a booking (rules, photo, check-in:
the host is alerted, the badge prints). Without one, reception is asked to route the
visitor and the kiosk says "please see reception". The form's ``attempt`` makes a
retried submit the same visit (or request).
"""

from flask import g, render_template, request

from kiosk import bp
from kiosk.flow import attempt_key, new_attempt, proceed, screen
from server.models import Visit
from server.services import walk_ins
from server.services.errors import ValidationError

FIELDS = ("name", "company", "phone", "purpose", "purpose_other", "host_id", "host_q")


def _values(source) -> dict:
    return {k: str(source.get(k, ""))[:300] for k in FIELDS}


def _form(values: dict, errors: dict | None = None):
    host = walk_ins.active_host(values.get("host_id"))
    options = walk_ins.search_hosts(values["host_q"]) if values["host_q"] and not host else []
    return screen(
        "kiosk/_walk_in.html",
        values=values,
        errors=errors or {},
        purposes=walk_ins.PURPOSES,
        host=host,
        host_options=options,
    )


@bp.route("/walk-in", methods=["GET", "POST"])
def walk_in():
    """GET: the form (filled in from the query: the language switch keeps what was
    typed). POST: register the walk-in."""
    if request.method == "GET":
        return _form(_values(request.args))
    values = _values(request.form)
    try:
        result = walk_ins.register(
            request.form,
            kiosk=g.kiosk,
            language=g.language,
            # Always a key of this kiosk: the walk-in limit counts visits by it.
            attempt_key=attempt_key(request.form) or f"k{g.kiosk.id}:{new_attempt()}",
        )
    except ValidationError as e:
        return _form(values, e.fields)
    if isinstance(result, Visit):
        return proceed(result)
    return screen("kiosk/_see_reception.html", reason="route_walk_in")


@bp.get("/hosts")
def hosts():
    """The host search's suggestions: at most eight buttons, name and department."""
    q = request.args.get("q", request.args.get("host_q", ""))
    return render_template("kiosk/_hosts.html", hosts=walk_ins.search_hosts(q), q=q.strip())


@bp.get("/hosts/pick")
def pick_host():
    """The host field with ``host_id`` chosen (or, without one, the search again)."""
    return render_template(
        "kiosk/_walk_in_host.html",
        host=walk_ins.active_host(request.args.get("host_id")),
        values={"host_q": ""},
        errors={},
        host_options=[],
    )
