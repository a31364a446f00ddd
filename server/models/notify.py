"""Messages that leave Lobby (DESIGN.md: every email, chat message and webhook leaves
through the outbox, sent by the worker, never in the request that caused it).

- ``OutboxMessage``: one message to one place: ``queued`` → ``sent``, or ``failed`` with
  the reason after its retries (``attempts``, ``next_attempt_at`` with backoff).
  ``dedupe_key`` makes queuing idempotent (one invitation per visit and version).
- ``Channel``: where a person's alerts go (``kind``: ``email``, ``webhook``, ``wecom``,
  ``dingtalk``, ``feishu``, ``slack``), with the vendor's ``secret`` for signing; a
  channel with no ``user_id`` is the site's default for everyone.
- ``NotifyCursor``: how far a worker pass has read the durable event log (``last_seq``)
  for one purpose (``name``, e.g. ``alerts``): the alerts fan-out resumes there.
"""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow

CHANNEL_KINDS = ("email", "webhook", "wecom", "dingtalk", "feishu", "slack")
OUTBOX_STATES = ("queued", "sending", "sent", "failed")


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(String(1000), default="")  # an email address for email
    secret: Mapped[str] = mapped_column(String(300), default="")
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # What it carries: arrivals, escalations, tea, tour reminders (empty: all of them).
    events: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # email, webhook, wecom, ...
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), index=True
    )
    visit_id: Mapped[int | None] = mapped_column(
        ForeignKey("visits.id", ondelete="SET NULL"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(1000), default="")
    subject: Mapped[str] = mapped_column(String(300), default="")
    # What the sender needs: the email's parts or the chat payload (JSON).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    purpose: Mapped[str] = mapped_column(String(40), default="")  # invitation, arrival, ...
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    leased_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class NotifyCursor(Base):
    __tablename__ = "notify_cursors"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
