"""Pre-registration and reading visits with per-user access."""
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import realtime
from server.extensions import db
from server.models import User, Visit, Visitor
from server.services import clock
from server.services.errors import Forbidden, NotFound, ValidationError
from server.services.people import EMAIL_RE
from server.services.tx import write

LIMITS = {"name": 200, "company": 200, "email": 254, "phone": 50, "purpose": 500}


def text_field(data: dict, key: str, errors: dict, limit: int, required: bool = False) -> str:
    """``data[key]`` as stripped text; a problem goes into ``errors[key]`` (so a form
    can show every problem at once) and "" is returned."""
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = "must be text"
        return ""
    value = value.strip()
    if required and not value:
        errors[key] = "required"
    elif len(value) > limit:
        errors[key] = f"at most {limit} characters"
    return value


def _text(data: dict, key: str, errors: dict, required: bool = False) -> str:
    return text_field(data, key, errors, LIMITS[key], required)


def parse_when(value) -> datetime | None:
    """ISO 8601 (with or without offset; naive means site-local) -> naive UTC."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time")
    text = value.strip().replace("Z", "+00:00")
    return clock.to_utc_naive(datetime.fromisoformat(text))


def pre_register(visitor: dict, host_email: str, expected_at=None, purpose: str = "",
                 created_by: User | None = None, *, walk_in: bool = False,
                 attempt_key: str | None = None) -> Visit:
    """Create an expected visit. Raises ValidationError with ``fields`` naming every
    problem at once; nothing is written unless everything is valid.

    ``walk_in`` marks a visitor who came without a booking. ``attempt_key`` (a kiosk's
    per-attempt key) makes a retried request one visit: the same key returns the visit
    made the first time, also when the retry races the first request."""
    if attempt_key:
        existing = by_attempt(attempt_key)
        if existing is not None:
            return existing
    errors: dict[str, str] = {}
    if not isinstance(visitor, dict):
        raise ValidationError("invalid_visitor", "visitor must be an object",
                              fields={"visitor": "must be an object"})
    name = _text(visitor, "name", errors, required=True)
    company = _text(visitor, "company", errors)
    email = _text(visitor, "email", errors)
    phone = _text(visitor, "phone", errors)
    purpose = _text({"purpose": purpose}, "purpose", errors)
    if email and not EMAIL_RE.match(email):
        errors["email"] = "not an email address"
    if phone and not all(c.isdigit() or c in "+-() ." for c in phone):
        errors["phone"] = "digits, spaces and + - ( ) only"
    try:
        when = parse_when(expected_at)
    except ValueError:
        errors["expected_at"] = "must be an ISO 8601 date-time"
        when = None
    host = None
    if not isinstance(host_email, str) or not host_email.strip():
        errors["host"] = "required"
    else:
        host = db.session.scalar(select(User).where(User.email == host_email.strip().lower(),
                                                    User.active.is_(True)))
        if host is None:
            errors["host"] = "no such host"
    if created_by is not None and host is not None and not created_by.is_staff_desk \
            and host.id != created_by.id:
        raise Forbidden("forbidden", "hosts can only invite their own visitors")
    if errors:
        raise ValidationError("invalid_visit", "; ".join(f"{k}: {v}" for k, v in errors.items()),
                              fields=errors)
    try:
        with write() as session:
            person = Visitor(name=name, company=company, email=email, phone=phone)
            session.add(person)
            visit = Visit(visitor=person, host_id=host.id, expected_at=when, purpose=purpose,
                          created_by_id=created_by.id if created_by else None,
                          walk_in=walk_in, attempt_key=attempt_key or None)
            session.add(visit)
            session.flush()
            # Open dashboards show the new expected visitor without a reload.
            event = realtime.record(session, "visit_updated", {
                "visit_id": visit.id, "status": "expected", "state": "expected",
                "change": "created", "visitor": {"name": name, "company": company},
                "host": {"id": host.id, "name": host.name},
                "expected_at": clock.iso(when)}, realtime.visit_rooms(visit))
    except IntegrityError:  # the same attempt raced in from a retry: it is one visit
        db.session.rollback()
        existing = by_attempt(attempt_key) if attempt_key else None
        if existing is None:
            raise
        return existing
    realtime.announce([event])
    return visit


def by_attempt(key: str) -> Visit | None:
    """The visit a kiosk attempt created, if any."""
    return db.session.scalar(select(Visit).where(Visit.attempt_key == key))


def visible_visit(user: User, visit_id: int) -> Visit:
    """The visit if ``user`` may see it: reception/admin all, a host only their own."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("not_found", f"no visit {visit_id}")
    if not user.is_staff_desk and visit.host_id != user.id:
        raise Forbidden("forbidden", "not your visitor")
    return visit


def today(host: User | None = None) -> list[Visit]:
    """Visits of the local day (expected today, or arrived today, or still on site)."""
    start, end = clock.today_bounds()
    q = select(Visit).where(
        ((Visit.expected_at >= start) & (Visit.expected_at < end))
        | ((Visit.checked_in_at >= start) & (Visit.checked_in_at < end))
        | (Visit.status == "checked_in"))
    if host is not None:
        q = q.where(Visit.host_id == host.id)
    return list(db.session.scalars(q.order_by(Visit.expected_at, Visit.id)).unique())


def upcoming(limit: int = 200) -> list[Visit]:
    start, _ = clock.today_bounds()
    q = select(Visit).where((Visit.expected_at >= start) | Visit.expected_at.is_(None)) \
        .order_by(Visit.expected_at, Visit.id).limit(limit)
    return list(db.session.scalars(q).unique())


def onsite() -> list[Visit]:
    q = select(Visit).where(Visit.status == "checked_in").order_by(Visit.checked_in_at)
    return list(db.session.scalars(q).unique())


def as_dict(visit: Visit) -> dict:
    """The API shape of a visit (DESIGN.md)."""
    return {
        "id": visit.id, "code": visit.code, "status": visit.status,
        "expected_at": clock.iso(visit.expected_at), "purpose": visit.purpose,
        "checked_in_at": clock.iso(visit.checked_in_at),
        "checked_out_at": clock.iso(visit.checked_out_at),
        "visitor": visit.visitor.as_dict(),
        "host": {"id": visit.host.id, "name": visit.host.name, "email": visit.host.email},
        "kiosk": visit.kiosk.name if visit.kiosk_id else None,
        "meeting_room": visit.meeting_room,
        "state": visit.state,
        "acknowledged_at": clock.iso(visit.acknowledged_at),
        "requirements": visit.requirements,
    }
