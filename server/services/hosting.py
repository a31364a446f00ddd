"""The host's and reception's moves on a visit after arrival: "on my way",
re-notifying, recording requirements, walk-ins and the farewell."""
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import Task, User, Visit, utcnow
from server.services import checkin, clock, tasks
from server.services.errors import Conflict, ValidationError
from server.services.tx import write
from server.services.visits import pre_register, visible_visit


def visit_payload(visit: Visit, **extra) -> dict:
    return {"visit_id": visit.id, "status": visit.status, "state": visit.state,
            "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
            "host": {"id": visit.host_id, "name": visit.host.name},
            "acknowledged_at": clock.iso(visit.acknowledged_at), **extra}


def _updated(session, visit: Visit, change: str, **extra):
    rooms = realtime.visit_rooms(visit) + ([f"kiosk:{visit.kiosk_id}"] if visit.kiosk_id else [])
    return realtime.record(session, "visit_updated", visit_payload(visit, change=change, **extra),
                           rooms)


def acknowledge(visit_id: int, user: User) -> Visit:
    """The host's "on my way": kiosk and reception see it live. Idempotent."""
    visit = visible_visit(user, visit_id)
    if visit.status != "checked_in":
        raise Conflict("not_checked_in", "the visitor has not arrived")
    with write() as session:
        visit = session.get(Visit, visit_id)
        if visit.acknowledged_at:
            return visit
        visit.acknowledged_at = utcnow()
        event = _updated(session, visit, "acknowledged", by=user.name)
    realtime.announce([event])
    return visit


def waiting_minutes(visit: Visit, now: datetime | None = None) -> int | None:
    """Minutes since arrival while the host has not acknowledged."""
    if visit.status != "checked_in" or visit.acknowledged_at or not visit.checked_in_at:
        return None
    return int(((now or utcnow()) - visit.checked_in_at).total_seconds() // 60)


def overdue(visit: Visit) -> bool:
    minutes = waiting_minutes(visit)
    return minutes is not None and minutes >= current_app.config["ACK_WARNING_MINUTES"]


def renotify(visit_id: int, user: User, fallback: bool = False) -> User:
    """Reception tells the host again that the visitor waits (or, with ``fallback``,
    the host's fallback contact). Returns who was alerted."""
    visit = visible_visit(user, visit_id)
    if visit.status != "checked_in":
        raise Conflict("not_checked_in", "the visitor is not waiting")
    target = visit.host
    if fallback:
        if not visit.host.fallback_contact_id:
            raise Conflict("no_fallback", f"{visit.host.name} has no fallback contact")
        target = db.session.get(User, visit.host.fallback_contact_id)
    with write() as session:
        visit = session.get(Visit, visit_id)
        visit.renotified_at = utcnow()
        payload = realtime.arrival_payload(visit)
        payload.update(renotified=True, for_host=visit.host.name, by=user.name)
        event = realtime.record(session, "visitor_arrived", payload,
                                [f"host:{target.id}", "reception"])
    realtime.announce([event])
    return target


def record_requirements(visit_id: int, text, user: User) -> Visit:
    if not isinstance(text, str) or len(text) > 5000:
        raise ValidationError("invalid_requirements", "requirements are text up to 5000 characters",
                              fields={"requirements": "up to 5000 characters"})
    visible_visit(user, visit_id)
    with write() as session:
        visit = session.get(Visit, visit_id)
        visit.requirements = text.strip()
        event = _updated(session, visit, "requirements")
    realtime.announce([event])
    return visit


def farewell(visit_id: int, user: User, note: str = "") -> tuple[Visit, list[Task]]:
    """See the visitor off: a farewell task, then the check-out. Returns the visit and
    the promised answers still open (the host is shown them)."""
    visit = visible_visit(user, visit_id)
    if visit.status != "checked_in":
        raise Conflict("not_checked_in", "the visitor is not in the building")
    with write() as session:
        now = utcnow()
        task = Task(visit_id=visit_id, kind="farewell", status="done",
                    details={"note": (note or "").strip()[:300]}, created_by_id=user.id,
                    done_by_id=user.id, done_at=now, updated_at=now)
        session.add(task)
        session.flush()
        event = tasks._announce(session, task, session.get(Visit, visit_id))
    realtime.announce([event])
    result = checkin.check_out(visit.code)
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    return result.visit, tasks.open_follow_ups(visit)


def check_out_by_id(visit_id: int, user: User) -> Visit:
    visit = visible_visit(user, visit_id)
    return checkin.check_out(visit.code).visit


def walk_in(name, company, phone, host_id, user: User, printer: str | None = None) -> Visit:
    """Register a visitor without a booking at the desk: the host is told and a
    badge prints at the desk printer. Without a host, customer service is asked."""
    host = db.session.get(User, host_id) if isinstance(host_id, int) else None
    if host is None or not host.active:
        raise ValidationError("invalid_visit", "host: choose who the visitor came to see",
                              fields={"host": "choose a host"})
    visit = pre_register({"name": name, "company": company, "phone": phone}, host.email,
                         clock.iso(utcnow()), "Walk-in", created_by=user, walk_in=True)
    printer = printer or current_app.config.get("DESK_PRINTER") or None
    checkin.check_in(visit.code, printer=printer)
    return db.session.get(Visit, visit.id)


def search_hosts(query: str, limit: int = 8) -> list[User]:
    q = (query or "").strip()
    stmt = select(User).where(User.active.is_(True), User.roles.contains("host")) \
        .order_by(User.name).limit(limit)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(User.name.ilike(like) | User.email.ilike(like) |
                          User.department.ilike(like))
    return list(db.session.scalars(stmt))


def roster() -> list[Visit]:
    """Everyone in the building now, for evacuation: who, company, host, where."""
    q = select(Visit).where(Visit.status == "checked_in").order_by(Visit.checked_in_at)
    return list(db.session.scalars(q).unique())


def where(visit: Visit) -> str:
    tour = next((t for t in visit.tasks if t.kind == "tour" and t.status == "in_progress"), None)
    if tour:
        stops = ", ".join(s.place for s in tour.stops)
        return f"On tour 参观中: {stops}" if stops else "On tour 参观中"
    if visit.meeting_room:
        return visit.meeting_room
    return "With host 与接待人" if visit.acknowledged_at else "Lobby 大堂 (waiting)"
