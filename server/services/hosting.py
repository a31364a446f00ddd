"""The host's and reception's moves on a visit: checking in at the desk, "on my way",
re-notifying, recording requirements, walk-ins and the farewell."""

import difflib
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from server import realtime
from server.extensions import db
from server.models import Task, User, Visit, utcnow
from server.services import checkin, clock, rules, tasks, watchlist
from server.services.errors import Conflict, NotFound, ValidationError
from server.services.tx import write
from server.services.visits import pre_register, visible_visit


def _reloaded(visit_id: int) -> Visit:
    """The visit as the database has it now (after a service wrote it elsewhere)."""
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    if visit is None:  # deleted meanwhile
        raise NotFound("not_found", f"no visit {visit_id}")
    return visit


def visit_payload(visit: Visit, **extra) -> dict:
    return {
        "visit_id": visit.id,
        "status": visit.status,
        "state": visit.state,
        "visitor": {"name": visit.visitor.name, "company": visit.visitor.company},
        "host": {"id": visit.host_id, "name": visit.host.name},
        "acknowledged_at": clock.iso(visit.acknowledged_at),
        **extra,
    }


def _updated(session, visit: Visit, change: str, **extra):
    rooms = realtime.visit_rooms(visit) + ([f"kiosk:{visit.kiosk_id}"] if visit.kiosk_id else [])
    return realtime.record(
        session, "visit_updated", visit_payload(visit, change=change, **extra), rooms
    )


def acknowledge(visit_id: int, user: User) -> Visit:
    """The host's "on my way": kiosk and reception see it live. Idempotent."""
    visit = visible_visit(user, visit_id)
    if visit.status != "checked_in":
        raise Conflict("not_checked_in", "the visitor has not arrived")
    with write() as session:
        visit = session.get(Visit, visit_id)
        if visit.acknowledged_at:
            return visit
        visit.acknowledged_at = utcnow()
        event = _updated(session, visit, "acknowledged", by=user.name)
    realtime.announce([event])
    return visit


def waiting_minutes(visit: Visit, now: datetime | None = None) -> int | None:
    """Minutes since arrival while the host has not acknowledged."""
    if visit.status != "checked_in" or visit.acknowledged_at or not visit.checked_in_at:
        return None
    return int(((now or utcnow()) - visit.checked_in_at).total_seconds() // 60)


def overdue(visit: Visit) -> bool:
    minutes = waiting_minutes(visit)
    return minutes is not None and minutes >= current_app.config["ACK_WARNING_MINUTES"]


def renotify(visit_id: int, user: User, fallback: bool = False) -> User:
    """Reception tells the host again that the visitor waits (or, with ``fallback``,
    the host's fallback contact). Returns who was alerted."""
    visit = visible_visit(user, visit_id)
    if visit.status != "checked_in":
        raise Conflict("not_checked_in", "the visitor is not waiting")
    target = visit.host
    if fallback:
        if not visit.host.fallback_contact_id:
            raise Conflict("no_fallback", f"{visit.host.name} has no fallback contact")
        fallback_user = db.session.get(User, visit.host.fallback_contact_id)
        if fallback_user is None:  # the id points at no account
            raise Conflict("no_fallback", f"{visit.host.name} has no fallback contact")
        target = fallback_user
        if not target.active:  # disabled since it was set: nobody would see the alert
            raise Conflict(
                "no_fallback", f"{visit.host.name}'s fallback contact {target.name} is disabled"
            )
    with write() as session:
        visit = session.get(Visit, visit_id)
        visit.renotified_at = utcnow()
        payload = realtime.arrival_payload(visit)
        payload.update(renotified=True, for_host=visit.host.name, by=user.name)
        rooms = [f"host:{target.id}", "reception"]
        if payload.get("delegate") and not fallback:  # the host is away: their delegate too
            rooms.append(f"host:{payload['delegate']['id']}")
        event = realtime.record(session, "visitor_arrived", payload, rooms)
    realtime.announce([event])
    return target


def record_requirements(visit_id: int, text, user: User) -> Visit:
    if not isinstance(text, str) or len(text) > 5000:
        raise ValidationError(
            "invalid_requirements",
            "requirements are text up to 5000 characters",
            fields={"requirements": "up to 5000 characters"},
        )
    visible_visit(user, visit_id)
    with write() as session:
        visit = session.get(Visit, visit_id)
        visit.requirements = text.strip()
        event = _updated(session, visit, "requirements")
    realtime.announce([event])
    return visit


def farewell(visit_id: int, user: User, note: str = "") -> tuple[Visit, list[Task]]:
    """See the visitor off: a farewell task, then the check-out. Returns the visit and
    the promised answers still open (the host is shown them)."""
    visit = visible_visit(user, visit_id)
    if visit.status != "checked_in":
        raise Conflict("not_checked_in", "the visitor is not in the building")
    with write() as session:
        now = utcnow()
        task = Task(
            visit_id=visit_id,
            kind="farewell",
            status="done",
            details={"note": (note or "").strip()[:300]},
            created_by_id=user.id,
            done_by_id=user.id,
            done_at=now,
            updated_at=now,
        )
        session.add(task)
        session.flush()
        event = tasks._announce(session, task, session.get(Visit, visit_id))
    realtime.announce([event])
    result = checkin.check_out(visit.code)
    return result.visit, tasks.open_follow_ups(_reloaded(visit_id))


def check_out_by_id(visit_id: int, user: User) -> Visit:
    visit = visible_visit(user, visit_id)
    return checkin.check_out(visit.code).visit


def check_in_at_desk(
    visit_id: int,
    user: User,
    reason: str = "",
    rules_on_paper: bool = False,
    printer: str | None = None,
) -> Visit:
    """Reception checks a booked visitor in by hand, exactly as a kiosk scan does: the
    badge goes to the desk printer and the host is alerted. With a ``reason``, a
    visitor the kiosk turned away (cancelled, another day, already left) is let in;
    the reason and who gave it are kept on the visit. A visitor on the watchlist is
    refused with ``see_reception`` (and reception told who and why) until reception,
    so told, lets them in with a reason (audited ``watchlist.admit``). Refused with Conflict
    ``rules_unsigned`` while the visitor has not signed the current site rules, unless
    they signed ``rules_on_paper`` at the desk (recorded, witnessed by ``user``)."""
    visit = visible_visit(user, visit_id)
    if not isinstance(reason, str) or len(reason) > 300:
        raise ValidationError(
            "invalid_reason",
            "the reason is text up to 300 characters",
            fields={"reason": "up to 300 characters"},
        )
    reason = reason.strip()
    if visit.status == "checked_in":
        return visit
    if not reason:
        checkin.refuse_if_not_admissible(visit)
    # On the watchlist: reception lets them in only with a reason, once told who and why.
    match = watchlist.match_visit(visit)
    if match is not None and (not reason or not watchlist.reception_told(visit)):
        watchlist.refuse(visit, match, staff=True)
    needed = rules.needs_signature(visit)
    if needed is not None:
        if not rules_on_paper:
            raise Conflict(
                "rules_unsigned",
                f"{visit.visitor.name} has not signed the site rules (v{needed.version})",
            )
        rules.sign_on_paper(visit, needed, witness=user)
    printer = printer or current_app.config.get("DESK_PRINTER") or None
    done = checkin.check_in(visit.code, printer=printer, by=user, admit_reason=reason or None)
    if match is not None and done.created:
        watchlist.admitted(visit_id, match, user, reason)
    return _reloaded(visit_id)


WALK_IN_RULES = ("paper", "kiosk")


def walk_in(
    name, company, phone, host_id, user: User, printer: str | None = None, rules_step: str = ""
) -> Visit:
    """Register a visitor without a booking at the desk: the host is told and a
    badge prints at the desk printer. Without a host, customer service is asked.

    When the site has rules to sign, the desk says how the walk-in signs them:
    ``rules_step="paper"`` (signed on paper, witnessed by ``user``; checked in at
    once) or ``"kiosk"`` (registered only: the desk shows the visit's QR, and the
    visitor scans it at a kiosk, signs there and is checked in there). Anything else
    is refused with ``rules_step`` before anything is written."""
    host = db.session.get(User, host_id) if isinstance(host_id, int) else None
    if host is None or not host.active:
        raise ValidationError(
            "invalid_visit",
            "host: choose who the visitor came to see",
            fields={"host": "choose a host"},
        )
    needs_rules = rules.current() is not None
    if needs_rules and rules_step not in WALK_IN_RULES:
        raise ValidationError(
            "invalid_visit",
            "rules: say how the visitor signs the site rules",
            fields={"rules_step": "choose paper or kiosk"},
        )
    visit = pre_register(
        {"name": name, "company": company, "phone": phone},
        host.email,
        clock.iso(utcnow()),
        "Walk-in",
        created_by=user,
        walk_in=True,
    )
    if needs_rules and rules_step == "kiosk":
        return visit
    return check_in_at_desk(visit.id, user, rules_on_paper=True, printer=printer)


def search_hosts(query: str, limit: int = 8) -> list[User]:
    """Hosts whose name, e-mail or department contains ``query``; when none does, the
    names closest to it (a typo such as "Grcae" still finds Grace)."""
    q = (query or "").strip()
    stmt = (
        select(User).where(User.active.is_(True), User.roles.contains("host")).order_by(User.name)
    )
    if not q:
        return list(db.session.scalars(stmt.limit(limit)))
    like = f"%{q}%"
    found = list(
        db.session.scalars(
            stmt.where(
                User.name.ilike(like) | User.email.ilike(like) | User.department.ilike(like)
            ).limit(limit)
        )
    )
    if found or len(q) < 3:
        return found
    everyone = list(db.session.scalars(stmt.limit(2000)))
    words: dict[str, list[User]] = {}
    for u in everyone:
        for word in [u.name, *u.name.split(), u.email.split("@")[0]]:
            words.setdefault(word.lower(), []).append(u)
    close = difflib.get_close_matches(q.lower(), list(words), n=limit, cutoff=0.6)
    seen: dict[int, User] = {}
    for word in close:
        for u in words[word]:
            seen.setdefault(u.id, u)
    return list(seen.values())[:limit]


def roster() -> list[Visit]:
    """Everyone in the building now, for evacuation: who, company, host, where."""
    q = select(Visit).where(Visit.status == "checked_in").order_by(Visit.checked_in_at)
    return list(db.session.scalars(q).unique())


def where(visit: Visit) -> str:
    """Where the visitor is, for reception and the tea queue: the tour's stops, the
    meeting room, the host's desk (with their department), or the lobby."""
    tour = next((t for t in visit.tasks if t.kind == "tour" and t.status == "in_progress"), None)
    if tour:
        stops = ", ".join(s.place for s in tour.stops)
        return f"On tour 参观中: {stops}" if stops else "On tour 参观中"
    if visit.meeting_room:
        return visit.meeting_room
    if visit.acknowledged_at:
        dept = f" · {visit.host.department}" if visit.host.department else ""
        return f"{visit.host.name}'s desk 接待人工位{dept}"
    return "Lobby 大堂 · waiting 等候中"
