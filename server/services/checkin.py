"""Checking visitors in and out: the heart of Lobby (after pretix's perform_checkin).

``check_in`` runs in one write transaction and is idempotent: a visit is checked in
once; scanning again returns that same check-in with ``created=False`` and sends no
second alert and no second badge. Many devices scanning one code at once serialise
on the row (SQLite's write lock, PostgreSQL's FOR UPDATE), so exactly one wins.
Refusals raise CheckInError with a stable code:

- ``unknown_code`` (404): no visit has this code
- ``cancelled`` (409): the visit was cancelled
- ``not_today`` (409): the visit is expected on another day
- ``already_checked_out`` (409): the visitor has left
- ``not_checked_in`` (409): a check-out for a visitor who never arrived
"""
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import Kiosk, PrintJob, Visit, utcnow
from server.services import clock, printing
from server.services.devices import resolve_printer
from server.services.errors import CheckInError, NotFound, ValidationError
from server.services.tx import write

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


@dataclass
class CheckIn:
    visit: Visit
    created: bool  # False: the same check-in (or check-out) returned again


def normalise_code(raw) -> str:
    """The code from what a scanner typed: the code itself or a URL ending in it."""
    if not isinstance(raw, str):
        raise ValidationError("invalid_code", "code must be text", fields={"code": "must be text"})
    text = raw.strip()
    if "/" in text:
        text = urlsplit(text).path.rstrip("/").rsplit("/", 1)[-1]
    if not CODE_RE.match(text):
        raise CheckInError("unknown_code", "this code is not a Lobby visit", status=404)
    return text


def _locked_visit(session, code: str) -> Visit:
    visit = session.scalar(select(Visit).where(Visit.code == code).with_for_update(of=Visit))
    if visit is None:
        raise CheckInError("unknown_code", "no visit has this code", status=404)
    return visit


def _kiosk(session, kiosk) -> Kiosk | None:
    if kiosk is None or isinstance(kiosk, Kiosk):
        return kiosk
    found = session.scalar(select(Kiosk).where(Kiosk.name == kiosk))
    if found is None:
        raise NotFound("unknown_kiosk", f"no kiosk named {kiosk}")
    return found


def check_in(code, kiosk: Kiosk | str | None = None, printer: str | None = None) -> CheckIn:
    """Check the visit with ``code`` in; queue its badge; alert its host after commit."""
    code = normalise_code(code)
    with write() as session:
        visit = _locked_visit(session, code)
        if visit.status == "checked_in":
            return CheckIn(visit, created=False)
        if visit.status == "cancelled":
            raise CheckInError("cancelled", "this visit was cancelled")
        if visit.status == "checked_out":
            raise CheckInError("already_checked_out", "this visitor has already left")
        start, end = clock.today_bounds()
        if visit.expected_at is not None and not start <= visit.expected_at < end:
            raise CheckInError("not_today", "this visit is expected on another day")
        kiosk_obj = _kiosk(session, kiosk)
        printer_obj, url = resolve_printer(session, kiosk_obj, printer)
        visit.status = "checked_in"
        visit.checked_in_at = utcnow()
        visit.kiosk_id = kiosk_obj.id if kiosk_obj else None
        session.add(PrintJob(visit_id=visit.id, printer_id=printer_obj.id if printer_obj else None,
                             printer_url=url))
        session.flush()
        rooms = realtime.visit_rooms(visit) + ([f"kiosk:{kiosk_obj.id}"] if kiosk_obj else [])
        event = realtime.record(session, "visitor_arrived", realtime.arrival_payload(visit), rooms)
    realtime.announce([event])
    printing.wake()
    return CheckIn(visit, created=True)


def check_out(code) -> CheckIn:
    """Check a checked-in visitor out (idempotent: a repeat returns the same check-out)."""
    code = normalise_code(code)
    with write() as session:
        visit = _locked_visit(session, code)
        if visit.status == "checked_out":
            return CheckIn(visit, created=False)
        if visit.status == "cancelled":
            raise CheckInError("cancelled", "this visit was cancelled")
        if visit.status != "checked_in":
            raise CheckInError("not_checked_in", "this visitor has not checked in")
        visit.status = "checked_out"
        visit.checked_out_at = utcnow()
        event = realtime.record(session, "visitor_left", realtime.departure_payload(visit),
                                realtime.visit_rooms(visit))
    realtime.announce([event])
    return CheckIn(visit, created=True)


def scan(code, kiosk: Kiosk | None = None) -> tuple[str, CheckIn]:
    """What the kiosk does with a scanned code: ("welcome", check-in) for an invitation,
    ("goodbye", check-out) for the badge of a visitor checked in longer ago than the
    grace period; a double-read within the grace period is the same check-in."""
    code = normalise_code(code)
    visit = db.session.scalar(select(Visit).where(Visit.code == code))
    if visit is not None and visit.status == "checked_in":
        grace = timedelta(seconds=current_app.config["CHECKOUT_GRACE_SECONDS"])
        if utcnow() - visit.checked_in_at >= grace:
            return "goodbye", check_out(code)
    return "welcome", check_in(code, kiosk=kiosk)
