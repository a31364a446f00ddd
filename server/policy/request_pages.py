"""The hospitality request pages: /requests (mine, or everyone's for the office and
approvers), /requests/new (the form, priced live with htmx), /requests/<id> (state,
chain, estimate, history, the decision form for the step's deciders, the arrangement
sheet form), /requests/<id>/arrangement (the sheet on one A4 page: print CSS, and its
PDF), /approvals (what waits on me). The rules are server/policy/requests.py's and
arrangements.py's; these views only translate forms to their input and their
refusals back to fields (422)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user

from server.auth import page_roles
from server.limits import upload_limit
from server.models import HospitalityRequest
from server.models.policy import ITEM_KINDS, MATERIALS
from server.policy import arrangements, materials, organisation, rooms, standards
from server.policy import requests as hospitality
from server.services import clock
from server.services.errors import ServiceError

bp = Blueprint("requests", __name__)
STAFF = ("admin", "receptionist", "host")
ROWS_VISITORS, ROWS_ITEMS = 3, 3
MAX_FORM_ROWS = 50

KIND_LABELS = {
    "meal": "Meals 餐饮",
    "lodging": "Lodging (nights) 住宿（晚）",
    "vehicle": "Vehicle (trips) 用车（次）",
    "pickup": "Airport/port pickup 接机/接船",
    "leisure": "Local tour 本地游览",
    "gift": "Gift 礼品",
}
MATERIAL_LABELS = {
    "flags": "Flags 旗帜",
    "name_plates": "Name plates 席卡",
    "company_intro": "Company introduction 公司简介",
    "catalogue": "Product catalogue 产品目录",
    "projector": "Projector 投影仪",
    "welcome_banner": "Welcome banner 欢迎横幅",
    "room_supplies": "Room supplies 会议室用品",
}
STATUS_LABELS = {
    "pending": "Waiting 审批中",
    "returned": "Returned 已退回",
    "rejected": "Rejected 已拒绝",
    "approved": "Approved 已批准",
}


def approvals_count() -> int:
    if not current_user.is_authenticated:
        return 0
    from server.policy import expenses

    return len(hospitality.waiting_for(current_user)) + len(
        expenses.waiting_increases(current_user)
    )


@bp.app_template_filter("isolocal")
def isolocal(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time from an API dict, in the site's zone ("" when blank or bad)."""
    from server.services.visits import parse_when

    try:
        when = parse_when(value) if isinstance(value, str) else value
    except ValueError:
        return ""
    local = clock.to_local(when) if when else None
    return local.strftime(fmt) if local else ""


def my_requests(limit: int = 10) -> list[HospitalityRequest]:
    if not current_user.is_authenticated:
        return []
    return hospitality.mine(current_user)[:limit]


@bp.app_context_processor
def _nav():
    return {
        "approvals_count": approvals_count,
        "my_requests": my_requests,
        "request_status": STATUS_LABELS.get,
        "my_feedback": my_feedback,
        "may_audit": _may_audit,
        "still_open": still_open,
    }


def _may_audit() -> bool:
    from server.policy.audit_pages import may_audit

    return current_user.is_authenticated and may_audit(current_user)


def my_feedback() -> dict | None:
    from server.policy import feedback

    return feedback.host_score(current_user) if current_user.is_authenticated else None


def still_open(req) -> dict | None:
    """What an approved request still waits for (summary, expenses, answers)."""
    if req.status != "approved":
        return None
    from server.policy import closure

    return closure.closure(req)


def _rows(prefix: str, fields: tuple[str, ...]) -> list[dict]:
    """Repeated form rows ``prefix-<n>-<field>`` as dicts, blank rows dropped."""
    rows: dict[int, dict] = {}
    for key, value in request.form.items():
        parts = key.split("-")
        if len(parts) != 3 or parts[0] != prefix or parts[2] not in fields:
            continue
        if not (parts[1].isascii() and parts[1].isdigit()) or int(parts[1]) >= MAX_FORM_ROWS:
            continue
        rows.setdefault(int(parts[1]), {})[parts[2]] = value.strip()
    return [rows[n] for n in sorted(rows) if any(rows[n].values())]


def _number(text: str):
    text = (text or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        return float(text) if text.isascii() else text
    except ValueError:
        return text  # the service says what is wrong with it


def _form_data() -> dict:
    """The form as the API's request body."""
    f = request.form
    star = f.get("star_level", "")
    items = []
    for row in _rows("item", ("kind", "quantity", "amount")):
        item = {"kind": row.get("kind"), "quantity": _number(row.get("quantity", "")) or 1}
        if row.get("amount"):
            item["amount"] = _number(row["amount"])
        items.append(item)
    data = {
        "client": {
            "company": f.get("company", ""),
            "star_level": int(star) if star in ("3", "4", "5") else star,
            "background": f.get("background", ""),
        },
        "visitors": _rows("visitor", ("name", "title", "email", "phone")),
        "purpose": f.get("purpose", ""),
        "arrives_at": f.get("arrives_at", ""),
        "departs_at": f.get("departs_at", ""),
        "attendees": _number(f.get("attendees", "")) or 0,
        "items": items,
        "president_attends": f.get("president_attends") == "1",
        "materials": [m for m in f.getlist("materials") if m],
    }
    if f.get("override_reason", "").strip():
        data["president_override"] = {"reason": f.get("override_reason", "")}
    return data


def _form_page(template_data=None, errors=None, status=200, req=None, estimate=None):
    data = template_data or {}
    visitors = data.get("visitors") or []
    items = data.get("items") or []
    return render_template(
        "policy/request_form.html",
        data=data,
        visitors=visitors + [{}] * max(0, ROWS_VISITORS - len(visitors)),
        items=items + [{}] * max(0, ROWS_ITEMS - len(items)),
        errors=errors or {},
        levels=standards.current(),
        kinds=ITEM_KINDS,
        kind_labels=KIND_LABELS,
        materials=MATERIALS,
        material_labels=MATERIAL_LABELS,
        req=req,
        estimate=estimate,
    ), status


def _local_input(iso: str | None) -> str:
    """An ISO time as a datetime-local input's value (site-local)."""
    if not iso:
        return ""
    try:
        from server.services.visits import parse_when

        when = parse_when(iso)
    except ValueError:
        return iso
    return clock.to_local(when).strftime("%Y-%m-%dT%H:%M") if when else ""


@bp.get("/requests")
@page_roles(*STAFF)
def index():
    from sqlalchemy import select

    from server.extensions import db

    sees_all = current_user.has_role("admin", "receptionist") or bool(
        organisation.duties_of(current_user)
    )
    if sees_all:
        found = list(
            db.session.scalars(
                select(HospitalityRequest).order_by(HospitalityRequest.arrives_at.desc()).limit(300)
            )
        )
    else:
        found = hospitality.mine(current_user)
    return render_template(
        "policy/requests.html",
        requests=found,
        sees_all=sees_all,
        overdue={r.id for r in found if arrangements.overdue(r)},
        status_labels=STATUS_LABELS,
        waiting=hospitality.waiting_for(current_user),
    )


@bp.get("/requests/new")
@page_roles(*STAFF)
def new():
    return _form_page({"attendees": 1})


@bp.post("/requests/new")
@page_roles(*STAFF)
def create():
    data = _form_data()
    try:
        req = hospitality.create(data, current_user)
    except ServiceError as e:
        return _form_page(_as_template(data), e.fields or {"form": e.message}, 422)
    return redirect(url_for("requests.show", request_id=req.id), code=303)


@bp.post("/requests/estimate")
@page_roles(*STAFF)
def estimate():
    """htmx: the estimate (or what is wrong) for the form as it stands."""
    data = _form_data()
    try:
        fields = hospitality.validate(data, current_user)
    except ServiceError as e:
        return render_template("policy/_estimate.html", errors=e.fields or {"form": e.message})
    total = sum(i["amount"] for i in fields["items"])
    return render_template(
        "policy/_estimate.html", items=fields["items"], total=total, kind_labels=KIND_LABELS
    )


def _as_template(data: dict) -> dict:
    client = data.get("client") or {}
    return {
        **data,
        "company": client.get("company", ""),
        "star_level": client.get("star_level"),
        "background": client.get("background", ""),
        "override_reason": (data.get("president_override") or {}).get("reason", ""),
    }


def _visible(request_id: int) -> HospitalityRequest:
    return hospitality.visible(current_user, request_id)


@bp.get("/requests/<int:request_id>")
@page_roles(*STAFF)
def show(request_id: int):
    return _show(_visible(request_id))


def _show(
    req,
    errors=None,
    sheet_errors=None,
    sheet_form=None,
    status=200,
    money_errors=None,
    material_errors=None,
):
    steps = organisation.steps()
    current = next((s for s in steps if s.name == req.step), None)
    can_decide = (
        req.status == "pending"
        and current is not None
        and current_user.id != req.requester_id
        and current_user.id in {u.id for u in organisation.deciders(current, req.requester)}
    )
    sheet = arrangements.sheet_of(req.id)
    sheet_data = arrangements.as_dict(sheet)
    may_file = req.status in ("pending", "approved") and (
        req.requester_id == current_user.id
        or current_user.has_role("admin")
        or "marketing" in organisation.duties_of(current_user)
    )
    return render_template(
        "policy/request.html",
        req=req,
        data=hospitality.as_dict(req),
        steps=steps,
        current=current,
        can_decide=can_decide,
        is_marketing=current is not None and current.decider == "marketing",
        errors=errors or {},
        sheet=sheet_data,
        sheet_form=sheet_form or _sheet_form_defaults(req, sheet_data),
        sheet_errors=sheet_errors or {},
        may_file=may_file,
        rooms=rooms.rooms(active_only=True),
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        material_labels=MATERIAL_LABELS,
        overdue=arrangements.overdue(req, sheet=sheet),
        local_input=_local_input,
        money_errors=money_errors or {},
        is_finance="finance" in organisation.duties_of(current_user),
        increase_deciders=_increase_deciders(req),
        kinds=ITEM_KINDS,
        material_errors=material_errors or [],
        material_accept=materials.ACCEPT_ATTR,
        max_materials=materials.MAX_PER_REQUEST,
    ), status


def _increase_deciders(req) -> dict:
    """For each pending budget increase of ``req``: may the current user decide it?"""
    from server.policy import expenses

    mine = {i.id for i in expenses.waiting_increases(current_user)}
    return {i.id: i.id in mine for i in expenses.increases_of(req.id)}


def _sheet_form_defaults(req, sheet: dict | None) -> dict:
    if sheet:
        return {
            **sheet,
            "arrives_at": _local_input(sheet["arrives_at"]),
            "departs_at": _local_input(sheet["departs_at"]),
            "tour": sheet["tour"],
        }
    return {
        "receiving_staff": req.requester.name,
        "attendees": req.attendees,
        "visitors": len(req.visitors),
        "background": req.client_background,
        "arrives_at": _local_input(clock.iso(req.arrives_at)),
        "departs_at": _local_input(clock.iso(req.departs_at)),
        "tour": [],
        "materials": req.materials,
        "projector": {"borrowed": "projector" in req.materials},
        "welcome_banner": "",
        "room": None,
    }


@bp.post("/requests/<int:request_id>/decision")
@page_roles(*STAFF)
def decide(request_id: int):
    req = _visible(request_id)
    f = request.form
    plan = None
    if any(f.get(k, "").strip() for k in ("schedule", "venue", "dining")):
        plan = {k: f.get(k, "") for k in ("schedule", "venue", "dining")}
    try:
        hospitality.decide(req.id, current_user, f.get("decision"), f.get("comment", ""), plan)
    except ServiceError as e:
        return _show(
            hospitality.get(req.id),
            errors=e.fields or {"decision": e.message},
            status=e.status if e.status < 500 else 400,
        )
    return redirect(url_for("requests.show", request_id=req.id), code=303)


@bp.get("/requests/<int:request_id>/edit")
@page_roles(*STAFF)
def edit(request_id: int):
    req = _visible(request_id)
    data = hospitality.as_dict(req)
    template = {
        "company": req.client_company,
        "star_level": req.star_level,
        "background": req.client_background,
        "purpose": req.purpose,
        "arrives_at": _local_input(data["arrives_at"]),
        "departs_at": _local_input(data["departs_at"]),
        "attendees": req.attendees,
        "visitors": req.visitors,
        "items": [
            {
                "kind": i.kind,
                "quantity": i.quantity,
                "amount": "" if i.unit is not None else i.amount,
            }
            for i in req.items
        ],
        "president_attends": req.president_attends,
        "materials": req.materials,
    }
    return _form_page(template, req=req)


@bp.post("/requests/<int:request_id>/edit")
@page_roles(*STAFF)
def update(request_id: int):
    req = _visible(request_id)
    data = _form_data()
    try:
        hospitality.update(req.id, data, current_user)
        if request.form.get("resubmit") == "1":
            hospitality.submit(req.id, current_user)
    except ServiceError as e:
        return _form_page(_as_template(data), e.fields or {"form": e.message}, 422, req=req)
    return redirect(url_for("requests.show", request_id=req.id), code=303)


@bp.post("/requests/<int:request_id>/arrangement")
@page_roles(*STAFF)
def file_arrangement(request_id: int):
    req = _visible(request_id)
    f = request.form
    tour = [
        {"place": r.get("place", ""), "department": r.get("department", ""), "at": r.get("at", "")}
        for r in _rows("stop", ("place", "department", "at"))
    ]
    borrowed = f.get("projector_borrowed") == "1"
    data = {
        "receiving_staff": f.get("receiving_staff", ""),
        "attendees": _number(f.get("attendees", "")),
        "visitors": _number(f.get("visitors", "")),
        "background": f.get("background", ""),
        "arrives_at": f.get("arrives_at", ""),
        "departs_at": f.get("departs_at", ""),
        "room": f.get("room") or None,
        "projector": {
            "borrowed": borrowed,
            "from": f.get("projector_from") or None,
            "to": f.get("projector_to") or None,
        },
        "tour": tour,
        "welcome_banner": f.get("welcome_banner", ""),
        "materials": [m for m in f.getlist("materials") if m],
    }
    try:
        arrangements.file(req.id, data, current_user)
    except ServiceError as e:
        form = {**data, "projector": data["projector"], "room": data["room"]}
        return _show(
            req,
            sheet_errors=e.fields or {"sheet": e.message},
            sheet_form=form,
            status=e.status if e.status < 500 else 400,
        )
    return redirect(url_for("requests.show", request_id=req.id, _anchor="arrangement"), code=303)


@bp.get("/requests/<int:request_id>/arrangement")
@page_roles(*STAFF)
def arrangement(request_id: int):
    req = _visible(request_id)
    return render_template(
        "policy/arrangement.html",
        req=req,
        data=hospitality.as_dict(req),
        sheet=arrangements.as_dict(arrangements.sheet_of(req.id)),
        material_labels=MATERIAL_LABELS,
    )


@bp.get("/requests/<int:request_id>/arrangement.pdf")
@page_roles(*STAFF)
def arrangement_pdf(request_id: int):
    req = _visible(request_id)
    resp = Response(arrangements.pdf(req), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="arrangement-{req.id}.pdf"'
    return resp


@bp.get("/approvals/count")
@page_roles(*STAFF)
def approvals_count_json():
    """What the navigation's count shows (live.js asks again on approval events)."""
    return {"count": approvals_count()}


@bp.get("/approvals")
@page_roles(*STAFF)
def approvals():
    return render_template(
        "policy/approvals.html",
        waiting=hospitality.waiting_for(current_user),
        overdue=arrangements.overdue,
    )


# ------------------------------------------------------ money and the summary
def _back_to(req_id: int, anchor: str = "money"):
    return redirect(url_for("requests.show", request_id=req_id, _anchor=anchor), code=303)


def _money_refused(req_id: int, e: ServiceError):
    req = hospitality.get(req_id)
    return _show(
        req,
        money_errors=e.fields or {"money": e.message},
        status=e.status if e.status < 500 else 400,
    )


@bp.post("/requests/<int:request_id>/expenses")
@upload_limit(11 * 1024 * 1024)
@page_roles(*STAFF)
def add_expense(request_id: int):
    from server.policy import expenses

    req = _visible(request_id)
    upload = request.files.get("receipt")
    try:
        expenses.add(
            req.id,
            current_user,
            request.form.get("kind"),
            request.form.get("amount"),
            request.form.get("spent_at"),
            request.form.get("note", ""),
            upload.read(expenses.MAX_RECEIPT + 1) if upload else None,
            (upload.filename or "") if upload else "",
        )
    except ServiceError as e:
        return _money_refused(req.id, e)
    return _back_to(req.id)


@bp.post("/requests/<int:request_id>/budget-increase")
@page_roles(*STAFF)
def ask_increase(request_id: int):
    from server.policy import expenses

    req = _visible(request_id)
    try:
        expenses.ask_increase(
            req.id, current_user, request.form.get("amount"), request.form.get("reason")
        )
    except ServiceError as e:
        return _money_refused(req.id, e)
    return _back_to(req.id)


@bp.post("/budget-increases/<int:increase_id>/decision")
@page_roles(*STAFF)
def decide_increase(increase_id: int):
    from server.policy import expenses

    inc = expenses.get_increase(increase_id)
    _visible(inc.request_id)
    try:
        expenses.decide_increase(
            inc.id, current_user, request.form.get("decision"), request.form.get("comment")
        )
    except ServiceError as e:
        return _money_refused(inc.request_id, e)
    return _back_to(inc.request_id)


@bp.post("/expenses/<int:expense_id>/status")
@page_roles(*STAFF)
def expense_status(expense_id: int):
    from server.policy import expenses

    expense = expenses.get(expense_id)
    _visible(expense.request_id)
    try:
        expenses.set_status(
            expense.id, current_user, request.form.get("status"), request.form.get("reason")
        )
    except ServiceError as e:
        return _money_refused(expense.request_id, e)
    return _back_to(expense.request_id)


@bp.get("/expenses/<int:expense_id>/receipt")
@page_roles(*STAFF)
def expense_receipt(expense_id: int):
    from server.policy import expenses

    expense = expenses.get(expense_id)
    _visible(expense.request_id)
    resp = Response(expense.receipt, mimetype=expense.receipt_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="receipt-{expense.id}"'
    return resp


@bp.post("/requests/<int:request_id>/summary")
@page_roles(*STAFF)
def write_summary(request_id: int):
    from server.policy import closure

    req = _visible(request_id)
    materials = [m for m in request.form.get("materials", "").splitlines() if m.strip()]
    try:
        closure.write_summary(req.id, current_user, request.form.get("summary"), materials)
    except ServiceError as e:
        return _money_refused(req.id, e)
    return _back_to(req.id, "summary")


# ------------------------------------------------------ the summary's materials
MATERIALS_AT_ONCE = 100 * 1024 * 1024  # a few 20 MB files in one form; each checked alone


@bp.post("/requests/<int:request_id>/materials")
@upload_limit(MATERIALS_AT_ONCE + 1024 * 1024)
@page_roles(*STAFF)
def attach_materials(request_id: int):
    """The summary's file input (``files``, several at once): each file is attached or
    refused on its own; the refusals come back per file (422, or 409 when every one
    was refused for the request's state), the attached ones stay."""
    req = _visible(request_id)
    uploads = [u for u in request.files.getlist("files") if u and (u.filename or "")]
    refused: list[dict] = []
    statuses = []
    if not uploads:
        refused.append({"name": "", "error": "Choose a file first. 请先选择文件。"})
        statuses.append(422)
    for upload in uploads:
        try:
            materials.attach(
                req.id, current_user, upload.read(materials.MAX_SIZE + 1), upload.filename
            )
        except ServiceError as e:
            refused.append({"name": upload.filename, "error": e.fields.get("file") or e.message})
            statuses.append(e.status if e.status < 500 else 400)
    if refused:
        status = statuses[0] if len(set(statuses)) == 1 else 422
        return _show(hospitality.get(req.id), material_errors=refused, status=status)
    return _back_to(req.id, "materials")


@bp.post("/materials/<int:material_id>/remove")
@page_roles(*STAFF)
def remove_material(material_id: int):
    found = materials.find(material_id, current_user)
    request_id, name = found.request_id, found.name
    try:
        materials.remove(material_id, current_user)
    except ServiceError as e:
        return _show(
            hospitality.get(request_id),
            material_errors=[{"name": name, "error": e.message}],
            status=e.status if e.status < 500 else 400,
        )
    return _back_to(request_id, "materials")


@bp.get("/materials/<int:material_id>")
@page_roles(*STAFF)
def material_file(material_id: int):
    return materials.download(materials.get(material_id, current_user))
