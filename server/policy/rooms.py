"""Meeting rooms and their bookings.

- ``add_room(name, capacity, projector)``: ``room_exists`` (409), ``invalid_room`` (422).
- ``free_rooms(starts, ends, people)``: active rooms holding ``people`` with no booking
  overlapping ``[starts, ends)``, smallest first (the office assigns by head count).
- ``book(room_id, starts, ends, request_id=None, by=None)``: never overlaps another
  booking of the room (``room_taken``, 409), also when two are made at the same moment:
  the booking transaction locks the room's row (``FOR UPDATE`` on PostgreSQL; SQLite's
  write lock, taken up front by ``tx.write``) before looking for overlaps, so the second
  of two racing bookings sees the first.
- ``cancel(booking_id)``; ``bookings_between(starts, ends)`` for the pages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from server.extensions import db
from server.models import Booking, Room, User, utcnow
from server.services import audit
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.tx import write
from server.services.visits import parse_when

MAX_CAPACITY = 10_000


def rooms(active_only: bool = False) -> list[Room]:
    q = select(Room).order_by(Room.capacity, Room.name)
    if active_only:
        q = q.where(Room.active.is_(True))
    return list(db.session.scalars(q))


def room_by_name(name: str) -> Room | None:
    return db.session.scalar(select(Room).where(func.lower(Room.name) == name.strip().lower()))


def add_room(name, capacity, projector: bool = False, by: User | None = None) -> Room:
    errors = {}
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
        errors["name"] = "a name of 1 to 120 characters"
    if (
        isinstance(capacity, bool)
        or not isinstance(capacity, int)
        or not (1 <= capacity <= MAX_CAPACITY)
    ):
        errors["capacity"] = f"a whole number from 1 to {MAX_CAPACITY}"
    if errors:
        raise ValidationError("invalid_room", "the room is not valid", fields=errors)
    name = " ".join(name.split())
    with write() as session:
        if session.scalar(select(Room).where(func.lower(Room.name) == name.lower())):
            raise Conflict("room_exists", f"a room named {name} exists", fields={"name": "exists"})
        room = Room(name=name, capacity=capacity, projector=bool(projector))
        session.add(room)
        session.flush()
        audit.record(
            session,
            "room.add",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="room",
            target_id=room.id,
            after={"name": name, "capacity": capacity, "projector": bool(projector)},
        )
    return room


def parse_span(starts, ends) -> tuple[datetime, datetime]:
    """Two ISO 8601 date-times (naive = site-local) → naive UTC, ``ends`` after ``starts``."""
    errors = {}
    values: list[datetime] = []
    for key, raw in (("starts_at", starts), ("ends_at", ends)):
        try:
            value = raw if isinstance(raw, datetime) else parse_when(raw)
        except ValueError:
            value = None
        if value is None:
            errors[key] = "an ISO 8601 date-time"
        else:
            values.append(value)
    if not errors and values[1] <= values[0]:
        errors["ends_at"] = "after starts_at"
    if errors:
        raise ValidationError("invalid_booking", "the times are not valid", fields=errors)
    return values[0], values[1]


def _overlapping(session, room_id: int, starts: datetime, ends: datetime, ignore=None):
    q = select(Booking).where(
        Booking.room_id == room_id,
        Booking.cancelled_at.is_(None),
        Booking.starts_at < ends,
        Booking.ends_at > starts,
    )
    if ignore is not None:
        q = q.where(Booking.id != ignore)
    return session.scalar(q.limit(1))


def free_rooms(starts: datetime, ends: datetime, people: int = 1) -> list[Room]:
    taken = select(Booking.room_id).where(
        Booking.cancelled_at.is_(None), Booking.starts_at < ends, Booking.ends_at > starts
    )
    return list(
        db.session.scalars(
            select(Room)
            .where(Room.active.is_(True), Room.capacity >= people, Room.id.not_in(taken))
            .order_by(Room.capacity, Room.name)
        )
    )


def book(
    room_id: int,
    starts,
    ends,
    request_id: int | None = None,
    by: User | None = None,
    note: str = "",
    session=None,
    replaces: int | None = None,
) -> Booking:
    """Book the room (see the module docstring). With ``session``, inside the caller's
    write transaction; ``replaces`` is a booking of the same request being moved."""
    starts, ends = parse_span(starts, ends)
    if session is None:
        with write() as own:
            return book(room_id, starts, ends, request_id, by, note, own, replaces)
    room = session.scalar(select(Room).where(Room.id == room_id).with_for_update())
    if room is None or not room.active:
        raise NotFound("unknown_room", f"no room {room_id}")
    clash = _overlapping(session, room.id, starts, ends, ignore=replaces)
    if clash is not None:
        raise Conflict(
            "room_taken",
            f"{room.name} is booked from {clash.starts_at:%Y-%m-%d %H:%M} to "
            f"{clash.ends_at:%H:%M} UTC",
            fields={"room": "taken at that time"},
        )
    if replaces is not None:
        old = session.get(Booking, replaces)
        if old is not None and old.cancelled_at is None:
            old.cancelled_at = utcnow()
    booking = Booking(
        room_id=room.id,
        starts_at=starts,
        ends_at=ends,
        request_id=request_id,
        created_by_id=by.id if by is not None else None,
        note=note[:200],
    )
    session.add(booking)
    session.flush()
    return booking


def cancel(booking_id: int) -> None:
    with write() as session:
        booking = session.get(Booking, booking_id)
        if booking is None:
            raise NotFound("unknown_booking", f"no booking {booking_id}")
        booking.cancelled_at = booking.cancelled_at or utcnow()


def room_dict(room: Room) -> dict:
    return {
        "id": room.id,
        "name": room.name,
        "capacity": room.capacity,
        "projector": room.projector,
        "active": room.active,
    }


def booking_dict(booking: Booking) -> dict:
    from server.services import clock

    return {
        "id": booking.id,
        "room": room_dict(booking.room),
        "starts_at": clock.iso(booking.starts_at),
        "ends_at": clock.iso(booking.ends_at),
        "request": booking.request_id,
        "cancelled": booking.cancelled_at is not None,
    }
