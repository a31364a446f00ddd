"""The violations register (REQUIREMENTS.md C.5): a breach of the policy recorded by
an auditor, with its fine from configuration.

``record(by, person_email, rule, occurred_on, note, serious=False, multiplier=None,
request_id=None)``: auditors only (``not_auditor``, 403). The fine is the rule's amount
(``FineRule``, seeded 10 ``minor`` / 20 ``major`` CNY), times ``multiplier`` (2 to 5,
``PolicySettings.serious_min..serious_max``) when serious; the person's department head
is the direct manager, jointly liable for ``manager_share_percent`` (20%) of it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from server.extensions import db
from server.models import Department, FineRule, PolicySettings, User, UserDuty, Violation
from server.services import audit, clock
from server.services.errors import Forbidden, ValidationError
from server.services.people import normalise_email
from server.services.tx import write


def rules() -> list[FineRule]:
    return list(db.session.scalars(select(FineRule).order_by(FineRule.amount)))


def _settings(session) -> PolicySettings:
    row = session.scalar(select(PolicySettings).order_by(PolicySettings.id).limit(1))
    return row or PolicySettings()


def record(
    by: User,
    person_email,
    rule,
    occurred_on,
    note="",
    serious: bool = False,
    multiplier=None,
    request_id=None,
) -> Violation:
    errors: dict[str, str] = {}
    with write() as session:
        if not session.scalar(
            select(UserDuty.id).where(UserDuty.user_id == by.id, UserDuty.duty == "auditor")
        ):
            raise Forbidden("not_auditor", "auditors record violations")
        person = None
        if isinstance(person_email, str) and person_email.strip():
            person = session.scalar(select(User).where(User.email == normalise_email(person_email)))
        if person is None:
            errors["person"] = "the email of a member of staff"
        fine_rule = (
            session.scalar(select(FineRule).where(FineRule.code == rule))
            if isinstance(rule, str)
            else None
        )
        if fine_rule is None:
            errors["rule"] = "one of " + ", ".join(
                r.code for r in session.scalars(select(FineRule))
            )
        day = None
        try:
            day = date.fromisoformat(occurred_on) if isinstance(occurred_on, str) else None
        except ValueError:
            day = None
        if day is None:
            errors["date"] = "a date, YYYY-MM-DD"
        elif day > clock.to_local(clock.utcnow()).date():
            errors["date"] = "not in the future"
        if not isinstance(note, str) or len(note) > 4000:
            errors["note"] = "text of at most 4000 characters"
        settings = _settings(session)
        times = 1
        if serious is True:
            times = multiplier if multiplier is not None else settings.serious_min
            if (
                isinstance(times, bool)
                or not isinstance(times, int)
                or not (settings.serious_min <= times <= settings.serious_max)
            ):
                errors["multiplier"] = (
                    f"{settings.serious_min} to {settings.serious_max} when serious"
                )
        elif serious is not False:
            errors["serious"] = "true or false"
        if request_id is not None and (
            isinstance(request_id, bool) or not isinstance(request_id, int)
        ):
            errors["request"] = "a request id"
        if errors:
            raise ValidationError(
                "invalid_violation", "the violation is not valid; see fields", fields=errors
            )
        assert person is not None and fine_rule is not None and day is not None
        fine = (fine_rule.amount * times).quantize(Decimal("0.01"))
        manager = None
        if person.department:
            dept = session.scalar(select(Department).where(Department.name == person.department))
            manager = dept.head if dept is not None and dept.head_id != person.id else None
        share = (
            (fine * settings.manager_share_percent / 100).quantize(Decimal("0.01"))
            if manager
            else Decimal("0")
        )
        violation = Violation(
            person_id=person.id,
            rule=fine_rule.code,
            occurred_on=day,
            note=(note or "").strip(),
            multiplier=times,
            fine=fine,
            manager_id=manager.id if manager else None,
            manager_share=share,
            request_id=request_id,
            recorded_by_id=by.id,
        )
        session.add(violation)
        session.flush()
        audit.record(
            session,
            "violation.record",
            actor=by,
            target_type="violation",
            target_id=violation.id,
            after=as_dict(violation, person, manager),
        )
    return violation


def as_dict(v: Violation, person: User | None = None, manager: User | None = None) -> dict:
    person = person or v.person
    manager = manager if manager is not None else v.manager
    return {
        "id": v.id,
        "person": {"id": person.id, "name": person.name, "email": person.email} if person else None,
        "rule": v.rule,
        "date": v.occurred_on.isoformat(),
        "note": v.note,
        "multiplier": v.multiplier,
        "fine": float(v.fine),
        "manager": {"id": manager.id, "name": manager.name} if manager else None,
        "manager_share": float(v.manager_share),
        "request": v.request_id,
    }


def listing(start: date | None = None, end: date | None = None) -> list[Violation]:
    q = select(Violation).order_by(Violation.occurred_on.desc(), Violation.id.desc())
    if start:
        q = q.where(Violation.occurred_on >= start)
    if end:
        q = q.where(Violation.occurred_on < end)
    return list(db.session.scalars(q.limit(1000)))
