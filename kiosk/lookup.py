"""Finding a booking without the QR code, and leaving by name.

To find a booking the visitor types their surname plus their company (or the last
four digits of their phone); to leave, their surname plus the phone's last four digits
(a name alone is not enough to check someone out: the kiosk sends them to reception,
who can). One match shows a confirm screen with a masked identity ("Ada L. ·
A••••••••• E•••••• · meeting Grace H."); nobody, or several, is one neutral message,
so the kiosk never tells whether a name exists. Every search, found or not, takes a
token from the kiosk's lookup bucket (``KIOSK_LOOKUP_LIMIT`` per 10 minutes, shared by
both ways, kiosk/limits.py); while it is empty the kiosk sends the visitor to reception.

"Yes, that's me" carries a step ticket that says what was found (``found``: "lookup"
or "leave"), so a booking found to check in cannot be used to check someone out.
"""

from collections.abc import Callable
from typing import TypedDict

from flask import g, request

from kiosk import bp
from kiosk.flow import (
    TicketError,
    goodbye,
    proceed,
    read_ticket,
    refused,
    screen,
    ticket_for,
)
from kiosk.limits import LOOKUPS
from server.models import Visit
from server.services import checkin
from server.services import lookup as finder
from server.services.errors import ValidationError

FIELDS = ("surname", "company", "phone_last4")


class Way(TypedDict):
    """One way to find a visitor: its form, its confirm screen, and its finder."""

    form: str
    confirm: str
    check: Callable[..., object]  # raises ValidationError before anything is searched
    find: Callable[..., Visit | None]


WAYS: dict[str, Way] = {
    "lookup": {
        "form": "kiosk/_lookup.html",
        "confirm": "kiosk/_lookup_confirm.html",
        "check": finder.parse,
        "find": finder.find_booking,
    },
    "leave": {
        "form": "kiosk/_leave.html",
        "confirm": "kiosk/_leave_confirm.html",
        "check": lambda surname, phone_last4, **_: finder.parse_leaving(surname, phone_last4),
        "find": finder.find_onsite,
    },
}


def _entries(source) -> dict:
    """What the visitor typed (to find, or to fill the form in again)."""
    return {k: str(source.get(k, ""))[: finder.MAX_TEXT + 1] for k in FIELDS}


def _too_many():
    return refused("too_many_lookups", status=429)


def _form(way: str):
    """GET: the form, filled in from the query (the language switch sends what was typed)."""
    if not LOOKUPS.available(g.kiosk.id).ok:
        return _too_many()
    return screen(WAYS[way]["form"], values=_entries(request.args), errors={})


def _find(way: str):
    """POST: find the visitor; one match -> confirm, else the neutral message. Every
    search takes a token (a found booking tells something too); a form sent back for
    a missing field searched nothing and takes none."""
    values = _entries(request.form)
    try:
        WAYS[way]["check"](**values)
    except ValidationError as e:
        if way == "leave" and e.fields == {"phone_last4": "phone_required"}:
            # A name alone checks nobody out: reception can (they see who it is).
            return screen("kiosk/_see_reception.html", reason="leave_at_desk")
        return screen(WAYS[way]["form"], values=values, errors=e.fields)
    if not LOOKUPS.take(g.kiosk.id).ok:
        return _too_many()
    visit = WAYS[way]["find"](**values)
    if visit is None:
        return screen(WAYS[way]["form"], values=values, errors={}, not_found=True)
    return _confirm(way, visit, values)


def _confirm(way: str, visit, values: dict):
    return screen(
        WAYS[way]["confirm"],
        identity=finder.masked_identity(visit),
        values=values,
        ticket=ticket_for(visit, found=way),
    )


def _found(way: str, token):
    visit, steps = read_ticket(token)
    if steps.pop("found", None) != way:
        raise TicketError("ticket_invalid", "start again")
    return visit, steps


@bp.route("/lookup", methods=["GET", "POST"])
def lookup():
    """I have an appointment but no QR code."""
    return _find("lookup") if request.method == "POST" else _form("lookup")


@bp.route("/lookup/confirm", methods=["GET", "POST"])
def lookup_confirm():
    """GET: the confirm screen again (language switch); POST: "Yes, that's me", on to
    the next step (rules, photo, check-in)."""
    if request.method == "GET":
        visit, _ = _found("lookup", request.args.get("ticket"))
        return _confirm("lookup", visit, _entries(request.args))
    visit, steps = _found("lookup", request.form.get("ticket"))
    return proceed(visit, steps)


@bp.route("/leave", methods=["GET", "POST"])
def leave():
    """I'm leaving: find the visitor among those in the building."""
    return _find("leave") if request.method == "POST" else _form("leave")


@bp.route("/leave/confirm", methods=["GET", "POST"])
def leave_confirm():
    """GET: the confirm screen again; POST: check out and say goodbye (a repeat of
    the same check-out says goodbye again)."""
    if request.method == "GET":
        visit, _ = _found("leave", request.args.get("ticket"))
        return _confirm("leave", visit, _entries(request.args))
    visit, _ = _found("leave", request.form.get("ticket"))
    return goodbye(checkin.check_out(visit.code).visit)
