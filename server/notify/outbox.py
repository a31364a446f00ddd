"""The outbox: messages queued in the caller's transaction, sent by the worker.

``queue`` adds a row (idempotent by ``dedupe_key``); ``send_due`` (the worker's pass)
claims due rows one at a time, ``queued`` → ``sending`` with a lease (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, as print_leases.py; SQLite's write lock does the same),
sends it outside any transaction, then marks it ``sent`` or puts it back with the
next attempt 1, 5, 25, 125 minutes later; after ``MAX_ATTEMPTS`` it is ``failed``
with the reason. A lease that ran out (a worker died mid-send) puts the row back.
A sender that is not ready (no SMTP configured) leaves the row queued with the
reason and does not spend an attempt. ``resend`` re-queues by hand.

Senders are pluggable by kind: ``SENDERS[kind] = fn(message) -> None`` (raise
``SendError`` or any exception to retry; ``NotReady`` to wait).
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import and_, or_, select, update

from server.extensions import db
from server.models import utcnow
from server.models.notify import OutboxMessage
from server.ops.logs import redact
from server.services.errors import Conflict, NotFound
from server.services.tx import write

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
BACKOFF_MINUTES = (1, 5, 25, 125)  # after attempt 1, 2, 3, 4; the 5th failure is final
LEASE_SECONDS = 120.0  # longer than an SMTP conversation with its 10 s timeouts
NOT_READY_MINUTES = 5  # a sender not configured is asked again this much later


class SendError(Exception):
    """A send that failed; the message is retried later."""


class NotReady(Exception):
    """The sender cannot send at all yet (not configured): wait, spend no attempt."""


SENDERS: dict[str, Callable[[OutboxMessage], None]] = {}
# Whether a kind's sender can send at all now (configured); a kind that cannot is
# neither claimed nor built: its messages wait queued, costing the worker nothing.
READY: dict[str, Callable[[], bool]] = {}


def sender(kind: str, ready: Callable[[], bool] | None = None):
    """Register ``fn`` as the sender of messages of ``kind`` (``ready``: whether it is
    configured; always, when not given)."""

    def register(fn):
        SENDERS[kind] = fn
        if ready is not None:
            READY[kind] = ready
        return fn

    return register


def ready_kinds() -> list[str]:
    return [kind for kind in SENDERS if READY.get(kind, lambda: True)()]


def queue(
    session,
    kind: str,
    recipient: str,
    subject: str,
    payload: dict,
    purpose: str = "",
    visit_id: int | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage | None:
    """Queue one message in ``session``'s transaction (sent after it commits, by the
    worker). With a ``dedupe_key`` already queued, nothing is added: returns None."""
    if dedupe_key is not None and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    ):
        return None
    message = OutboxMessage(
        kind=kind,
        recipient=recipient,
        subject=subject[:300],
        payload=payload,
        purpose=purpose,
        visit_id=visit_id,
        dedupe_key=dedupe_key,
        status="queued",
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message


def _anything_to_do(kinds: list[str]) -> bool:
    """One indexed read: is a message of ``kinds`` due, or a send's lease over? (An idle
    pass takes no write lock: on SQLite that would queue every second with the
    check-ins.)"""
    now = utcnow()
    found = db.session.scalar(
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.status == "queued",
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.kind.in_(kinds),
                ),
                and_(OutboxMessage.status == "sending", OutboxMessage.leased_until < now),
            )
        )
        .limit(1)
    )
    db.session.commit()  # end the read snapshot
    return found is not None


def _recover_expired() -> None:
    """Rows whose sender died mid-send go back to the queue (the attempt counted)."""
    with write() as tx:
        tx.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == "sending", OutboxMessage.leased_until < utcnow())
            .values(status="queued", leased_until=None)
        )


def claim_next(lease: float = LEASE_SECONDS, kinds: list[str] | None = None) -> int | None:
    """Take the oldest due queued message (of ``kinds``, when given) for this worker:
    ``sending`` under a lease. None when nothing is due."""
    with write() as tx:
        now = utcnow()
        due = [OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now]
        if kinds is not None:
            due.append(OutboxMessage.kind.in_(kinds))
        row = tx.scalar(
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            return None
        done = tx.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row, OutboxMessage.status == "queued")
            .values(status="sending", leased_until=now + timedelta(seconds=lease))
        ).rowcount
        return row if done == 1 else None


def _finish(message_id: int, error: BaseException | None) -> str:
    with write() as tx:
        message = tx.get(OutboxMessage, message_id)
        if message is None or message.status != "sending":
            return message.status if message else "gone"
        now = utcnow()
        message.leased_until = None
        if error is None:
            message.status, message.sent_at, message.last_error = "sent", now, ""
            message.attempts += 1
        elif isinstance(error, NotReady):
            message.status = "queued"
            message.last_error = str(error)
            message.next_attempt_at = now + timedelta(minutes=NOT_READY_MINUTES)
        else:
            message.attempts += 1
            message.last_error = redact(f"{type(error).__name__}: {error}")[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            else:
                message.status = "queued"
                wait = BACKOFF_MINUTES[min(message.attempts, len(BACKOFF_MINUTES)) - 1]
                message.next_attempt_at = now + timedelta(minutes=wait)
        return message.status


def send_one(message_id: int) -> str:
    """Send a claimed message with its kind's sender; its new status."""
    message = db.session.get(OutboxMessage, message_id)
    db.session.commit()  # no transaction (or lock) held while talking to a server
    error: BaseException | None = None
    if message is None:
        return "gone"
    fn = SENDERS.get(message.kind)
    try:
        if fn is None:
            raise NotReady(f"no sender for kind {message.kind!r}")
        fn(message)
    except Exception as e:  # any failure of a sender is the message's, not the worker's
        error = e
    status = _finish(message_id, error)
    if error is not None and not isinstance(error, NotReady):
        log.warning("outbox message %s (%s): %s", message_id, status, redact(str(error)))
    return status


def send_due(limit: int = 50, keep_going: Callable[[], bool] = lambda: True) -> int:
    """The worker's pass: send up to ``limit`` due messages. How many were tried."""
    from server.notify import channels, mail  # noqa: F401  (register the senders)

    kinds = ready_kinds()
    if not _anything_to_do(kinds):
        return 0
    _recover_expired()
    tried = 0
    while tried < limit and keep_going():
        message_id = claim_next(kinds=kinds)
        if message_id is None:
            break
        send_one(message_id)
        tried += 1
    return tried


def resend(message_id: int) -> OutboxMessage:
    """Queue a message again by hand (sent or failed): due now, attempts from zero.
    ``not_found`` (404); ``outbox_busy`` (409) while it is being sent."""
    with write() as tx:
        message = tx.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound("not_found", "no such message")
        if message.status == "sending":
            raise Conflict("outbox_busy", "this message is being sent right now")
        message.status, message.attempts, message.leased_until = "queued", 0, None
        message.next_attempt_at = utcnow()
    return message


def listing(visit_id: int | None = None, status: str | None = None, limit: int = 200) -> list:
    q = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if visit_id is not None:
        q = q.where(OutboxMessage.visit_id == visit_id)
    if status:
        q = q.where(OutboxMessage.status == status)
    return list(db.session.scalars(q))


NOT_CONFIGURED = {"email": "SMTP not configured (LOBBY_SMTP_URL)"}


def waiting_reason(message: OutboxMessage) -> str:
    """Why a queued message is not being sent: its kind's sender is not configured."""
    if message.status != "queued" or message.kind in ready_kinds():
        return ""
    from server.notify import channels, mail  # noqa: F401  (register the senders)

    return NOT_CONFIGURED.get(message.kind, f"no sender configured for {message.kind}")


def as_dict(message: OutboxMessage) -> dict:
    from server.services.clock import iso

    return {
        "id": message.id,
        "kind": message.kind,
        "recipient": message.recipient,
        "subject": message.subject,
        "purpose": message.purpose,
        "visit_id": message.visit_id,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error or waiting_reason(message),
        "next_attempt_at": iso(message.next_attempt_at),
        "created_at": iso(message.created_at),
        "sent_at": iso(message.sent_at),
    }
