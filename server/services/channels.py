"""Alert channels: add, list, remove, test (the CLI ``lobby channel``, the host's
settings page, /admin/channels and the API all come here).

A channel is where one person's alerts go (``user_id``), or, with no person, the
site's default for everyone (notify/alerts.py says who gets what). Rules:

- ``name``: unique, 1-120 letters, digits, ``.``, ``-`` or ``_`` (``invalid_name``;
  ``channel_exists`` 409 when taken);
- ``kind``: one of ``CHANNEL_KINDS`` (``invalid_kind``);
- ``url``: an ``http(s)://`` URL with a host for chat and webhooks, an email address
  for ``email`` (``invalid_url``);
- ``secret``: up to 300 characters; a ``webhook`` given none gets a new random one
  (``secrets``), shown once where it was added;
- ``for``: an active member of staff (``unknown_user`` 404).

Lists show URLs and secrets masked (a robot URL's key is a credential).
"""

import re
import secrets
from urllib.parse import urlsplit

from sqlalchemy import func, select

from server.extensions import db
from server.models import User
from server.models.notify import CHANNEL_KINDS, Channel
from server.services.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services.people import EMAIL_RE
from server.services.tx import write

NAME_RE = re.compile(r"^[\w.\-]{1,120}$")
KIND_LABELS = {
    "wecom": "WeCom 企业微信",
    "dingtalk": "DingTalk 钉钉",
    "feishu": "Feishu 飞书",
    "slack": "Slack",
    "webhook": "Webhook",
    "email": "Email 邮件",
}
TOPIC_LABELS = {
    "arrival": "Arrivals 到访",
    "waiting": "Waiting too long 等候超时",
    "tea": "Tea requests 茶水",
    "tour": "Tour reminders 参观提醒",
}


def _invalid(code: str, field: str, message: str) -> ValidationError:
    return ValidationError(code, message, fields={field: message})


def clean(name: str, kind: str, url: str, secret: str = "", events=None) -> dict:
    """The channel's fields checked and tidied; ``ValidationError`` names the field."""
    name, kind = (name or "").strip(), (kind or "").strip().lower()
    url, secret = (url or "").strip(), (secret or "").strip()
    if not NAME_RE.match(name):
        raise _invalid("invalid_name", "name", "1-120 letters, digits, '.', '-' or '_'")
    if kind not in CHANNEL_KINDS:
        raise _invalid("invalid_kind", "kind", f"kind must be one of {', '.join(CHANNEL_KINDS)}")
    if kind == "email":
        url = url.lower()
        if not EMAIL_RE.match(url) or len(url) > 254:
            raise _invalid("invalid_url", "url", "an email channel's address: name@example.com")
    else:
        parts = urlsplit(url) if len(url) <= 1000 and not any(c.isspace() for c in url) else None
        try:
            ok = parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
            ok = ok and parts is not None and (parts.port or 1) > 0
        except ValueError:  # a port that is not a number
            ok = False
        if not ok:
            raise _invalid("invalid_url", "url", "the robot's or webhook's http(s):// URL")
        from server.notify.channels import refused_destination

        if why := refused_destination(url):
            raise _invalid("private_address", "url", why)
    if len(secret) > 300:
        raise _invalid("invalid_secret", "secret", "up to 300 characters")
    if kind == "webhook" and not secret:
        secret = secrets.token_urlsafe(32)
    topics = [t for t in (events or []) if t]
    from server.notify.alerts import TOPICS

    if any(t not in TOPICS for t in topics):
        raise _invalid("invalid_events", "events", f"events are some of {', '.join(TOPICS)}")
    return {"name": name, "kind": kind, "url": url, "secret": secret, "events": topics}


def owner_by_email(email: str | None) -> User | None:
    """The active member of staff named by ``--for`` (None for the site default)."""
    if email is None or not email.strip():
        return None
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active:
        raise NotFound("unknown_user", f"no active user with email {email.strip()}")
    return user


def add(
    name: str,
    kind: str,
    url: str,
    secret: str = "",
    owner: User | None = None,
    events=None,
) -> Channel:
    """A new active channel for ``owner`` (None: the site's default for everyone)."""
    fields = clean(name, kind, url, secret, events)
    with write() as tx:
        if tx.scalar(select(Channel.id).where(Channel.name == fields["name"])):
            raise Conflict(
                "channel_exists",
                f"a channel named {fields['name']} exists",
                fields={"name": "taken"},
            )
        channel = Channel(**fields, user_id=owner.id if owner else None, active=True)
        tx.add(channel)
        from server.notify.alerts import start_cursor

        start_cursor(tx)  # the first channel starts the alerts at the newest event
    return channel


def free_name(owner: User, kind: str) -> str:
    """A name for a channel added on a page without one: ``ada-wecom``, ``ada-wecom-2``."""
    local = re.sub(r"[^\w.\-]", "-", owner.email.split("@")[0])[:100] or "user"
    base, n = f"{local}-{kind}", 1
    name = base
    while db.session.scalar(select(Channel.id).where(Channel.name == name)):
        n += 1
        name = f"{base}-{n}"
    return name


def by_name(name: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.name == (name or "").strip()))
    if channel is None:
        raise NotFound("unknown_channel", f"no channel named {name}")
    return channel


def of(owner: User | None) -> list[Channel]:
    """``owner``'s channels (None: the site's defaults), by name."""
    where = Channel.user_id.is_(None) if owner is None else Channel.user_id == owner.id
    return list(db.session.scalars(select(Channel).where(where).order_by(Channel.name)))


def everyone() -> list[Channel]:
    return list(db.session.scalars(select(Channel).order_by(Channel.user_id, Channel.name)))


def may_manage(channel: Channel, actor: User) -> bool:
    """A person manages their own channels; an admin, any."""
    return channel.user_id == actor.id or actor.has_role("admin")


def _managed(channel_id: int, actor: User, own_only: bool = False) -> Channel:
    """The channel, when ``actor`` may manage it (``own_only``: only their own, as on
    their settings page): ``unknown_channel`` 404, ``forbidden`` 403."""
    channel = db.session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("unknown_channel", f"no channel {channel_id}")
    if not (channel.user_id == actor.id if own_only else may_manage(channel, actor)):
        raise Forbidden("forbidden", "this is not your channel")
    return channel


def remove(name: str) -> str:
    """Remove the channel ``name`` (its queued messages are failed by the outbox)."""
    from sqlalchemy import update

    from server.models.notify import OutboxMessage

    channel = by_name(name)
    with write() as tx:
        tx.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel_id == channel.id, OutboxMessage.status == "queued")
            .values(status="failed", last_error="the channel was removed")
        )
        tx.delete(tx.get(Channel, channel.id))
    return name


def remove_by(channel_id: int, actor: User, own_only: bool = False) -> str:
    """Remove a channel ``actor`` may manage; its name."""
    name = _managed(channel_id, actor, own_only).name
    return remove(name)


def send_test(channel_id: int, actor: User, own_only: bool = False):
    """Queue a test message to a channel ``actor`` may manage (the worker sends it)."""
    from flask import current_app

    from server.notify import alerts

    channel = _managed(channel_id, actor, own_only)
    lang = (actor.language if channel.user_id == actor.id else "") or current_app.config[
        "SITE_LANGUAGE"
    ]
    return alerts.send_test(channel.id, lang)


def masked_url(channel: Channel) -> str:
    """Where it goes, without its credentials: ``https://qyapi.weixin.qq.com/…``."""
    if channel.kind == "email":
        return channel.url
    parts = urlsplit(channel.url)
    tail = "/…" if (parts.path.strip("/") or parts.query) else ""
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{tail}"


def masked_secret(channel: Channel) -> str:
    return (
        f"…{channel.secret[-4:]}"
        if len(channel.secret) >= 12
        else ("set" if channel.secret else "")
    )


def as_dict(channel: Channel) -> dict:
    from server.services.clock import iso

    return {
        "id": channel.id,
        "name": channel.name,
        "kind": channel.kind,
        "url": masked_url(channel),
        "signed": bool(channel.secret),
        "for": channel.user.email if channel.user_id and channel.user else None,
        "events": list(channel.events or []),
        "active": channel.active,
        "created_at": iso(channel.created_at),
    }


def last_messages(channel_ids: list[int]) -> dict:
    """Each channel's newest outbox message (what became of the last alert or test)."""
    from server.models.notify import OutboxMessage

    if not channel_ids:
        return {}
    newest = (
        select(func.max(OutboxMessage.id))
        .where(OutboxMessage.channel_id.in_(channel_ids))
        .group_by(OutboxMessage.channel_id)
    )
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(newest)))
    return {m.channel_id: m for m in rows}


LANGUAGES = ("", "en", "zh")


def set_language(user_id: int, language: str) -> None:
    """The language of a person's messages: ``en``, ``zh`` or "" (the site's)."""
    if language not in LANGUAGES:
        raise _invalid("invalid_language", "language", "en, zh or the site default")
    with write() as tx:
        user = tx.get(User, user_id)
        if user is None:
            raise NotFound("unknown_user", f"no user {user_id}")
        user.language = language
