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
- ``see_reception`` (409): the visitor matched the watchlist (services/watchlist.py);
  reception is told who and why, the visitor only to see reception

A visit with ``valid_until`` checks in and out each day from its expected day until
then: scanned on a later day after leaving, it arrives again (a new badge, a new alert).
Reception may let in a visitor the kiosk turned away (``cancelled``, ``not_today``,
``already_checked_out``) with ``admit_reason``: who and why are kept on the visit.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import cast
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Table, bindparam, exists, insert, select, update

from server import realtime
from server.extensions import db
from server.models import LANGUAGES, Kiosk, PrintJob, User, Visit, VisitPhoto, utcnow
from server.services import clock, printing, watchlist
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
        try:
            text = urlsplit(text).path.rstrip("/").rsplit("/", 1)[-1]
        except ValueError:  # no URL at all ("http://[x/...": a broken IPv6 host)
            text = ""
    if not CODE_RE.match(text):
        raise CheckInError("unknown_code", "this code is not a Lobby visit", status=404)
    return text


# Built once: the hot path only binds values (no statement building per scan).
# The visit (with its visitor and host: joined by the model) and whether the kiosk took
# its photo (the alert says so), in one statement.
_READ_VISIT = select(Visit, exists().where(VisitPhoto.visit_id == Visit.id).label("photo")).where(
    Visit.code == bindparam("code")
)
# Declarative types ``__table__`` as FromClause; on a mapped class it is its Table.
_visits, _jobs = cast(Table, Visit.__table__), cast(Table, PrintJob.__table__)
_MARK_ARRIVED = (
    update(_visits)
    .where(_visits.c.id == bindparam("visit_id"), _visits.c.status == bindparam("was"))
    .values(
        status="checked_in",
        checked_in_at=bindparam("now"),
        kiosk_id=bindparam("kiosk_id"),
        language=bindparam("language"),
        checked_out_at=None,
        checked_in_by_id=bindparam("by_id"),
        admitted_by_id=bindparam("admitted_by_id"),
        admit_reason=bindparam("admit_reason"),
    )
)
_QUEUE_BADGE = insert(_jobs).values(
    visit_id=bindparam("visit_id"),
    printer_id=bindparam("printer_id"),
    printer_url=bindparam("url"),
    created_at=bindparam("now"),
    status="queued",
    error="",
    attempts=0,
    reason="check-in",
)


def _read_visit(session, code: str) -> Visit:
    """The visit with its visitor and host (joined by the model) and ``has_photo``."""
    row = session.execute(_READ_VISIT, {"code": code}).first()
    if row is None:
        raise CheckInError("unknown_code", "no visit has this code", status=404)
    visit, visit.has_photo = row
    return visit


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


def valid_today(visit: Visit) -> bool:
    """Whether today (local) is within the visit's days: its expected day, through
    ``valid_until`` for a visit over several days. A visit with no time is any day."""
    if visit.expected_at is None:
        return True
    today = clock.to_local(utcnow()).date()
    first = clock.to_local(visit.expected_at).date()
    return first <= today <= (visit.valid_until or first)


def returns_today(visit: Visit) -> bool:
    """A visit over several days whose visitor left on an earlier day and may arrive
    again today (the same code, each day until ``valid_until``)."""
    if visit.status != "checked_out" or visit.valid_until is None or not visit.checked_out_at:
        return False
    start, _ = clock.today_bounds()
    return visit.checked_out_at < start and valid_today(visit)


def refuse_if_not_admissible(visit: Visit) -> None:
    """Raise the stable refusal for a visit that cannot check in now (cancelled, left,
    expected on another day); return quietly for one that can (or already did)."""
    error: CheckInError | None = None
    if visit.status == "cancelled":
        error = CheckInError("cancelled", "this visit was cancelled")
    elif visit.status == "checked_out" and not returns_today(visit):
        error = CheckInError("already_checked_out", "this visitor has already left")
    elif visit.status in ("expected", "checked_out") and not valid_today(visit):
        error = CheckInError("not_today", "this visit is expected on another day")
    if error is not None:
        error.visit = visit
        raise error


def check_in(
    code,
    kiosk: Kiosk | str | None = None,
    printer: str | None = None,
    language: str | None = None,
    by: User | None = None,
    admit_reason: str | None = None,
) -> CheckIn:
    """Check the visit with ``code`` in; queue its badge; alert its host after commit.
    ``language`` ("zh" or "en") is the visitor's choice at the kiosk: the badge and
    the goodbye follow it (unchanged when None). ``by`` is the member of staff who
    checked the visitor in at the desk. With ``admit_reason`` (and ``by``), reception
    lets in a visitor the kiosk would refuse (cancelled, another day, already left);
    the reason and who gave it are kept on the visit.

    Everything that only reads (the visit, the refusals, the printer, the alert's
    payload) happens before the write lock; the locked part is one conditional UPDATE
    (``WHERE status = <the status read>``) and two INSERTs, SQLAlchemy Core statements
    on every database (one path: SQLite and PostgreSQL alike), so scanners queue for
    as short a time as possible. The UPDATE is the arbiter: of many parallel scans
    exactly one changes the row; the others see the check-in it made.
    """
    code = normalise_code(code)
    session = db.session()
    visit = _read_visit(session, code)
    if visit.status == "checked_in":  # the same check-in again: the visit as the ORM has it
        current = session.get(Visit, visit.id, populate_existing=True)
        if current is None:  # deleted since the read above
            raise CheckInError("unknown_code", "no visit has this code", status=404)
        return CheckIn(current, created=False)
    # Reception admitting a visitor the kiosk would refuse: who, with the reason kept.
    admitted_by = by if admit_reason and by is not None else None
    if admitted_by is not None and admit_reason:
        admit_reason = admit_reason.strip()[:300]
    else:
        refuse_if_not_admissible(visit)
    kiosk_obj = _kiosk(session, kiosk)
    if admitted_by is None:  # the watchlist: no query at all while it is empty
        watchlist.screen(visit, kiosk_obj)
    printer_obj, url = resolve_printer(session, kiosk_obj, printer)
    kiosk_id, kiosk_name = (kiosk_obj.id, kiosk_obj.name) if kiosk_obj else (None, None)
    printer_id = printer_obj.id if printer_obj else None
    now = utcnow()
    rooms = realtime.visit_rooms(visit) + ([f"kiosk:{kiosk_id}"] if kiosk_id else [])
    payload = realtime.arrival_payload(
        visit, arrived_at=now, kiosk=kiosk_name, photo=visit.has_photo
    )
    # Keep what we read: the commit below must not expire it (no reloads after it).
    for obj in {visit, visit.visitor, visit.host, kiosk_obj} - {None}:
        if obj in session:
            session.expunge(obj)
    params = {
        "visit_id": visit.id,
        "now": now,
        "kiosk_id": kiosk_id,
        "printer_id": printer_id,
        "url": url,
        "language": language if language in LANGUAGES else visit.language,
        # The UPDATE only wins from the status read: of parallel scans, one arrives.
        "was": visit.status,
        "by_id": by.id if by is not None else None,
        "admitted_by_id": admitted_by.id if admitted_by is not None else visit.admitted_by_id,
        "admit_reason": admit_reason if admitted_by is not None else visit.admit_reason,
    }
    # Core statements on every database: the ORM adds nothing to three rows.
    with write() as tx:
        conn = tx.connection()
        changed = conn.execute(_MARK_ARRIVED, params).rowcount
        if changed:
            conn.execute(_QUEUE_BADGE, params)
            event = realtime.record_row(conn, "visitor_arrived", payload, rooms)
    if not changed:  # another scanner won the race: answer with its check-in
        return check_in(code, kiosk, printer, language, by, admit_reason)
    realtime.announce_rows([event])  # after the commit: never an arrival rolled back
    visit.status, visit.checked_in_at, visit.kiosk_id = "checked_in", now, kiosk_id
    visit.language, visit.checked_out_at = params["language"], None
    visit.checked_in_by_id = params["by_id"]
    visit.admitted_by_id, visit.admit_reason = params["admitted_by_id"], params["admit_reason"]
    visit.kiosk = kiosk_obj
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
        event = realtime.record(
            session, "visitor_left", realtime.departure_payload(visit), realtime.visit_rooms(visit)
        )
        from server.services import tasks  # tasks -> visits -> checkin: import at use

        ended = tasks.end_tours_on_leaving(session, visit)
    realtime.announce([event, *ended])
    return CheckIn(visit, created=True)


def identify(code) -> tuple[str, Visit]:
    """What a scanned code means, without changing anything: ("arrive", visit) for an
    invitation that may check in now, ("leave", visit) for the badge of a visitor
    checked in longer ago than the grace period, ("welcome", visit) for a double-read
    within it. Refusals raise CheckInError with their stable code."""
    code = normalise_code(code)
    visit = _read_visit(db.session(), code)
    if visit.status == "checked_in":
        grace = timedelta(seconds=current_app.config["CHECKOUT_GRACE_SECONDS"])
        # Every write of status "checked_in" also writes checked_in_at (check_in, _arrive).
        assert visit.checked_in_at is not None
        if utcnow() - visit.checked_in_at >= grace:
            return "leave", visit
        return "welcome", visit
    refuse_if_not_admissible(visit)
    return "arrive", visit


def scan(code, kiosk: Kiosk | None = None, language: str | None = None) -> tuple[str, CheckIn]:
    """Scan and act at once: ("welcome", check-in) for an invitation, ("goodbye",
    check-out) for the badge of a visitor checked in longer ago than the grace period;
    a double-read within the grace period is the same check-in."""
    outcome, visit = identify(code)
    if outcome == "leave":
        return "goodbye", check_out(visit.code)
    return "welcome", check_in(visit.code, kiosk=kiosk, language=language)
