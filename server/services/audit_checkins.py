"""Check-ins into the audit trail, folded in from the event log off the hot path.

The check-in (``services/checkin.py``) writes with Core statements on one connection
and is benchmarked: it appends no audit entry itself. Each check-in writes its
``visitor_arrived`` event in the same transaction as the visit's new status, so the
event log holds every check-in durably; ``catch_up()`` turns the events after its
cursor (``NotifyCursor`` "audit") into ``visit.check_in`` entries, chained like every
other entry: who (the staff user who checked the visitor in, else ``kiosk:<name>``,
else ``system``), when (the arrival's time), what (the visit), before (the status the
trail last knew: ``expected``, or ``checked_out`` on the next day of a multi-day
visit) and after (``checked_in``, the time, the kiosk, the admission reason).

The worker calls it every 30 s (``print_worker.AUDIT_FOLD_SECONDS``: not on every
pass, where under a burst of arrivals it would take the CPU the check-ins need);
every reader of the trail (``/audit``, ``GET /api/v1/audit``, ``lobby audit verify``)
calls it first, so the trail a reader sees is never behind the visits.
Idempotent and safe with several workers: the cursor row is read and moved in the
same write transaction (the SQLite write lock, ``FOR UPDATE`` on PostgreSQL).
"""

from sqlalchemy import select

from server.models import AuditEntry, Event, NotifyCursor, User, Visit, utcnow
from server.services import audit
from server.services.tx import write

CURSOR = "audit"
BATCH = 500


def _before_status(session, visit_id: int) -> str:
    """The status the trail last recorded for the visit (``expected`` when none)."""
    for after in session.scalars(
        select(AuditEntry.after)
        .where(AuditEntry.target_type == "visit", AuditEntry.target_id == str(visit_id))
        .order_by(AuditEntry.id.desc())
        .limit(20)
    ):
        if isinstance(after, dict) and after.get("status"):
            return after["status"]
    return "expected"


def _pending(session) -> bool:
    last = session.scalar(select(NotifyCursor.last_seq).where(NotifyCursor.name == CURSOR)) or 0
    return (
        session.scalar(
            select(Event.seq).where(Event.seq > last, Event.kind == "visitor_arrived").limit(1)
        )
        is not None
    )


def catch_up(session) -> int:
    """Fold the check-ins not yet in the trail into it; returns how many were added.
    A read finds nothing new without taking the write lock."""
    if not _pending(session):
        session.commit()  # end the read snapshot
        return 0
    added = 0
    with write() as tx:
        cursor = tx.scalar(
            select(NotifyCursor).where(NotifyCursor.name == CURSOR).with_for_update()
        )
        if cursor is None:
            cursor = NotifyCursor(name=CURSOR, last_seq=0)
            tx.add(cursor)
        events = tx.scalars(
            select(Event)
            .where(Event.seq > cursor.last_seq, Event.kind == "visitor_arrived")
            .order_by(Event.seq)
            .limit(BATCH)
        ).all()
        for event in events:
            visit_id = event.payload.get("visit_id")
            visit = tx.get(Visit, visit_id) if visit_id else None
            by = tx.get(User, visit.checked_in_by_id) if visit and visit.checked_in_by_id else None
            kiosk = event.payload.get("kiosk")
            after = {
                "status": "checked_in",
                "checked_in_at": event.payload.get("arrived_at"),
                "kiosk": kiosk,
            }
            if visit is not None and visit.admit_reason:
                after["admit_reason"] = "[personal]"  # as the ORM hook marks it
            audit.record(
                tx,
                "visit.check_in",
                actor=by,
                actor_label=f"kiosk:{kiosk}" if kiosk else "system",
                target_type="visit",
                target_id=visit_id or "",
                before={"status": _before_status(tx, visit_id) if visit_id else None},
                after=after,
                at=event.created_at,
            )
            added += 1
        if events:
            cursor.last_seq = events[-1].seq
            cursor.updated_at = utcnow()
    return added + (catch_up(session) if added == BATCH else 0)
