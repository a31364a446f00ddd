"""A visit: one visitor expected by one host at a time and place."""

import secrets
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow
from server.models.person import User, Visitor

STATUSES = ("expected", "checked_in", "checked_out", "cancelled")
KINDS = ("visitor", "vip", "contractor", "interview", "delivery", "media", "government")


def new_code() -> str:
    """A visit code: 24 random bytes (192 bits) from ``secrets``, URL-safe text."""
    return secrets.token_urlsafe(24)


class Visit(Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True, default=new_code)
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id"))
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    expected_at: Mapped[datetime | None] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="expected", index=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(index=True)
    checked_out_at: Mapped[datetime | None]
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    meeting_room: Mapped[str] = mapped_column(String(120), default="")
    # What the badge band says (VISITOR, CONTRACTOR, ...); 4- and 5-star clients are VIP.
    kind: Mapped[str] = mapped_column(String(20), default="visitor")
    stars: Mapped[int | None]
    # The host's "on my way": the visitor stops waiting at the desk.
    acknowledged_at: Mapped[datetime | None]
    # Re-notifications sent by reception while the visitor waits (count and last time).
    renotified_at: Mapped[datetime | None]
    # What the host recorded: purpose and requirements of the visit, in detail.
    requirements: Mapped[str] = mapped_column(Text, default="")
    walk_in: Mapped[bool] = mapped_column(default=False)
    # The language the visitor chose at the kiosk ("zh", "en"; "" = not chosen): the
    # badge and the goodbye follow it.
    language: Mapped[str] = mapped_column(String(10), default="")
    # A kiosk's per-attempt key: a walk-in sent twice by a retry is one visit.
    attempt_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When retention (or a "forget") blanked this visit's personal fields.
    anonymised_at: Mapped[datetime | None]
    # The invitation's calendar version: iCalendar SEQUENCE, up on every change.
    invite_sequence: Mapped[int] = mapped_column(default=0)
    # Whether to email the visitor an invitation ("invite": false on the API skips it).
    invite: Mapped[bool] = mapped_column(default=True)
    # The hospitality request this visit came from (server/policy/requests.py).
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("hospitality_requests.id"), index=True
    )
    # A visit over several days: the last local day its code checks in (None: one day).
    valid_until: Mapped[date | None]
    # Visitors booked together (one host, one time): each has their own code and badge.
    group_id: Mapped[int | None] = mapped_column(ForeignKey("visit_groups.id"), index=True)
    # Who cancelled and why (the kiosk then refuses the code as ``cancelled``).
    cancelled_at: Mapped[datetime | None]
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    # Reception let in a visitor the kiosk turned away (cancelled, another day): who, why.
    admitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    admit_reason: Mapped[str] = mapped_column(String(300), default="")
    # Who checked the visitor in at the desk (None: a kiosk or the API's check-in).
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None]

    # Not a column: set by the check-in's read (whether the kiosk took a photo).
    has_photo = None

    visitor: Mapped[Visitor] = relationship(lazy="joined")
    host: Mapped[User] = relationship(foreign_keys=[host_id], lazy="joined")
    kiosk = relationship("Kiosk")
    group = relationship("VisitGroup", back_populates="visits")
    tasks = relationship("Task", back_populates="visit", order_by="Task.id")
    # The hospitality request it came from: star level, room, schedule, tour.
    request = relationship("HospitalityRequest", viewonly=True)

    @property
    def state(self) -> str:
        """Where the visit is, for dashboards: expected, waiting (arrived, host not yet
        on the way), with_host, on_tour, left or cancelled."""
        if self.status == "checked_in":
            # A visit fresh from the check-in fast path is detached without its tasks;
            # it has just arrived, so it is not out on a tour.
            state = inspect(self)
            fresh = state.detached and "tasks" in state.unloaded
            if not fresh and any(
                t.kind == "tour" and t.status == "in_progress" for t in self.tasks
            ):
                return "on_tour"
            return "with_host" if self.acknowledged_at else "waiting"
        return {"checked_out": "left"}.get(self.status, self.status)


class VisitGroup(Base):
    """A booking for several visitors at once: one host, one time; reception sees them
    together. Each member is a Visit of its own (own code, own badge)."""

    __tablename__ = "visit_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expected_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visits = relationship("Visit", back_populates="group", order_by="Visit.id")
