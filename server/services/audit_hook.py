"""The audit trail written from one place for what the services change through the
ORM (DESIGN.md: "a service helper or a SQLAlchemy session hook, not every route").

``install()`` (once, from ``create_app``) listens to every ORM session's flush: each
inserted, changed or deleted row of an audited model — visits, visitors, staff users,
API tokens, kiosks, printers, the kiosk settings, the site rules, the badge layout,
the retention settings and the drinks menu — becomes an ``AuditEntry`` (who from the
request: the signed-in user or the API token's user; else ``system``), chained like
every other entry (``server/services/audit.py``), in the same transaction.

What is written: the changed columns' before and after. Secrets never (password and
token hashes, kiosk secrets: ``"[changed]"``); visitors' personal data is marked
``"[personal]"`` (the trail is kept by law and must not outlive the retention of the
data itself). Models whose services already write a richer entry (requests,
decisions, expenses, standards, rooms, watchlist) are not listed here. Check-ins, which
the hot path writes with Core statements, are not ORM flushes: they are folded into the
trail from the event log (``audit_checkins.py``); check-outs are ORM changes, here.
"""

from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

SECRET = {"password_hash", "token_hash", "pair_token_hash", "secret_hash", "logo_png"}
PERSONAL = {
    "visitors": {"name", "company", "title", "email", "phone"},
    "visits": {"purpose", "requirements", "cancel_reason", "admit_reason"},
}
AUDITED = {
    "visits": "visit",
    "visitors": "visitor",
    "users": "user",
    "api_tokens": "api_token",
    "kiosks": "kiosk",
    "printers": "printer",
    "kiosk_settings": "kiosk_settings",
    "site_rules": "site_rules",
    "badge_layouts": "badge_layout",
    "retention_settings": "retention_settings",
    "drinks": "drink",
}
_installed: list[bool] = []


def _value(table: str, key: str, value):
    if key in SECRET:
        return "[changed]" if value is not None else None
    if key in PERSONAL.get(table, ()):
        return "[personal]" if value else value
    if isinstance(value, (bytes, bytearray)):
        return f"[{len(value)} bytes]"
    return value


def _changes(obj, table: str, kind: str) -> tuple[dict | None, dict | None]:
    state = inspect(obj)
    before: dict = {}
    after: dict = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        hist = state.attrs[key].history
        if kind == "update":
            if not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old == new:
                continue
            before[key] = _value(table, key, old)
            after[key] = _value(table, key, new)
        elif kind == "insert":
            value = getattr(obj, key, None)
            if value is not None:
                after[key] = _value(table, key, value)
        else:
            before[key] = _value(table, key, getattr(obj, key, None))
    return (before or None), (after or None)


def _actor():
    """The user behind the current request, if any: (user, label)."""
    try:
        from flask import g, has_request_context
        from flask_login import current_user

        if not has_request_context():
            return None, "system"
        user = g.get("user")
        if user is None and current_user and current_user.is_authenticated:
            user = current_user
        return (user, "") if user is not None else (None, "system")
    except Exception:  # no app, or a half-built one: the change is still audited
        return None, "system"


def _before_flush(session: Session, _context, _instances) -> None:
    pending = session.info.setdefault("audit_pending", [])
    for kind, objects in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            table = getattr(obj, "__tablename__", None)
            if table not in AUDITED:
                continue
            if kind == "update" and not session.is_modified(obj, include_collections=False):
                continue
            before, after = _changes(obj, table, kind)
            if kind == "update" and not after and not before:
                continue
            pending.append((obj, table, kind, before, after))


def _after_flush_postexec(session: Session, _context) -> None:
    pending = session.info.pop("audit_pending", None)
    if not pending:
        return
    from server.services import audit

    user, label = _actor()
    for obj, table, kind, before, after in pending:
        ident = inspect(obj).identity
        target = ident[0] if ident else ""
        audit.append(
            session,
            f"{AUDITED[table]}.{kind}",
            actor=user,
            actor_label=label,
            target_type=AUDITED[table],
            target_id=target,
            before=before,
            after=after,
        )


def install() -> None:
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush_postexec", _after_flush_postexec)
    _installed.append(True)
