"""Hospitality on a visit, as data: tea, guided tours (with stops), the farewell and
follow-ups (a promised answer with a deadline and a reply method).

A task changes only through ``services.tasks``; every change is a ``task_updated``
event. ``details`` holds what is particular to a kind:

- tea: ``{"items": [{"drink": "Green tea", "count": 2}], "note": "no sugar"}``
- tour: ``{"title": "Plant tour", "reminded_at": null}`` (+ TourStop rows)
- follow_up: ``{"question", "deadline", "reply_method", "answer"}``
- farewell: ``{"note"}``
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow

KINDS = ("tea", "tour", "farewell", "follow_up")
# Allowed statuses per kind, in the order they normally happen.
STATUSES = {
    "tea": ("requested", "served", "cancelled"),
    "tour": ("planned", "confirmed", "in_progress", "done", "cancelled"),
    "farewell": ("done",),
    "follow_up": ("open", "answered", "cancelled"),
}
FINAL = {"served", "done", "answered", "cancelled"}


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime | None]  # a tour's start; a follow-up's deadline
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]

    visit = relationship("Visit", back_populates="tasks")
    assignee = relationship("User", foreign_keys=[assignee_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    done_by = relationship("User", foreign_keys=[done_by_id])
    stops: Mapped[list["TourStop"]] = relationship(
        order_by="TourStop.position", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL


class TourStop(Base):
    """One stop of a guided tour: a place, the department there, a planned time."""

    __tablename__ = "tour_stops"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    place: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(120), default="")
    planned_at: Mapped[datetime | None]


class Drink(Base):
    """The drinks menu reception keeps (tea service)."""

    __tablename__ = "drinks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    name_zh: Mapped[str] = mapped_column(String(80), default="")
    active: Mapped[bool] = mapped_column(default=True)
