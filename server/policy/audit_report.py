"""The month's audit report (REQUIREMENTS.md C.5): what an auditor reads.

``build(first_day)`` for the calendar month starting ``first_day`` (site time zone):
- ``receptions``: approved requests arriving that month, by star level and by the
  requester's department: count, budget (estimate plus approved increases), actual
  (expenses not rejected);
- ``over_budget``: requests whose actual passed their estimate, and whether approved
  budget increases covered it (pre-approved) or not;
- ``late_sheets``: arrangement sheets filed later than a day before arrival (or not at
  all for a visit that has begun);
- ``late_president``: the president's attendance announced less than two days ahead
  (with the general manager's override reason, if any);
- ``low_feedback``: answers with any score below 3;
- ``violations``: the register's entries dated that month, with fines.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from server.extensions import db
from server.models import (
    ArrangementSheet,
    BudgetIncrease,
    Expense,
    Feedback,
    HospitalityRequest,
    User,
    Visit,
    utcnow,
)
from server.policy import violations
from server.policy.arrangements import DUE_BEFORE
from server.policy.requests import PRESIDENT_NOTICE
from server.services import clock


def month_bounds(first: date) -> tuple[datetime, datetime, date]:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = clock.to_utc_naive(datetime.combine(first, time()))
    end = clock.to_utc_naive(datetime.combine(nxt, time()))
    return start, end, nxt


def _sums(ids: list[int]) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    if not ids:
        return {}, {}
    spent = {
        rid: Decimal(total)
        for rid, total in db.session.execute(
            select(Expense.request_id, func.sum(Expense.amount))
            .where(Expense.request_id.in_(ids), Expense.status != "rejected")
            .group_by(Expense.request_id)
        )
    }
    raised = {
        rid: Decimal(total)
        for rid, total in db.session.execute(
            select(BudgetIncrease.request_id, func.sum(BudgetIncrease.amount))
            .where(BudgetIncrease.request_id.in_(ids), BudgetIncrease.status == "approved")
            .group_by(BudgetIncrease.request_id)
        )
    }
    return spent, raised


def _group(rows: list[dict], key: str) -> list[dict]:
    out: dict = {}
    for row in rows:
        g = out.setdefault(row[key], {key: row[key], "count": 0, "budget": 0.0, "actual": 0.0})
        g["count"] += 1
        g["budget"] += row["budget"]
        g["actual"] += row["actual"]
    return [
        {**g, "budget": round(g["budget"], 2), "actual": round(g["actual"], 2)}
        for g in sorted(out.values(), key=lambda g: str(g[key]))
    ]


def build(first: date) -> dict:
    start, end, nxt = month_bounds(first)
    reqs = db.session.scalars(
        select(HospitalityRequest)
        .where(HospitalityRequest.arrives_at >= start, HospitalityRequest.arrives_at < end)
        .order_by(HospitalityRequest.arrives_at)
    ).all()
    approved = [r for r in reqs if r.status == "approved"]
    spent, raised = _sums([r.id for r in approved])
    rows = []
    over = []
    for r in approved:
        actual = spent.get(r.id, Decimal("0"))
        budget = r.estimate_total + raised.get(r.id, Decimal("0"))
        row = {
            "id": r.id,
            "client": r.client_company,
            "stars": r.star_level,
            "department": r.requester.department or "—",
            "requester": r.requester.name,
            "estimate": float(r.estimate_total),
            "budget": float(budget),
            "actual": float(actual),
        }
        rows.append(row)
        if actual > r.estimate_total:
            over.append(
                {**row, "over": float(actual - r.estimate_total), "pre_approved": actual <= budget}
            )
    sheets = {
        s.request_id: s
        for s in db.session.scalars(
            select(ArrangementSheet).where(ArrangementSheet.request_id.in_([r.id for r in reqs]))
        )
    }
    now = utcnow()
    late_sheets = []
    for r in reqs:
        if r.status not in ("pending", "approved"):
            continue
        sheet = sheets.get(r.id)
        due = r.arrives_at - DUE_BEFORE
        if sheet is None and now >= r.arrives_at:
            late_sheets.append(
                {
                    "id": r.id,
                    "client": r.client_company,
                    "requester": r.requester.name,
                    "due": clock.iso(due),
                    "filed": None,
                }
            )
        elif sheet is not None and sheet.filed_at > due:
            late_sheets.append(
                {
                    "id": r.id,
                    "client": r.client_company,
                    "requester": r.requester.name,
                    "due": clock.iso(due),
                    "filed": clock.iso(sheet.filed_at),
                }
            )
    late_president = [
        {
            "id": r.id,
            "client": r.client_company,
            "requester": r.requester.name,
            "notice_hours": round((r.arrives_at - r.created_at).total_seconds() / 3600, 1),
            "override": r.president_override_reason,
        }
        for r in reqs
        if r.president_attends and r.arrives_at - r.created_at < PRESIDENT_NOTICE
    ]
    low = db.session.execute(
        select(Feedback, Visit, User)
        .join(Visit, Visit.id == Feedback.visit_id)
        .join(User, User.id == Visit.host_id)
        .where(
            Feedback.submitted_at >= start,
            Feedback.submitted_at < end,
            (Feedback.welcome < 3) | (Feedback.hospitality < 3) | (Feedback.meeting < 3),
        )
        .order_by(Feedback.submitted_at)
    ).all()
    register = violations.listing(first, nxt)
    return {
        "month": first.strftime("%Y-%m"),
        "receptions": {
            "count": len(rows),
            "by_stars": _group(rows, "stars"),
            "by_department": _group(rows, "department"),
            "requests": rows,
        },
        "over_budget": over,
        "late_sheets": late_sheets,
        "late_president": late_president,
        "low_feedback": [
            {
                "visit": v.id,
                "visitor": v.visitor.name,
                "host": u.name,
                "welcome": f.welcome,
                "hospitality": f.hospitality,
                "meeting": f.meeting,
                "comment": f.comment,
            }
            for f, v, u in low
        ],
        "violations": [violations.as_dict(v) for v in register],
        "fines_total": round(sum(float(v.fine) for v in register), 2),
    }


def parse_month(raw: str | None) -> date:
    """``YYYY-MM`` → its first day (the current month when blank); ValueError if bad."""
    if not raw:
        today = clock.to_local(clock.utcnow()).date()
        return today.replace(day=1)
    if len(raw) != 7 or raw[4] != "-" or not raw.replace("-", "").isdigit() or not raw.isascii():
        raise ValueError("a month, YYYY-MM")
    return date(int(raw[:4]), int(raw[5:]), 1)


def _money_line(g: dict) -> str:
    return f"  {g['count']} · budget ¥{g['budget']:.2f} · actual ¥{g['actual']:.2f}"


def pdf(report: dict) -> bytes:
    """The report as a PDF (one page per section as needed; Chinese text embedded)."""
    import tempfile

    from fpdf import FPDF

    from server.policy.pdf_font import ttf_subset

    lines: list[tuple[int, str]] = [(16, f"审计报告 Audit report · {report['month']}")]
    rec = report["receptions"]
    lines.append((12, f"接待 Receptions: {rec['count']}"))
    for g in rec["by_stars"]:
        lines.append(
            (
                10,
                "  " + "★" * g["stars"] + _money_line(g),
            )
        )
    for g in rec["by_department"]:
        lines.append(
            (
                10,
                f"  {g['department']}" + _money_line(g),
            )
        )
    lines.append((12, f"超预算 Over budget: {len(report['over_budget'])}"))
    for o in report["over_budget"]:
        state = "pre-approved 已事先审批" if o["pre_approved"] else "NOT pre-approved 未事先审批"
        lines.append((10, f"  #{o['id']} {o['client']} · +¥{o['over']:.2f} · {state}"))
    lines.append((12, f"安排表迟交 Arrangement sheets late: {len(report['late_sheets'])}"))
    for s in report["late_sheets"]:
        lines.append(
            (
                10,
                f"  #{s['id']} {s['client']} · {s['requester']} · "
                + f"filed {s['filed'] or 'never 未提交'}",
            )
        )
    lines.append(
        (12, f"总裁出席通知不足两天 President notices late: {len(report['late_president'])}")
    )
    for p in report["late_president"]:
        lines.append(
            (10, f"  #{p['id']} {p['client']} · {p['notice_hours']} h · {p['override'] or '—'}")
        )
    lines.append((12, f"低于3分的反馈 Feedback below 3: {len(report['low_feedback'])}"))
    for f in report["low_feedback"]:
        lines.append(
            (
                10,
                f"  {f['visitor']} → {f['host']}: "
                + f"{f['welcome']}/{f['hospitality']}/{f['meeting']} {f['comment'][:80]}",
            )
        )
    lines.append(
        (12, f"违规 Violations: {len(report['violations'])} · fines ¥{report['fines_total']:.2f}")
    )
    for v in report["violations"]:
        who = v["person"]["name"] if v["person"] else "?"
        mgr = f" · {v['manager']['name']} ¥{v['manager_share']:.2f}" if v["manager"] else ""
        lines.append(
            (10, f"  {v['date']} {who} · {v['rule']} ×{v['multiplier']} · ¥{v['fine']:.2f}{mgr}")
        )
    doc = FPDF(format="A4")
    doc.add_page()
    with tempfile.NamedTemporaryFile(suffix=".ttf") as font_file:
        font_file.write(ttf_subset("".join(text for _, text in lines)))
        font_file.flush()
        doc.add_font("noto", fname=font_file.name)
        for size, text in lines:
            doc.set_font("noto", size=size)
            doc.multi_cell(0, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
            if size >= 12:
                doc.ln(1)
        return bytes(doc.output())
