"""Bulk pre-registration (issue 16 item 3): a CSV or XLSX sheet of visitors, checked
row by row with the rules of ``visits.pre_register``, then written all or none.

``read(data, filename)`` turns the file into rows: CSV as UTF-8 (with or without a
BOM) or, failing that, GB18030 (what Excel in China saves), delimited by comma, tab
or semicolon; XLSX through openpyxl in read-only mode (its first sheet). The header
row names the columns ``name, company, email, phone, host, expected_at, purpose,
language`` (or 姓名, 公司, 邮箱, 电话, 接待人, 预计到达, 事由, 语言); ``name`` and ``host``
must be there, unknown columns are ignored, blank rows are skipped. Cells are text:
a formula is never evaluated (an XLSX formula arrives as its ``=...`` text), an
XLSX date cell is its local date and time. Limits: ``MAX_BYTES`` and ``MAX_ROWS``;
past them, and for a file that is no sheet at all, a ``ValidationError`` with a
stable code (``file_too_large``, ``too_many_rows``, ``bad_encoding``,
``bad_file``, ``missing_columns``, ``empty_file``).

``preview(data, filename, created_by)`` checks every row and returns a ``Preview``:
the rows, and each problem as ``RowError(row, field, reason)`` where ``row`` is the
row number the user sees in the sheet (the header is row 1). ``host`` is a staff
email; ``expected_at`` is ISO 8601 (``2026-12-02T09:30+08:00``), or
``YYYY-MM-DD HH:MM`` / ``YYYY/M/D H:MM`` in the site's time zone (LOBBY_TIMEZONE).

``run(preview, created_by, ...)`` writes every row or none: a preview with any
error raises ``ValidationError("invalid_rows")`` and writes nothing. The visitors,
visits and invitations go in with batched INSERTs (``insertmanyvalues``) in ONE
transaction: 10,000 rows in a few seconds (bench/import.py; the README has the
figures). Because of that the ORM audit hook (services/audit_hook.py) does not see
each visit: the import is ONE audit entry (``visit.import``: who, the file name,
the row count, the first and last visit id). Measured on this machine (2 CPUs,
SQLite): 10,000 visits through the ORM with the hook's entry per visit and per
visitor took 21 s in one flush and 30 s row by row as ``pre_register`` does (20,000
hashed, chained entries, ~1 ms each) — holding SQLite's write lock, so every
check-in waits that long; the batched INSERTs take ~1 s. Every visit the import
made is in the id range its one entry names. Invitations are queued for visitors with an
email (``invitations.wanted``'s rule) as the outbox rows ``invitations.queue``
writes (same payload, same dedupe key); the message itself is built by the worker.
Open dashboards get one ``visit_updated`` (``change: "imported"``) per host, not
one per visit.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import insert

from server import realtime
from server.models import User, Visit, Visitor, utcnow
from server.models.notify import OutboxMessage
from server.notify import invitations
from server.services import audit, clock
from server.services.errors import ValidationError
from server.services.tx import write

# The same checks pre_register makes (one place for the rules).
from server.services.visits import _booking, _visitor_fields

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 40
MAX_UNPACKED = 100 * 1024 * 1024  # an XLSX's parts, unpacked (20,000 rows are ~5 MB)
BATCH = 1000  # rows per INSERT batch (and per progress step)
COLUMNS = ("name", "company", "email", "phone", "host", "expected_at", "purpose", "language")
REQUIRED = ("name", "host")
HEADERS_ZH = {
    "姓名": "name",
    "公司": "company",
    "邮箱": "email",
    "电子邮箱": "email",
    "电话": "phone",
    "手机": "phone",
    "接待人": "host",
    "预计到达": "expected_at",
    "预计到达时间": "expected_at",
    "事由": "purpose",
    "语言": "language",
}
LANGUAGES = {"zh": "zh", "en": "en", "中文": "zh", "英文": "en", "english": "en", "chinese": "zh"}
# Excel's own rendering of a date-time in a CSV it saved: 2026/12/2 9:30
_SLASHED = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
DATE_REASON = "must be an ISO 8601 date-time or YYYY-MM-DD HH:MM"
TEMPLATE_ROW = {
    "name": "张伟",
    "company": "Example Ltd 示例公司",
    "email": "zhang.wei@example.com",
    "phone": "+86 138 0013 8000",
    "host": "host@example.com",
    "expected_at": "2026-12-02 09:30",
    "purpose": "Quarterly review 季度评审",
    "language": "zh",
}


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


def _refuse(code: str, message: str) -> ValidationError:
    return ValidationError(code, message, fields={"file": message})


def _cell_text(value) -> str:
    """An XLSX cell as the text a CSV would hold (dates local, 13800138000 not 1.38e10)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat(timespec="minutes")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse("bad_encoding", "the file is neither UTF-8 nor GB18030 text")


def _csv_records(data: bytes):
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as e:
        raise _refuse("bad_file", f"not a readable CSV file ({e})") from e


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED:  # a ZIP bomb, by its declared sizes
            raise _refuse("bad_file", "the XLSX file unpacks to too much data")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ValidationError:
        raise
    except Exception as e:  # untrusted bytes: whatever the parser trips on, not a 500
        raise _refuse("bad_file", "not a readable XLSX file") from e
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield [_cell_text(v) for v in values]
    except ValidationError:
        raise
    except Exception as e:
        raise _refuse("bad_file", f"not a readable XLSX file ({type(e).__name__})") from e
    finally:
        book.close()


def _is_xlsx(data: bytes, filename: str) -> bool:
    return data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm"))


def _column(header: str) -> str:
    name = header.strip().strip("*").strip().lower().replace(" ", "_")
    return HEADERS_ZH.get(name, name)


def read(data: bytes, filename: str = "") -> list[tuple[int, dict[str, str]]]:
    """The sheet's data rows as (row number in the sheet, {column: text}); blank rows
    are skipped but keep their numbers. Raises ValidationError for a file that cannot
    be imported at all (see the module docstring)."""
    if len(data) > MAX_BYTES:
        raise _refuse("file_too_large", f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
    records = _xlsx_records(data) if _is_xlsx(data, filename) else _csv_records(data)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=1):
        cells = [(c or "").strip() for c in record]
        if not any(cells):
            continue
        if header is None:
            header = [_column(c) for c in cells]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise _refuse(
                    "missing_columns",
                    f"row {number}: the header has no {', '.join(missing)} column "
                    f"(columns: {', '.join(COLUMNS)})",
                )
            continue
        if len(rows) == MAX_ROWS:
            raise _refuse("too_many_rows", f"more than {MAX_ROWS:,} rows; split the file")
        rows.append(
            (number, {k: v for k, v in zip(header, cells, strict=False) if k in COLUMNS and v})
        )
    if not rows:
        raise _refuse("empty_file", "no rows to import under the header")
    return rows


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
    cells = read(data, filename)
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
        raise _refuse("empty_file", "no rows to import")
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


def template_csv() -> bytes:
    """The CSV template: the header and one example row, UTF-8 with a BOM (so Excel
    opens 张伟 as 张伟, not mojibake)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([TEMPLATE_ROW[c] for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The XLSX template: the same header and example row."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "visits"
    sheet.append(list(COLUMNS))
    sheet.append([TEMPLATE_ROW[c] for c in COLUMNS])
    for column, width in zip("ABCDEFGH", (14, 24, 28, 20, 24, 18, 28, 10), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
