"""Alerts where people are: the worker fans the durable event log out to channels.

``run()`` is one pass of the worker (print_worker.py, next to ``outbox.send_due``),
never a request: it reads the events after the cursor ``NotifyCursor("alerts")`` and
queues, for each event that alerts someone, one outbox message per matching active
``Channel``; ``dedupe_key`` = ``alert:<event seq>:<channel id>``, so a pass run
twice (or by two workers) queues nothing twice. The check-in writes its event and
returns: it never waits on any of this.

What alerts whom (a channel's ``events`` names the topics it carries; empty: all):

- ``arrival``: ``visitor_arrived`` → the hosts it is addressed to (its ``host:<id>``
  rooms: the host, or whoever the event was routed to);
- ``waiting``: the visitor still waits: reception's "notify again" (a
  ``visitor_arrived`` with ``renotified``, to the host or their fallback contact),
  and, found by ``run`` itself, a visitor checked in ``ACK_WARNING_MINUTES`` ago whom
  the host has not acknowledged (once per visit: ``waiting:<visit>:<channel>``);
- ``tea``: a new tea request (``task_updated`` of a ``tea`` task ``requested``) →
  the receptionists;
- ``tour``: ``tour_reminder`` → the host.

Arrivals read in one pass (a group checked in together) go to a chat or email channel
as one message listing them (``arrivals``); a webhook gets one event per arrival.

Which channels: each recipient's own active channels of the topic, plus the site's
defaults (``user_id`` None) of the kinds the recipient has no channel of: a person's
own WeCom replaces the site's WeCom for them, not the site's email. A site default
is queued once per event whoever it is for; its text names the host. Texts are in
the recipient's language (``User.language``, else ``LOBBY_SITE_LANGUAGE``); a site
default speaks the site's.

A fresh cursor starts at the newest event (a new install, or the first channel,
replays no history), and events older than ``MAX_AGE`` are skipped, not alerted (a
worker that was down for a day does not announce yesterday's visitors).
"""

import time
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import Event, User, Visit, utcnow
from server.models.notify import Channel, NotifyCursor
from server.notify import outbox
from server.notify.alert_texts import WEBHOOK_EVENTS, compose
from server.services import clock
from server.services.tx import write

CURSOR = "alerts"
TOPICS = ("arrival", "waiting", "tea", "tour")
EVENT_KINDS = ("visitor_arrived", "task_updated", "tour_reminder")
MAX_AGE = timedelta(minutes=30)
BATCH = 200
# A cursor this far behind with nothing to alert is moved on anyway (a short scan).
CATCH_UP = 1000
# On PostgreSQL a lower seq can commit after a higher one: events settle this long
# before the pass reads them (SQLite commits one writer at a time, in seq order).
SETTLE = timedelta(seconds=2)
WAITING_EVERY = 30.0  # seconds between looks for visitors waiting too long
WAITING_WINDOW = timedelta(hours=2)  # not escalated once they waited longer than this


# --- queuing -----------------------------------------------------------------------------


def queue_alert(
    session,
    channel: Channel,
    topic: str,
    data: dict,
    lang: str,
    dedupe_key: str | None,
    seq: int | None = None,
):
    """Queue ``topic``'s alert to ``channel`` in ``session``'s transaction (None when
    ``dedupe_key`` was queued before). Email channels get an ordinary email."""
    alert: dict = {**compose(topic, data, lang), "event": WEBHOOK_EVENTS[topic], "seq": seq}
    visit_id = data.get("visit_id") if isinstance(data.get("visit_id"), int) else None
    payload: dict
    if channel.kind == "email":
        mail = EmailMessage()
        mail["To"] = channel.url
        mail["Subject"] = alert["title"]
        mail.set_content("\n".join([*alert["lines"], "", "Lobby 前台"]))
        kind, recipient, payload = "email", channel.url, {"mime": mail.as_string()}
    else:
        alert["data"] = {**data, "seq": seq} if topic != "test" else {}
        kind, recipient, payload = channel.kind, channel.name, {"alert": alert}
    message = outbox.queue(
        session,
        kind,
        recipient,
        alert["title"],
        payload,
        purpose="alert_arrival" if topic == "arrivals" else f"alert_{topic}",
        visit_id=visit_id,
        dedupe_key=dedupe_key,
    )
    if message is not None:
        message.channel_id = channel.id
    return message


# --- who gets what ----------------------------------------------------------------------


def _hosts_in(rooms: list) -> list[int]:
    return [
        int(r[5:])
        for r in rooms
        if isinstance(r, str) and r[5:].isdigit() and r.startswith("host:")
    ]


def topic_of(kind: str, payload: dict) -> str | None:
    if kind == "visitor_arrived":
        return "waiting" if payload.get("renotified") else "arrival"
    if kind == "tour_reminder":
        return "tour"
    task = payload.get("task") or {}
    if (
        kind == "task_updated"
        and task.get("kind") == "tea"
        and task.get("status") == "requested"
        and not payload.get("reminder")
    ):
        return "tea"
    return None


def _receptionists() -> list[int]:
    q = select(User.id).where(User.active.is_(True), User.roles.contains("receptionist"))
    return list(db.session.scalars(q))


def _carries(channel: Channel, topic: str) -> bool:
    return not channel.events or topic in channel.events


def plan(topic: str, user_ids: list[int], channels: list[Channel], users: dict[int, User]):
    """``(channel, language)`` for each channel ``topic`` goes to, once each."""
    site_lang = current_app.config["SITE_LANGUAGE"]
    site = [c for c in channels if c.user_id is None]
    chosen: dict[int, tuple[Channel, str]] = {}
    for uid in user_ids:
        user = users.get(uid)
        if user is None or not user.active:
            continue
        own = [c for c in channels if c.user_id == uid]
        for c in own:
            if _carries(c, topic):
                chosen[c.id] = (c, user.language or site_lang)
        own_kinds = {c.kind for c in own}
        for c in site:
            if c.kind not in own_kinds and _carries(c, topic):
                chosen.setdefault(c.id, (c, site_lang))
    return list(chosen.values())


def _active_channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).where(Channel.active.is_(True))))


def _users(ids) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(set(ids))))}


# --- the pass ---------------------------------------------------------------------------


def start_cursor(session) -> int:
    """Create the cursor at the newest event, in ``session``'s transaction (when there
    is none yet); its ``last_seq``."""
    cursor = session.get(NotifyCursor, CURSOR)
    if cursor is None:
        newest = session.scalar(select(func.max(Event.seq))) or 0
        cursor = NotifyCursor(name=CURSOR, last_seq=newest, updated_at=utcnow())
        session.add(cursor)
        session.flush()
    return cursor.last_seq


_last_waiting_look = 0.0


def run(now: datetime | None = None, limit: int = BATCH, escalate: bool | None = None) -> int:
    """One pass: queue the alerts of the events after the cursor and (``escalate``;
    None: every ``WAITING_EVERY`` seconds) of visitors waiting too long; how many
    messages were queued. An idle pass is reads only."""
    global _last_waiting_look
    now = now or utcnow()
    last = db.session.scalar(select(NotifyCursor.last_seq).where(NotifyCursor.name == CURSOR))
    if last is None:
        with write() as tx:
            start_cursor(tx)
        return 0
    channels = _active_channels()
    if not channels:  # nothing to send to: stale events are skipped by age later
        db.session.commit()
        return 0
    queued = _fan_out(last, channels, now, limit)
    if escalate is None:
        escalate = time.monotonic() - _last_waiting_look >= WAITING_EVERY
    if escalate:
        _last_waiting_look = time.monotonic()
        queued += escalate_waiting(channels, now)
    return queued


def _fan_out(last: int, channels: list[Channel], now: datetime, limit: int) -> int:
    newest_q = select(func.max(Event.seq))
    if db.session.get_bind().dialect.name != "sqlite":
        newest_q = newest_q.where(Event.created_at <= now - SETTLE)
    newest = db.session.scalar(newest_q) or 0
    if newest <= last:
        db.session.commit()
        return 0
    rows = db.session.execute(
        select(Event.seq, Event.kind, Event.payload, Event.rooms, Event.created_at)
        .where(Event.seq > last, Event.seq <= newest, Event.kind.in_(EVENT_KINDS))
        .order_by(Event.seq)
        .limit(limit)
    ).all()
    if len(rows) == limit:
        newest = rows[-1].seq  # the rest next pass
    work = []
    for row in rows:
        topic = topic_of(row.kind, row.payload or {})
        if topic is None or row.created_at < now - MAX_AGE:
            continue
        if topic == "tea":
            recipients = _receptionists()
        else:
            recipients = _hosts_in(row.rooms or [])
        work.append((row.seq, topic, row.payload or {}, recipients))
    if not rows and newest - last < CATCH_UP:
        db.session.commit()  # nothing that alerts: the cursor moves with the next one
        return 0
    users = _users(uid for *_, ids in work for uid in ids)
    planned = [
        (seq, topic, data, plan(topic, ids, channels, users)) for seq, topic, data, ids in work
    ]
    queued = 0
    with write() as tx:
        cursor = tx.scalar(
            select(NotifyCursor).where(NotifyCursor.name == CURSOR).with_for_update()
        )
        if cursor is None or cursor.last_seq != last:
            return 0  # another worker took this stretch
        # A group checked in together is one chat message per channel, not twenty (a
        # WeCom robot takes 20 a minute); webhooks still get one event per arrival.
        together: dict[int, list] = {}
        for seq, topic, data, targets in planned:
            for channel, lang in targets:
                if topic == "arrival" and channel.kind != "webhook":
                    together.setdefault(channel.id, []).append((seq, data, channel, lang))
                elif queue_alert(tx, channel, topic, data, lang, f"alert:{seq}:{channel.id}", seq):
                    queued += 1
        for items in together.values():
            seq, data, channel, lang = items[0]
            if len(items) > 1:
                data = {"arrivals": [d for _, d, _, _ in items]}
            topic = "arrivals" if len(items) > 1 else "arrival"
            if queue_alert(tx, channel, topic, data, lang, f"alert:{seq}:{channel.id}", seq):
                queued += 1
        cursor.last_seq, cursor.updated_at = newest, utcnow()
    return queued


def escalate_waiting(channels: list[Channel], now: datetime | None = None) -> int:
    """Queue a ``waiting`` alert, once per visit, for visitors checked in at least
    ``ACK_WARNING_MINUTES`` ago (and less than ``WAITING_WINDOW``) whom their host has
    not acknowledged."""
    now = now or utcnow()
    warn = timedelta(minutes=current_app.config["ACK_WARNING_MINUTES"])
    visits = list(
        db.session.scalars(
            select(Visit).where(
                Visit.status == "checked_in",
                Visit.acknowledged_at.is_(None),
                Visit.checked_in_at <= now - warn,
                Visit.checked_in_at > now - warn - WAITING_WINDOW,
            )
        )
    )
    if not visits:
        db.session.commit()
        return 0
    from server.services import away

    # an away host's delegate meets their visitors: they hear of the wait too
    delegates = {v.id: away.acting_delegate(v.host, now) for v in visits}
    users = _users([v.host_id for v in visits] + [d.id for d in delegates.values() if d])
    work = []
    for v in visits:
        assert v.checked_in_at is not None  # the query says so
        data = {
            "visit_id": v.id,
            "visitor": {"name": v.visitor.name, "company": v.visitor.company},
            "host": {"id": v.host_id, "name": v.host.name},
            "arrived_at": clock.iso(v.checked_in_at),
            "minutes": int((now - v.checked_in_at).total_seconds() // 60),
        }
        delegate = delegates[v.id]
        if delegate is not None:
            data["delegate"] = {"id": delegate.id, "name": delegate.name}
        recipients = [v.host_id] + ([delegate.id] if delegate is not None else [])
        work.append((v.id, data, plan("waiting", recipients, channels, users)))
    queued = 0
    try:
        with write() as tx:
            for visit_id, data, targets in work:
                for channel, lang in targets:
                    key = f"waiting:{visit_id}:{channel.id}"
                    if queue_alert(tx, channel, "waiting", data, lang, key):
                        queued += 1
    except IntegrityError:  # another worker queued the same escalation first
        db.session.rollback()
        return 0
    return queued


def send_test(channel_id: int, language: str | None = None):
    """Queue a test message to a channel now (no dedupe: each press sends one)."""
    with write() as tx:
        channel = tx.get(Channel, channel_id)
        if channel is None:
            return None
        lang = language or current_app.config["SITE_LANGUAGE"]
        return queue_alert(tx, channel, "test", {}, lang, None)
