"""Changing a booked visit: edit or reschedule it, hand it to another host, cancel it.

Both moves check access first (a host only their own visits, ``Forbidden``), write in
one transaction and tell the dashboards after the commit with a ``visit_updated``
event: ``change: "edited"`` (to the old and new host and reception) or
``change: "cancelled"`` with the reason (to the host and reception).
"""

from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import KINDS, User, Visit, utcnow
from server.notify import invitations
from server.services import clock
from server.services.errors import Conflict, Forbidden, ValidationError
from server.services.hosting import visit_payload
from server.services.people import EMAIL_RE
from server.services.tx import write
from server.services.visits import LIMITS, parse_day, parse_when, text_field, visible_visit

VISITOR_FIELDS = ("name", "company", "title", "email", "phone")
VISIT_FIELDS = (
    "visitor",
    "host",
    "expected_at",
    "purpose",
    "meeting_room",
    "kind",
    "stars",
    "valid_until",
)
LIMITS = {**LIMITS, "title": 200, "meeting_room": 120}
REASON_LIMIT = 300


def closed(visit: Visit) -> bool:
    """Cancelled, or left for good (a visit over several days still to come is open)."""
    if visit.status == "cancelled":
        return True
    if visit.status != "checked_out":
        return False
    return visit.valid_until is None or visit.valid_until < clock.to_local(utcnow()).date()


def _visitor_changes(visitor, errors: dict) -> dict:
    if not isinstance(visitor, dict):
        errors["visitor"] = "must be an object"
        return {}
    found = {}
    for key in visitor:
        if key not in VISITOR_FIELDS:
            errors[f"visitor.{key}"] = "unknown field"
    for key in VISITOR_FIELDS:
        if key in visitor:
            found[key] = text_field(visitor, key, errors, LIMITS[key], required=key == "name")
    if found.get("email") and not EMAIL_RE.match(found["email"]):
        errors["email"] = "not an email address"
    if found.get("phone") and not all(c.isdigit() or c in "+-() ." for c in found["phone"]):
        errors["phone"] = "digits, spaces and + - ( ) only"
    return found


def _host(value, visit: Visit, user: User, errors: dict) -> User | None:
    if not isinstance(value, str) or not value.strip():
        errors["host"] = "required"
        return None
    host = db.session.scalar(
        select(User).where(User.email == value.strip().lower(), User.active.is_(True))
    )
    if host is None:
        errors["host"] = "no such host"
    elif host.id != visit.host_id and not user.is_staff_desk:
        raise Forbidden("forbidden", "only reception can hand a visit to another host")
    return host


def _checked(visit: Visit, data: dict, user: User) -> tuple[dict, dict]:
    """(visitor changes, visit changes) from ``data``; every problem at once."""
    if not isinstance(data, dict):
        raise ValidationError(
            "invalid_visit", "the changes must be an object", fields={"visit": "must be an object"}
        )
    errors: dict[str, str] = {k: "unknown field" for k in data if k not in VISIT_FIELDS}
    person = _visitor_changes(data["visitor"], errors) if "visitor" in data else {}
    changes: dict = {}
    if "host" in data:
        host = _host(data["host"], visit, user, errors)
        if host is not None:
            changes["host_id"] = host.id
    if "expected_at" in data:
        try:
            changes["expected_at"] = parse_when(data["expected_at"])
            if changes["expected_at"] is None:
                errors["expected_at"] = "required"
        except ValueError:
            errors["expected_at"] = "must be an ISO 8601 date-time"
    for key in ("purpose", "meeting_room"):
        if key in data:
            changes[key] = text_field(data, key, errors, LIMITS[key])
    if "kind" in data:
        changes["kind"] = data["kind"]
        if data["kind"] not in KINDS:
            errors["kind"] = "one of " + ", ".join(KINDS)
    if "stars" in data:
        stars = data["stars"]
        changes["stars"] = stars
        if stars is not None and (isinstance(stars, bool) or stars not in range(1, 6)):
            errors["stars"] = "1 to 5, or null"
    if "valid_until" in data:
        try:
            changes["valid_until"] = parse_day(data["valid_until"])
        except ValueError:
            errors["valid_until"] = "must be an ISO 8601 date"
    until = changes.get("valid_until", visit.valid_until)
    when = changes.get("expected_at", visit.expected_at)
    if until is not None and "valid_until" not in errors and "expected_at" not in errors:
        if when is None:
            errors["valid_until"] = "needs an expected date to start from"
        elif until < clock.to_local(when).date():
            errors["valid_until"] = "must not be before the expected day"
    if errors:
        raise ValidationError(
            "invalid_visit", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    return person, changes


def update(visit_id: int, data: dict, user: User) -> Visit:
    """Change some of a visit's fields (``data`` as in PATCH /api/v1/visits/<id>:
    ``visitor`` {name, company, title, email, phone}, ``host`` (email; reception and
    admins only), ``expected_at`` (ISO), ``purpose``, ``meeting_room``, ``kind``,
    ``stars`` (1-5 or null), ``valid_until`` (ISO date, not before the expected day)).
    ValidationError ``invalid_visit`` names every problem (and unknown field) at once,
    and nothing is written; ``visit_closed`` (409) for a cancelled or finished visit.
    Unchanged values change nothing and announce nothing."""
    visit = visible_visit(user, visit_id)
    if closed(visit):
        raise Conflict("visit_closed", "this visit is over or cancelled; it cannot be changed")
    person, changes = _checked(visit, data, user)
    person = {k: v for k, v in person.items() if getattr(visit.visitor, k) != v}
    changes = {k: v for k, v in changes.items() if getattr(visit, k) != v}
    if not person and not changes:
        return visit
    old_host = visit.host_id
    with write() as session:
        visit = session.get(Visit, visit_id)
        if closed(visit):  # cancelled while we checked
            raise Conflict("visit_closed", "this visit is over or cancelled; it cannot be changed")
        for key, value in person.items():
            setattr(visit.visitor, key, value)
        for key, value in changes.items():
            setattr(visit, key, value)
        visit.updated_at = utcnow()
        session.flush()
        session.expire(visit, ["host"])  # host_id may have changed: load the new host
        named = sorted(person) + sorted("host" if k == "host_id" else k for k in changes)
        extra = {
            "fields": named,
            "by": user.name,
            "expected_at": clock.iso(visit.expected_at),
            "meeting_room": visit.meeting_room,
        }
        rooms = realtime.visit_rooms(visit)
        if old_host != visit.host_id:  # the old host's board drops it, the new one's gains it
            extra["previous_host_id"] = old_host
            rooms.append(f"host:{old_host}")
        event = realtime.record(
            session, "visit_updated", visit_payload(visit, change="edited", **extra), rooms
        )
        if invitations.changed(changes, person):  # same UID, SEQUENCE up
            invitations.queue(session, visit, "update")
    realtime.announce([event])
    return visit


def cancel(visit_id: int, reason, user: User) -> Visit:
    """Cancel an expected visit with a reason (required, up to 300 characters:
    ``invalid_reason``); the host and reception are told, and the kiosk then refuses
    the code as ``cancelled``. ``not_expected`` (409) once the visitor has arrived.
    Cancelling a cancelled visit returns it unchanged."""
    visit = visible_visit(user, visit_id)
    if visit.status == "cancelled":
        return visit
    if visit.status != "expected":
        raise Conflict("not_expected", "only a visit not yet arrived can be cancelled")
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > REASON_LIMIT:
        raise ValidationError(
            "invalid_reason",
            f"give a reason of up to {REASON_LIMIT} characters",
            fields={"reason": "required" if not text else f"at most {REASON_LIMIT} characters"},
        )
    with write() as session:
        visit = session.get(Visit, visit_id)
        if visit.status == "cancelled":  # a second cancel raced us: the first one stands
            return visit
        if visit.status != "expected":
            raise Conflict("not_expected", "only a visit not yet arrived can be cancelled")
        now = utcnow()
        visit.status, visit.cancelled_at, visit.updated_at = "cancelled", now, now
        visit.cancelled_by_id, visit.cancel_reason = user.id, text
        invitations.queue(session, visit, "cancel")
        event = realtime.record(
            session,
            "visit_updated",
            visit_payload(visit, change="cancelled", reason=text, by=user.name),
            realtime.visit_rooms(visit),
        )
    realtime.announce([event])
    return visit
