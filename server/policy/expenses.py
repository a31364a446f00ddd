"""Budgets, expenses and over-budget pre-approvals (REQUIREMENTS.md C.4).

Contract:
- ``budget(req)``: an approved request's estimate is its budget, raised by every
  approved budget increase. Per item kind and in total: ``budget``, ``spent`` (every
  expense not rejected), ``left`` and ``percent``.
- ``add(request_id, by, kind, amount, spent_at, note, receipt, filename)``: the
  requester, an admin or a receptionist (the office) records an expense of an approved
  request, with its receipt — a PNG, JPEG or WebP image or a PDF, checked for what it
  really is (magic bytes, and decoded for images), at most 10 MB (``invalid_receipt``,
  422). One that takes the total past the budget is refused (``over_budget``, 409):
  ask for a budget increase first. Expenses of one request are added in turn (the
  request's row is locked), so two at once cannot both slip under the budget.
- ``set_status(expense_id, by, status, reason)``: finance moves it ``submitted →
  approved → paid`` or to ``rejected`` (a reason required); anything else is
  ``invalid_transition`` (409); not finance, ``not_finance`` (403).
- ``ask_increase(request_id, by, amount, reason)`` / ``decide_increase(id, by,
  decision, comment)``: an over-budget pre-approval goes through the chain's finance and
  gm steps with the request's decisions, comments, history (``RequestDecision`` rows
  naming it) and live events (``approval_needed``, ``request_updated``).
Expenses, receipts and increases are money records: never purged or anonymised.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from server import realtime
from server.extensions import db
from server.models import (
    ApprovalStep,
    BudgetIncrease,
    Expense,
    HospitalityRequest,
    RequestDecision,
    User,
    UserDuty,
    utcnow,
)
from server.models.policy import DECISIONS, ITEM_KINDS
from server.policy import organisation
from server.policy.requests import _amount, _summary
from server.services import audit, clock, filetypes
from server.services.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services.tx import write
from server.services.visits import parse_when

MAX_RECEIPT = 10 * 1024 * 1024
INCREASE_STEPS = ("finance", "gm")  # the deciders of an over-budget pre-approval
RECEIPT_TYPES = (*filetypes.IMAGES, filetypes.PDF)


def receipt_type(data: bytes) -> str:
    """What the receipt really is (not what its name or the browser says); ValueError
    for anything but a PNG, JPEG or WebP image or a PDF (server/services/filetypes.py)."""
    try:
        return filetypes.check(data, RECEIPT_TYPES)
    except filetypes.UnknownType:
        raise ValueError("a receipt is a photo (PNG, JPEG, WebP) or a PDF") from None


def _money(value) -> float:
    return float(value) if value is not None else 0.0


def budget(req: HospitalityRequest) -> dict:
    spent = {
        kind: amount
        for kind, amount in db.session.execute(
            select(Expense.kind, func.coalesce(func.sum(Expense.amount), 0))
            .where(Expense.request_id == req.id, Expense.status != "rejected")
            .group_by(Expense.kind)
        )
    }
    increases = db.session.scalar(
        select(func.coalesce(func.sum(BudgetIncrease.amount), 0)).where(
            BudgetIncrease.request_id == req.id, BudgetIncrease.status == "approved"
        )
    )
    per_kind: dict[str, Decimal] = {}
    for item in req.items:
        per_kind[item.kind] = per_kind.get(item.kind, Decimal("0")) + item.amount
    rows = []
    for kind in ITEM_KINDS:
        b, s = per_kind.get(kind, Decimal("0")), Decimal(spent.get(kind, 0))
        if not b and not s:
            continue
        rows.append(_line(kind, b, s))
    total_budget = req.estimate_total + Decimal(increases or 0)
    total_spent = sum((Decimal(v) for v in spent.values()), Decimal("0"))
    return {
        "kinds": rows,
        "increases": _money(increases),
        "total": _line("total", total_budget, total_spent),
    }


def _line(kind: str, budget_: Decimal, spent: Decimal) -> dict:
    percent = float(spent / budget_ * 100) if budget_ else (100.0 if spent else 0.0)
    return {
        "kind": kind,
        "budget": _money(budget_),
        "spent": _money(spent),
        "left": _money(budget_ - spent),
        "percent": round(percent, 1),
    }


def _request_for_update(session, request_id: int) -> HospitalityRequest:
    req = session.scalar(
        select(HospitalityRequest).where(HospitalityRequest.id == request_id).with_for_update()
    )
    if req is None:
        raise NotFound("unknown_request", f"no request {request_id}")
    return req


def _is(session, user: User, duty: str) -> bool:
    return bool(
        session.scalar(
            select(UserDuty.id).where(UserDuty.user_id == user.id, UserDuty.duty == duty)
        )
    )


def add(
    request_id: int,
    by: User,
    kind,
    amount,
    spent_at,
    note,
    receipt: bytes | None,
    filename: str = "",
) -> Expense:
    errors: dict[str, str] = {}
    if kind not in ITEM_KINDS:
        errors["kind"] = "one of " + ", ".join(ITEM_KINDS)
    value = _amount(amount, "amount", errors) if amount not in (None, "") else None
    if value is None and "amount" not in errors:
        errors["amount"] = "required: how much was spent, in CNY"
    elif value is not None and value <= 0:
        errors["amount"] = "more than 0"
    try:
        when = parse_when(spent_at) if not isinstance(spent_at, datetime) else spent_at
    except ValueError:
        when = None
    if when is None:
        errors["spent_at"] = "an ISO 8601 date-time"
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        errors["note"] = "text of at most 500 characters"
    mime = ""
    if not receipt:
        errors["receipt"] = "the receipt: a photo or a PDF"
    elif len(receipt) > MAX_RECEIPT:
        errors["receipt"] = "at most 10 MB"
    else:
        try:
            mime = receipt_type(receipt)
        except ValueError as e:
            errors["receipt"] = str(e)
    if errors:
        code = "invalid_receipt" if set(errors) == {"receipt"} else "invalid_expense"
        raise ValidationError(code, "the expense is not valid; see fields", fields=errors)
    assert value is not None and when is not None and receipt
    with write() as session:
        req = _request_for_update(session, request_id)
        if not (req.requester_id == by.id or by.has_role("admin", "receptionist")):
            raise Forbidden("not_yours", "the requester or the office records expenses")
        if req.status != "approved":
            raise Conflict("not_approved", f"request {request_id} is {req.status}, not approved")
        spent = session.scalar(
            select(func.coalesce(func.sum(Expense.amount), 0)).where(
                Expense.request_id == req.id, Expense.status != "rejected"
            )
        )
        raised = session.scalar(
            select(func.coalesce(func.sum(BudgetIncrease.amount), 0)).where(
                BudgetIncrease.request_id == req.id, BudgetIncrease.status == "approved"
            )
        )
        limit = req.estimate_total + Decimal(raised or 0)
        if Decimal(spent or 0) + value > limit:
            over = Decimal(spent or 0) + value - limit
            raise Conflict(
                "over_budget",
                f"this takes the spending {over} CNY past the budget of {limit} CNY: "
                "ask for a budget increase first",
                fields={"amount": f"{over} CNY over the budget"},
            )
        expense = Expense(
            request_id=req.id,
            kind=kind,
            amount=value,
            spent_at=when,
            note=(note or "").strip(),
            receipt=receipt,
            receipt_type=mime,
            receipt_name=(filename or "")[:200],
            receipt_sha256=hashlib.sha256(receipt).hexdigest(),
            created_by_id=by.id,
        )
        session.add(expense)
        session.flush()
        audit.record(
            session,
            "expense.add",
            actor=by,
            target_type="expense",
            target_id=expense.id,
            after={
                "request": req.id,
                "kind": kind,
                "amount": float(value),
                "receipt": expense.receipt_sha256,
            },
        )
    return expense


TRANSITIONS = {"submitted": ("approved", "rejected"), "approved": ("paid", "rejected")}


def set_status(expense_id: int, by: User, status, reason=None) -> Expense:
    if status not in ("approved", "paid", "rejected"):
        raise ValidationError(
            "invalid_status",
            "status is approved, paid or rejected",
            fields={"status": "approved, paid or rejected"},
        )
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if status == "rejected" and not reason:
        raise ValidationError(
            "reason_required", "say why it is rejected", fields={"reason": "required"}
        )
    with write() as session:
        if not _is(session, by, "finance"):
            raise Forbidden("not_finance", "finance moves expenses")
        expense = session.scalar(select(Expense).where(Expense.id == expense_id).with_for_update())
        if expense is None:
            raise NotFound("unknown_expense", f"no expense {expense_id}")
        if status not in TRANSITIONS.get(expense.status, ()):
            raise Conflict(
                "invalid_transition", f"an expense that is {expense.status} cannot become {status}"
            )
        before = expense.status
        expense.status, expense.status_reason = status, reason[:500]
        expense.status_by_id, expense.status_at = by.id, utcnow()
        session.flush()
        from server.policy import closure

        req = session.get(HospitalityRequest, expense.request_id)
        if req is not None:
            closure.close_if_done(session, req)
        audit.record(
            session,
            "expense.status",
            actor=by,
            target_type="expense",
            target_id=expense.id,
            before={"status": before},
            after={"status": status, "reason": reason[:500]},
        )
    return expense


def get(expense_id: int) -> Expense:
    expense = db.session.get(Expense, expense_id)
    if expense is None:
        raise NotFound("unknown_expense", f"no expense {expense_id}")
    return expense


def of_request(request_id: int) -> list[Expense]:
    return list(
        db.session.scalars(
            select(Expense).where(Expense.request_id == request_id).order_by(Expense.id)
        )
    )


def listing(status: str | None = None) -> list[Expense]:
    q = select(Expense).order_by(Expense.id.desc()).limit(500)
    if status:
        q = q.where(Expense.status == status)
    return list(db.session.scalars(q))


def as_dict(expense: Expense) -> dict:
    return {
        "id": expense.id,
        "request": expense.request_id,
        "kind": expense.kind,
        "amount": _money(expense.amount),
        "spent_at": clock.iso(expense.spent_at),
        "note": expense.note,
        "status": expense.status,
        "status_reason": expense.status_reason,
        "receipt": {
            "type": expense.receipt_type,
            "name": expense.receipt_name,
            "sha256": expense.receipt_sha256,
        },
        "created_at": clock.iso(expense.created_at),
    }


# ------------------------------------------------------------- budget increases


def _increase_steps(session) -> list[ApprovalStep]:
    return [
        s
        for s in session.scalars(select(ApprovalStep).order_by(ApprovalStep.position))
        if s.decider in INCREASE_STEPS
    ]


def _advance_increase(
    session, inc: BudgetIncrease, req: HospitalityRequest, after: int | None
) -> list:
    events = []
    for step in _increase_steps(session):
        if after is not None and step.position <= after:
            continue
        everyone = organisation.deciders(step, req.requester)
        others = [u for u in everyone if u.id != inc.requested_by_id]
        if everyone and not others:
            session.add(
                RequestDecision(
                    request_id=req.id,
                    budget_increase_id=inc.id,
                    step=step.name,
                    decision="skip",
                    comment="the only decider of this step asked for the increase",
                )
            )
            continue
        inc.status, inc.step = "pending", step.name
        events.append(
            realtime.record(
                session,
                "approval_needed",
                {**_summary(req), "budget_increase": inc.id, "amount": _money(inc.amount)},
                [f"user:{u.id}" for u in others],
            )
        )
        return events
    inc.status, inc.step, inc.decided_at = "approved", None, utcnow()
    return events


def ask_increase(request_id: int, by: User, amount, reason) -> BudgetIncrease:
    errors: dict[str, str] = {}
    value = _amount(amount, "amount", errors)
    if value is None and "amount" not in errors:
        errors["amount"] = "required"
    elif value is not None and value <= 0:
        errors["amount"] = "more than 0"
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = "required: why more is needed"
    if errors:
        raise ValidationError(
            "invalid_increase", "the increase is not valid; see fields", fields=errors
        )
    assert value is not None and isinstance(reason, str)
    with write() as session:
        req = _request_for_update(session, request_id)
        if not (req.requester_id == by.id or by.has_role("admin")):
            raise Forbidden("not_yours", "the requester asks for a budget increase")
        if req.status != "approved":
            raise Conflict("not_approved", f"request {request_id} is {req.status}, not approved")
        inc = BudgetIncrease(
            request_id=req.id, amount=value, reason=reason.strip()[:4000], requested_by_id=by.id
        )
        session.add(inc)
        session.flush()
        session.add(
            RequestDecision(
                request_id=req.id,
                budget_increase_id=inc.id,
                by_id=by.id,
                decision="submit",
                comment=inc.reason,
            )
        )
        events = _advance_increase(session, inc, req, None)
        audit.record(
            session,
            "budget_increase.ask",
            actor=by,
            target_type="budget_increase",
            target_id=inc.id,
            after={"request": req.id, "amount": float(value), "status": inc.status},
        )
    realtime.announce(events)
    return inc


def decide_increase(increase_id: int, by: User, decision, comment=None) -> BudgetIncrease:
    if decision not in DECISIONS:
        raise ValidationError(
            "invalid_decision",
            "decision must be approve, return or reject",
            fields={"decision": "approve, return or reject"},
        )
    comment = comment.strip()[:4000] if isinstance(comment, str) else ""
    if decision in ("return", "reject") and not comment:
        raise ValidationError(
            "comment_required", f"say why you {decision} it", fields={"comment": "required"}
        )
    with write() as session:
        inc = session.scalar(
            select(BudgetIncrease).where(BudgetIncrease.id == increase_id).with_for_update()
        )
        if inc is None:
            raise NotFound("unknown_budget_increase", f"no budget increase {increase_id}")
        if inc.status != "pending" or inc.step is None:
            raise Conflict("not_pending", f"budget increase {increase_id} is {inc.status}")
        req = session.get(HospitalityRequest, inc.request_id)
        assert req is not None
        step = session.scalar(select(ApprovalStep).where(ApprovalStep.name == inc.step))
        deciders = {u.id for u in organisation.deciders(step, req.requester)} if step else set()
        if step is None or by.id == inc.requested_by_id or by.id not in deciders:
            raise Forbidden("not_your_step", "this step is not yours to decide")
        session.add(
            RequestDecision(
                request_id=req.id,
                budget_increase_id=inc.id,
                by_id=by.id,
                step=step.name,
                decision=decision,
                comment=comment,
            )
        )
        events = []
        if decision == "approve":
            events += _advance_increase(session, inc, req, step.position)
        else:
            inc.status, inc.step, inc.decided_at = (
                ("returned" if decision == "return" else "rejected"),
                None,
                utcnow(),
            )
        events.append(
            realtime.record(
                session,
                "request_updated",
                {
                    **_summary(req),
                    "decision": decision,
                    "budget_increase": inc.id,
                    "budget_increase_status": inc.status,
                },
                [f"user:{inc.requested_by_id}"],
            )
        )
        audit.record(
            session,
            f"budget_increase.{decision}",
            actor=by,
            target_type="budget_increase",
            target_id=inc.id,
            before={"step": step.name},
            after={"status": inc.status, "step": inc.step},
            note=comment,
        )
    realtime.announce(events)
    return inc


def increase_dict(inc: BudgetIncrease) -> dict:
    history = db.session.scalars(
        select(RequestDecision)
        .where(RequestDecision.budget_increase_id == inc.id)
        .order_by(RequestDecision.id)
    )
    return {
        "id": inc.id,
        "request": inc.request_id,
        "amount": _money(inc.amount),
        "reason": inc.reason,
        "status": inc.status,
        "step": inc.step,
        "history": [
            {
                "at": clock.iso(h.at),
                "by": ({"id": h.by.id, "name": h.by.name} if h.by else None),
                "step": h.step,
                "decision": h.decision,
                "comment": h.comment,
            }
            for h in history
        ],
    }


def increases_of(request_id: int) -> list[BudgetIncrease]:
    return list(
        db.session.scalars(
            select(BudgetIncrease)
            .where(BudgetIncrease.request_id == request_id)
            .order_by(BudgetIncrease.id)
        )
    )


def get_increase(increase_id: int) -> BudgetIncrease:
    inc = db.session.get(BudgetIncrease, increase_id)
    if inc is None:
        raise NotFound("unknown_budget_increase", f"no budget increase {increase_id}")
    return inc


def waiting_increases(user: User) -> list[BudgetIncrease]:
    """Pending budget increases whose current step ``user`` decides (never their own)."""
    steps = {s.name: s for s in organisation.steps()}
    found = []
    for inc in db.session.scalars(
        select(BudgetIncrease).where(BudgetIncrease.status == "pending").order_by(BudgetIncrease.id)
    ):
        step = steps.get(inc.step or "")
        if step is None or inc.requested_by_id == user.id:
            continue
        req = db.session.get(HospitalityRequest, inc.request_id)
        if req is not None and user.id in {
            u.id for u in organisation.deciders(step, req.requester)
        }:
            found.append(inc)
    return found
