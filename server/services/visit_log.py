"""The visitor log: every visit of any day, searched, newest first, 50 a page.

``search(user, q=, from_=, to=, status=, host=, page=)`` returns a ``Page``;
``export(user, ...)`` yields every matching row (no paging) for the CSV. Both share
one filter (``_where``), so the CSV is exactly the search on screen.

- ``q`` matches the visitor's name or company (a substring, any case; ``%`` and ``_``
  are matched literally, not as LIKE wildcards);
- ``from_`` / ``to`` are local dates (``YYYY-MM-DD``), both ends included. A visit
  counts on a day if it was expected, arrived or left that day; a visit valid over
  several days (``valid_until``) is one row, shown on its first day (its expected
  day), not repeated over every day it is valid;
- ``status`` is ``expected``, ``checked_in``, ``checked_out``, ``cancelled`` or
  ``walk_in`` (also spelled ``walk-in``);
- ``host`` matches the host's name or email (a substring) or their id; for a user who
  is not reception or admin it is ignored: hosts see only their own visits.

Bad input raises ``ValidationError("invalid_query")`` with ``fields`` naming every
problem at once. Newest first means by the visit's day and time (expected, else
arrived, else registered), then the newest visit id.

Speed: a year of visits (20,000) is searched in well under a second on SQLite with
the indexes the models have (see ``bench/log.py``): a name search scans the visitors
table, which is cheap at that size, so no full-text index is kept.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from math import ceil

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from server.extensions import db
from server.models import Kiosk, User, Visit, VisitGroup, Visitor
from server.services import clock
from server.services.errors import ValidationError

PER_PAGE = 50
STATUSES = ("expected", "checked_in", "checked_out", "cancelled", "walk_in")
MAX_TEXT = 200
MAX_PAGE = 100_000


@dataclass
class Query:
    """A validated search; ``args()`` gives it back as URL parameters."""

    q: str = ""
    from_: date | None = None
    to: date | None = None
    status: str = ""
    host: str = ""
    page: int = 1

    def args(self, **change) -> dict:
        """Non-empty parameters for a link to this search (``page`` only when > 1)."""
        values = {
            "q": self.q,
            "from": self.from_.isoformat() if self.from_ else "",
            "to": self.to.isoformat() if self.to else "",
            "status": self.status,
            "host": self.host,
            "page": self.page,
        }
        values.update(change)
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


@dataclass
class Page:
    items: list[Visit]
    page: int
    pages: int
    total: int
    query: Query
    per_page: int = PER_PAGE
    numbers: list[int | None] = field(default_factory=list)  # page links; None: a gap


def _text(value, key: str, errors: dict) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[key] = "must be text"
        return ""
    value = value.strip()
    if len(value) > MAX_TEXT:
        errors[key] = f"at most {MAX_TEXT} characters"
        return ""
    return value


def _day(value, key: str, errors: dict) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[key] = "must be a date (YYYY-MM-DD)"
        return None


def parse(q="", from_=None, to=None, status="", host="", page=1) -> Query:
    """Validate a search; every problem at once in ``ValidationError.fields``."""
    errors: dict[str, str] = {}
    query = Query(
        q=_text(q, "q", errors),
        host=_text(host, "host", errors),
        from_=_day(from_, "from", errors),
        to=_day(to, "to", errors),
    )
    status = _text(status, "status", errors).lower().replace("-", "_")
    if status and status not in STATUSES:
        errors["status"] = "one of " + ", ".join(STATUSES)
    query.status = status
    if query.from_ and query.to and query.from_ > query.to:
        errors["to"] = "must not be before from"
    try:
        query.page = int(page if page not in (None, "") else 1)
        if not 1 <= query.page <= MAX_PAGE:
            raise ValueError
    except (TypeError, ValueError):
        errors["page"] = "must be a whole number from 1"
    if errors:
        raise ValidationError(
            "invalid_query", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    return query


def like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _local_midnight(day: date) -> datetime:
    return clock.to_utc_naive(datetime.combine(day, time.min))


def _in_range(column, start, end):
    conds = [column.is_not(None)]
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column < end)
    return and_(*conds)


def _where(query: Query, user: User) -> list:
    """The filter as SQL conditions over visits joined with visitors and users."""
    conds = []
    if query.q:
        pattern = like(query.q)
        conds.append(
            or_(
                Visitor.name.ilike(pattern, escape="\\"),
                Visitor.company.ilike(pattern, escape="\\"),
            )
        )
    if not user.is_staff_desk:
        conds.append(Visit.host_id == user.id)
    elif query.host.isascii() and query.host.isdigit() and len(query.host) <= 18:
        conds.append(Visit.host_id == int(query.host))
    elif query.host:
        pattern = like(query.host)
        conds.append(
            or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
        )
    if query.status == "walk_in":
        conds.append(Visit.walk_in.is_(True))
    elif query.status:
        conds.append(Visit.status == query.status)
    if query.from_ or query.to:
        start = _local_midnight(query.from_) if query.from_ else None
        end = _local_midnight(query.to + timedelta(days=1)) if query.to else None
        conds.append(
            or_(
                _in_range(Visit.expected_at, start, end),
                _in_range(Visit.checked_in_at, start, end),
                _in_range(Visit.checked_out_at, start, end),
            )
        )
    return conds


def _joined(stmt):
    return stmt.join(Visitor, Visit.visitor_id == Visitor.id).join(User, Visit.host_id == User.id)


def sort_key():
    """When a visit happened, for "newest first": expected, else arrived, else made."""
    return func.coalesce(Visit.expected_at, Visit.checked_in_at, Visit.created_at)


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page links: the first, the last and ``around`` either side of ``page``;
    ``None`` stands for the pages left out."""
    keep = {1, pages, *range(page - around, page + around + 1)}
    out: list[int | None] = []
    for n in range(1, pages + 1):
        if n in keep:
            out.append(n)
        elif out and out[-1] is not None:
            out.append(None)
    return out


def search(user: User, q="", from_=None, to=None, status="", host="", page=1) -> Page:
    """One page of the log as ``user`` may see it (hosts: their own visits)."""
    query = parse(q, from_, to, status, host, page)
    conds = _where(query, user)
    total = db.session.scalar(
        _joined(select(func.count(Visit.id)).select_from(Visit)).where(*conds)
    )
    pages = max(1, ceil(total / PER_PAGE))
    stmt = (
        _joined(select(Visit))
        .where(*conds)
        .options(
            contains_eager(Visit.visitor),
            contains_eager(Visit.host),
            selectinload(Visit.kiosk),
            selectinload(Visit.group),
            selectinload(Visit.tasks),
        )
        .order_by(sort_key().desc(), Visit.id.desc())
        .limit(PER_PAGE)
        .offset((query.page - 1) * PER_PAGE)
    )
    items = list(db.session.scalars(stmt).unique())
    return Page(
        items=items,
        page=query.page,
        pages=pages,
        total=total,
        query=query,
        numbers=page_numbers(query.page, pages),
    )


EXPORT_COLUMNS = (
    Visit.id,
    sort_key().label("day"),
    Visit.expected_at,
    Visit.checked_in_at,
    Visit.checked_out_at,
    Visit.valid_until,
    Visitor.name,
    Visitor.company,
    Visitor.email,
    Visitor.phone,
    User.name.label("host"),
    Visit.status,
    Visit.walk_in,
    Kiosk.name.label("kiosk"),
    Visit.checked_in_by_id,
    VisitGroup.name.label("group"),
    Visit.meeting_room,
    Visit.purpose,
    Visit.cancel_reason,
)


def export(user: User, q="", from_=None, to=None, status="", host=""):
    """Every visit of the search (no paging), newest first, as plain rows with the
    columns of ``EXPORT_COLUMNS`` (no ORM objects: a year is 20,000 rows)."""
    query = parse(q, from_, to, status, host, 1)  # now, not when the rows are read
    stmt = (
        _joined(select(*EXPORT_COLUMNS).select_from(Visit))
        .outerjoin(Kiosk, Visit.kiosk_id == Kiosk.id)
        .outerjoin(VisitGroup, Visit.group_id == VisitGroup.id)
        .where(*_where(query, user))
        .order_by(sort_key().desc(), Visit.id.desc())
    )
    return db.session.execute(stmt.execution_options(yield_per=1000))


def day_of(visit: Visit) -> date | None:
    """The local day a visit is listed on (its first day)."""
    when = visit.expected_at or visit.checked_in_at or visit.created_at
    local = clock.to_local(when)
    return local.date() if local else None
