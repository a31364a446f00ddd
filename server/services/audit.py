"""The audit trail: who changed what, when, before and after (append-only, chained).

``record(session, action, ...)`` appends one entry in the caller's transaction (so the
entry and the change commit or roll back together). Each entry's ``hash`` is the
SHA-256 of the previous entry's hash and this entry's fields (canonical JSON), so an
entry edited or deleted behind Lobby's back breaks the chain from there on:
``verify()`` walks it and returns the first broken entry's id (None when whole).

Nothing in Lobby updates or deletes an entry: no route, no CLI command, no retention
purge (the law keeps the audit trail; see services/retention.py).

On PostgreSQL appends serialise on a transaction-scoped advisory lock, so two
transactions never chain onto the same previous entry; on SQLite the write lock
(``services/tx.write``) already does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select, text

from server.models import AuditEntry, User, utcnow

_LOCK_KEY = 7_405_112  # pg_advisory_xact_lock key for appends (any fixed number)


def _canonical(entry: AuditEntry) -> bytes:
    fields = {
        "id": entry.id,
        "at": entry.at.isoformat(timespec="microseconds") if entry.at else None,
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def _jsonable(value):
    """Before/after values as JSON can hold them (datetimes as ISO text)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, default=_default))


def _default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def record(
    session,
    action: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: object = "",
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
    at: datetime | None = None,
) -> AuditEntry:
    """Append an entry in ``session``'s transaction and return it (flushed: it has its
    id and hash). ``actor`` is the user who did it; ``actor_label`` names a system
    actor instead ("cli", "worker", "kiosk:3"); ``at``: when it happened (now)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    entry = AuditEntry(
        at=at or utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor=(actor.email if actor is not None else actor_label)[:200],
        action=action[:60],
        target_type=target_type[:40],
        target_id=str(target_id)[:64],
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
        prev_hash=prev or "",
    )
    session.add(entry)
    session.flush()  # the id is part of what is hashed
    entry.hash = entry_hash(entry)
    session.flush()
    return entry


def append(
    session,
    action: str,
    *,
    actor: User | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: object = "",
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> int:
    """``record`` with Core statements on the session's connection, for the flush hook
    (``audit_hook.py``: a flush may not flush again). Same chain, same hash; returns
    the new entry's id."""
    from sqlalchemy import insert, update

    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    table = cast(Table, AuditEntry.__table__)
    prev = conn.execute(select(table.c.hash).order_by(table.c.id.desc()).limit(1)).scalar()
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor=(actor.email if actor is not None else actor_label)[:200],
        action=action[:60],
        target_type=target_type[:40],
        target_id=str(target_id)[:64],
        before=_jsonable(before),
        after=_jsonable(after),
        note=note,
        prev_hash=prev or "",
    )
    values = {
        c: getattr(entry, c)
        for c in (
            "at",
            "actor_id",
            "actor",
            "action",
            "target_type",
            "target_id",
            "before",
            "after",
            "note",
            "prev_hash",
        )
    }
    entry.id = conn.execute(insert(table).values(**values, hash="")).inserted_primary_key[0]
    conn.execute(update(table).where(table.c.id == entry.id).values(hash=entry_hash(entry)))
    return entry.id


def entries(session, batch: int = 1000) -> Iterator[AuditEntry]:
    """Every entry in order, read in batches."""
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify(session) -> int | None:
    """The id of the first entry whose link is broken (its hash does not match its
    fields, or its ``prev_hash`` is not the hash of the entry before it); None when the
    chain is whole."""
    prev = ""
    for entry in entries(session):
        if entry.prev_hash != prev or entry.hash != entry_hash(entry):
            return entry.id
        prev = entry.hash
    return None
