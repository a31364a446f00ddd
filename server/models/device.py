"""Devices at the desk: printers, kiosks and the badge jobs sent to printers."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow

PRINTABLE_STATES = ("online", "paper_low", "unknown")
JOB_STATES = ("queued", "sending", "done", "failed")


class Printer(Base):
    """A named printer; ``url`` is a printer URL (tcp://, usb://, ..., see DESIGN.md)."""

    __tablename__ = "printers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    # Last health check: online, paper_low, paper_out, cover_open, error,
    # unreachable or unknown (no answer: python-escpos would call that "paper OK").
    status: Mapped[str] = mapped_column(String(20), default="unknown")
    status_detail: Mapped[str] = mapped_column(String(300), default="")
    status_checked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def can_print(self) -> bool:
        """States in which a job is sent; anything else keeps jobs queued."""
        return self.status in PRINTABLE_STATES


class Kiosk(Base):
    """A visitor-facing screen. Paired once via a one-time token; then it holds a
    device credential (id + secret) in a cookie. Only hashes are stored."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    fallback_printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    pair_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    paired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # The language the kiosk greets visitors in until they switch ("zh" or "en"; "" =
    # the visitor's browser, Accept-Language: a new kiosk's default).
    language: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    printer: Mapped[Printer | None] = relationship(foreign_keys=[printer_id])
    fallback_printer: Mapped[Printer | None] = relationship(foreign_keys=[fallback_printer_id])


class PrintJob(Base):
    """One badge on its way to a printer: queued -> sending -> done, or failed with
    the reason. A job waiting for its printer stays queued until ``next_attempt_at``."""

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    printer_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    printer_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # Why it prints: "check-in", or a reprint's reason as given by a person.
    reason: Mapped[str] = mapped_column(String(300), default="check-in")
    reprint: Mapped[bool] = mapped_column(default=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fallback_from_id: Mapped[int | None] = mapped_column(ForeignKey("printers.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # A worker that took the job to send it holds it until ``lease_until``; a worker
    # that died mid-job (SIGKILL) loses the lease and the job is dealt with by another.
    leased_by: Mapped[str] = mapped_column(String(120), default="")
    lease_until: Mapped[datetime | None]

    visit = relationship("Visit")
    printer: Mapped[Printer | None] = relationship(foreign_keys=[printer_id])
    requested_by = relationship("User")


class WorkerHeartbeat(Base):
    """A print worker's sign of life (``lobby worker`` or the one inside ``lobby run``):
    one row per worker, its ``beat_at`` renewed every pass; /readyz wants one younger
    than a minute."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    host: Mapped[str] = mapped_column(String(120), default="")
    pid: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
