"""Retention: how long a visitor's personal data is kept, and the purge that ends it.

``RetentionSettings`` (one row, created with the defaults when missing) holds three
windows, in days: a visit's personal fields (365), its photo and signature images
(30) and the event log (30). ``purge()`` applies them:

- a visit whose last moment (left, else arrived, else expected, else registered) is
  older than ``personal_days`` is anonymised: purpose, requirements, cancel and admit
  reasons blanked, ``anonymised_at`` set; its tasks keep only their drink counts, its
  desk requests only their language, rules version and refusal reason, its reprints'
  reasons are blanked and its signatures lose their ``visitor_key``. The visit row
  stays (status, times, host, kind, walk-in, stars, code), so reports still count it,
  and nothing here deletes a row money records may point at.
- a visitor is anonymised (name "(removed 已删除)", company, title, email, phone
  blanked) once *every* visit of theirs is: a visitor with an old visit and a recent
  one keeps their name and contact details until the recent one is past the window
  too (the old visit's own fields are blanked at once). A visitor row with no visit
  at all goes when it is older than the window.
- a visit group's name (often the client party) is blanked once all its visits are.
- photos older than ``images_days`` are deleted, signature images blanked (the
  signature row stays: which version, when, in which language), and badge PNGs the
  emulator printer saved in the data dir deleted. Images never outlive the personal
  window either.
- events older than ``events_days`` (payloads carry names) are deleted, except the
  newest event, which is emptied instead (kind ``purged``): on SQLite a deleted last
  row would let ``seq`` start again below what clients have seen.
- the audit trail is never touched (the law keeps it, and it holds ids and counts,
  not names), nor are users, devices or the watchlist.

Everything happens in one write transaction, with the conditional claim of
``last_purge_at`` (so of several workers only one purges a given day) and the
``retention.purge`` audit entry carrying the counts: all of it commits, or none.
``dry_run`` runs the very same statements and rolls back, so its counts are exactly
what a real run would do (it holds the write lock as long as a real run would).
Measured on a year of data (``bench/year_of_visits.py``: 20,000 visits; figures in
bench/README.md): the first purge of that backlog takes ~3 s, holding SQLite's write
lock meanwhile; a daily purge afterwards ~0.3 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, text, update

from server.extensions import db
from server.models import (
    DeskRequest,
    Event,
    Printer,
    PrintJob,
    RetentionSettings,
    Signature,
    Task,
    User,
    Visit,
    VisitGroup,
    Visitor,
    VisitPhoto,
    utcnow,
)
from server.services import audit
from server.services.errors import ValidationError
from server.services.tx import write

REMOVED_NAME = "(removed 已删除)"
DAY_LIMITS = (1, 3650)
DEFAULTS = {"personal_days": 365, "images_days": 30, "events_days": 30}
# The daily job runs when the last purge is at least this old.
EVERY = timedelta(hours=24)
# Desk request details that say nothing about the person (kept for reports).
_DESK_KEEP = ("language", "version")
_BADGE_FILES = ("badge-*.png", "job-*.png")  # what the emulator printer saves

Progress = Callable[[str], None]


@dataclass
class PurgeResult:
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    at: datetime | None = None
    seconds: float = 0.0
    audit_id: int | None = None


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


# ---- settings -----------------------------------------------------------------------


def settings() -> RetentionSettings:
    """The settings row (a transient one with the defaults while none is saved)."""
    row = db.session.scalar(select(RetentionSettings).order_by(RetentionSettings.id).limit(1))
    return row if row is not None else RetentionSettings(last_purge_at=None, **DEFAULTS)


_ROW_LOCK = 7_405_113  # pg_advisory_xact_lock key: the one row is created once


def _row(session) -> RetentionSettings:
    """The settings row in ``session``'s write transaction, created when missing. On
    PostgreSQL an advisory lock keeps two first purges from creating a row each (on
    SQLite the write lock does)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ROW_LOCK})
    row = session.scalar(select(RetentionSettings).order_by(RetentionSettings.id).limit(1))
    if row is None:
        row = RetentionSettings(last_purge_at=None, **DEFAULTS)
        session.add(row)
        session.flush()
    return row


def parse_days(values: dict) -> dict[str, int]:
    """The three windows as integers 1..3650; ValidationError("invalid_retention")
    naming every bad field."""
    days, errors = {}, {}
    low, high = DAY_LIMITS
    for name in DEFAULTS:
        raw = values.get(name)
        text = str(raw).strip() if raw is not None else ""
        # ASCII digits only: "٣".isdigit() is true and int() takes it.
        if not (text.isascii() and text.isdigit()) or not (low <= int(text) <= high):
            errors[name] = f"a whole number of days from {low} to {high}"
        else:
            days[name] = int(text)
    if errors:
        raise ValidationError(
            "invalid_retention", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    return days


def save_settings(values: dict, user: User | None) -> RetentionSettings:
    """Save the three windows (audited ``retention.settings``, before and after)."""
    days = parse_days(values)
    with write() as session:
        row = _row(session)
        before = {k: getattr(row, k) for k in DEFAULTS}
        for k, v in days.items():
            setattr(row, k, v)
        row.updated_at = utcnow()
        row.updated_by_id = user.id if user is not None else None
        if before != days:
            audit.record(
                session,
                "retention.settings",
                actor=user,
                target_type="retention_settings",
                target_id=row.id,
                before=before,
                after=days,
            )
    return row


def last_purges(limit: int = 10) -> list:
    """The latest ``retention.purge`` audit entries, newest first."""
    from server.models import AuditEntry

    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "retention.purge")
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
    )


# ---- the purge ----------------------------------------------------------------------


def purge(
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    actor: User | None = None,
    actor_label: str = "cli",
    progress: Progress | None = None,
    only_if_due: bool = False,
) -> PurgeResult | None:
    """Apply the retention windows now (see the module docstring). ``only_if_due``
    (the worker's daily job) claims the day first with a conditional UPDATE of
    ``last_purge_at`` and returns None when another process purged within ``EVERY``."""
    now = now or utcnow()
    started = time.perf_counter()
    result = PurgeResult(dry_run=dry_run, at=now)
    say = progress or (lambda _line: None)
    badge_files: list[Path] = []
    try:
        with write() as session:
            row = _row(session)
            claim = update(RetentionSettings).where(RetentionSettings.id == row.id)
            if only_if_due:
                claim = claim.where(
                    or_(
                        RetentionSettings.last_purge_at.is_(None),
                        RetentionSettings.last_purge_at <= now - EVERY,
                    )
                )
            if session.execute(claim.values(last_purge_at=now)).rowcount != 1:
                return None
            with secure_delete(session):
                badge_files = _purge_in(session, row, now, result, say)
            if dry_run:
                raise _DryRun
            entry = audit.record(
                session,
                "retention.purge",
                actor=actor,
                actor_label=actor_label if actor is None else "",
                target_type="retention_settings",
                target_id=row.id,
                after={
                    **result.counts,
                    **{k: getattr(row, k) for k in DEFAULTS},
                },
            )
            result.audit_id = entry.id
    except _DryRun:
        pass
    if not dry_run:  # files last, once the database has committed
        _delete_badge_files(badge_files)
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def secure_delete(session):
    """On SQLite, deleted rows' bytes are overwritten with zeros (``PRAGMA
    secure_delete``) while the block runs: otherwise a purged photo stays readable in
    the file's free pages until they happen to be reused. PostgreSQL frees dead rows
    at its next (auto)vacuum."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if sqlite:
        session.execute(text("PRAGMA secure_delete = ON"))
    try:
        yield
    finally:
        if sqlite:
            session.execute(text("PRAGMA secure_delete = OFF"))


def purge_if_due(actor_label: str = "worker", now: datetime | None = None) -> PurgeResult | None:
    """The worker's daily job: cheap when not due (one indexed read, no write)."""
    now = now or utcnow()
    last = db.session.scalar(
        select(RetentionSettings.last_purge_at).order_by(RetentionSettings.id).limit(1)
    )
    db.session.rollback()  # no read snapshot kept open across the worker's pass
    if last is not None and last > now - EVERY:
        return None
    return purge(now=now, actor_label=actor_label, only_if_due=True)


def visit_last_moment():
    """When a visit was last anything: left, else arrived, else expected, else made."""
    return func.coalesce(
        Visit.checked_out_at, Visit.checked_in_at, Visit.expected_at, Visit.created_at
    )


def _purge_in(
    session, row: RetentionSettings, now: datetime, result: PurgeResult, say: Progress
) -> list[Path]:
    """The purge's statements in ``session``'s transaction; returns the badge files to
    delete once it commits."""
    counts = result.counts
    personal_cut = now - timedelta(days=row.personal_days)
    # Images and events never outlive the personal window.
    images_cut = now - timedelta(days=min(row.images_days, row.personal_days))
    events_cut = now - timedelta(days=min(row.events_days, row.personal_days))

    def step(name: str, n: int, t0: float) -> None:
        counts[name] = n
        say(f"{name}: {n:,} ({time.perf_counter() - t0:.2f} s)")

    # Visits past the window: marked with this run's ``now``, which then names them.
    t0 = time.perf_counter()
    n = session.execute(
        update(Visit)
        .where(Visit.anonymised_at.is_(None), visit_last_moment() < personal_cut)
        .values(purpose="", requirements="", cancel_reason="", admit_reason="", anonymised_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    step("visits", n, t0)
    these = select(Visit.id).where(Visit.anonymised_at == now).scalar_subquery()
    anonymise_related(session, these, counts, step)

    t0 = time.perf_counter()
    all_gone = (
        select(Visit.visitor_id)
        .group_by(Visit.visitor_id)
        .having(func.count() == func.count(Visit.anonymised_at))
    )
    n = session.execute(
        update(Visitor)
        .where(
            Visitor.anonymised_at.is_(None),
            or_(
                Visitor.id.in_(all_gone),
                and_(
                    Visitor.created_at < personal_cut, Visitor.id.not_in(select(Visit.visitor_id))
                ),
            ),
        )
        .values(**anonymous_visitor(now))
        .execution_options(synchronize_session=False)
    ).rowcount
    step("visitors", n, t0)

    t0 = time.perf_counter()
    groups_gone = (
        select(Visit.group_id)
        .where(Visit.group_id.is_not(None))
        .group_by(Visit.group_id)
        .having(func.count() == func.count(Visit.anonymised_at))
    )
    n = session.execute(
        update(VisitGroup)
        .where(VisitGroup.name != "", VisitGroup.id.in_(groups_gone))
        .values(name="")
        .execution_options(synchronize_session=False)
    ).rowcount
    step("groups", n, t0)

    # Desk requests with no visit (a walk-in nobody routed) age on their own.
    t0 = time.perf_counter()
    loose = session.execute(
        select(DeskRequest.id, DeskRequest.kind, DeskRequest.details).where(
            DeskRequest.visit_id.is_(None), DeskRequest.created_at < personal_cut
        )
    ).all()
    n = _blank_desk_details(session, loose)
    counts["desk_requests"] += n
    say(f"desk_requests without a visit: {n:,} ({time.perf_counter() - t0:.2f} s)")

    t0 = time.perf_counter()
    n = session.execute(
        delete(VisitPhoto)
        .where(or_(VisitPhoto.taken_at < images_cut, VisitPhoto.visit_id.in_(these)))
        .execution_options(synchronize_session=False)
    ).rowcount
    step("photos", n, t0)
    t0 = time.perf_counter()
    n = session.execute(
        update(Signature)
        .where(
            Signature.image_png.is_not(None),
            or_(Signature.signed_at < images_cut, Signature.visit_id.in_(these)),
        )
        .values(image_png=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    step("signature_images", n, t0)

    t0 = time.perf_counter()
    newest = session.scalar(select(func.max(Event.seq)))
    n = session.execute(
        delete(Event)
        .where(Event.created_at < events_cut, Event.seq < (newest or 0))
        .execution_options(synchronize_session=False)
    ).rowcount
    n += session.execute(
        update(Event)
        .where(Event.seq == newest, Event.created_at < events_cut, Event.kind != "purged")
        .values(kind="purged", payload={}, rooms=[])
        .execution_options(synchronize_session=False)
    ).rowcount
    step("events", n, t0)

    t0 = time.perf_counter()
    files = _old_badge_files(images_cut)
    step("badge_files", len(files), t0)
    return files


def anonymous_visitor(now: datetime) -> dict:
    return {
        "name": REMOVED_NAME,
        "company": "",
        "title": "",
        "email": "",
        "phone": "",
        "anonymised_at": now,
    }


def anonymise_related(session, visit_ids, counts: dict, step) -> None:
    """Blank what hangs off the visits ``visit_ids`` (a subquery or a list of ids):
    task notes, desk request details, reprint reasons, signature keys. Shared with
    ``visitor_data.forget``."""
    t0 = time.perf_counter()
    rows = session.execute(select(Task.id, Task.details).where(Task.visit_id.in_(visit_ids))).all()
    changed = []
    for task_id, details in rows:
        has_items = isinstance(details, dict) and "items" in details
        kept = {"items": details["items"]} if has_items else {}  # drink counts, no notes
        if kept != details:
            changed.append({"id": task_id, "details": kept})
    if changed:  # one executemany (ORM bulk UPDATE by primary key)
        session.execute(update(Task), changed)
    step("tasks", len(changed), t0)

    t0 = time.perf_counter()
    rows = session.execute(
        select(DeskRequest.id, DeskRequest.kind, DeskRequest.details).where(
            DeskRequest.visit_id.in_(visit_ids)
        )
    ).all()
    step("desk_requests", _blank_desk_details(session, rows), t0)

    t0 = time.perf_counter()
    n = session.execute(
        update(PrintJob)
        .where(PrintJob.visit_id.in_(visit_ids), PrintJob.reprint.is_(True), PrintJob.reason != "")
        .values(reason="")
        .execution_options(synchronize_session=False)
    ).rowcount
    step("reprint_reasons", n, t0)

    t0 = time.perf_counter()
    n = session.execute(
        update(Signature)
        .where(Signature.visit_id.in_(visit_ids), Signature.visitor_key != "")
        .values(visitor_key="")
        .execution_options(synchronize_session=False)
    ).rowcount
    step("signatures", n, t0)


def _blank_desk_details(session, rows) -> int:
    changed = []
    for req_id, kind, details in rows:
        keep = _DESK_KEEP + (("reason",) if kind == "turned_away" else ())
        given = details if isinstance(details, dict) else {}
        kept = {k: v for k, v in given.items() if k in keep}
        if kept != details:
            changed.append({"id": req_id, "details": kept})
    if changed:
        session.execute(update(DeskRequest), changed)
    return len(changed)


# ---- badge images the emulator printer saved ----------------------------------------


def _emulator_dirs() -> list[Path]:
    from printers.connection import parse_printer_url

    urls = [current_app.config.get("DEFAULT_PRINTER") or ""]
    urls += list(db.session.scalars(select(Printer.url).where(Printer.url.like("emulator:%"))))
    dirs = []
    for url in urls:
        if not url.startswith("emulator:"):
            continue
        try:
            path = parse_printer_url(url).path
        except Exception:  # a bad URL is the printer page's problem, not the purge's
            continue
        if path and Path(path).is_dir() and Path(path) not in dirs:
            dirs.append(Path(path))
    return dirs


def _old_badge_files(cut: datetime) -> list[Path]:
    limit = (cut - datetime(1970, 1, 1)).total_seconds()  # naive UTC -> epoch seconds
    found = []
    for directory in _emulator_dirs():
        for pattern in _BADGE_FILES:
            for path in directory.glob(pattern):
                try:
                    if path.stat().st_mtime < limit:
                        found.append(path)
                except OSError:
                    continue
    return found


def _delete_badge_files(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
