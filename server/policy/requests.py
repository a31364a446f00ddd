"""Client hospitality requests (客户招待申请表) and their way through the approval chain.

Contract:
- ``create(data, by)``: validate everything at once (``ValidationError("invalid_request",
  fields={...})``, 422), price the items from the star level's standard in force
  (``estimate``), refuse an amount over the standard's cap (422 with ``fields``), refuse a
  president's attendance announced less than two days ahead (``president_notice``, 422)
  unless a ``gm`` gives ``president_override: {"reason"}``; then the request is
  ``pending`` at the chain's first step, its history says ``submit``, and the step's
  deciders get ``approval_needed`` live (room ``user:<id>``).
- ``decide(request_id, by, decision, comment, plan=None)``: ``approve`` moves it to the
  next step (``approved`` after the last, which turns its visitors into visits with
  codes), ``return`` sends it back to the requester (comment required), ``reject`` ends
  it (comment required). ``not_pending`` (409) when it is not waiting, ``not_your_step``
  (403) for anyone but the step's deciders. Nobody decides their own request: a step
  whose only decider is the requester is skipped (history ``skip``, saying why). The
  marketing step may carry the plan (schedule, venue, dining).
- ``update(request_id, data, by)`` (requester, while ``returned``) and ``submit`` (starts
  the chain again). Every decision is a ``RequestDecision`` row (append-only) and an
  audit entry; ``request_updated`` goes to the requester live on each.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import (
    ApprovalStep,
    HospitalityRequest,
    RequestDecision,
    RequestItem,
    Standard,
    User,
    UserDuty,
    Visit,
    Visitor,
    utcnow,
)
from server.models.policy import DECISIONS, ITEM_KINDS, MATERIALS
from server.notify import invitations
from server.policy import organisation, standards
from server.services import audit, clock
from server.services.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services.people import EMAIL_RE
from server.services.tx import write
from server.services.visits import _created_event, parse_when, text_field

MAX_VISITORS = 50
MAX_ITEMS = 50
MAX_QUANTITY = 10_000
MAX_AMOUNT = Decimal("10000000")
PRESIDENT_NOTICE = timedelta(days=2)
CENT = Decimal("0.01")


def _money(value) -> float:
    return float(value) if value is not None else 0.0


def _amount(raw, where: str, errors: dict) -> Decimal | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        errors[where] = "a number of CNY"
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        errors[where] = "a number of CNY"
        return None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        errors[where] = f"between 0 and {MAX_AMOUNT} CNY"
        return None
    return value.quantize(CENT)


def _cap(standard: Standard, kind: str, errors: dict, where: str) -> tuple[bool, Decimal | None]:
    """(allowed, cap per unit) for an item kind under ``standard``; cap None = amount given."""
    if kind == "meal":
        return True, standard.meal_cap
    if kind == "lodging":
        if standard.lodging == "client_pays":
            errors[where] = f"at {standard.level} stars the client pays lodging"
            return False, None
        return True, standard.lodging_cap
    if kind in ("vehicle", "pickup"):
        if standard.vehicle == "none" and standard.transport_cap is None:
            errors[where] = f"no company vehicle at {standard.level} stars"
            return False, None
        return True, standard.transport_cap
    if kind in ("leisure", "gift") and standard.extras == "none" and standard.scheme == "policy":
        errors[where] = f"no local tour or gift at {standard.level} stars"
        return False, None
    return True, None


def _items(raw, standard: Standard, errors: dict) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        errors["items"] = "a list of items"
        return []
    if len(raw) > MAX_ITEMS:
        errors["items"] = f"at most {MAX_ITEMS} items"
        return []
    items = []
    for i, entry in enumerate(raw):
        at = f"items.{i}"
        if not isinstance(entry, dict):
            errors[at] = "an object with kind, quantity and amount"
            continue
        kind = entry.get("kind")
        if kind not in ITEM_KINDS:
            errors[f"{at}.kind"] = "one of " + ", ".join(ITEM_KINDS)
            continue
        quantity = entry.get("quantity", 1)
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not (1 <= quantity <= MAX_QUANTITY)
        ):
            errors[f"{at}.quantity"] = f"a whole number from 1 to {MAX_QUANTITY}"
            continue
        given = _amount(entry.get("amount"), f"{at}.amount", errors)
        allowed, cap = _cap(standard, kind, errors, f"{at}.kind")
        if not allowed or f"{at}.amount" in errors:
            continue
        if cap is not None:
            limit = (cap * quantity).quantize(CENT)
            if given is not None and given > limit:
                errors[f"{at}.amount"] = (
                    f"over the {standard.level}-star standard: at most {limit} ({quantity} × {cap})"
                )
                continue
            amount = given if given is not None else limit
        else:
            if given is None:
                errors[f"{at}.amount"] = "required: no standard sets this amount (actual cost)"
                continue
            amount = given
        items.append({"kind": kind, "quantity": quantity, "unit": cap, "amount": amount})
    return items


def _visitors(raw, errors: dict) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        errors["visitors"] = "a non-empty list of visitors"
        return []
    if len(raw) > MAX_VISITORS:
        errors["visitors"] = f"at most {MAX_VISITORS} visitors"
        return []
    out = []
    for i, entry in enumerate(raw):
        at = f"visitors.{i}"
        if not isinstance(entry, dict):
            errors[at] = "an object with name, title, email, phone"
            continue
        found: dict[str, str] = {}
        person = {
            "name": text_field(entry, "name", found, 200, required=True),
            "title": text_field(entry, "title", found, 200),
            "email": text_field(entry, "email", found, 254),
            "phone": text_field(entry, "phone", found, 50),
        }
        if person["email"] and not EMAIL_RE.match(person["email"]):
            found["email"] = "not an email address"
        if person["phone"] and not all(c.isdigit() or c in "+-() ." for c in person["phone"]):
            found["phone"] = "digits, spaces and + - ( ) only"
        errors.update({f"{at}.{k}": v for k, v in found.items()})
        out.append(person)
    return out


def _when(data: dict, key: str, errors: dict):
    try:
        value = parse_when(data.get(key))
    except ValueError:
        errors[key] = "an ISO 8601 date-time"
        return None
    if value is None:
        errors[key] = "required"
    return value


def validate(data, by: User) -> dict:
    """Every field of a request checked at once; the parsed values (items priced)."""
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    errors: dict[str, str] = {}
    client = data.get("client")
    if not isinstance(client, dict):
        errors["client"] = "an object with company, star_level and background"
        client = {}
    company = text_field(client, "company", errors, 200, required=True)
    if "company" in errors:
        errors["client.company"] = errors.pop("company")
    background = text_field(client, "background", errors, 4000)
    if "background" in errors:
        errors["client.background"] = errors.pop("background")
    level = client.get("star_level")
    standard = None
    if isinstance(level, bool) or level not in (3, 4, 5):
        errors["client.star_level"] = "3, 4 or 5"
    else:
        standard = standards.for_level(level)
    purpose = text_field(data, "purpose", errors, 4000, required=True)
    arrives, departs = _when(data, "arrives_at", errors), _when(data, "departs_at", errors)
    if arrives and departs and departs < arrives:
        errors["departs_at"] = "not before arrives_at"
    attendees = data.get("attendees", 1)
    if isinstance(attendees, bool) or not isinstance(attendees, int) or not 1 <= attendees <= 500:
        errors["attendees"] = "a whole number from 1 to 500"
    president = data.get("president_attends", False)
    if not isinstance(president, bool):
        errors["president_attends"] = "true or false"
    materials = data.get("materials", [])
    if not isinstance(materials, list) or any(m not in MATERIALS for m in materials):
        errors["materials"] = "a list of: " + ", ".join(MATERIALS)
        materials = []
    visitors = _visitors(data.get("visitors"), errors)
    items = _items(data.get("items"), standard, errors) if standard is not None else []
    override = data.get("president_override")
    reason = ""
    if override is not None:
        if not isinstance(override, dict) or not isinstance(override.get("reason"), str):
            errors["president_override"] = 'an object with "reason"'
        else:
            reason = override["reason"].strip()[:500]
    if errors:
        raise ValidationError(
            "invalid_request", "some fields are not valid; see fields", fields=errors
        )
    if president is True and arrives is not None and arrives - utcnow() < PRESIDENT_NOTICE:
        is_gm = db.session.scalar(
            select(UserDuty.id).where(UserDuty.user_id == by.id, UserDuty.duty == "gm")
        )
        if not (is_gm and reason):
            raise ValidationError(
                "president_notice",
                "the president's office needs two days' notice; a general manager may "
                "override with a reason",
                fields={"president_attends": "less than two days before arrives_at"},
            )
    else:
        reason = ""
    assert standard is not None
    return {
        "client_company": company,
        "client_background": background,
        "star_level": level,
        "standard_id": standard.id,
        "purpose": purpose,
        "arrives_at": arrives,
        "departs_at": departs,
        "attendees": attendees,
        "president_attends": president,
        "president_override_reason": reason,
        "materials": list(dict.fromkeys(materials)),
        "visitors": visitors,
        "items": items,
    }


def _apply(req: HospitalityRequest, fields: dict, by: User) -> None:
    items = fields.pop("items")
    for key, value in fields.items():
        setattr(req, key, value)
    if req.president_override_reason:
        req.president_override_by_id = by.id
    req.items[:] = [
        RequestItem(
            position=n, kind=i["kind"], quantity=i["quantity"], unit=i["unit"], amount=i["amount"]
        )
        for n, i in enumerate(items)
    ]
    req.estimate_total = sum((i["amount"] for i in items), Decimal("0.00"))


def _steps(session) -> list[ApprovalStep]:
    return list(session.scalars(select(ApprovalStep).order_by(ApprovalStep.position)))


def _history(
    session, req: HospitalityRequest, by: User | None, step: str, decision: str, comment: str = ""
) -> None:
    session.add(
        RequestDecision(
            request_id=req.id,
            by_id=by.id if by else None,
            step=step,
            decision=decision,
            comment=comment,
        )
    )


def _deciders(step: ApprovalStep, req: HospitalityRequest) -> list[User]:
    return [u for u in organisation.deciders(step, req.requester) if u.id != req.requester_id]


def _advance(session, req: HospitalityRequest, after: int | None) -> list:
    """Put ``req`` on the first step after position ``after`` (None: the first) that
    someone other than the requester can decide; steps only the requester could decide
    are skipped with a history line. Returns the events to announce."""
    events = []
    for step in _steps(session):
        if after is not None and step.position <= after:
            continue
        everyone = organisation.deciders(step, req.requester)
        others = [u for u in everyone if u.id != req.requester_id]
        if everyone and not others:
            _history(
                session,
                req,
                None,
                step.name,
                "skip",
                "the only decider of this step filed the request",
            )
            continue
        req.status, req.step = "pending", step.name
        if others:
            events.append(
                realtime.record(
                    session,
                    "approval_needed",
                    _summary(req),
                    [f"user:{u.id}" for u in others],
                )
            )
        return events
    req.status, req.step, req.approved_at = "approved", None, utcnow()
    events += _make_visits(session, req)
    from server.policy import arrangements  # arrangements -> rooms -> ...: import at use

    arrangements.sync_visits(session, req, arrangements.sheet_of_in(session, req.id))
    return events


def _make_visits(session, req: HospitalityRequest) -> list:
    events = []
    host = req.requester
    for person in req.visitors:
        visitor = Visitor(
            name=person["name"],
            company=req.client_company,
            title=person.get("title", ""),
            email=person.get("email", ""),
            phone=person.get("phone", ""),
        )
        session.add(visitor)
        visit = Visit(
            visitor=visitor,
            host_id=host.id,
            expected_at=req.arrives_at,
            purpose=req.purpose[:500],
            created_by_id=host.id,
            kind="vip" if req.star_level >= 4 else "visitor",
            stars=req.star_level,
            request_id=req.id,
            valid_until=clock.to_local(req.departs_at).date()
            if clock.to_local(req.departs_at).date() > clock.to_local(req.arrives_at).date()
            else None,
        )
        session.add(visit)
        session.flush()
        events.append(
            _created_event(
                session,
                visit,
                host,
                {"name": visitor.name, "company": visitor.company},
                req.arrives_at,
            )
        )
        invitations.queue(session, visit)
    return events


def _summary(req: HospitalityRequest) -> dict:
    return {
        "request_id": req.id,
        "status": req.status,
        "step": req.step,
        "client": {"company": req.client_company, "star_level": req.star_level},
        "requester": {"id": req.requester_id, "name": req.requester.name},
        "arrives_at": clock.iso(req.arrives_at),
    }


def _updated_event(session, req: HospitalityRequest, decision: str):
    return realtime.record(
        session,
        "request_updated",
        {**_summary(req), "decision": decision},
        [f"user:{req.requester_id}"],
    )


def create(data, by: User) -> HospitalityRequest:
    fields = validate(data, by)
    with write() as session:
        requester = session.get(User, by.id)
        req = HospitalityRequest(requester_id=by.id, requester=requester, status="pending")
        _apply(req, fields, by)
        session.add(req)
        session.flush()
        if req.president_override_reason:
            _history(session, req, by, "", "override", req.president_override_reason)
        _history(session, req, by, "", "submit")
        events = _advance(session, req, None)
        events.append(_updated_event(session, req, "submit"))
        audit.record(
            session,
            "request.create",
            actor=by,
            target_type="request",
            target_id=req.id,
            after={"status": req.status, "step": req.step, "estimate": _money(req.estimate_total)},
        )
        if req.president_attends:
            events.append(_president_event(session, req))
    realtime.announce(events)
    return get(req.id)


def _president_event(session, req: HospitalityRequest):
    office = session.scalars(
        select(UserDuty.user_id).where(UserDuty.duty == "president_office")
    ).all()
    return realtime.record(
        session, "president_notice", _summary(req), [f"user:{i}" for i in office]
    )


def get(request_id: int) -> HospitalityRequest:
    db.session.expire_all()
    req = db.session.get(HospitalityRequest, request_id)
    if req is None:
        raise NotFound("unknown_request", f"no request {request_id}")
    return req


def visible(user: User, request_id: int) -> HospitalityRequest:
    """The request, if ``user`` may see it: its requester, its deciders past and
    present, admins and anyone with a duty; else 404 (not 403: no probing ids)."""
    req = get(request_id)
    if req.requester_id == user.id or user.has_role("admin"):
        return req
    if organisation.duties_of(user):
        return req
    steps = {s.name: s for s in organisation.steps()}
    if any(user in organisation.deciders(s, req.requester) for s in steps.values()):
        return req
    raise NotFound("unknown_request", f"no request {request_id}")


def _locked(session, request_id: int) -> HospitalityRequest:
    req = session.scalar(
        select(HospitalityRequest).where(HospitalityRequest.id == request_id).with_for_update()
    )
    if req is None:
        raise NotFound("unknown_request", f"no request {request_id}")
    return req


def decide(request_id: int, by: User, decision, comment=None, plan=None) -> HospitalityRequest:
    if decision not in DECISIONS:
        raise ValidationError(
            "invalid_decision",
            "decision must be approve, return or reject",
            fields={"decision": "approve, return or reject"},
        )
    if comment is not None and not isinstance(comment, str):
        raise ValidationError(
            "invalid_decision", "comment must be text", fields={"comment": "text"}
        )
    comment = (comment or "").strip()[:4000]
    if decision in ("return", "reject") and not comment:
        raise ValidationError(
            "comment_required", f"say why you {decision} it", fields={"comment": "required"}
        )
    if plan is not None:
        errors: dict[str, str] = {}
        if not isinstance(plan, dict):
            raise ValidationError(
                "invalid_decision",
                "plan must be an object",
                fields={"plan": "schedule, venue, dining"},
            )
        plan = {k: text_field(plan, k, errors, 4000) for k in ("schedule", "venue", "dining")}
        if errors:
            raise ValidationError(
                "invalid_decision",
                "plan fields are text",
                fields={f"plan.{k}": v for k, v in errors.items()},
            )
    with write() as session:
        req = _locked(session, request_id)
        if req.status != "pending" or req.step is None:
            raise Conflict(
                "not_pending", f"request {request_id} is {req.status}, not waiting for a decision"
            )
        step = session.scalar(select(ApprovalStep).where(ApprovalStep.name == req.step))
        if step is None or by.id not in {u.id for u in _deciders(step, req)}:
            raise Forbidden("not_your_step", "this step is not yours to decide")
        if plan is not None and step.decider == "marketing":
            req.plan = plan
        _history(session, req, by, step.name, decision, comment)
        events = []
        if decision == "approve":
            events += _advance(session, req, step.position)
        elif decision == "return":
            req.status, req.step = "returned", None
        else:
            req.status, req.step = "rejected", None
        events.append(_updated_event(session, req, decision))
        audit.record(
            session,
            f"request.{decision}",
            actor=by,
            target_type="request",
            target_id=req.id,
            before={"step": step.name},
            after={"status": req.status, "step": req.step},
            note=comment,
        )
    realtime.announce(events)
    return get(request_id)


def update(request_id: int, data, by: User) -> HospitalityRequest:
    """The requester edits a returned request (it stays returned until submitted)."""
    fields = validate(data, by)
    with write() as session:
        req = _locked(session, request_id)
        if req.requester_id != by.id:
            raise Forbidden("not_your_request", "only the requester edits a request")
        if req.status != "returned":
            raise Conflict(
                "not_editable",
                f"request {request_id} is {req.status}; only a returned request is edited",
            )
        _apply(req, fields, by)
        audit.record(
            session,
            "request.update",
            actor=by,
            target_type="request",
            target_id=req.id,
            after={"estimate": _money(req.estimate_total)},
        )
    return get(request_id)


def submit(request_id: int, by: User) -> HospitalityRequest:
    with write() as session:
        req = _locked(session, request_id)
        if req.requester_id != by.id:
            raise Forbidden("not_your_request", "only the requester submits a request")
        if req.status != "returned":
            raise Conflict("not_returned", f"request {request_id} is {req.status}")
        _history(session, req, by, "", "submit")
        events = _advance(session, req, None)
        events.append(_updated_event(session, req, "submit"))
        audit.record(
            session,
            "request.submit",
            actor=by,
            target_type="request",
            target_id=req.id,
            after={"status": req.status, "step": req.step},
        )
    realtime.announce(events)
    return get(request_id)


def waiting_for(user: User) -> list[HospitalityRequest]:
    """Pending requests whose current step ``user`` decides (never their own)."""
    steps = {s.name: s for s in organisation.steps()}
    pending = db.session.scalars(
        select(HospitalityRequest)
        .where(HospitalityRequest.status == "pending")
        .order_by(HospitalityRequest.arrives_at)
    )
    return [
        r
        for r in pending
        if r.step in steps
        and r.requester_id != user.id
        and user.id in {u.id for u in organisation.deciders(steps[r.step], r.requester)}
    ]


def mine(user: User) -> list[HospitalityRequest]:
    return list(
        db.session.scalars(
            select(HospitalityRequest)
            .where(HospitalityRequest.requester_id == user.id)
            .order_by(HospitalityRequest.arrives_at.desc())
        )
    )


def as_dict(req: HospitalityRequest) -> dict:
    from server.policy import arrangements

    visits = db.session.scalars(select(Visit).where(Visit.request_id == req.id).order_by(Visit.id))
    sheet = arrangements.sheet_of(req.id)
    money = {}
    if req.status == "approved":
        from server.policy import closure, expenses, materials

        money = {
            "summary": {
                "text": req.summary,
                "materials": req.summary_materials,
                "material_files": [materials.as_dict(m) for m in materials.listing(req)],
                "at": clock.iso(req.summary_at),
            },
            "open": closure.closure(req),
            "budget": expenses.budget(req),
            "expenses": [expenses.as_dict(e) for e in expenses.of_request(req.id)],
            "budget_increases": [expenses.increase_dict(i) for i in expenses.increases_of(req.id)],
        }
    return {
        **money,
        "arrangement": arrangements.as_dict(sheet),
        "overdue": arrangements.overdue(req, sheet=sheet),
        "id": req.id,
        "status": req.status,
        "step": req.step,
        "requester": {
            "id": req.requester_id,
            "name": req.requester.name,
            "email": req.requester.email,
        },
        "client": {
            "company": req.client_company,
            "star_level": req.star_level,
            "background": req.client_background,
        },
        "visitors": req.visitors,
        "purpose": req.purpose,
        "arrives_at": clock.iso(req.arrives_at),
        "departs_at": clock.iso(req.departs_at),
        "attendees": req.attendees,
        "president_attends": req.president_attends,
        "materials": req.materials,
        "plan": req.plan,
        "standard": {
            "id": req.standard_id,
            "version": req.standard.version,
            "scheme": req.standard.scheme,
        },
        "estimate": {
            "total": _money(req.estimate_total),
            "items": [
                {
                    "kind": i.kind,
                    "quantity": i.quantity,
                    "unit": None if i.unit is None else _money(i.unit),
                    "amount": _money(i.amount),
                }
                for i in req.items
            ],
        },
        "history": [
            {
                "at": clock.iso(h.at),
                "by": ({"id": h.by.id, "name": h.by.name} if h.by else None),
                "step": h.step,
                "decision": h.decision,
                "comment": h.comment,
            }
            for h in req.history
        ],
        "visits": [
            {
                "id": v.id,
                "code": v.code,
                "visitor": {"name": v.visitor.name, "company": v.visitor.company},
            }
            for v in visits
        ],
        "created_at": clock.iso(req.created_at),
    }
