"""A visit: one visitor expected by one host at a time and place."""
import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
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
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    meeting_room: Mapped[str] = mapped_column(String(120), default="")
    # What the badge band says (VISITOR, CONTRACTOR, ...); 4- and 5-star clients are VIP.
    kind: Mapped[str] = mapped_column(String(20), default="visitor")
    stars: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    visitor: Mapped[Visitor] = relationship(lazy="joined")
    host: Mapped[User] = relationship(foreign_keys=[host_id], lazy="joined")
    kiosk = relationship("Kiosk")
