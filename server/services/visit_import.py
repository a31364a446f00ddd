"""Bulk pre-registration (issue 16 item 3): the rows of a sheet of visitors
(services/visit_sheet.py reads CSV and XLSX) checked with the rules of
``visits.pre_register``, then written all or none.

``preview(data, filename, created_by)`` checks every row and returns a ``Preview``:
the rows, and each problem as ``RowError(row, field, reason)`` where ``row`` is the
row number the user sees in the sheet (the header is row 1). ``host`` is a staff
email; ``expected_at`` is ISO 8601 (``2026-12-02T09:30+08:00``), or
``YYYY-MM-DD HH:MM`` / ``YYYY/M/D H:MM`` (Excel's rendering) in the site's time
zone (LOBBY_TIMEZONE). A file that cannot be read at all raises the sheet's
``ValidationError`` (visit_sheet.py names the codes).

``run(preview, created_by, ...)`` writes every row or none: a preview with any
error raises ``ValidationError("invalid_rows")`` and writes nothing. The visitors,
visits and invitations go in with batched INSERTs (``insertmanyvalues``) in ONE
transaction (bench/import.py times it; bench/README.md has the figures). Because of that
the ORM audit hook (services/audit_hook.py) does not see each visit: the import is
ONE audit entry (``visit.import``: who, the file name, the row count, the first and
last visit id). Measured on this machine (2 CPUs, SQLite): 10,000 visits through the
ORM with the hook's entry per visit and per visitor took 21 s in one flush and 30 s
row by row as ``pre_register`` does (20,000 hashed, chained entries, ~1 ms each),
holding SQLite's write lock all along, so every check-in waits that long; the
batched INSERTs take 1-3 s. Every visit the import made is in the id range its one
entry names. Invitations are queued for visitors with an
email (``invitations.wanted``'s rule) as the outbox rows ``invitations.queue``
writes (same payload, same dedupe key); the message itself is built by the worker.
Open dashboards get one ``visit_updated`` (``change: "imported"``) per host, not
one per visit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert

from server import realtime
from server.models import User, Visit, Visitor, utcnow
from server.models.notify import OutboxMessage
from server.notify import invitations
from server.services import audit, clock, visit_sheet
from server.services.errors import ValidationError
from server.services.tx import write

# The same checks pre_register makes (one place for the rules).
from server.services.visits import _booking, _visitor_fields

BATCH = 1000  # rows per INSERT batch (and per progress step)
LANGUAGES = {"zh": "zh", "en": "en", "中文": "zh", "英文": "en", "english": "en", "chinese": "zh"}
# Excel's own rendering of a date-time in a CSV it saved: 2026/12/2 9:30
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
DATE_REASON = "must be an ISO 8601 date-time or YYYY-MM-DD HH:MM"


@dataclass(frozen=True)
class RowError:
    row: int  # as the user sees it in the sheet: the header is row 1
    field: str
    reason: str


@dataclass
class Row:
    number: int
    cells: dict[str, str]  # what the sheet says, by column
    visitor: dict = field(default_factory=dict)  # checked fields, for Visitor(...)
    host: User | None = None
    when: datetime | None = None
    purpose: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class Preview:
    filename: str
    rows: list[Row]

    @property
    def errors(self) -> list[RowError]:
        return [RowError(r.number, f, why) for r in self.rows for f, why in r.errors.items()]

    @property
    def invalid(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def valid(self) -> int:
        return len(self.rows) - self.invalid

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.invalid


def _when_text(value: str) -> str:
    """``2026/12/2 9:30`` (Excel's rendering) as ISO text; anything else unchanged."""
    m = _SLASHED.match(value)
    if not m:
        return value
    y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"


def check(number: int, cells: dict[str, str], created_by: User | None = None) -> Row:
    """One row checked with pre_register's rules; problems in ``row.errors``."""
    row = Row(number, cells)
    language = cells.get("language", "")
    visitor = {k: cells.get(k, "") for k in ("name", "company", "email", "phone")}
    visitor["language"] = LANGUAGES.get(language.lower(), language)
    row.visitor = _visitor_fields(visitor, row.errors)
    row.host, row.when, _, row.purpose = _booking(
        cells.get("host", ""),
        _when_text(cells.get("expected_at", "")),
        None,
        cells.get("purpose", ""),
        created_by,
        row.errors,
    )
    if "expected_at" in row.errors:
        row.errors["expected_at"] = DATE_REASON
    return row


def preview(
    data: bytes,
    filename: str = "",
    created_by: User | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Preview:
    """Every row of the file checked; nothing is written. ``progress(done, total)``
    is called after each ``BATCH`` rows checked."""
    cells = visit_sheet.read(data, filename)
    rows = []
    for i, (number, row) in enumerate(cells, start=1):
        rows.append(check(number, row, created_by))
        if progress is not None and (i % BATCH == 0 or i == len(cells)):
            progress(i, len(cells))
    return Preview(filename, rows)


def run(
    result: Preview,
    created_by: User | None = None,
    *,
    invite: bool = True,
    actor_label: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> list[int]:
    """Write every row of ``result`` in one transaction and return the new visit ids;
    ``ValidationError("invalid_rows")`` (nothing written) when any row has an error.
    ``progress(done, total)`` is called after each batch of rows."""
    if not result.rows:
        raise visit_sheet.refuse("empty_file", "no rows to import")
    if not result.ok:
        problems = result.errors
        raise ValidationError(
            "invalid_rows",
            f"{result.invalid} of {len(result.rows)} rows have errors; nothing was imported",
            fields={f"row {e.row}.{e.field}": e.reason for e in problems[:200]},
        )
    total = len(result.rows)
    by_id = created_by.id if created_by else None
    ids: list[int] = []
    per_host: dict[int, tuple[User, int]] = {}
    subjects: dict[tuple, str] = {}
    now = utcnow()
    with write() as session:
        for start in range(0, total, BATCH):
            batch = result.rows[start : start + BATCH]
            people = session.scalars(
                insert(Visitor).returning(Visitor.id, sort_by_parameter_order=True),
                [{**r.visitor, "created_at": now} for r in batch],
            ).all()
            visit_rows = [
                {
                    "code": _new_code(),
                    "visitor_id": person_id,
                    "host_id": r.host.id,  # type: ignore[union-attr]  # checked: no errors
                    "expected_at": r.when,
                    "purpose": r.purpose,
                    "created_by_id": by_id,
                    "invite": invite,
                    "created_at": now,
                }
                for r, person_id in zip(batch, people, strict=True)
            ]
            new = session.scalars(
                insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visit_rows
            ).all()
            ids.extend(new)
            messages = []
            for r, visit_id in zip(batch, new, strict=True):
                host = r.host
                assert host is not None
                seen = per_host.get(host.id)
                per_host[host.id] = (host, (seen[1] if seen else 0) + 1)
                if invite and r.visitor.get("email"):
                    messages.append(_invitation(visit_id, r, subjects, now))
            if messages:
                session.execute(insert(OutboxMessage), messages)
            if progress is not None:
                progress(min(start + BATCH, total), total)
        events = [
            realtime.record(
                session,
                "visit_updated",
                {
                    "change": "imported",
                    "count": count,
                    "host": {"id": host.id, "name": host.name},
                },
                realtime.visit_rooms(Visit(host_id=host.id, host=host)),  # never added
            )
            for host, count in per_host.values()
        ]
        audit.record(
            session,
            "visit.import",
            actor=created_by,
            actor_label=actor_label or ("" if created_by else "system"),
            target_type="visit",
            target_id=f"{ids[0]}-{ids[-1]}",
            after={
                "file": result.filename,
                "rows": total,
                "first_visit": ids[0],
                "last_visit": ids[-1],
                "invitations": invite,
            },
            note=f"imported {total} visits from {result.filename or 'a file'}",
        )
    realtime.announce(events)
    return ids


def _new_code() -> str:
    from server.models.visit import new_code

    return new_code()


def _invitation(visit_id: int, row: Row, subjects: dict, now: datetime) -> dict:
    """The outbox row ``invitations.queue`` writes for a new visit (same payload and
    dedupe key), without a flush and a look-up per visit: the subject is the same for
    every visit of one language and day, so it is made once per (language, day)."""
    language = row.visitor.get("language", "")
    day = clock.to_local(row.when).date() if row.when else None
    key = (language, day)
    if key not in subjects:
        # A visit that is never added to the session: what subject_of reads.
        sample = Visit(expected_at=row.when, language="", valid_until=None)
        sample.visitor = Visitor(language=language)
        subjects[key] = invitations.subject_of(sample, "new")
    return {
        "kind": "email",
        "recipient": row.visitor["email"],
        "subject": subjects[key][:300],
        "payload": {"invitation": {"visit_id": visit_id, "kind": "new", "sequence": 0}},
        "purpose": "invitation",
        "visit_id": visit_id,
        "dedupe_key": f"invitation:{visit_id}:0",
        "status": "queued",
        "next_attempt_at": now,
        "created_at": now,
    }
