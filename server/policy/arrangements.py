"""The reception arrangement sheet (客户接待安排表) of a hospitality request.

Contract:
- ``file(request_id, data, by)`` (``PUT /api/v1/requests/<id>/arrangement``): the
  requester, anyone with the marketing duty or an admin files or replaces the sheet of
  a pending or approved request. Fields (all checked at once, ``invalid_arrangement``
  422 with ``fields``): ``receiving_staff``, ``attendees``, ``visitors``, ``background``,
  ``arrives_at``, ``departs_at``, ``room`` (a room's name: booked for those times, never
  overlapping, ``room_taken`` 409), ``projector`` ``{"borrowed", "from", "to"}``, ``tour``
  ``[{"place", "department", "at"}]`` (it becomes the visits' tour task: the one-hour
  department reminder applies), ``welcome_banner``, ``materials``. Filing tells the
  general manager and vice general managers (``gm`` duty) and the requester's
  department head, live (``arrangement_filed`` in their own rooms).
- ``overdue(request, now)``: the sheet is due a day before arrival; a pending or approved
  request inside that day without a complete sheet is overdue.
  ``send_overdue_notices()`` (the worker's timer) tells the requester and the office
  (reception and admins) once (``arrangement_overdue``).
- ``pdf(request)``: the sheet on one A4 page, Chinese text in an embedded subset of Noto
  Sans SC (fpdf2).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import (
    ArrangementSheet,
    Department,
    HospitalityRequest,
    Task,
    TourStop,
    User,
    UserDuty,
    Visit,
    utcnow,
)
from server.models.policy import MATERIALS
from server.policy import rooms
from server.services import audit, clock
from server.services.errors import Forbidden, NotFound, ValidationError
from server.services.tx import write
from server.services.visits import parse_when, text_field

DUE_BEFORE = timedelta(days=1)
MAX_TOUR = 30


def sheet_of(request_id: int) -> ArrangementSheet | None:
    return db.session.scalar(
        select(ArrangementSheet).where(ArrangementSheet.request_id == request_id)
    )


def sheet_of_in(session, request_id: int) -> ArrangementSheet | None:
    return session.scalar(select(ArrangementSheet).where(ArrangementSheet.request_id == request_id))


def complete(sheet: ArrangementSheet | None) -> bool:
    return bool(
        sheet is not None
        and sheet.receiving_staff.strip()
        and sheet.attendees >= 1
        and sheet.visitors >= 1
        and sheet.background.strip()
        and sheet.booking_id is not None
    )


def overdue(req: HospitalityRequest, now: datetime | None = None, sheet=None) -> bool:
    now = now or utcnow()
    if req.status not in ("pending", "approved") or now >= req.departs_at:
        return False
    if now < req.arrives_at - DUE_BEFORE:
        return False
    return not complete(sheet if sheet is not None else sheet_of(req.id))


def _when(raw, key: str, errors: dict) -> datetime | None:
    try:
        value = parse_when(raw)
    except ValueError:
        errors[key] = "an ISO 8601 date-time"
        return None
    if value is None:
        errors[key] = "required"
    return value


def _count(data: dict, key: str, errors: dict, low: int) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 1000:
        errors[key] = f"a whole number from {low} to 1000"
        return 0
    return value


def _validate(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    errors: dict[str, str] = {}
    out: dict = {
        "receiving_staff": text_field(data, "receiving_staff", errors, 1000, required=True),
        "attendees": _count(data, "attendees", errors, 1),
        "visitors": _count(data, "visitors", errors, 1),
        "background": text_field(data, "background", errors, 4000, required=True),
        "arrives_at": _when(data.get("arrives_at"), "arrives_at", errors),
        "departs_at": _when(data.get("departs_at"), "departs_at", errors),
        "welcome_banner": text_field(data, "welcome_banner", errors, 300),
    }
    if out["arrives_at"] and out["departs_at"] and out["departs_at"] <= out["arrives_at"]:
        errors["departs_at"] = "after arrives_at"
    room_name = data.get("room")
    out["room"] = None
    if room_name not in (None, ""):
        room = rooms.room_by_name(room_name) if isinstance(room_name, str) else None
        if room is None or not room.active:
            errors["room"] = "no such meeting room"
        else:
            out["room"] = room
    projector = data.get("projector") or {}
    if not isinstance(projector, dict) or not isinstance(projector.get("borrowed", False), bool):
        errors["projector"] = 'an object {"borrowed": true|false, "from", "to"}'
        projector = {}
    proj: dict = {"borrowed": bool(projector.get("borrowed", False)), "from": None, "to": None}
    if proj["borrowed"]:
        for key in ("from", "to"):
            when = _when(projector.get(key), f"projector.{key}", errors)
            proj[key] = clock.iso(when) if when else None
    out["projector"] = proj
    tour = data.get("tour") or []
    stops = []
    if not isinstance(tour, list) or len(tour) > MAX_TOUR:
        errors["tour"] = f"a list of at most {MAX_TOUR} stops"
        tour = []
    for i, stop in enumerate(tour):
        if not isinstance(stop, dict):
            errors[f"tour.{i}"] = "an object with place, department, at"
            continue
        sub: dict[str, str] = {}
        place = text_field(stop, "place", sub, 200, required=True)
        dept = text_field(stop, "department", sub, 120)
        at = _when(stop.get("at"), "at", sub)
        errors.update({f"tour.{i}.{k}": v for k, v in sub.items()})
        if not sub and at is not None:
            stops.append({"place": place, "department": dept, "at": at})
    out["tour"] = stops
    materials = data.get("materials") or []
    if not isinstance(materials, list) or any(m not in MATERIALS for m in materials):
        errors["materials"] = "a list of: " + ", ".join(MATERIALS)
        materials = []
    out["materials"] = list(dict.fromkeys(materials))
    if errors:
        raise ValidationError(
            "invalid_arrangement", "some fields are not valid; see fields", fields=errors
        )
    return out


def _may_file(session, req: HospitalityRequest, by: User) -> bool:
    if req.requester_id == by.id or by.has_role("admin"):
        return True
    return bool(
        session.scalar(
            select(UserDuty.id).where(UserDuty.user_id == by.id, UserDuty.duty == "marketing")
        )
    )


def _tell_on_filing(session, req: HospitalityRequest) -> list:
    gms = set(session.scalars(select(UserDuty.user_id).where(UserDuty.duty == "gm")))
    requester = session.get(User, req.requester_id)
    if requester is not None and requester.department:
        dept = session.scalar(select(Department).where(Department.name == requester.department))
        if dept is not None and dept.head_id:
            gms.add(dept.head_id)
    if not gms:
        return []
    payload = {
        "request_id": req.id,
        "client": {"company": req.client_company, "star_level": req.star_level},
        "requester": {"id": req.requester_id, "name": requester.name if requester else ""},
        "arrives_at": clock.iso(req.arrives_at),
    }
    return [
        realtime.record(session, "arrangement_filed", payload, [f"user:{i}" for i in sorted(gms)])
    ]


def sync_visits(session, req: HospitalityRequest, sheet: ArrangementSheet | None) -> None:
    """The sheet on the request's visits: its room as their meeting room (the host's
    alert says "→ Room 3") and its tour plan as their planned tour task (replacing the
    one the sheet made before; a tour the host made by hand is left alone)."""
    if sheet is None:
        return
    visits = session.scalars(select(Visit).where(Visit.request_id == req.id)).all()
    booking = sheet.booking
    room = booking.room.name if booking is not None and booking.cancelled_at is None else ""
    for visit in visits:
        visit.meeting_room = room[:120]
        task = session.scalar(
            select(Task).where(
                Task.visit_id == visit.id, Task.kind == "tour", Task.status == "planned"
            )
        )
        if task is not None and not (task.details or {}).get("from_arrangement"):
            continue
        if not sheet.tour:
            if task is not None:
                task.status = "cancelled"
            continue
        stops = [
            TourStop(
                position=n,
                place=s["place"],
                department=s["department"],
                planned_at=parse_when(s["at"]),
            )
            for n, s in enumerate(sheet.tour)
        ]
        if task is None:
            task = Task(
                visit_id=visit.id,
                kind="tour",
                status="planned",
                details={"title": "Tour", "reminded_at": None, "from_arrangement": True},
                assignee_id=visit.host_id,
                created_by_id=sheet.filed_by_id,
            )
            session.add(task)
        task.stops[:] = stops
        task.starts_at = stops[0].planned_at
        task.updated_at = utcnow()


def file(request_id: int, data, by: User) -> ArrangementSheet:
    fields = _validate(data)
    with write() as session:
        req = session.scalar(
            select(HospitalityRequest).where(HospitalityRequest.id == request_id).with_for_update()
        )
        if req is None:
            raise NotFound("unknown_request", f"no request {request_id}")
        if not _may_file(session, req, by):
            raise Forbidden("not_yours", "the requester, marketing or an admin files the sheet")
        if req.status not in ("pending", "approved"):
            raise ValidationError(
                "request_closed", f"request {request_id} is {req.status}", status=409
            )
        sheet = session.scalar(
            select(ArrangementSheet).where(ArrangementSheet.request_id == req.id)
        )
        before = as_dict(sheet) if sheet is not None else None
        booking_id = None
        if fields["room"] is not None:
            old = sheet.booking if sheet is not None else None
            if (
                old is not None
                and old.cancelled_at is None
                and old.room_id == fields["room"].id
                and old.starts_at == fields["arrives_at"]
                and old.ends_at == fields["departs_at"]
            ):
                booking_id = old.id
            else:
                booking_id = rooms.book(
                    fields["room"].id,
                    fields["arrives_at"],
                    fields["departs_at"],
                    request_id=req.id,
                    by=by,
                    session=session,
                    replaces=old.id if old is not None else None,
                ).id
        elif sheet is not None and sheet.booking is not None:
            sheet.booking.cancelled_at = utcnow()
        if sheet is None:
            sheet = ArrangementSheet(
                request_id=req.id, arrives_at=fields["arrives_at"], departs_at=fields["departs_at"]
            )
            session.add(sheet)
        for key in (
            "receiving_staff",
            "attendees",
            "visitors",
            "background",
            "arrives_at",
            "departs_at",
            "welcome_banner",
            "materials",
            "projector",
        ):
            setattr(sheet, key, fields[key])
        sheet.tour = [{**s, "at": clock.iso(s["at"])} for s in fields["tour"]]
        sheet.booking_id = booking_id
        sheet.filed_by_id = by.id
        sheet.filed_at = utcnow()
        session.flush()
        session.refresh(sheet)
        sync_visits(session, req, sheet)
        events = _tell_on_filing(session, req)
        audit.record(
            session,
            "arrangement.file",
            actor=by,
            target_type="request",
            target_id=req.id,
            before=before,
            after=as_dict(sheet),
        )
    realtime.announce(events)
    found = sheet_of(request_id)
    assert found is not None
    return found


def as_dict(sheet: ArrangementSheet | None) -> dict | None:
    if sheet is None:
        return None
    booking = sheet.booking
    return {
        "receiving_staff": sheet.receiving_staff,
        "attendees": sheet.attendees,
        "visitors": sheet.visitors,
        "background": sheet.background,
        "arrives_at": clock.iso(sheet.arrives_at),
        "departs_at": clock.iso(sheet.departs_at),
        "room": booking.room.name if booking is not None and booking.cancelled_at is None else None,
        "booking": booking.id if booking is not None and booking.cancelled_at is None else None,
        "projector": sheet.projector,
        "tour": sheet.tour,
        "welcome_banner": sheet.welcome_banner,
        "materials": sheet.materials,
        "filed_at": clock.iso(sheet.filed_at),
        "complete": complete(sheet),
    }


def send_overdue_notices(now: datetime | None = None) -> int:
    """Tell each overdue request's requester and the office, once; the count told."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(HospitalityRequest).where(
            HospitalityRequest.status.in_(("pending", "approved")),
            HospitalityRequest.overdue_notified_at.is_(None),
            HospitalityRequest.arrives_at <= now + DUE_BEFORE,
            HospitalityRequest.departs_at > now,
        )
    ).all()
    told = 0
    for req in candidates:
        if not overdue(req, now):
            continue
        with write() as session:  # FOR UPDATE: two workers tell once
            locked = session.scalar(
                select(HospitalityRequest).where(HospitalityRequest.id == req.id).with_for_update()
            )
            if locked is None or locked.overdue_notified_at is not None:
                continue
            locked.overdue_notified_at = now
            event = realtime.record(
                session,
                "arrangement_overdue",
                {
                    "request_id": locked.id,
                    "client": {"company": locked.client_company, "star_level": locked.star_level},
                    "arrives_at": clock.iso(locked.arrives_at),
                },
                [f"user:{locked.requester_id}", "reception"],
            )
        realtime.announce([event])
        told += 1
    return told


def pdf(req: HospitalityRequest) -> bytes:
    """The sheet (and the request's essentials) on one A4 page, its font embedded (a
    TrueType subset of Noto Sans SC: ``pdf_font.py``), so the text reads back."""
    import tempfile

    from fpdf import FPDF

    from server.policy.pdf_font import ttf_subset

    sheet = sheet_of(req.id)

    def local(ts) -> str:
        return clock.to_local(ts).strftime("%Y-%m-%d %H:%M") if ts else "—"

    data = as_dict(sheet) or {}
    title = "客户接待安排表  Reception arrangement sheet"
    rows = [
        ("客户 Client", f"{req.client_company}  {'★' * req.star_level} ({req.star_level}-star)"),
        ("申请人 Requester", req.requester.name),
        ("接待人员 Receiving staff", data.get("receiving_staff") or "—"),
        ("出席人数 Our attendees", str(data.get("attendees") or req.attendees)),
        ("到访人数 Visitors", str(data.get("visitors") or len(req.visitors))),
        ("来访人员 Visitor names", ", ".join(v["name"] for v in req.visitors)),
        ("客户背景 Background", data.get("background") or req.client_background or "—"),
        ("来访目的 Purpose", req.purpose),
        ("到达 Arrival", local(sheet.arrives_at if sheet else req.arrives_at)),
        ("离开 Departure", local(sheet.departs_at if sheet else req.departs_at)),
        ("会议室 Meeting room", data.get("room") or "—"),
    ]
    projector = data.get("projector") or {}
    if projector.get("borrowed"):
        span = (
            f"{local(parse_when(projector.get('from')))} → {local(parse_when(projector.get('to')))}"
        )
        rows.append(("投影仪 Projector", f"借用 borrowed {span}"))
    else:
        rows.append(("投影仪 Projector", "不需要 not borrowed"))
    for stop in data.get("tour") or []:
        when = local(parse_when(stop["at"]))
        rows.append(("参观 Tour", f"{when}  {stop['place']}  {stop['department']}".strip()))
    rows.append(("欢迎横幅 Welcome banner", data.get("welcome_banner") or "—"))
    rows.append(("物品 Materials", ", ".join(data.get("materials") or []) or "—"))
    rows = [(label, value[:600]) for label, value in rows]
    footer = f"Lobby · request {req.id} · {local(utcnow())}"
    text = title + footer + "".join(label + value for label, value in rows)

    doc = FPDF(format="A4")
    doc.set_auto_page_break(auto=False)
    doc.add_page()
    with tempfile.NamedTemporaryFile(suffix=".ttf") as font_file:
        font_file.write(ttf_subset(text))
        font_file.flush()
        doc.add_font("noto", fname=font_file.name)
        doc.set_font("noto", size=16)
        doc.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
        doc.ln(2)
        for label, value in rows:
            y = doc.get_y()
            doc.set_font("noto", size=9)
            doc.multi_cell(55, 6, label)
            doc.set_xy(doc.l_margin + 55, y)
            doc.set_font("noto", size=10)
            doc.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
            doc.set_y(max(doc.get_y(), y + 6) + 1)
            if doc.get_y() > 275:  # one page: the rest is on the request page
                break
        doc.set_y(283)
        doc.set_font("noto", size=8)
        doc.cell(0, 5, footer)
        return bytes(doc.output())
