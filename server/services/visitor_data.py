"""A visitor's rights over their data: a copy of everything held on them (``export``)
and forgetting them now (``forget``), both found by email, any case.

``export(email, out_dir)`` writes one zip: ``visitor.json`` (the visitor rows with
that email, their visits with host and kiosk, tasks, signatures' metadata, badge
prints, desk requests and the events of the log that mention them) and the images
(``photos/visit-<id>.jpg``, ``signatures/signature-<id>.png``). It is audited
(``visitor.export``): who took a copy of whose data, by ids.

``forget(email)`` does at once what the retention purge does when a visit's window
ends (services/retention.py), for every visitor row with that email and all their
visits whatever their age: names and contact details removed, visit texts blanked,
photos deleted, signature images and keys blanked, desk request details and task
notes cut (a visit still to come stays booked, under the removed name: cancel it
first if the person is not coming), and the events that mention them emptied
(kind ``purged``; the ``seq`` stays, so live clients' replay is not disturbed).
Rows stay, so counts stay. One ``visitor.forget`` audit entry names the visitor ids
and the counts, never the email: the audit trail is kept for good, the person's data
is not.

Both raise ``NotFound("no_visitor")`` when nobody has that email. Records that name
the person without a link to those visitor rows (a walk-in request with no host
typed by hand, the watchlist) are not found by email; the desk handles those.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, select, update

from server.extensions import db
from server.models import (
    DeskRequest,
    Event,
    Kiosk,
    PrintJob,
    Signature,
    Task,
    User,
    Visit,
    Visitor,
    VisitPhoto,
    utcnow,
)
from server.services import audit, clock, retention
from server.services.errors import NotFound, ValidationError
from server.services.tx import write

EVENT_BATCH = 2000


def _clean_email(email) -> str:
    text = (email or "").strip().lower() if isinstance(email, str) else ""
    if "@" not in text or len(text) > 254:
        raise ValidationError("invalid_email", "give the visitor's email address")
    return text


def visitors_with(email: str) -> list[Visitor]:
    """Every visitor row with ``email`` (any case); NotFound ``no_visitor`` if none."""
    wanted = _clean_email(email)
    rows = list(
        db.session.scalars(
            select(Visitor)
            .where(func.lower(func.trim(Visitor.email)) == wanted)
            .order_by(Visitor.id)
        )
    )
    if not rows:
        raise NotFound("no_visitor", f"no visitor has the email {wanted}")
    return rows


def _mentions(value, visit_ids: set[int], needles: set[str]) -> bool:
    """Whether an event payload names one of the visits or the email/phone."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "visit_id" and item in visit_ids:
                return True
            if key == "visit" and isinstance(item, dict) and item.get("id") in visit_ids:
                return True
            if _mentions(item, visit_ids, needles):
                return True
        return False
    if isinstance(value, list):
        return any(_mentions(item, visit_ids, needles) for item in value)
    return isinstance(value, str) and value.strip().lower() in needles


def _events_mentioning(visit_ids: set[int], needles: set[str]) -> list[Event]:
    found: list[Event] = []
    last = 0
    while True:
        rows = db.session.scalars(
            select(Event).where(Event.seq > last).order_by(Event.seq).limit(EVENT_BATCH)
        ).all()
        if not rows:
            return found
        found += [
            e for e in rows if e.kind != "purged" and _mentions(e.payload, visit_ids, needles)
        ]
        last = rows[-1].seq


def _needles(people: list[Visitor]) -> set[str]:
    return {v.email.strip().lower() for v in people if v.email} | {
        v.phone.strip().lower() for v in people if len(v.phone.strip()) >= 6
    }


# ---- export -------------------------------------------------------------------------


def _visitor_json(v: Visitor) -> dict:
    return {
        "id": v.id,
        "name": v.name,
        "company": v.company,
        "title": v.title,
        "email": v.email,
        "phone": v.phone,
        "language": v.language,
        "created_at": clock.iso(v.created_at),
        "anonymised_at": clock.iso(v.anonymised_at),
    }


def _visit_json(visit: Visit, kiosks: dict[int, str]) -> dict:
    return {
        "id": visit.id,
        "visitor_id": visit.visitor_id,
        "code": visit.code,
        "status": visit.status,
        "kind": visit.kind,
        "walk_in": visit.walk_in,
        "expected_at": clock.iso(visit.expected_at),
        "checked_in_at": clock.iso(visit.checked_in_at),
        "checked_out_at": clock.iso(visit.checked_out_at),
        "valid_until": visit.valid_until.isoformat() if visit.valid_until else None,
        "host": {"name": visit.host.name, "email": visit.host.email},
        "purpose": visit.purpose,
        "requirements": visit.requirements,
        "meeting_room": visit.meeting_room,
        "language": visit.language,
        "kiosk": kiosks.get(visit.kiosk_id) if visit.kiosk_id else None,
        "cancelled_at": clock.iso(visit.cancelled_at),
        "cancel_reason": visit.cancel_reason,
        "admit_reason": visit.admit_reason,
        "created_at": clock.iso(visit.created_at),
        "anonymised_at": clock.iso(visit.anonymised_at),
    }


def export(email, out_dir, actor: User | None = None, actor_label: str = "cli") -> Path:
    """Write the zip of everything held on the person into ``out_dir``; its path."""
    people = visitors_with(email)
    ids = [v.id for v in people]
    visits = list(
        db.session.scalars(select(Visit).where(Visit.visitor_id.in_(ids)).order_by(Visit.id))
    )
    visit_ids = {v.id for v in visits}
    kiosks = {k: n for k, n in db.session.execute(select(Kiosk.id, Kiosk.name))}
    photos = list(db.session.scalars(select(VisitPhoto).where(VisitPhoto.visit_id.in_(visit_ids))))
    signatures = list(
        db.session.scalars(
            select(Signature).where(Signature.visit_id.in_(visit_ids)).order_by(Signature.id)
        )
    )
    tasks = db.session.scalars(
        select(Task).where(Task.visit_id.in_(visit_ids)).order_by(Task.id)
    ).all()
    jobs = db.session.scalars(
        select(PrintJob).where(PrintJob.visit_id.in_(visit_ids)).order_by(PrintJob.id)
    ).all()
    desk = db.session.scalars(
        select(DeskRequest).where(DeskRequest.visit_id.in_(visit_ids)).order_by(DeskRequest.id)
    ).all()
    events = _events_mentioning(visit_ids, _needles(people))
    data = {
        "exported_at": clock.iso(utcnow()),
        "email": _clean_email(email),
        "visitors": [_visitor_json(v) for v in people],
        "visits": [_visit_json(v, kiosks) for v in visits],
        "photos": [
            {
                "visit_id": p.visit_id,
                "taken_at": clock.iso(p.taken_at),
                "file": f"photos/visit-{p.visit_id}.jpg",
            }
            for p in photos
        ],
        "signatures": [
            {
                "id": s.id,
                "visit_id": s.visit_id,
                "rules_version": s.version,
                "language": s.language,
                "signed_at": clock.iso(s.signed_at),
                "on_paper": s.on_paper,
                "kiosk": kiosks.get(s.kiosk_id) if s.kiosk_id else None,
                "file": f"signatures/signature-{s.id}.png" if s.image_png else None,
            }
            for s in signatures
        ],
        "tasks": [
            {
                "id": t.id,
                "visit_id": t.visit_id,
                "kind": t.kind,
                "status": t.status,
                "details": t.details,
                "starts_at": clock.iso(t.starts_at),
                "created_at": clock.iso(t.created_at),
                "done_at": clock.iso(t.done_at),
            }
            for t in tasks
        ],
        "badges": [
            {
                "visit_id": j.visit_id,
                "status": j.status,
                "reason": j.reason,
                "reprint": j.reprint,
                "created_at": clock.iso(j.created_at),
            }
            for j in jobs
        ],
        "desk_requests": [
            {
                "id": r.id,
                "visit_id": r.visit_id,
                "kind": r.kind,
                "status": r.status,
                "details": r.details,
                "created_at": clock.iso(r.created_at),
                "handled_at": clock.iso(r.handled_at),
            }
            for r in desk
        ],
        "events": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "created_at": clock.iso(e.created_at),
                "payload": e.payload,
            }
            for e in events
        ],
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"visitor-{ids[0]}-{datetime.now():%Y%m%d-%H%M%S}.zip"
    tmp = path.with_suffix(".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("visitor.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for p in photos:
            zf.writestr(f"photos/visit-{p.visit_id}.jpg", p.jpeg)
        for s in signatures:
            if s.image_png:
                zf.writestr(f"signatures/signature-{s.id}.png", s.image_png)
    tmp.replace(path)  # whole or not at all
    with write() as session:
        audit.record(
            session,
            "visitor.export",
            actor=actor,
            actor_label=actor_label if actor is None else "",
            target_type="visitor",
            target_id=",".join(map(str, ids)),
            after={
                "visitors": ids,
                "visits": len(visits),
                "photos": len(photos),
                "signatures": len(signatures),
                "events": len(events),
            },
        )
    return path


# ---- forget -------------------------------------------------------------------------


def forget(email, actor: User | None = None, actor_label: str = "cli") -> dict[str, int]:
    """Anonymise every visitor with ``email`` and all their visits now; the counts."""
    people = visitors_with(email)
    ids = [v.id for v in people]
    needles = _needles(people)
    visit_ids = set(db.session.scalars(select(Visit.id).where(Visit.visitor_id.in_(ids))))
    events = [e.seq for e in _events_mentioning(visit_ids, needles)]
    counts: dict[str, int] = {}

    def step(name: str, n: int, _t0: float) -> None:
        counts[name] = n

    now = utcnow()
    with write() as session, retention.secure_delete(session):
        id_list = sorted(visit_ids)
        counts["visitors"] = session.execute(
            update(Visitor)
            .where(Visitor.id.in_(ids))
            .values(**retention.anonymous_visitor(now))
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["visits"] = session.execute(
            update(Visit)
            .where(Visit.id.in_(id_list))
            .values(
                purpose="",
                requirements="",
                cancel_reason="",
                admit_reason="",
                anonymised_at=func.coalesce(Visit.anonymised_at, now),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        retention.anonymise_related(session, id_list, counts, step)
        counts["photos"] = session.execute(
            delete(VisitPhoto)
            .where(VisitPhoto.visit_id.in_(id_list))
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["signature_images"] = session.execute(
            update(Signature)
            .where(Signature.visit_id.in_(id_list), Signature.image_png.is_not(None))
            .values(image_png=None)
            .execution_options(synchronize_session=False)
        ).rowcount
        # Signatures made under their email on visits not linked here (a key is a key).
        counts["signatures"] += session.execute(
            update(Signature)
            .where(Signature.visitor_key.in_([f"email:{n}" for n in needles if "@" in n]))
            .values(visitor_key="")
            .execution_options(synchronize_session=False)
        ).rowcount
        counts["events"] = session.execute(
            update(Event)
            .where(Event.seq.in_(events))
            .values(kind="purged", payload={}, rooms=[])
            .execution_options(synchronize_session=False)
        ).rowcount
        audit.record(
            session,
            "visitor.forget",
            actor=actor,
            actor_label=actor_label if actor is None else "",
            target_type="visitor",
            target_id=",".join(map(str, ids)),
            after={"visitors": ids, **counts},
        )
    db.session.expire_all()
    return counts
