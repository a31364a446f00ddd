"""Reading a sheet of visitors for bulk pre-registration (services/visit_import.py
checks and writes the rows), and the template to fill in.

``read(data, filename)`` turns a file into rows: CSV as UTF-8 (with or without a BOM)
or, failing that, GB18030 (what Excel in China saves), delimited by comma, tab or
semicolon; XLSX through openpyxl in read-only mode (its first sheet; refused when its
parts declare more than ``MAX_UNPACKED`` bytes). The header row names the columns
``COLUMNS`` (or their Chinese names, ``HEADERS_ZH``); ``name`` and ``host`` must be
there, unknown columns are ignored, blank rows are skipped (and keep their numbers).
Cells are text: a formula is never evaluated (an XLSX formula arrives as its
``=...`` text), an XLSX date cell is its local date and time, a number its digits.
Past ``MAX_BYTES`` or ``MAX_ROWS``, and for a file that is no sheet at all, a
``ValidationError`` with a stable code: ``file_too_large``, ``too_many_rows``,
``bad_encoding``, ``bad_file``, ``missing_columns``, ``empty_file``.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, time

from server.services.errors import ValidationError

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 40
MAX_UNPACKED = 100 * 1024 * 1024  # an XLSX's parts, unpacked (20,000 rows are ~5 MB)
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


def refuse(code: str, message: str) -> ValidationError:
    """A file that cannot be imported at all: ``code`` and why, as the form's ``file``."""
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
    raise refuse("bad_encoding", "the file is neither UTF-8 nor GB18030 text")


def _csv_records(data: bytes):
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as e:
        raise refuse("bad_file", f"not a readable CSV file ({e})") from e


def _xlsx_records(data: bytes):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED:  # a ZIP bomb, by its declared sizes
            raise refuse("bad_file", "the XLSX file unpacks to too much data")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ValidationError:
        raise
    except Exception as e:  # untrusted bytes: whatever the parser trips on, not a 500
        raise refuse("bad_file", "not a readable XLSX file") from e
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
            yield [_cell_text(v) for v in values]
    except ValidationError:
        raise
    except Exception as e:
        raise refuse("bad_file", f"not a readable XLSX file ({type(e).__name__})") from e
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
        raise refuse("file_too_large", f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")
    records = _xlsx_records(data) if _is_xlsx(data, filename) else _csv_records(data)
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, record in enumerate(records, start=1):
        # A NUL is never meant in a cell (and PostgreSQL text cannot hold one).
        cells = [(c or "").replace("\x00", "").strip() for c in record]
        if not any(cells):
            continue
        if header is None:
            header = [_column(c) for c in cells]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise refuse(
                    "missing_columns",
                    f"row {number}: the header has no {', '.join(missing)} column "
                    f"(columns: {', '.join(COLUMNS)})",
                )
            continue
        if len(rows) == MAX_ROWS:
            raise refuse("too_many_rows", f"more than {MAX_ROWS:,} rows; split the file")
        rows.append(
            (number, {k: v for k, v in zip(header, cells, strict=False) if k in COLUMNS and v})
        )
    if not rows:
        raise refuse("empty_file", "no rows to import under the header")
    return rows


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
