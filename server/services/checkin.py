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
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Table, bindparam, exists, insert, select, update

from server import realtime
from server.extensions import db
from server.models import (
    LANGUAGES,
    Kiosk,
    PrintJob,
    User,
    Visit,
    VisitGroup,
    Visitor,
    VisitPhoto,
    utcnow,
)
from server.services import clock, printing, watchlist
from server.services.devices import resolve_printer
from server.services.errors import CheckInError, NotFound, ValidationError
from server.services.tx import write, write_on

CODE_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class CheckIn:
    """What ``check_in`` or ``check_out`` did. ``created`` is False for the same check-in
    (or check-out) returned again. ``as_dict()`` is the API answer (``visits.as_dict``);
    ``visit`` the ORM visit.

    A check-in that has just happened answers from the row it read (``_answer``), with
    no reload; its ``visit`` is loaded on first use (the kiosk and desk pages want the
    object, the API does not)."""

    def __init__(self, visit: Visit | None, created: bool, answer=None, visit_id: int = 0):
        self._visit, self.created, self._answer = visit, created, answer
        self.visit_id = visit.id if visit is not None else visit_id

    @property
    def visit(self) -> Visit:
        if self._visit is None:
            found = db.session.get(Visit, self.visit_id, populate_existing=True)
            if found is None:  # deleted since
                raise CheckInError("unknown_code", "no visit has this code", status=404)
            self._visit = found
        return self._visit

    def as_dict(self) -> dict:
        if self._answer is not None:
            return self._answer()
        from server.services import visits  # visits imports this module

        return visits.as_dict(self.visit)


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
_visitors, _hosts = cast(Table, Visitor.__table__), cast(Table, User.__table__)
_groups, _photos = cast(Table, VisitGroup.__table__), cast(Table, VisitPhoto.__table__)
# What a check-in needs, in one row: the visit's columns (named as on Visit, so the
# refusals read it as they read a Visit), its visitor, host and group, and whether the
# kiosk took a photo (the alert says so).
_READ = (
    select(
        *(
            _visits.c[name]
            for name in (
                "id",
                "code",
                "status",
                "expected_at",
                "valid_until",
                "purpose",
                "checked_out_at",
                "host_id",
                "meeting_room",
                "acknowledged_at",
                "requirements",
                "kind",
                "stars",
                "group_id",
                "cancelled_at",
                "cancel_reason",
                "admitted_by_id",
                "admit_reason",
                "language",
            )
        ),
        _visitors.c.name.label("visitor_name"),
        _visitors.c.company.label("visitor_company"),
        _visitors.c.email.label("visitor_email"),
        _visitors.c.phone.label("visitor_phone"),
        _visitors.c.title.label("visitor_title"),
        _hosts.c.name.label("host_name"),
        _hosts.c.email.label("host_email"),
        # Whether the host is away, and who meets their visitors then (services/away.py).
        _hosts.c.away_until.label("host_away_until"),
        _hosts.c.delegate_id.label("host_delegate_id"),
        _groups.c.name.label("group_name"),
        exists().where(_photos.c.visit_id == _visits.c.id).label("photo"),
    )
    .select_from(
        _visits.join(_visitors, _visitors.c.id == _visits.c.visitor_id)
        .join(_hosts, _hosts.c.id == _visits.c.host_id)
        .outerjoin(_groups, _groups.c.id == _visits.c.group_id)
    )
    .where(_visits.c.code == bindparam("code"))
)
# The delegate of a host who is away (read only then): one primary-key lookup.
_READ_DELEGATE = select(_hosts.c.id, _hosts.c.name).where(
    _hosts.c.id == bindparam("id"), _hosts.c.active.is_(True)
)


def _delegate(conn, row, now):
    """The active delegate (id, name) of the visit's host when the host is away at
    ``now``, else None. One hop: a delegate away themselves is still the one alerted."""
    away_until, delegate_id = row.host_away_until, row.host_delegate_id
    if away_until is None or away_until <= now or not delegate_id:
        return None
    return conn.execute(_READ_DELEGATE, {"id": delegate_id}).first()


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

    SQLAlchemy Core on every database (one path, SQLite and PostgreSQL alike), on one
    connection: one SELECT of the columns the check-in needs (``_READ``), then the
    refusals, the printer and the alert's payload, all before the write lock; the
    locked part (``tx.write_on``) is one conditional UPDATE (``WHERE status = <the
    status read>``) and two INSERTs, so scanners queue for as short a time as
    possible. The UPDATE is the arbiter: of many parallel scans exactly one changes
    the row; the others see the check-in it made. The answer and the alert are built
    from the row read; no ORM object is loaded unless a caller asks for ``visit``.
    """
    code = normalise_code(code)
    session = db.session()
    # one_read: the read needs no BEGIN/ROLLBACK on SQLite (models/base.py).
    with db.engine.connect().execution_options(one_read=True) as conn:
        # A Row whose names are Visit's: the refusals and visit_rooms read it as a Visit.
        row: Any = conn.execute(_READ, {"code": code}).first()
        if row is None:
            raise CheckInError("unknown_code", "no visit has this code", status=404)
        if row.status == "checked_in":  # the same check-in again: the visit as the ORM has it
            conn.rollback()
            return CheckIn(None, created=False, visit_id=row.id)
        # Reception admitting a visitor the kiosk would refuse: who, with the reason kept.
        admitted_by = by if admit_reason and by is not None else None
        if admitted_by is not None and admit_reason:
            admit_reason = admit_reason.strip()[:300]
        else:
            try:
                refuse_if_not_admissible(row)
            except CheckInError as error:  # the desk is told about the visit: the ORM one
                conn.rollback()
                error.visit = session.get(Visit, row.id)
                raise
        kiosk_obj = _kiosk(session, kiosk)
        if admitted_by is None and watchlist.any_active():  # no query while it is empty
            conn.rollback()
            watchlist.screen(cast(Visit, session.get(Visit, row.id)), kiosk_obj)
        printer_obj, url = resolve_printer(session, kiosk_obj, printer)
        kiosk_id, kiosk_name = (kiosk_obj.id, kiosk_obj.name) if kiosk_obj else (None, None)
        if kiosk_obj is not None and kiosk_obj in session:  # what we read: kept as read
            session.expunge(kiosk_obj)
        now = utcnow()
        delegate = _delegate(conn, row, now)
        rooms = (
            realtime.visit_rooms(row)
            + ([f"host:{delegate.id}"] if delegate is not None else [])
            + ([f"kiosk:{kiosk_id}"] if kiosk_id else [])
        )
        params = {
            "visit_id": row.id,
            "now": now,
            "kiosk_id": kiosk_id,
            "printer_id": printer_obj.id if printer_obj else None,
            "url": url,
            "language": language if language in LANGUAGES else row.language,
            # The UPDATE only wins from the status read: of parallel scans, one arrives.
            "was": row.status,
            "by_id": by.id if by is not None else None,
            "admitted_by_id": admitted_by.id if admitted_by is not None else row.admitted_by_id,
            "admit_reason": admit_reason if admitted_by is not None else row.admit_reason,
        }
        with write_on(conn):
            changed = conn.execute(_MARK_ARRIVED, params).rowcount
            if changed:
                conn.execute(_QUEUE_BADGE, params)
                event = realtime.record_row(
                    conn, "visitor_arrived", _arrival(row, now, kiosk_name, delegate), rooms
                )
    if not changed:  # another scanner won the race: answer with its check-in
        return check_in(code, kiosk, printer, language, by, admit_reason)
    realtime.announce_rows([event])  # after the commit: never an arrival rolled back
    printing.wake()
    return CheckIn(
        None,
        created=True,
        answer=lambda: _answer(row, now, kiosk_name, params["admit_reason"], delegate),
        visit_id=row.id,
    )


def _arrival(row, now, kiosk_name: str | None, delegate=None) -> dict:
    """``realtime.arrival_payload`` of the visit just checked in, from the row read
    (tests compare the two). An away host's delegate is named, with whom they act for."""
    extra = {"for_host": row.host_name} if delegate is not None else {}
    return {
        "visit_id": row.id,
        "visitor": {"name": row.visitor_name, "company": row.visitor_company},
        "host": {"id": row.host_id, "name": row.host_name},
        "arrived_at": clock.iso(now),
        "kiosk": kiosk_name,
        "room": row.meeting_room or None,
        "photo": bool(row.photo),
        "delegate": {"id": delegate.id, "name": delegate.name} if delegate is not None else None,
        **extra,
    }


def _answer(row, now, kiosk_name: str | None, admit_reason: str, delegate=None) -> dict:
    """``visits.as_dict`` of the visit just checked in, from the row read and what the
    check-in wrote (tests compare the two key by key)."""
    iso = clock.iso
    return {
        "id": row.id,
        "code": row.code,
        "status": "checked_in",
        "expected_at": iso(row.expected_at),
        "purpose": row.purpose,
        "checked_in_at": iso(now),
        "checked_out_at": None,
        "visitor": {
            "name": row.visitor_name,
            "company": row.visitor_company,
            "email": row.visitor_email,
            "phone": row.visitor_phone,
            "title": row.visitor_title,
        },
        "host": {"id": row.host_id, "name": row.host_name, "email": row.host_email},
        "kiosk": kiosk_name,
        "meeting_room": row.meeting_room,
        # Just arrived: not out on a tour (Visit.state).
        "state": "with_host" if row.acknowledged_at else "waiting",
        "acknowledged_at": iso(row.acknowledged_at),
        "requirements": row.requirements,
        "kind": row.kind,
        "stars": row.stars,
        "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        "group": {"id": row.group_id, "name": row.group_name} if row.group_id else None,
        "cancelled_at": iso(row.cancelled_at),
        "cancel_reason": row.cancel_reason,
        "admit_reason": admit_reason,
        "feedback_url": None,  # a visit just checked in has not ended
        # Who meets the visitor while the host is away (services/away.py), else None.
        "delegate": {"id": delegate.id, "name": delegate.name} if delegate is not None else None,
    }


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
