"""/reception/log: the visitor log of every day, and its CSV (/reception/log.csv).

The search is a plain GET form (shareable URLs, works without JavaScript); with htmx
the form and the page links fetch the same URL and swap only the results
(``templates/_visit_log.html``), pushing the URL into the history. A history restore
(back button after a reload) asks for the whole page again.

``render_log`` is shared with /admin/log (server/admin/log.py): the same page, its
form pointing at its own URL."""

import csv
import io
from datetime import date

from flask import Response, render_template, request, stream_with_context, url_for
from flask_login import current_user

from server.auth import page_roles
from server.extensions import htmx
from server.reception import bp
from server.services import clock, visit_log
from server.services.errors import ValidationError

STATUS_CHOICES = (
    ("", "Any status 全部状态"),
    ("expected", "Expected 待到访"),
    ("checked_in", "On site 在访"),
    ("checked_out", "Left 已离开"),
    ("cancelled", "Cancelled 已取消"),
    ("walk_in", "Walk-in 临时到访"),
)
STATUS_TEXT = {
    "expected": "Expected 待到访",
    "checked_in": "On site 在访",
    "checked_out": "Left 已离开",
    "cancelled": "Cancelled 已取消",
}


def _args() -> dict:
    a = request.args
    return {
        "q": a.get("q", ""),
        "from_": a.get("from", ""),
        "to": a.get("to", ""),
        "status": a.get("status", ""),
        "host": a.get("host", ""),
    }


def clock_time(ts, day: date | None) -> str:
    """A stored time as the log shows it: "09:30" on the row's own day, else with
    its date ("06-02 09:30"; with the year when another year)."""
    local = clock.to_local(ts)
    if local is None:
        return "—"
    if day is None or local.date() == day:
        return local.strftime("%H:%M")
    return local.strftime("%m-%d %H:%M" if local.year == day.year else "%Y-%m-%d %H:%M")


def render_log(endpoint: str):
    """The log page (or, to htmx, its results) for the search in the query string."""
    args = _args()
    errors: dict = {}
    try:
        page = visit_log.search(current_user, page=request.args.get("page", 1), **args)
    except ValidationError as e:
        errors, page = e.fields, None
    ctx = {
        "page": page,
        "errors": errors,
        "form": request.args,
        "endpoint": endpoint,
        "status_choices": STATUS_CHOICES,
        "status_text": STATUS_TEXT,
        "selected_status": (args["status"] or "").strip().lower().replace("-", "_"),
        "day_of": visit_log.day_of,
        "clock_time": clock_time,
        "csv_url": url_for("reception.log_csv", **(page.query.args(page=1) if page else {})),
    }
    # htmx 2 swaps no 4xx answers: to htmx, the errors are a 200 with role=alert.
    status = 422 if errors and not htmx else 200
    if htmx and not htmx.history_restore_request:
        resp = Response(render_template("_visit_log.html", **ctx), status)
        if page is not None:  # the address bar gets the search without its empty fields
            resp.headers["HX-Push-Url"] = url_for(endpoint, **page.query.args())
    else:
        resp = Response(render_template("reception/log.html", **ctx), status)
    resp.vary.add("HX-Request")  # the same URL answers a page or a fragment
    return resp


@bp.get("/log")
@page_roles("receptionist", "admin")
def log():
    return render_log("reception.log")


def _safe(value) -> str:
    """A cell Excel will not run as a formula (visitors type their own names)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


HEADER = (
    "Date 日期",
    "Expected 预约时间",
    "Arrived 到达",
    "Left 离开",
    "Valid until 有效至",
    "Visitor 访客",
    "Company 公司",
    "Email 邮箱",
    "Phone 电话",
    "Host 接待人",
    "Status 状态",
    "Walk-in 临时到访",
    "Checked in at 签到处",
    "Group 团组",
    "Meeting room 会议室",
    "Purpose 事由",
    "Cancel reason 取消原因",
)


def _csv_lines(rows, batch: int = 500):
    """The CSV text in chunks of ``batch`` rows (a year is ~20,000)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    # UTF-8 with a byte-order mark: Excel then reads 张伟 as UTF-8, not as ANSI.
    buf.write("\ufeff")
    writer.writerow(HEADER)
    for n, r in enumerate(rows, 1):
        day = clock.to_local(r.day).date() if r.day else None
        where = r.kiosk or ("Desk 前台" if r.checked_in_by_id else "")
        writer.writerow(
            [
                _safe(c)
                for c in (
                    day.isoformat() if day else "",
                    clock_time(r.expected_at, day) if r.expected_at else "",
                    clock_time(r.checked_in_at, day) if r.checked_in_at else "",
                    clock_time(r.checked_out_at, day) if r.checked_out_at else "",
                    r.valid_until.isoformat() if r.valid_until else "",
                    r.name,
                    r.company,
                    r.email,
                    r.phone,
                    r.host,
                    STATUS_TEXT.get(r.status, r.status),
                    "yes 是" if r.walk_in else "",
                    where,
                    r.group or "",
                    r.meeting_room,
                    r.purpose,
                    r.cancel_reason,
                )
            ]
        )
        if n % batch == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@bp.get("/log.csv")
@page_roles("receptionist", "admin")
def log_csv():
    """Every visit of the current search (no paging) as a spreadsheet."""
    try:
        rows = visit_log.export(current_user, **_args())
    except ValidationError as e:
        return Response(f"Bad search: {e.message}\n", 422, mimetype="text/plain")
    today = clock.to_local(clock.utcnow()).date().isoformat()
    return Response(
        stream_with_context(_csv_lines(rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="visitor-log-{today}.csv"'},
    )
