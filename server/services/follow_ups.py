"""Promised answers of every day: follow-up tasks (kind ``follow_up``; ``starts_at``
is the deadline, ``details`` holds question, reply_method and answer) listed across
days, and the reminders their hosts get.

A follow-up belongs to the host of its visit (the one who may answer it through
``tasks.update``). Reminders: once ``LOBBY_FOLLOW_UP_REMINDER_HOURS`` (default 2)
before the deadline, and once when it passes; each is recorded in ``details``
(``reminded_before``, ``reminded_overdue``: when it was sent) so it is sent once, and
pushed after the commit as a ``task_updated`` event with ``"reminder": "before" |
"overdue"`` to the host's room only. The print worker calls
``send_follow_up_reminders()`` where it sends the tour reminders.
"""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server import realtime
from server.extensions import db
from server.models import Task, User, Visit, utcnow
from server.services import clock
from server.services.errors import ValidationError
from server.services.tasks import task_dict
from server.services.tx import write

STATUSES = ("open", "answered", "cancelled")
REMINDERS = ("before", "overdue")


def listing(user: User, status: str = "open", mine: bool = False) -> list[Task]:
    """Follow-ups in ``status``, earliest deadline first (none last). Reception and
    admins see all unless ``mine``; anyone else only those of their own visits."""
    status = (status or "open").strip().lower()
    if status not in STATUSES:
        raise ValidationError(
            "invalid_query",
            "status: one of " + ", ".join(STATUSES),
            fields={"status": "one of " + ", ".join(STATUSES)},
        )
    stmt = (
        select(Task)
        .join(Visit, Task.visit_id == Visit.id)
        .where(Task.kind == "follow_up", Task.status == status)
        .options(selectinload(Task.visit))
        .order_by(Task.starts_at.is_(None), Task.starts_at, Task.id)
    )
    if mine or not user.is_staff_desk:
        stmt = stmt.where(Visit.host_id == user.id)
    return list(db.session.scalars(stmt))


def is_overdue(task: Task, now: datetime | None = None) -> bool:
    return (
        task.status == "open" and task.starts_at is not None and task.starts_at <= (now or utcnow())
    )


def as_dict(task: Task, now: datetime | None = None) -> dict:
    """The API shape: the task, what was promised, to whom, and whether it is late."""
    visit = task.visit
    details = task.details or {}
    return {
        **task_dict(task),
        "question": details.get("question", ""),
        "reply_method": details.get("reply_method"),
        "answer": details.get("answer", ""),
        "deadline": clock.iso(task.starts_at),
        "overdue": is_overdue(task, now),
        "visitor": {
            "name": visit.visitor.name,
            "company": visit.visitor.company,
            "email": visit.visitor.email,
            "phone": visit.visitor.phone,
        },
        "host": {"id": visit.host.id, "name": visit.host.name, "email": visit.host.email},
    }


def _due(task: Task, now: datetime, window: timedelta) -> str | None:
    """Which reminder ``task`` needs at ``now``, if any."""
    details = task.details or {}
    if task.status != "open" or task.starts_at is None:
        return None
    if now >= task.starts_at:
        return None if details.get("reminded_overdue") else "overdue"
    if now >= task.starts_at - window and not details.get("reminded_before"):
        return "before"
    return None


def send_follow_up_reminders(now: datetime | None = None) -> int:
    """Remind hosts of open follow-ups near their deadline (``before``) and past it
    (``overdue``); each reminder once. Returns how many were sent."""
    now = now or utcnow()
    window = timedelta(hours=current_app.config["FOLLOW_UP_REMINDER_HOURS"])
    candidates = db.session.scalars(
        select(Task.id)
        .where(
            Task.kind == "follow_up",
            Task.status == "open",
            Task.starts_at.is_not(None),
            Task.starts_at <= now + window,
        )
        .order_by(Task.starts_at, Task.id)
    ).all()
    sent = 0
    for task_id in candidates:
        with write() as session:
            # read again under the write lock (FOR UPDATE: several workers on PostgreSQL)
            task = session.get(Task, task_id, with_for_update=True)
            kind = _due(task, now, window)
            if kind is None:
                continue
            task.details = {**(task.details or {}), f"reminded_{kind}": clock.iso(now)}
            visit = session.get(Visit, task.visit_id)
            event = realtime.record(
                session,
                "task_updated",
                {
                    "task": task_dict(task),
                    "visit_id": visit.id,
                    "reminder": kind,
                    "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
                    "host": {"id": visit.host_id, "name": visit.host.name},
                },
                [f"host:{visit.host_id}"],
            )
        realtime.announce([event])
        sent += 1
    return sent
