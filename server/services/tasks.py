"""Hospitality tasks on a visit: tea, guided tours, farewell, follow-ups.

Tasks change only here. Every change is one write transaction plus one
``task_updated`` event to the visit's host and reception (and, for tours, to the
departments on the route: room ``dept:<name>``), pushed after the commit.
Errors: ``invalid_task`` (422, with ``fields``), ``invalid_status`` (422),
``bad_transition`` (409), ``not_found`` (404), ``forbidden`` (403).
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import (
    TASK_FINAL,
    TASK_KINDS,
    TASK_STATUSES,
    Drink,
    Task,
    TourStop,
    User,
    Visit,
    utcnow,
)
from server.services import clock
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.tx import write
from server.services.visits import parse_when, text_field, visible_visit

REPLY_METHODS = ("phone", "email", "meeting", "wechat", "letter")
# Lists a client sends are bounded (422 naming the field): a tour of the whole site has
# a dozen stops, a tea order a few drinks; 10,000 of either is an attack or a bug.
MAX_STOPS = 30
MAX_ITEMS = 30
# Which status may follow which; anything else is a bad_transition.
NEXT = {
    "requested": {"served", "cancelled"},
    "planned": {"confirmed", "in_progress", "cancelled"},
    "confirmed": {"in_progress", "cancelled"},
    "in_progress": {"done"},
    "open": {"answered", "cancelled"},
}


def task_dict(task: Task) -> dict:
    return {
        "id": task.id,
        "visit_id": task.visit_id,
        "kind": task.kind,
        "status": task.status,
        "details": task.details or {},
        "assignee": task.assignee.name if task.assignee_id else None,
        "created_by": task.created_by.name if task.created_by_id else None,
        "done_by": task.done_by.name if task.done_by_id else None,
        "starts_at": clock.iso(task.starts_at),
        "created_at": clock.iso(task.created_at),
        "updated_at": clock.iso(task.updated_at),
        "started_at": clock.iso(task.started_at),
        "done_at": clock.iso(task.done_at),
        "stops": [
            {"place": s.place, "department": s.department, "planned_at": clock.iso(s.planned_at)}
            for s in task.stops
        ],
    }


def _rooms(task: Task, visit: Visit) -> list[str]:
    rooms = realtime.visit_rooms(visit)
    if task.kind == "tour":
        rooms += sorted({f"dept:{s.department}" for s in task.stops if s.department})
    return rooms


def _announce(session, task: Task, visit: Visit, extra: dict | None = None):
    payload = {
        "task": task_dict(task),
        "visit_id": visit.id,
        "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
        "host": {"id": visit.host_id, "name": visit.host.name},
        **(extra or {}),
    }
    return realtime.record(session, "task_updated", payload, _rooms(task, visit))


def menu(active_only: bool = True) -> list[Drink]:
    q = select(Drink).order_by(Drink.name)
    if active_only:
        q = q.where(Drink.active.is_(True))
    return list(db.session.scalars(q))


def add_drink(name: str, name_zh: str = "") -> Drink:
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError(
            "invalid_drink",
            "a drink needs a name (up to 80 characters)",
            fields={"name": "required"},
        )
    with write() as session:
        if session.scalar(select(Drink).where(Drink.name == name)):
            raise Conflict("drink_exists", f"{name} is on the menu already")
        drink = Drink(name=name, name_zh=(name_zh or "").strip()[:80])
        session.add(drink)
    return drink


def update_drink(
    drink_id: int, name: str | None = None, name_zh: str | None = None, active: bool | None = None
) -> Drink:
    """Rename a drink (English, Chinese) or take it off the menu and back (``active``);
    None leaves a field as it is. Tea already ordered keeps the name it was ordered by;
    a drink off the menu can no longer be ordered but stays in the list."""
    errors: dict[str, str] = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 80:
            errors["name"] = "required, at most 80 characters"
    if name_zh is not None:
        name_zh = name_zh.strip()
        if len(name_zh) > 80:
            errors["name_zh"] = "at most 80 characters"
    if errors:
        raise ValidationError("invalid_drink", "please correct the drink", fields=errors)
    with write() as session:
        drink = session.get(Drink, drink_id)
        if drink is None:
            raise NotFound("unknown_drink", f"no drink {drink_id}")
        if name is not None and name != drink.name:
            if session.scalar(select(Drink).where(Drink.name == name, Drink.id != drink.id)):
                raise Conflict(
                    "drink_exists", f"{name} is on the menu already", fields={"name": "taken"}
                )
            drink.name = name
        if name_zh is not None:
            drink.name_zh = name_zh
        if active is not None:
            drink.active = bool(active)
    return drink


def _when(data: dict, key: str, errors: dict, required: bool = False) -> datetime | None:
    try:
        value = parse_when(data.get(key))
    except (ValueError, TypeError):
        errors[key] = "must be an ISO 8601 date-time"
        return None
    if value is None and required:
        errors[key] = "required"
    return value


def _tea(data: dict, errors: dict) -> dict:
    items = data.get("items")
    names = {d.name for d in menu()}
    clean = []
    if not isinstance(items, list) or not items:
        errors["items"] = "choose at least one drink"
    elif len(items) > MAX_ITEMS:
        errors["items"] = f"at most {MAX_ITEMS} drinks"
    else:
        for item in items:
            drink = item.get("drink") if isinstance(item, dict) else None
            if not isinstance(drink, str) or drink not in names:
                errors["items"] = "drinks must come from the menu"
                break
            count = item.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 50:
                errors["items"] = "count must be 1 to 50"
                break
            clean.append({"drink": item["drink"], "count": count})
    return {"items": clean, "note": text_field(data, "note", errors, 300)}


def _tour(data: dict, errors: dict) -> tuple[dict, list[TourStop], datetime | None]:
    title = text_field(data, "title", errors, 200) or "Guided tour"
    stops_in = data.get("stops")
    stops = []
    if not isinstance(stops_in, list) or not stops_in:
        errors["stops"] = "a tour needs at least one stop"
    elif len(stops_in) > MAX_STOPS:
        errors["stops"] = f"at most {MAX_STOPS} stops"
    else:
        for n, raw in enumerate(stops_in):
            if not isinstance(raw, dict):
                errors["stops"] = "each stop is an object with place, department, planned_at"
                break
            sub: dict = {}
            place = text_field(raw, "place", sub, 200, required=True)
            dept = text_field(raw, "department", sub, 120)
            when = _when(raw, "planned_at", sub)
            if sub:
                errors["stops"] = f"stop {n + 1}: " + ", ".join(f"{k} {v}" for k, v in sub.items())
                break
            stops.append(TourStop(position=n, place=place, department=dept, planned_at=when))
    starts = _when(data, "starts_at", errors) or (stops[0].planned_at if stops else None)
    if starts is None and "starts_at" not in errors and stops:
        errors["starts_at"] = "when does the tour start?"
    return {"title": title, "reminded_at": None}, stops, starts


def _follow_up(data: dict, errors: dict) -> tuple[dict, datetime | None]:
    question = text_field(data, "question", errors, 500, required=True)
    method = data.get("reply_method")
    if method not in REPLY_METHODS:
        errors["reply_method"] = f"one of {', '.join(REPLY_METHODS)}"
    deadline = _when(data, "deadline", errors, required=True)
    return {"question": question, "reply_method": method, "answer": ""}, deadline


def create(visit_id: int, data, user: User) -> Task:
    """A new task on a visit the user may act on. ``data["kind"]`` picks the kind."""
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    visit = visible_visit(user, visit_id)
    kind = data.get("kind")
    if kind not in TASK_KINDS:
        raise ValidationError(
            "invalid_task",
            f"kind must be one of {', '.join(TASK_KINDS)}",
            fields={"kind": "unknown kind"},
        )
    if kind == "farewell":
        raise ValidationError(
            "invalid_task",
            "a farewell is done with POST /visits/<id>/farewell",
            fields={"kind": "use farewell"},
        )
    if visit.status in ("checked_out", "cancelled") and kind != "follow_up":
        raise Conflict("visit_closed", "this visit has ended")
    errors: dict = {}
    stops: list[TourStop] = []
    starts: datetime | None = None
    if kind == "tea":
        details, status = _tea(data, errors), "requested"
    elif kind == "tour":
        (details, stops, starts), status = _tour(data, errors), "planned"
    else:
        (details, starts), status = _follow_up(data, errors), "open"
    if errors:
        raise ValidationError(
            "invalid_task", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    with write() as session:
        task = Task(
            visit_id=visit.id,
            kind=kind,
            status=status,
            details=details,
            created_by_id=user.id,
            starts_at=starts,
            stops=stops,
            assignee_id=visit.host_id if kind in ("tour", "follow_up") else None,
        )
        session.add(task)
        session.flush()
        visit = session.get(Visit, visit.id)
        event = _announce(session, task, visit)
    realtime.announce([event])
    return task


def get(task_id: int, user: User) -> Task:
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("not_found", f"no task {task_id}")
    visible_visit(user, task.visit_id)
    return task


def update(task_id: int, data, user: User) -> Task:
    """Move a task on: tea requested -> served; tour planned -> confirmed ->
    in_progress -> done; follow-up open -> answered (with ``answer``)."""
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    task = get(task_id, user)
    status = data.get("status")
    if status not in TASK_STATUSES.get(task.kind, ()):
        raise ValidationError(
            "invalid_status",
            f"a {task.kind} task can be {', '.join(TASK_STATUSES[task.kind])}",
            fields={"status": "not a status of this kind"},
        )
    errors: dict = {}
    answer = text_field(data, "answer", errors, 2000, required=(status == "answered"))
    if errors:
        raise ValidationError("invalid_task", "answer: required", fields=errors)
    with write() as session:
        task = session.get(Task, task_id)
        if status == task.status:
            return task  # idempotent: the same change again changes nothing
        if status not in NEXT.get(task.status, set()):
            raise Conflict(
                "bad_transition", f"a {task.kind} task cannot go from {task.status} to {status}"
            )
        now = utcnow()
        task.status, task.updated_at = status, now
        if status == "in_progress":
            task.started_at = now
            visit = session.get(Visit, task.visit_id)
            # The host is leading the tour: the visitor is no longer waiting for them.
            visit.acknowledged_at = visit.acknowledged_at or now
        if status in TASK_FINAL:
            task.done_at, task.done_by_id = now, user.id
        if answer:
            task.details = {**task.details, "answer": answer}
        event = _announce(session, task, session.get(Visit, task.visit_id))
    realtime.announce([event])
    return task


def end_tours_on_leaving(session, visit: Visit) -> list:
    """Inside the check-out's transaction: finish the visit's tours in progress as done
    (the visitor has left, so the tour is over) and return their task_updated events,
    for the caller to announce after the commit."""
    now, events = utcnow(), []
    for task in session.scalars(
        select(Task).where(
            Task.visit_id == visit.id, Task.kind == "tour", Task.status == "in_progress"
        )
    ):
        task.status, task.updated_at, task.done_at = "done", now, now
        session.flush()
        events.append(_announce(session, task, visit))
    return events


def tours_needing_reminder(now: datetime | None = None) -> list[Task]:
    """Planned tours (not confirmed) starting within the next hour, not yet reminded:
    the policy says the departments must be told at least an hour before."""
    now = now or utcnow()
    q = select(Task).where(
        Task.kind == "tour",
        Task.status == "planned",
        Task.starts_at.is_not(None),
        Task.starts_at > now,
        Task.starts_at <= now + timedelta(minutes=current_app.config["TOUR_REMINDER_MINUTES"]),
    )
    return [t for t in db.session.scalars(q) if not (t.details or {}).get("reminded_at")]


def send_tour_reminders(now: datetime | None = None) -> int:
    """Remind the host and the route's departments of each unconfirmed tour; once."""
    sent = 0
    for task in tours_needing_reminder(now):
        with write() as session:  # FOR UPDATE: two workers on PostgreSQL remind once
            task = session.get(Task, task.id, with_for_update=True)
            if (task.details or {}).get("reminded_at"):
                continue
            task.details = {**task.details, "reminded_at": clock.iso(utcnow())}
            visit = session.get(Visit, task.visit_id)
            event = realtime.record(
                session,
                "tour_reminder",
                {
                    "task": task_dict(task),
                    "visit_id": visit.id,
                    "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
                    "host": {"id": visit.host_id, "name": visit.host.name},
                },
                _rooms(task, visit),
            )
        realtime.announce([event])
        sent += 1
    return sent


def tea_of_today() -> tuple[list[Task], list[Task]]:
    """Today's tea: open requests (oldest first) and those served (newest first)."""
    start, end = clock.today_bounds()
    rows = list(
        db.session.scalars(
            select(Task)
            .where(Task.kind == "tea", Task.created_at >= start, Task.created_at < end)
            .order_by(Task.created_at, Task.id)
        )
    )
    served = sorted(
        (t for t in rows if t.status == "served"),
        key=lambda t: t.done_at or t.updated_at,
        reverse=True,
    )
    return [t for t in rows if t.status == "requested"], served


def open_follow_ups(visit: Visit) -> list[Task]:
    return [t for t in visit.tasks if t.kind == "follow_up" and t.status == "open"]
