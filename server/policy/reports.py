"""Reports (issue 15 item 7): what reception and the office did over a range of days,
as tables with a chart each, exported to CSV and XLSX.

Contract:
- ``parse_range(from_, to)``: local dates ``YYYY-MM-DD`` (the site's zone), both ends
  included; default the last 30 days. Bad input: ``ValidationError("invalid_range")``
  (422) with ``fields``. At most ``MAX_DAYS``.
- ``build(name, rng)``: one ``Report`` (``columns``, ``rows``, ``chart``) of
  ``NAMES``; anything else is ``NotFound("unknown_report")`` (404).
- ``to_csv(report)`` / ``to_xlsx(report)``: the export. A text cell that begins with
  ``= + - @``, a tab or a CR gets a leading ``'`` (``neutralise``): visitors type
  their own names, and a spreadsheet must not run them as formulas.
- ``may_see(user)``: reception, admins and users with the ``auditor`` duty.

Speed: the database does the counting and summing (``spend``, ``tours``' statuses);
where a local day or hour is needed the query returns plain timestamps (no ORM
objects) and Python puts them in the site zone's buckets, because converting time
zones in SQL differs between SQLite and PostgreSQL. A year of 20,000 visits renders
the page well under a second (``bench/reports.py`` has the figures).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask import g, has_request_context
from sqlalchemy import Integer, Text, and_, case, cast, extract, func, select

from server.extensions import db
from server.models import (
    BudgetIncrease,
    Expense,
    HospitalityRequest,
    Task,
    User,
    Visit,
    Visitor,
)
from server.services import clock
from server.services.errors import NotFound, ValidationError

DEFAULT_DAYS = 30
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
MAX_DAYS = 731
NAMES = ("visits", "daily", "weekly", "hours", "waits", "kinds", "tea", "tours", "spend")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them): dropped from XLSX cells.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


ZERO = timedelta(0)


@dataclass
class Range:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as naive UTC: local midnight of the first day to local
        midnight after the last."""
        return (
            clock.to_utc_naive(datetime.combine(self.start, time.min)),
            clock.to_utc_naive(datetime.combine(self.end + timedelta(days=1), time.min)),
        )

    def args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@dataclass
class Report:
    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: dict | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


def today() -> date:
    return clock.to_local(clock.utcnow()).date()


def parse_range(from_=None, to=None) -> Range:
    errors: dict[str, str] = {}

    def day(value, key: str) -> date | None:
        if value in (None, ""):
            return None
        try:
            if not isinstance(value, str) or len(value) > 10:
                raise ValueError
            found = date.fromisoformat(value.strip())
            if not FIRST_DAY <= found <= LAST_DAY:  # a day's bounds in UTC must exist
                raise ValueError
            return found
        except ValueError:
            errors[key] = "must be a date (YYYY-MM-DD) from 1900 to 9998"
            return None

    start, end = day(from_, "from"), day(to, "to")
    if not errors:
        if end is None:
            end = today() if start is None else start + timedelta(days=DEFAULT_DAYS - 1)
        if start is None:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            errors["to"] = "must not be before from"
        elif (end - start).days + 1 > MAX_DAYS:
            errors["to"] = f"at most {MAX_DAYS} days after from"
    if errors or start is None or end is None:
        raise ValidationError(
            "invalid_range", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    return Range(start, end)


def may_see(user) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role("admin", "receptionist"):
        return True
    from server.policy import organisation

    return "auditor" in organisation.duties_of(user)


# -- buckets -------------------------------------------------------------------------

visit_time = func.coalesce(Visit.checked_in_at, Visit.expected_at)


def _localiser() -> Callable[[datetime], datetime]:
    """Naive UTC -> naive site time, the zone's offset looked up once per quarter hour
    of UTC (zones change offset on a quarter hour): a year is ~20,000 timestamps per
    report, and ``clock.to_local`` on each was most of the page's time."""
    zone = clock.site_zone()
    offsets: dict[datetime, timedelta] = {}

    def local(ts: datetime) -> datetime:
        slot = ts.replace(minute=ts.minute - ts.minute % 15, second=0, microsecond=0)
        offset = offsets.get(slot)
        if offset is None:
            offset = offsets[slot] = slot.replace(tzinfo=UTC).astimezone(zone).utcoffset() or ZERO
        return ts + offset

    return local


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _days(rng: Range) -> list[date]:
    return [rng.start + timedelta(days=n) for n in range(rng.days)]


def _weeks(rng: Range) -> list[date]:
    first, weeks = _monday(rng.start), []
    while first <= rng.end:
        weeks.append(first)
        first += timedelta(days=7)
    return weeks


def _quarters(rng: Range) -> bool:
    """Whether the site's offset has minutes (India +5:30, Nepal +5:45) on some day of
    the range: then UTC hours are split into quarters, or a local day would start
    inside a bucket."""
    zone = clock.site_zone()
    for n in range(rng.days + 1):
        day = datetime.combine(rng.start + timedelta(days=n), time.min, tzinfo=zone)
        if (day.utcoffset() or ZERO) % timedelta(hours=1):
            return True
    return False


def _slotted(column, rng: Range, conds: list, *measures) -> list[tuple[datetime, list]]:
    """Rows counted by the database per UTC hour (or quarter hour, see ``_quarters``)
    of ``column`` within the range: (the slot's start in naive site time, the
    ``measures``). A year is at most 8,760 slots, whatever the number of visits."""
    start, end = rng.utc_bounds()
    keys: list = [extract(part, column) for part in ("year", "month", "day", "hour")]
    if _quarters(rng):
        keys.append(cast(extract("minute", column), Integer) // 15)
    stmt = select(*keys, *measures).where(column >= start, column < end, *conds).group_by(*keys)
    local = _localiser()
    out = []
    for row in db.session.execute(stmt):
        y, mo, d, h = (int(v) for v in row[:4])
        quarter = int(row[4]) if len(keys) == 5 else 0
        out.append((local(datetime(y, mo, d, h, 15 * quarter)), list(row[len(keys) :])))
    return out


def _visit_slots(rng: Range) -> list[tuple[datetime, list]]:
    """Visits not cancelled (booked, arrived, walk-ins) per slot of their arrival (else
    expected) time; read once per request, the daily and weekly reports share it."""
    key = ("reports.visit_slots", rng.start, rng.end)
    cached = g.get("_reports_cache", {}).get(key) if has_request_context() else None
    if cached is not None:
        return cached
    rows = _slotted(
        visit_time,
        rng,
        [Visit.status != "cancelled"],
        func.count(Visit.id),
        func.count(Visit.checked_in_at),
        func.sum(case((Visit.walk_in.is_(True), 1), else_=0)),
    )
    if has_request_context():
        g.setdefault("_reports_cache", {})[key] = rows
    return rows


def _per(rows, key: Callable[[datetime], object]) -> tuple[Counter, Counter, Counter]:
    booked: Counter = Counter()
    arrived: Counter = Counter()
    walk_ins: Counter = Counter()
    for when, (n, came, walk_in) in rows:
        k = key(when)
        booked[k] += n
        arrived[k] += came
        walk_ins[k] += walk_in or 0
    return booked, arrived, walk_ins


# -- charts --------------------------------------------------------------------------

CHART_W, CHART_H = 760, 240
PAD_L, PAD_R, PAD_T, PAD_B = 64, 12, 12, 44
MAX_BAR = 56  # a few categories: bars stay bars, not slabs


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value))
    for m in (1, 2, 2.5, 5, 10):
        if value <= m * exp:
            return m * exp
    return 10 * exp


def _ticks(top: float) -> list[dict]:
    plot_h = CHART_H - PAD_T - PAD_B
    out = []
    for n in range(5):
        v = top * n / 4
        label = f"{v:,.0f}" if v >= 1000 else f"{v:g}"
        out.append({"y": round(PAD_T + plot_h - plot_h * n / 4, 1), "label": label})
    return out


def chart(
    kind: str,
    labels: list[str],
    series: list[tuple[str, list[float]]],
    x_label: str,
    y_label: str,
    unit: str = "",
    every: int | None = None,
) -> dict:
    """The geometry of a bar or line chart for ``templates/policy/_chart.html``:
    ``series`` is (name, values) per series; each bar or point has a tooltip
    (``title``). Labels are left as text: the template escapes them."""
    n = max(len(labels), 1)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    top = _nice_max(max((v for _, vals in series for v in vals), default=0))
    slot = plot_w / n
    every = every or max(1, math.ceil(n / 12))
    x_ticks = [
        {"x": round(PAD_L + slot * (i + 0.5), 1), "label": label}
        for i, label in enumerate(labels)
        if i % every == 0
    ]
    out: dict = {
        "kind": kind,
        "width": CHART_W,
        "height": CHART_H,
        "left": PAD_L,
        "right": CHART_W - PAD_R,
        "top": PAD_T,
        "bottom": PAD_T + plot_h,
        "y_ticks": _ticks(top),
        "x_ticks": x_ticks,
        "x_label": x_label,
        "y_label": y_label,
        "series": [],
    }
    for s, (name, values) in enumerate(series):
        marks = []
        for i, v in enumerate(values):
            h = plot_h * (v / top)
            tip = f"{labels[i]} · {name}: {v:g}{unit}"
            if kind == "bar":
                width = min(slot * 0.8 / len(series), MAX_BAR)
                x = PAD_L + slot * (i + 0.5) - width * len(series) / 2 + width * s
                marks.append(
                    {
                        "x": round(x, 1),
                        "y": round(PAD_T + plot_h - h, 1),
                        "w": round(max(width, 0.5), 1),
                        "h": round(h, 1),
                        "title": tip,
                    }
                )
            else:
                marks.append(
                    {
                        "x": round(PAD_L + slot * (i + 0.5), 1),
                        "y": round(PAD_T + plot_h - h, 1),
                        "title": tip,
                    }
                )
        points = " ".join(f"{m['x']},{m['y']}" for m in marks)
        out["series"].append({"name": name, "index": s, "marks": marks, "points": points})
    return out


# -- the reports ---------------------------------------------------------------------

BOOKED, ARRIVED, WALK_INS = "Visits 来访", "Arrived 已到达", "Walk-ins 临时到访"


def daily(rng: Range) -> Report:
    booked, arrived, walk_ins = _per(_visit_slots(rng), lambda t: t.date())
    days = _days(rng)
    rows: list[list[Any]] = [[d, booked[d], arrived[d], walk_ins[d]] for d in days]
    labels = [d.strftime("%m-%d") for d in days]
    return Report(
        "daily",
        "Visits per day 每日来访",
        ["Day 日期", BOOKED, ARRIVED, WALK_INS],
        rows,
        chart(
            "line",
            labels,
            [(BOOKED, [r[1] for r in rows]), (ARRIVED, [r[2] for r in rows])],
            "Day 日期",
            "Visits 来访人次",
        ),
    )


def weekly(rng: Range) -> Report:
    booked, arrived, walk_ins = _per(_visit_slots(rng), lambda t: _monday(t.date()))
    weeks = _weeks(rng)
    rows: list[list[Any]] = [[w, booked[w], arrived[w], walk_ins[w]] for w in weeks]
    return Report(
        "weekly",
        "Visits per week 每周来访",
        ["Week from (Monday) 周（周一起）", BOOKED, ARRIVED, WALK_INS],
        rows,
        chart(
            "bar",
            [w.strftime("%m-%d") for w in weeks],
            [(BOOKED, [r[1] for r in rows]), (ARRIVED, [r[2] for r in rows])],
            "Week from 周起始",
            "Visits 来访人次",
        ),
    )


def hours(rng: Range) -> Report:
    # An arrived visit's slot is that of its arrival: the daily report's slots serve.
    arrivals: Counter = Counter()
    for when, (_, came, _) in _visit_slots(rng):
        arrivals[when.hour] += came
    rows: list[list[Any]] = [[f"{h:02d}:00", arrivals[h]] for h in range(24)]
    return Report(
        "hours",
        "Arrivals by hour of the day 按时段到达",
        ["Hour 时段", "Arrivals 到达人次"],
        rows,
        chart(
            "bar",
            [f"{h:02d}" for h in range(24)],
            [("Arrivals 到达人次", [r[1] for r in rows])],
            "Hour of the day 时段",
            "Arrivals 到达人次",
            every=2,
        ),
    )


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def waits(rng: Range) -> Report:
    """Minutes from arrival to the host's "on my way", per host and per department."""
    start, end = rng.utc_bounds()
    # The database gives each wait in seconds; medians and percentiles are Python's
    # (SQLite has no percentile function).
    seconds = extract("epoch", Visit.acknowledged_at) - extract("epoch", Visit.checked_in_at)
    by_host: dict[int, list[float]] = defaultdict(list)
    for uid, wait in db.session.execute(
        select(Visit.host_id, seconds).where(
            Visit.checked_in_at >= start,
            Visit.checked_in_at < end,
            Visit.acknowledged_at.is_not(None),
        )
    ):
        by_host[uid].append(max(0.0, float(wait) / 60))
    names: dict[int, tuple[str, str]] = {
        uid: (name, dept or "")
        for uid, name, dept in db.session.execute(
            select(User.id, User.name, User.department).where(User.id.in_(list(by_host)))
        )
    }
    by_dept: dict[str, list[float]] = defaultdict(list)
    for uid, values in by_host.items():
        by_dept[names[uid][1]].extend(values)

    def line(kind: str, name: str, dept: str, values: list[float]) -> list[Any]:
        return [
            kind,
            name,
            dept,
            len(values),
            round(statistics.median(values), 1),
            round(percentile(values, 90), 1),
        ]

    depts = sorted(by_dept, key=lambda d: (d == "", d))
    dept_rows = [line("Department 部门", d or "—", d or "—", by_dept[d]) for d in depts]
    hosts = sorted(by_host, key=lambda u: (names[u][1], names[u][0]))
    host_rows = [line("Host 接待人", names[u][0], names[u][1] or "—", by_host[u]) for u in hosts]
    labels = [r[1] for r in dept_rows]
    return Report(
        "waits",
        "Arrival to the host's “on my way” 到达至接待人回应",
        ["Per 维度", "Name 名称", "Department 部门", "Visits 人次", "Median (min) 中位数（分钟）",
         "90th percentile (min) 第90百分位（分钟）"],
        dept_rows + host_rows,
        chart(
            "bar",
            labels,
            [
                ("Median 中位数", [r[4] for r in dept_rows]),
                ("90th percentile 第90百分位", [r[5] for r in dept_rows]),
            ],
            "Department 部门",
            "Minutes 分钟",
            unit=" min",
            every=1,
        ),
    )  # fmt: skip


def kinds(rng: Range) -> Report:
    """Walk-ins against pre-registered visits, counted in SQL."""
    start, end = rng.utc_bounds()
    booked: Counter = Counter()
    arrived: Counter = Counter()
    for walk_in, n, came in db.session.execute(
        select(
            Visit.walk_in,
            func.count(Visit.id),
            func.count(Visit.checked_in_at),
        )
        .where(visit_time >= start, visit_time < end, Visit.status != "cancelled")
        .group_by(Visit.walk_in)
    ):
        key = "walk_in" if walk_in else "pre"
        booked[key] += n
        arrived[key] += came
    labels = {"pre": "Pre-registered 预约", "walk_in": "Walk-in 临时到访"}
    rows: list[list[Any]] = [[labels[k], booked[k], arrived[k]] for k in ("pre", "walk_in")]
    return Report(
        "kinds",
        "Walk-ins and pre-registered visits 临时到访与预约",
        ["Kind 类别", BOOKED, ARRIVED],
        rows,
        chart(
            "bar",
            [r[0] for r in rows],
            [(BOOKED, [r[1] for r in rows]), (ARRIVED, [r[2] for r in rows])],
            "Kind 类别",
            "Visits 来访人次",
            every=1,
        ),
    )


def tea(rng: Range) -> Report:
    """Tea served in the range, per drink: cups (the items' counts) and orders."""
    start, end = rng.utc_bounds()
    served_at = func.coalesce(Task.done_at, Task.updated_at)
    cups: Counter = Counter()
    orders: Counter = Counter()
    # Orders repeat (two green teas, no sugar): SQL counts each distinct order once.
    text = cast(Task.details, Text)
    for raw, times in db.session.execute(
        select(text, func.count(Task.id))
        .where(Task.kind == "tea", Task.status == "served", served_at >= start, served_at < end)
        .group_by(text)
    ):
        try:
            details = json.loads(raw) if raw else {}
        except ValueError:
            continue
        items = details.get("items") if isinstance(details, dict) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            drink = str(item.get("drink") or "—")
            count = item.get("count")
            cups[drink] += (count if isinstance(count, int) and count > 0 else 1) * times
            orders[drink] += times
    drinks = sorted(cups, key=lambda d: (-cups[d], d))
    rows: list[list[Any]] = [[d, cups[d], orders[d]] for d in drinks]
    return Report(
        "tea",
        "Tea served 茶水服务",
        ["Drink 饮品", "Cups 杯数", "Orders 次数"],
        rows,
        chart(
            "bar",
            drinks,
            [("Cups 杯数", [r[1] for r in rows])],
            "Drink 饮品",
            "Cups 杯数",
            every=1,
        ),
        note=f"{sum(cups.values())} cups in all 共 {sum(cups.values())} 杯",
    )


def tours(rng: Range) -> Report:
    """Tours per week: held (in progress or done), planned and cancelled."""
    start, end = rng.utc_bounds()
    when = func.coalesce(Task.started_at, Task.starts_at, Task.created_at)
    held: Counter = Counter()
    planned: Counter = Counter()
    cancelled: Counter = Counter()
    local = _localiser()
    for ts, status in db.session.execute(
        select(when, Task.status).where(Task.kind == "tour", when >= start, when < end)
    ):
        week = _monday(local(ts).date())
        if status in ("in_progress", "done"):
            held[week] += 1
        elif status == "cancelled":
            cancelled[week] += 1
        else:
            planned[week] += 1
    weeks = _weeks(rng)
    rows: list[list[Any]] = [[w, held[w], planned[w], cancelled[w]] for w in weeks]
    return Report(
        "tours",
        "Tours held 参观接待",
        ["Week from (Monday) 周（周一起）", "Held 已进行", "Planned 计划中", "Cancelled 已取消"],
        rows,
        chart(
            "bar",
            [w.strftime("%m-%d") for w in weeks],
            [("Held 已进行", [r[1] for r in rows])],
            "Week from 周起始",
            "Tours 参观次数",
        ),
        note=f"{sum(held.values())} held 共进行 {sum(held.values())} 次",
    )


def spend(rng: Range) -> Report:
    """Approved requests arriving in the range, by star level: budget (estimate plus
    approved increases) against spend (expenses not rejected), summed in SQL."""
    start, end = rng.utc_bounds()
    increases = (
        select(BudgetIncrease.request_id, func.sum(BudgetIncrease.amount).label("amount"))
        .where(BudgetIncrease.status == "approved")
        .group_by(BudgetIncrease.request_id)
        .subquery()
    )
    spent = (
        select(Expense.request_id, func.sum(Expense.amount).label("amount"))
        .where(Expense.status != "rejected")
        .group_by(Expense.request_id)
        .subquery()
    )
    R = HospitalityRequest
    found = {
        level: (n, est, inc, exp)
        for level, n, est, inc, exp in db.session.execute(
            select(
                R.star_level,
                func.count(R.id),
                func.coalesce(func.sum(R.estimate_total), 0),
                func.coalesce(func.sum(increases.c.amount), 0),
                func.coalesce(func.sum(spent.c.amount), 0),
            )
            .outerjoin(increases, increases.c.request_id == R.id)
            .outerjoin(spent, spent.c.request_id == R.id)
            .where(R.status == "approved", and_(R.arrives_at >= start, R.arrives_at < end))
            .group_by(R.star_level)
        )
    }
    rows: list[list[Any]] = []
    for level in (3, 4, 5):
        n, est, inc, exp = found.get(level, (0, 0, 0, 0))
        est, inc, exp = (Decimal(str(v)).quantize(Decimal("0.01")) for v in (est, inc, exp))
        budget = est + inc
        used = round(float(exp / budget * 100), 1) if budget else 0.0
        rows.append([f"{level}★", n, est, inc, budget, exp, budget - exp, used])
    return Report(
        "spend",
        "Spend against budget by star level 按星级预算与支出",
        [
            "Star level 星级",
            "Requests 申请数",
            "Estimate 预估 (CNY)",
            "Approved increases 追加预算 (CNY)",
            "Budget 预算 (CNY)",
            "Spent 支出 (CNY)",
            "Left 结余 (CNY)",
            "Used % 使用率",
        ],
        rows,
        chart(
            "bar",
            [r[0] for r in rows],
            [
                ("Budget 预算", [float(r[4]) for r in rows]),
                ("Spent 支出", [float(r[5]) for r in rows]),
            ],
            "Star level 星级",
            "CNY 元",
            unit=" ¥",
            every=1,
        ),
    )


VISIT_COLUMNS = [
    "Visit 编号",
    "Day 日期",
    "Visitor 访客",
    "Company 公司",
    "Host 接待人",
    "Department 部门",
    "Expected 预约时间",
    "Arrived 到达",
    "On my way 接待人回应",
    "Left 离开",
    "Wait (min) 等候（分钟）",
    "Status 状态",
    "Walk-in 临时到访",
    "Request 招待申请",
    "Star level 星级",
]


def visits(rng: Range) -> Report:
    """The visit log of the range: one row per visit (cancelled ones too), oldest
    first; plain rows, no ORM objects."""
    start, end = rng.utc_bounds()
    stmt = (
        select(
            Visit.id,
            visit_time.label("when"),
            Visitor.name,
            Visitor.company,
            User.name.label("host"),
            User.department,
            Visit.expected_at,
            Visit.checked_in_at,
            Visit.acknowledged_at,
            Visit.checked_out_at,
            Visit.status,
            Visit.walk_in,
            Visit.request_id,
            HospitalityRequest.star_level,
        )
        .join(Visitor, Visit.visitor_id == Visitor.id)
        .join(User, Visit.host_id == User.id)
        .outerjoin(HospitalityRequest, Visit.request_id == HospitalityRequest.id)
        .where(visit_time >= start, visit_time < end)
        .order_by(visit_time, Visit.id)
    )
    rows: list[list[Any]] = []
    local = _localiser()

    def naive(ts: datetime | None) -> datetime | None:
        return local(ts).replace(microsecond=0) if ts else None

    for r in db.session.execute(stmt):
        wait = (
            round(max(0.0, (r.acknowledged_at - r.checked_in_at).total_seconds() / 60), 1)
            if r.acknowledged_at and r.checked_in_at
            else None
        )
        rows.append(
            [
                r.id,
                local(r.when).date(),
                r.name,
                r.company,
                r.host,
                r.department or "",
                naive(r.expected_at),
                naive(r.checked_in_at),
                naive(r.acknowledged_at),
                naive(r.checked_out_at),
                wait,
                r.status,
                "yes 是" if r.walk_in else "",
                r.request_id,
                r.star_level,
            ]
        )
    return Report("visits", "Visit log 来访记录", VISIT_COLUMNS, rows)


BUILDERS: dict[str, Callable[[Range], Report]] = {
    "visits": visits,
    "daily": daily,
    "weekly": weekly,
    "hours": hours,
    "waits": waits,
    "kinds": kinds,
    "tea": tea,
    "tours": tours,
    "spend": spend,
}
PAGE_REPORTS = ("daily", "weekly", "hours", "waits", "kinds", "tea", "tours", "spend")


def build(name, rng: Range) -> Report:
    builder = BUILDERS.get(name) if isinstance(name, str) else None
    if builder is None:
        raise NotFound("unknown_report", "reports are: " + ", ".join(NAMES))
    return builder(rng)


# -- exports -------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in FORMULA_START else text


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    return neutralise(str(value))


def csv_lines(report: Report, batch: int = 1000) -> Iterator[str]:
    """The CSV (UTF-8 with a byte-order mark, so Excel reads 张伟 right), in chunks."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow([neutralise(c) for c in report.columns])
    for n, row in enumerate(report.rows, 1):
        writer.writerow([_cell_text(v) for v in row])
        if n % batch == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def to_csv(report: Report) -> bytes:
    return "".join(csv_lines(report)).encode("utf-8")


def _xlsx_value(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | int | float):
        return value
    return neutralise(_ILLEGAL_XML.sub("", str(value)))


def to_xlsx(report: Report) -> bytes:
    """One sheet named for the report (openpyxl's write-only mode: a year's visit log is
    300,000 cells). Text is neutralised like the CSV's, so no text cell begins with
    ``=`` and openpyxl writes every one as text, never as a formula."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.name)
    sheet.append([neutralise(c) for c in report.columns])
    for row in report.rows:
        sheet.append([_xlsx_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(report: Report, rng: Range, ext: str) -> str:
    return f"lobby-{report.name}-{rng.start.isoformat()}-{rng.end.isoformat()}.{ext}"
