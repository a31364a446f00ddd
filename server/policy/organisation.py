"""Departments, duties and the approval chain's steps.

- ``add_department(name, head_email=None)`` / ``set_head(name, head_email)``: a
  department (its name is what ``User.department`` holds) and its head. Refusals:
  ``department_exists`` (409), ``unknown_department`` (404), ``unknown_user`` (404).
- ``add_duty(email, duty)`` / ``remove_duty(email, duty)``: idempotent; an unknown
  duty is ``invalid_duty`` (422).
- ``steps()``: the chain in order. ``add_step``, ``remove_step``, ``move_step`` change
  it (a chain keeps at least one step: ``last_step``, 409).
- ``deciders(step, requester)``: who may decide ``step`` for a request filed by
  ``requester``: their department's head for ``dept_head``, else every active user
  with the step's duty.
Every change is audited (``server/services/audit.py``).
"""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import DECIDERS, DUTIES, ApprovalStep, Department, User, UserDuty
from server.services import audit
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.people import normalise_email
from server.services.tx import write

MAX_NAME = 120


def _clean_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(
            "invalid_department", "a department needs a name", fields={"name": "required"}
        )
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise ValidationError(
            "invalid_department",
            f"a department name is at most {MAX_NAME} characters",
            fields={"name": f"at most {MAX_NAME} characters"},
        )
    return name


def _user(session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise NotFound("unknown_user", f"no user with email {email}")
    return user


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def department(name: str) -> Department | None:
    return db.session.scalar(select(Department).where(Department.name == " ".join(name.split())))


def add_department(name, head_email: str | None = None, by: User | None = None) -> Department:
    name = _clean_name(name)
    with write() as session:
        exists = session.scalar(
            select(Department).where(func.lower(Department.name) == name.lower())
        )
        if exists is not None:
            raise Conflict(
                "department_exists",
                f"a department named {exists.name} exists",
                fields={"name": "a department with this name exists"},
            )
        head = _user(session, head_email) if head_email else None
        dept = Department(name=name, head_id=head.id if head else None)
        session.add(dept)
        session.flush()
        audit.record(
            session,
            "department.add",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="department",
            target_id=dept.id,
            after={"name": name, "head": head.email if head else None},
        )
    return dept


def set_head(name: str, head_email: str | None, by: User | None = None) -> Department:
    with write() as session:
        dept = session.scalar(select(Department).where(Department.name == " ".join(name.split())))
        if dept is None:
            raise NotFound("unknown_department", f"no department named {name}")
        before = dept.head.email if dept.head else None
        head = _user(session, head_email) if head_email else None
        dept.head_id = head.id if head else None
        audit.record(
            session,
            "department.head",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="department",
            target_id=dept.id,
            before={"head": before},
            after={"head": head.email if head else None},
        )
    return dept


def duties_of(user: User) -> set[str]:
    return set(db.session.scalars(select(UserDuty.duty).where(UserDuty.user_id == user.id)))


def duty_holders() -> dict[int, set[str]]:
    """Every user's duties, by user id."""
    held: dict[int, set[str]] = {}
    for user_id, duty in db.session.execute(select(UserDuty.user_id, UserDuty.duty)):
        held.setdefault(user_id, set()).add(duty)
    return held


def _check_duty(duty) -> str:
    if duty not in DUTIES:
        raise ValidationError(
            "invalid_duty",
            "duty must be one of: " + ", ".join(DUTIES),
            fields={"duty": "one of " + ", ".join(DUTIES)},
        )
    return duty


def add_duty(email: str, duty: str, by: User | None = None) -> bool:
    """Give ``email`` the duty; False when they already had it."""
    duty = _check_duty(duty)
    with write() as session:
        user = _user(session, email)
        had = session.scalar(
            select(UserDuty).where(UserDuty.user_id == user.id, UserDuty.duty == duty)
        )
        if had is not None:
            return False
        session.add(UserDuty(user_id=user.id, duty=duty))
        audit.record(
            session,
            "user.duty.add",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="user",
            target_id=user.id,
            after={"duty": duty},
        )
    return True


def remove_duty(email: str, duty: str, by: User | None = None) -> bool:
    """Take the duty away; False when they did not have it."""
    duty = _check_duty(duty)
    with write() as session:
        user = _user(session, email)
        had = session.scalar(
            select(UserDuty).where(UserDuty.user_id == user.id, UserDuty.duty == duty)
        )
        if had is None:
            return False
        session.delete(had)
        audit.record(
            session,
            "user.duty.remove",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="user",
            target_id=user.id,
            before={"duty": duty},
        )
    return True


def steps() -> list[ApprovalStep]:
    return list(db.session.scalars(select(ApprovalStep).order_by(ApprovalStep.position)))


def _renumber(session) -> None:
    ordered = session.scalars(select(ApprovalStep).order_by(ApprovalStep.position)).all()
    for n, step in enumerate(ordered, start=1):
        step.position = n


def _chain(session) -> list[str]:
    return list(session.scalars(select(ApprovalStep.name).order_by(ApprovalStep.position)))


def add_step(
    decider: str,
    label_en: str = "",
    label_zh: str = "",
    position: int | None = None,
    by: User | None = None,
) -> ApprovalStep:
    """Add a step decided by ``decider`` (``dept_head`` or a duty) at ``position``
    (1-based; the end when None). Its name is the decider's (one step per decider)."""
    if decider not in DECIDERS:
        raise ValidationError(
            "invalid_decider",
            "decider must be one of: " + ", ".join(DECIDERS),
            fields={"decider": "one of " + ", ".join(DECIDERS)},
        )
    with write() as session:
        if session.scalar(select(ApprovalStep).where(ApprovalStep.name == decider)):
            raise Conflict(
                "step_exists",
                f"the chain already has a {decider} step",
                fields={"decider": "already in the chain"},
            )
        before = _chain(session)
        count = len(before)
        at = count + 1 if position is None else max(1, min(int(position), count + 1))
        for step in session.scalars(select(ApprovalStep).where(ApprovalStep.position >= at)):
            step.position += 1
        step = ApprovalStep(
            position=at,
            name=decider,
            decider=decider,
            label_en=(label_en or decider.replace("_", " ").capitalize())[:120],
            label_zh=(label_zh or "")[:120],
        )
        session.add(step)
        session.flush()
        _renumber(session)
        session.flush()
        audit.record(
            session,
            "approval_chain.change",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="approval_chain",
            before={"steps": before},
            after={"steps": _chain(session)},
        )
    return step


def remove_step(name: str, by: User | None = None) -> None:
    with write() as session:
        step = session.scalar(select(ApprovalStep).where(ApprovalStep.name == name))
        if step is None:
            raise NotFound("unknown_step", f"no step named {name}")
        before = _chain(session)
        if len(before) == 1:
            raise Conflict("last_step", "the chain needs at least one step")
        session.delete(step)
        session.flush()
        _renumber(session)
        session.flush()
        audit.record(
            session,
            "approval_chain.change",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="approval_chain",
            before={"steps": before},
            after={"steps": _chain(session)},
        )


def move_step(name: str, delta: int, by: User | None = None) -> None:
    """Move a step ``delta`` places (-1 earlier, +1 later), within the chain."""
    with write() as session:
        ordered = list(session.scalars(select(ApprovalStep).order_by(ApprovalStep.position)))
        names = [s.name for s in ordered]
        if name not in names:
            raise NotFound("unknown_step", f"no step named {name}")
        i = names.index(name)
        j = max(0, min(len(ordered) - 1, i + delta))
        if i == j:
            return
        ordered.insert(j, ordered.pop(i))
        # Two passes: positions are not unique, but keep them tidy and ordered.
        for n, step in enumerate(ordered, start=1):
            step.position = n
        session.flush()
        audit.record(
            session,
            "approval_chain.change",
            actor=by,
            actor_label="cli" if by is None else "",
            target_type="approval_chain",
            before={"steps": names},
            after={"steps": [s.name for s in ordered]},
        )


def deciders(step: ApprovalStep, requester: User) -> list[User]:
    """Who decides ``step`` for a request filed by ``requester`` (active users only)."""
    if step.decider == "dept_head":
        if not requester.department:
            return []
        dept = db.session.scalar(select(Department).where(Department.name == requester.department))
        head = dept.head if dept is not None else None
        return [head] if head is not None and head.active else []
    return list(
        db.session.scalars(
            select(User)
            .join(UserDuty, UserDuty.user_id == User.id)
            .where(UserDuty.duty == step.decider, User.active.is_(True))
            .order_by(User.name)
        )
    )
