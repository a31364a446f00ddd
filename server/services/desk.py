"""Requests the kiosk leaves for the reception desk: a walk-in with no host to route
(``route_walk_in``), a visitor who declined the site rules (``rules_declined``), a badge
that did not print (``badge_failed``), a visitor asking for help (``help``), a visitor
whose code the kiosk refused (``turned_away``: reception may let them in), a check-in
or walk-in that matched the watchlist (``watchlist_match``: the same, with who and why).

Each is recorded with an event ``desk_request`` to the reception room, so the desk sees
it live; a retried kiosk request (same ``attempt_key``) is one request.
"""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import realtime
from server.extensions import db
from server.models import DESK_REQUEST_KINDS, DeskRequest, Kiosk, User, Visit, utcnow
from server.services import clock
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.tx import write


def request_dict(req: DeskRequest) -> dict:
    visit = req.visit
    return {
        "id": req.id,
        "kind": req.kind,
        "status": req.status,
        "visit_id": req.visit_id,
        "visitor": (
            {"name": visit.visitor.name, "company": visit.visitor.company}
            if visit is not None
            else {"name": req.details.get("name", ""), "company": req.details.get("company", "")}
        ),
        "kiosk": req.kiosk.name if req.kiosk is not None else None,
        "details": req.details,
        "created_at": clock.iso(req.created_at),
        "handled_at": clock.iso(req.handled_at),
    }


def open_request(
    kind: str,
    visit: Visit | None = None,
    kiosk: Kiosk | None = None,
    details: dict | None = None,
    attempt_key: str | None = None,
) -> DeskRequest:
    """Record a request for reception and tell the desk live. Idempotent per
    ``attempt_key``: the same key returns the request made the first time."""
    if kind not in DESK_REQUEST_KINDS:
        raise ValidationError("invalid_kind", f"unknown desk request {kind!r}")
    if attempt_key:
        existing = _by_attempt(attempt_key)
        if existing is not None:
            return existing
    try:
        with write() as session:
            req = DeskRequest(
                kind=kind,
                visit_id=visit.id if visit else None,
                kiosk_id=kiosk.id if kiosk else None,
                details=details or {},
                attempt_key=attempt_key or None,
            )
            session.add(req)
            session.flush()
            event = realtime.record(session, "desk_request", request_dict(req), ["reception"])
    except IntegrityError:  # the same attempt raced in from a retry: it is one request
        db.session.rollback()
        existing = _by_attempt(attempt_key) if attempt_key else None
        if existing is None:
            raise
        return existing
    realtime.announce([event])
    return req


def _by_attempt(key: str) -> DeskRequest | None:
    return db.session.scalar(select(DeskRequest).where(DeskRequest.attempt_key == key))


def turned_away(visit: Visit, kiosk: Kiosk | None, reason: str) -> DeskRequest:
    """The kiosk refused ``visit``'s code (``reason``: cancelled, not_today,
    already_checked_out): reception is asked to see the visitor, and may let them in.
    One open request per visit: scanning again does not pile up requests."""
    existing = db.session.scalar(
        select(DeskRequest).where(
            DeskRequest.kind == "turned_away",
            DeskRequest.visit_id == visit.id,
            DeskRequest.status == "open",
        )
    )
    if existing is not None:
        return existing
    return open_request("turned_away", visit=visit, kiosk=kiosk, details={"reason": reason})


def watchlist_match(
    details: dict,
    visit: Visit | None = None,
    kiosk: Kiosk | None = None,
    attempt_key: str | None = None,
) -> DeskRequest:
    """A check-in or walk-in matched the watchlist (services/watchlist.py): reception
    is asked to see the visitor, with who and why in ``details``; the event
    ``watchlist_match`` goes to the reception room only (never the host or a kiosk).
    One open request per visit (and per kiosk attempt): trying again does not pile up
    requests or alerts."""
    if attempt_key:
        existing = _by_attempt(attempt_key)
        if existing is not None:
            return existing
    try:
        with write() as session:
            if visit is not None:  # parallel scans make one request: they queue on the
                # write lock (SQLite) or on the visit's row (PostgreSQL: FOR UPDATE)
                session.execute(select(Visit.id).where(Visit.id == visit.id).with_for_update())
                existing = session.scalar(
                    select(DeskRequest).where(
                        DeskRequest.kind == "watchlist_match",
                        DeskRequest.visit_id == visit.id,
                        DeskRequest.status == "open",
                    )
                )
                if existing is not None:
                    return existing
            req = DeskRequest(
                kind="watchlist_match",
                visit_id=visit.id if visit else None,
                kiosk_id=kiosk.id if kiosk else None,
                details=details,
                attempt_key=attempt_key or None,
            )
            session.add(req)
            session.flush()
            data = request_dict(req)
            events = [
                realtime.record(session, "desk_request", data, ["reception"]),
                realtime.record(
                    session, "watchlist_match", {**data, "request_id": req.id}, ["reception"]
                ),
            ]
    except IntegrityError:  # the same kiosk attempt raced in from a retry
        db.session.rollback()
        existing = _by_attempt(attempt_key) if attempt_key else None
        if existing is None:
            raise
        return existing
    realtime.announce(events)
    return req


def close_watchlist_matches(visit_id: int, user: User) -> None:
    """Reception let the visitor in: their open ``watchlist_match`` requests are done."""
    with write() as session:
        reqs = session.scalars(
            select(DeskRequest).where(
                DeskRequest.kind == "watchlist_match",
                DeskRequest.visit_id == visit_id,
                DeskRequest.status == "open",
            )
        ).all()
        events = []
        for req in reqs:
            req.status, req.handled_at, req.handled_by_id = "done", utcnow(), user.id
            events.append(
                realtime.record(session, "desk_request", request_dict(req), ["reception"])
            )
    realtime.announce(events)


def open_requests() -> list[DeskRequest]:
    return list(
        db.session.scalars(
            select(DeskRequest).where(DeskRequest.status == "open").order_by(DeskRequest.created_at)
        )
    )


def handle(request_id: int, user: User) -> DeskRequest:
    """Mark a request done by ``user`` (reception or admin); the desk sees it go."""
    with write() as session:
        req = session.get(DeskRequest, request_id)
        if req is None:
            raise NotFound("not_found", f"no desk request {request_id}")
        if req.status != "open":
            raise Conflict("already_handled", "this request was already handled")
        req.status, req.handled_at, req.handled_by_id = "done", utcnow(), user.id
        event = realtime.record(session, "desk_request", request_dict(req), ["reception"])
    realtime.announce([event])
    return req
