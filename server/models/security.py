"""What keeps Lobby honest about people: staff login sessions (so a logout, a disabled
user or a revoked credential ends for real, sockets included), the retention settings
for visitors' personal data, the audit trail, and the watchlist of people who may not
enter.

- ``LoginSession``: one row per signed-in browser. The session cookie carries only the
  row's random ``id``; a request whose session row is ended (logout, user disabled,
  password changed) is treated as signed out, and its live sockets are cut.
- ``RetentionSettings``: one row; days to keep a visit's personal fields, its photo and
  signature images, and the event log. The worker purges daily (services/retention.py).
- ``AuditEntry``: append-only; each entry carries the SHA-256 of the one before it, so
  an entry changed or removed behind Lobby's back breaks the chain (``lobby audit
  verify``). Nothing in Lobby updates or deletes an entry.
- ``WatchlistEntry``: a person who may not enter; ``name_key`` is the name normalised for
  matching (services/watchlist.py). A match prints no badge and asks reception.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # secrets.token_urlsafe
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    # Why it ended: "logout", "disabled", "password", "expired", "admin".
    end_reason: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user = relationship("User")


class RetentionSettings(Base):
    """One row: how long personal data is kept (days). Defaults follow the issue:
    personal fields 365, photos and signatures 30, the event log 30."""

    __tablename__ = "retention_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    personal_days: Mapped[int] = mapped_column(default=365)
    images_days: Mapped[int] = mapped_column(default=30)
    events_days: Mapped[int] = mapped_column(default=30)
    last_purge_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Who: a user, or a named system actor ("cli", "worker", "kiosk:<id>").
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200), default="")
    # What: a dotted verb ("visitor.forget", "retention.purge", "watchlist.add", ...).
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class WatchlistEntry(Base):
    __tablename__ = "watchlist_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200), index=True)
    company: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    phone_key: Mapped[str] = mapped_column(String(50), default="", index=True)
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None]
