"""Socket.IO: who may connect, which rooms they join, and every live event.

Events are appended to the durable log (``record``) inside the service's
transaction and pushed (``announce``) only after it commits, so a client never hears
of a change that was rolled back. Socket.IO delivers at most once; a client that
missed something asks ``replay`` with the last ``seq`` it saw.

Rooms: ``host:<user id>`` (a host's own visitors), ``reception`` (receptionists and
admins), ``kiosk:<id>`` (one paired kiosk).
"""

from dataclasses import dataclass
from typing import cast

from flask import request, session
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room
from sqlalchemy import Table, bindparam, insert, select

from server.extensions import db, socketio
from server.models import Event, Visit, VisitPhoto, utcnow
from server.ops import metrics

KIOSK_COOKIE = "lobby_kiosk"
REPLAY_LIMIT = 1000


def visit_rooms(visit: Visit) -> list[str]:
    """The host's room and reception's; while the host is away, their delegate's too
    (services/away.py: the delegate acts for them). A check-in's row has no ``host``:
    it adds the delegate itself."""
    rooms = [f"host:{visit.host_id}", "reception"]
    # Joined with the visit: no query. A row is not asked (a miss on a Row raises inside).
    host = visit.host if isinstance(visit, Visit) else None
    if host is not None and host.delegate_id and host.away_until and host.away_until > utcnow():
        rooms.append(f"host:{host.delegate_id}")
    return rooms


def record(session_, kind: str, payload: dict, rooms: list[str]) -> Event:
    """Append an event to the log in the caller's transaction; ``seq`` is set on flush."""
    event = Event(kind=kind, payload=payload, rooms=list(rooms))
    session_.add(event)
    session_.flush()
    return event


def announce(events: list[Event]) -> None:
    """Push committed events to their rooms (a client in two rooms gets one copy)."""
    for event in events:
        socketio.emit(event.kind, event.message(), to=event.rooms)
        metrics.alert_sent(event.kind, event.rooms)


@dataclass
class EventRow:
    """An event appended with a Core INSERT (the hot path): no ORM object to reload."""

    seq: int
    kind: str
    payload: dict
    rooms: list[str]


# cast: declarative types ``__table__`` as FromClause; on a mapped class it is its Table.
_APPEND = insert(cast(Table, Event.__table__)).values(
    kind=bindparam("kind"),
    payload=bindparam("payload"),
    rooms=bindparam("rooms"),
    created_at=bindparam("created_at"),
)


def record_row(conn, kind: str, payload: dict, rooms: list[str]) -> EventRow:
    """Like ``record`` but one plain INSERT; the message is kept in memory for announce."""
    seq = conn.execute(
        _APPEND,
        {"kind": kind, "payload": payload, "rooms": list(rooms), "created_at": utcnow()},
    ).inserted_primary_key[0]
    return EventRow(seq, kind, payload, rooms)


def announce_rows(rows: list[EventRow]) -> None:
    for row in rows:
        socketio.emit(row.kind, {**row.payload, "seq": row.seq}, to=row.rooms)
        metrics.alert_sent(row.kind, row.rooms)


_HAS_PHOTO = select(VisitPhoto.visit_id).where(VisitPhoto.visit_id == bindparam("visit_id"))


def arrival_payload(
    visit: Visit, arrived_at=None, kiosk: str | None = None, photo: bool | None = None
) -> dict:
    """``photo``: whether the kiosk took one, when the caller already knows (else looked up)."""
    from server.services import away  # local imports: services import this module
    from server.services.clock import iso

    delegate = away.acting_delegate(visit.host)
    extra = {"for_host": visit.host.name} if delegate is not None else {}
    return {
        "visit_id": visit.id,
        "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
        "host": {"id": visit.host_id, "name": visit.host.name},
        "arrived_at": iso(arrived_at or visit.checked_in_at),
        "kiosk": kiosk if kiosk is not None else (visit.kiosk.name if visit.kiosk_id else None),
        # Where to meet them (the request's arrangement sheet books it): "→ Room 3".
        "room": visit.meeting_room or None,
        # Whether the kiosk took a photo: the host's alert shows it (one key lookup).
        "photo": photo
        if photo is not None
        else db.session.scalar(_HAS_PHOTO, {"visit_id": visit.id}) is not None,
        # While the host is away: who meets the visitor instead, and for whom.
        "delegate": away.delegate_dict(delegate),
        **extra,
    }


def departure_payload(visit: Visit) -> dict:
    from server.services.clock import iso

    return {
        "visit_id": visit.id,
        "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
        "host": {"id": visit.host_id, "name": visit.host.name},
        "left_at": iso(visit.checked_out_at),
    }


def _rooms_for_connection(auth) -> tuple[list[str], tuple | None]:
    """The rooms a connecting client joins and the credential it connected with (what
    the socket guard checks every two seconds: when it ends, the socket is cut)."""
    from server.services import devices, people, sessions

    user = None
    credential: tuple | None = None
    if isinstance(auth, dict) and auth.get("token"):
        user = people.user_for_token(str(auth["token"]))
        token_id = sessions.token_id(str(auth["token"])) if user is not None else None
        user, credential = (user, ("token", token_id)) if token_id else (None, None)
    elif current_user.is_authenticated:  # the user loader checked the login session
        user, credential = current_user, ("session", sessions.current_id())
    if user is not None:
        # Their own room: approvals waiting on them, their requests' progress.
        rooms = [f"user:{user.id}"]
        if user.has_role("host"):
            rooms.append(f"host:{user.id}")
        if user.is_staff_desk:
            rooms.append("reception")
        if user.department:  # tours on this department's floor
            rooms.append(f"dept:{user.department}")
        return rooms, credential
    kiosk = devices.kiosk_for_credential(request.cookies.get(KIOSK_COOKIE))
    if kiosk is None or not kiosk.secret_hash:
        return [], None
    return [f"kiosk:{kiosk.id}"], ("kiosk", kiosk.id, kiosk.secret_hash)


@socketio.on("connect")
def on_connect(auth=None):
    from server.auth import sockets

    rooms, credential = _rooms_for_connection(auth)
    if not rooms or credential is None or credential[1] is None:
        raise ConnectionRefusedError("unauthorized")
    for room in rooms:
        join_room(room)
    session["lobby_rooms"] = rooms
    sockets.track(request.sid, credential)
    emit("hello", {"rooms": rooms, "last_seq": last_seq()})
    metrics.socket_connected()


@socketio.on("disconnect")
def on_disconnect(*_reason):
    from server.auth import sockets

    sockets.forget(request.sid)
    metrics.socket_disconnected()  # only accepted connections get here


@socketio.on("replay")
def on_replay(data=None):
    """Re-send, to this client only and in order, the events after ``since`` that were
    addressed to its rooms. Returns (as the ack) the last seq sent or known."""
    since = data.get("since") if isinstance(data, dict) else None
    # A seq is a database integer: 2**63 and beyond would overflow the query.
    if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since < 2**63:
        return {"error": {"code": "invalid_since", "message": "since must be a seq >= 0"}}
    rooms = set(session.get("lobby_rooms", []))
    last = since
    events = db.session.scalars(
        select(Event).where(Event.seq > since).order_by(Event.seq).limit(REPLAY_LIMIT)
    )
    for event in events:
        last = event.seq
        if rooms & set(event.rooms):
            emit(event.kind, event.message())
    return {"last_seq": last}


def last_seq() -> int:
    return db.session.scalar(select(db.func.max(Event.seq))) or 0
