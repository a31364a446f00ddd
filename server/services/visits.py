"""Pre-registration and reading visits with per-user access."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from server import realtime
from server.extensions import db
from server.models import User, Visit, VisitGroup, Visitor
from server.notify import invitations
from server.services import away, checkin, clock
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
    elif not _is_unicode(value):
        errors[key] = "not valid text"
        return ""
    return value


def _is_unicode(value: str) -> bool:
    """False for text no database or page can hold (a lone surrogate such as "\\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(data: dict, key: str, errors: dict, required: bool = False) -> str:
    return text_field(data, key, errors, LIMITS[key], required)


def parse_when(value) -> datetime | None:
    """ISO 8601 (with or without offset; naive means site-local) -> naive UTC."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time")
    text = value.strip().replace("Z", "+00:00")
    try:
        return clock.to_utc_naive(datetime.fromisoformat(text))
    except OverflowError as e:  # 9999-12-31T23:59:59-14:00 is past year 9999 in UTC
        raise ValueError("out of range") from e


def parse_day(value) -> date | None:
    """An ISO 8601 date (or a date-time: its local day) -> a date; "" or None -> None."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date")
    text = value.strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    when = parse_when(text)
    if when is None:  # only blanks: no day, like ""
        return None
    return clock.to_local(when).date()


def _visitor_fields(visitor, errors: dict, prefix: str = "") -> dict:
    """A visitor object's fields, checked; problems go into ``errors`` under
    ``prefix + field`` (``visitors.1.name`` for the second member of a group)."""
    if not isinstance(visitor, dict):
        errors[(prefix or "visitor").rstrip(".")] = "must be an object"
        return {}
    found: dict[str, str] = {}
    fields = {
        k: _text(visitor, k, found, required=(k == "name"))
        for k in ("name", "company", "email", "phone")
    }
    if fields["email"] and not EMAIL_RE.match(fields["email"]):
        found["email"] = "not an email address"
    if fields["phone"] and not all(c.isdigit() or c in "+-() ." for c in fields["phone"]):
        found["phone"] = "digits, spaces and + - ( ) only"
    language = visitor.get("language")  # of their invitation ("" or absent: the site's)
    if language in ("zh", "en"):
        fields["language"] = language
    elif language not in (None, ""):
        found["language"] = "zh or en"
    errors.update({prefix + k: v for k, v in found.items()})
    return fields


def _booking(host_email, expected_at, valid_until, purpose, created_by, errors: dict):
    """The parts one booking shares, checked: (host, when, last day, purpose)."""
    purpose = _text({"purpose": purpose}, "purpose", errors)
    try:
        when = parse_when(expected_at)
    except ValueError:
        errors["expected_at"] = "must be an ISO 8601 date-time"
        when = None
    try:
        until = parse_day(valid_until)
    except ValueError:
        errors["valid_until"] = "must be an ISO 8601 date"
        until = None
    if until is not None:
        if when is None and "expected_at" not in errors:
            errors["valid_until"] = "needs an expected date to start from"
        elif when is not None and until < clock.to_local(when).date():
            errors["valid_until"] = "must not be before the expected day"
    host = None
    if not isinstance(host_email, str) or not host_email.strip():
        errors["host"] = "required"
    else:
        host = db.session.scalar(
            select(User).where(User.email == host_email.strip().lower(), User.active.is_(True))
        )
        if host is None:
            errors["host"] = "no such host"
    if (
        created_by is not None
        and host is not None
        and not created_by.is_staff_desk
        and host.id != created_by.id
    ):
        raise Forbidden("forbidden", "hosts can only invite their own visitors")
    return host, when, until, purpose


def _raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError(
            "invalid_visit", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )


def _created_event(session, visit: Visit, host: User, fields: dict, when):
    """Open dashboards show the new expected visitor without a reload."""
    return realtime.record(
        session,
        "visit_updated",
        {
            "visit_id": visit.id,
            "status": "expected",
            "state": "expected",
            "change": "created",
            "visitor": {"name": fields["name"], "company": fields["company"]},
            "host": {"id": host.id, "name": host.name},
            "expected_at": clock.iso(when),
        },
        realtime.visit_rooms(visit),
    )


def pre_register(
    visitor: dict,
    host_email: str,
    expected_at=None,
    purpose: str = "",
    created_by: User | None = None,
    *,
    walk_in: bool = False,
    attempt_key: str | None = None,
    valid_until=None,
    invite: bool = True,
) -> Visit:
    """Create an expected visit. Raises ValidationError with ``fields`` naming every
    problem at once; nothing is written unless everything is valid.

    ``valid_until`` (an ISO date, not before the expected day) makes the visit span
    days: its code checks in and out each day until then. ``walk_in`` marks a visitor
    who came without a booking. ``attempt_key`` (a kiosk's per-attempt key) makes a
    retried request one visit: the same key returns the visit made the first time,
    also when the retry races the first request. A visitor with an email gets an
    invitation (server/notify/invitations.py) unless ``invite`` is False."""
    if attempt_key:
        existing = by_attempt(attempt_key)
        if existing is not None:
            return existing
    errors: dict[str, str] = {}
    if not isinstance(visitor, dict):
        raise ValidationError(
            "invalid_visitor", "visitor must be an object", fields={"visitor": "must be an object"}
        )
    fields = _visitor_fields(visitor, errors)
    host, when, until, purpose = _booking(
        host_email, expected_at, valid_until, purpose, created_by, errors
    )
    _raise_if(errors)
    try:
        with write() as session:
            person = Visitor(**fields)
            session.add(person)
            visit = Visit(
                visitor=person,
                host_id=host.id,
                expected_at=when,
                purpose=purpose,
                created_by_id=created_by.id if created_by else None,
                walk_in=walk_in,
                attempt_key=attempt_key or None,
                valid_until=until,
                invite=invite,
            )
            session.add(visit)
            session.flush()
            event = _created_event(session, visit, host, fields, when)
            invitations.queue(session, visit)
    except IntegrityError:  # the same attempt raced in from a retry: it is one visit
        db.session.rollback()
        existing = by_attempt(attempt_key) if attempt_key else None
        if existing is None:
            raise
        return existing
    realtime.announce([event])
    return visit


MAX_GROUP = 200


def pre_register_group(
    visitors,
    host_email: str,
    expected_at=None,
    purpose: str = "",
    created_by: User | None = None,
    *,
    name: str = "",
    valid_until=None,
    invite: bool = True,
) -> VisitGroup:
    """Book several visitors at once: one host, one time, one group; each member is a
    visit with its own code (and badge). Every member is checked first (problems as
    ``visitors.<i>.<field>``); nothing is written unless all are valid."""
    if not isinstance(visitors, list) or not visitors:
        raise ValidationError(
            "invalid_visit",
            "visitors must be a non-empty list",
            fields={"visitors": "a non-empty list"},
        )
    if len(visitors) > MAX_GROUP:
        raise ValidationError(
            "invalid_visit",
            f"at most {MAX_GROUP} visitors in a group",
            fields={"visitors": f"at most {MAX_GROUP}"},
        )
    errors: dict[str, str] = {}
    members = [_visitor_fields(v, errors, f"visitors.{i}.") for i, v in enumerate(visitors)]
    host, when, until, purpose = _booking(
        host_email, expected_at, valid_until, purpose, created_by, errors
    )
    group_name = text_field({"group": name}, "group", errors, 200)
    _raise_if(errors)
    by_id = created_by.id if created_by else None
    with write() as session:
        group = VisitGroup(
            name=group_name or members[0]["company"] or members[0]["name"],
            host_id=host.id,
            expected_at=when,
            created_by_id=by_id,
        )
        session.add(group)
        events = []
        for fields in members:
            visit = Visit(
                visitor=Visitor(**fields),
                host_id=host.id,
                expected_at=when,
                purpose=purpose,
                created_by_id=by_id,
                valid_until=until,
                group=group,
                invite=invite,
            )
            session.add(visit)
            session.flush()
            events.append(_created_event(session, visit, host, fields, when))
            invitations.queue(session, visit)
    realtime.announce(events)
    return group


def by_attempt(key: str) -> Visit | None:
    """The visit a kiosk attempt created, if any."""
    return db.session.scalar(select(Visit).where(Visit.attempt_key == key))


def visible_visit(user: User, visit_id: int) -> Visit:
    """The visit if ``user`` may see it: reception/admin all, a host their own, and
    those of a host away now who names them as delegate (services/away.py)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound("not_found", f"no visit {visit_id}")
    if not user.is_staff_desk and visit.host_id != user.id:
        host = visit.host
        if host.delegate_id != user.id or not host.active or not away.is_away(host):
            raise Forbidden("forbidden", "not your visitor")
    return visit


def today(host: User | None = None) -> list[Visit]:
    """Visits of the local day (expected today, or arrived today, or still on site,
    or over several days and valid today). With ``host``: theirs, and those of the
    hosts away now who name them as delegate."""
    start, end = clock.today_bounds()
    local_day = clock.to_local(start + (end - start) / 2).date()
    q = select(Visit).where(
        ((Visit.expected_at >= start) & (Visit.expected_at < end))
        | ((Visit.checked_in_at >= start) & (Visit.checked_in_at < end))
        | (Visit.status == "checked_in")
        | (
            (Visit.valid_until >= local_day)
            & (Visit.expected_at < end)
            & Visit.status.in_(("expected", "checked_out"))
        )
    )
    if host is not None:
        q = q.where(Visit.host_id.in_([host.id, *away.covered_host_ids(host)]))
    return list(db.session.scalars(q.order_by(Visit.expected_at, Visit.id)).unique())


def state_today(visit: Visit) -> str:
    """The visit's state on today's boards: a visit over several days whose visitor
    left on an earlier day is expected again today."""
    return "expected" if checkin.returns_today(visit) else visit.state


def upcoming(limit: int = 200) -> list[Visit]:
    start, _ = clock.today_bounds()
    q = (
        select(Visit)
        .where((Visit.expected_at >= start) | Visit.expected_at.is_(None))
        .order_by(Visit.expected_at, Visit.id)
        .limit(limit)
    )
    return list(db.session.scalars(q).unique())


def onsite() -> list[Visit]:
    q = select(Visit).where(Visit.status == "checked_in").order_by(Visit.checked_in_at)
    return list(db.session.scalars(q).unique())


def as_dict(visit: Visit) -> dict:
    """The API shape of a visit (DESIGN.md)."""
    return {
        "id": visit.id,
        "code": visit.code,
        "status": visit.status,
        "expected_at": clock.iso(visit.expected_at),
        "purpose": visit.purpose,
        "checked_in_at": clock.iso(visit.checked_in_at),
        "checked_out_at": clock.iso(visit.checked_out_at),
        "visitor": {**visit.visitor.as_dict(), "title": visit.visitor.title},
        "host": {"id": visit.host.id, "name": visit.host.name, "email": visit.host.email},
        "kiosk": visit.kiosk.name if visit.kiosk_id else None,
        "meeting_room": visit.meeting_room,
        "state": visit.state,
        "acknowledged_at": clock.iso(visit.acknowledged_at),
        "requirements": visit.requirements,
        "kind": visit.kind,
        "stars": visit.stars,
        "valid_until": visit.valid_until.isoformat() if visit.valid_until else None,
        "group": {"id": visit.group.id, "name": visit.group.name} if visit.group_id else None,
        "cancelled_at": clock.iso(visit.cancelled_at),
        "cancel_reason": visit.cancel_reason,
        "admit_reason": visit.admit_reason,
        # The visitor's rating page, once the visit has ended (server/policy/feedback.py).
        "feedback_url": _feedback_url(visit),
        # Who meets the visitor while the host is away (services/away.py), else None.
        "delegate": away.delegate_dict(away.acting_delegate(visit.host)),
    }


def _feedback_url(visit: Visit) -> str | None:
    from flask import has_request_context

    from server.policy import feedback  # policy -> services: import at use

    return feedback.url_for_visit(visit) if has_request_context() else None


def group_dict(group: VisitGroup) -> dict:
    """The API shape of a group booking: the group and each member's visit."""
    return {
        "group": {
            "id": group.id,
            "name": group.name,
            "expected_at": clock.iso(group.expected_at),
            "size": len(group.visits),
        },
        "visits": [as_dict(v) for v in group.visits],
    }
