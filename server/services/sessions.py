"""Staff login sessions that end for real, and the liveness of every credential a
live socket holds.

A signed-in browser's Flask session carries the id of a ``LoginSession`` row (and
Flask-Login's user id). Every request with a session reads that row by its key
(``is_live``): an ended row (logout, user disabled, password changed) or one older
than ``LOGIN_SESSION_HOURS`` makes the request anonymous, so a session cookie replayed
after logout opens nothing. ``last_seen_at`` is written at most once a minute.

The socket guard (``server/auth/sockets.py``) asks ``live_*`` which of the credentials
its sockets connected with still hold: one query per kind for all of them.
"""

import secrets
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import current_app, has_request_context, session
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from server.extensions import db
from server.models import ApiToken, Kiosk, LoginSession, User, hash_token, utcnow
from server.services import tx

SESSION_KEY = "lobby_login"  # the Flask session key holding the LoginSession id
TOUCH_SECONDS = 60
DEFAULT_HOURS = 12  # ASVS 3.3.2: sign in again at least every 12 hours


def _max_age() -> timedelta:
    return timedelta(hours=float(current_app.config.get("LOGIN_SESSION_HOURS", DEFAULT_HOURS)))


def start(user: User, address: str = "", user_agent: str = "") -> str:
    """A new login session for ``user``; returns its id (only that goes in the cookie)."""
    sid = secrets.token_urlsafe(32)
    with tx.write() as s:
        s.add(
            LoginSession(
                id=sid,
                user_id=user.id,
                address=(address or "")[:64],
                user_agent=(user_agent or "")[:300],
            )
        )
    return sid


def current_id() -> str | None:
    """The login session id of this request's browser, if any."""
    if not has_request_context():
        return None
    sid = session.get(SESSION_KEY)
    return sid if isinstance(sid, str) and sid else None


def is_live(sid: str | None, user_id: int) -> bool:
    """Whether ``sid`` is an unended, unexpired session of ``user_id``. One read by
    primary key; refreshes ``last_seen_at`` when it is over a minute old."""
    if not sid or len(sid) > 64:
        return False
    row = db.session.execute(
        select(
            LoginSession.user_id,
            LoginSession.ended_at,
            LoginSession.created_at,
            LoginSession.last_seen_at,
        ).where(LoginSession.id == sid)
    ).first()
    if row is None or row.user_id != user_id or row.ended_at is not None:
        return False
    now = utcnow()
    if row.created_at < now - _max_age():
        return False
    if row.last_seen_at < now - timedelta(seconds=TOUCH_SECONDS):
        _touch(sid, now)
    return True


def _touch(sid: str, now: datetime) -> None:
    """Best effort, on a connection of its own (the request may be inside a service's
    transaction, or on SQLite another thread may hold the write lock: then skip, the
    next request tries again)."""
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite and not tx._sqlite_writers.acquire(blocking=False):
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(
                update(LoginSession).where(LoginSession.id == sid).values(last_seen_at=now)
            )
    except SQLAlchemyError:
        pass  # only a timestamp; never fail a request over it
    finally:
        if sqlite:
            tx._sqlite_writers.release()


def end(sid: str | None, reason: str = "logout") -> None:
    """End one login session (logout). Unknown or already ended: nothing happens."""
    if not sid or len(sid) > 64:
        return
    with tx.write() as s:
        s.execute(
            update(LoginSession)
            .where(LoginSession.id == sid, LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow(), end_reason=reason)
        )
    _wake_guard()


def end_all(s, user_id: int, reason: str, keep: str | None = None) -> int:
    """End every open session of ``user_id`` in the caller's transaction ``s`` (but
    ``keep``, the caller's own, after changing their own password). Returns how many."""
    stmt = (
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
    )
    if keep:
        stmt = stmt.where(LoginSession.id != keep)
    return s.execute(stmt).rowcount or 0


def token_id(token: str | None) -> int | None:
    """The id of the live API token ``token`` (what a socket connected with)."""
    if not token:
        return None
    return db.session.scalar(
        select(ApiToken.id).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )


def live_sessions(ids: Iterable[str]) -> set[str]:
    """Of these login session ids, those still open, unexpired, of an active user."""
    ids = list(set(ids))
    if not ids:
        return set()
    q = (
        select(LoginSession.id)
        .join(User, User.id == LoginSession.user_id)
        .where(
            LoginSession.id.in_(ids),
            LoginSession.ended_at.is_(None),
            LoginSession.created_at >= utcnow() - _max_age(),
            User.active.is_(True),
        )
    )
    return set(db.session.scalars(q))


def live_tokens(ids: Iterable[int]) -> set[int]:
    """Of these API token ids, those unrevoked and of an active user."""
    ids = list(set(ids))
    if not ids:
        return set()
    q = (
        select(ApiToken.id)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id.in_(ids), ApiToken.revoked_at.is_(None), User.active.is_(True))
    )
    return set(db.session.scalars(q))


def live_kiosks(creds: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Of these (kiosk id, secret hash) pairs, those whose kiosk is unrevoked and still
    holds that secret (a new pairing replaces it)."""
    creds = set(creds)
    if not creds:
        return set()
    q = select(Kiosk.id, Kiosk.secret_hash).where(
        Kiosk.id.in_({k for k, _ in creds}), Kiosk.revoked_at.is_(None)
    )
    return {(k, h) for k, h in db.session.execute(q) if h} & creds


# The socket guard of this process waits on this between sweeps: a change made here
# is swept at once rather than in up to two seconds (other processes' guards find it
# on their next sweep).
changed = threading.Condition()


def _wake_guard() -> None:
    with changed:
        changed.notify_all()


def credentials_changed() -> None:
    """Call after revoking a token or kiosk or disabling a user (after the commit)."""
    _wake_guard()
