"""Email over SMTP, with the standard library.

``LOBBY_SMTP_URL``: ``smtp://[user:pass@]host[:port][?starttls=1]`` (port 25 unless
said; STARTTLS when ``starttls=1``) or ``smtps://[user:pass@]host[:port]`` (TLS from
the first byte, port 465 unless said). ``LOBBY_MAIL_FROM`` is the sender. The
password never reaches a log or an error text (``redact``). Unset: email messages
stay queued with "SMTP not configured".

An outbox ``email`` message's payload is ``{"mime": <the whole message as text>}``, or
``{"invitation": {...}}`` which invitations.py builds at send time; the sender only
adds From when the message has none.
"""

import smtplib
import ssl
from dataclasses import dataclass
from email import message_from_string, policy
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

from server.notify.outbox import NotReady, SendError, sender

TIMEOUT = 10.0
# Headers folded only past 998 characters: Python folds a long Subject right after
# "Subject:", which readers then show with a leading space.
WIRE = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    ssl: bool
    starttls: bool
    user: str
    password: str


def parse_url(url: str) -> SmtpTarget:
    """An SMTP URL as its parts; ValueError on a URL that is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("LOBBY_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    is_ssl = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if is_ssl else 25),
        ssl=is_ssl,
        starttls=starttls and not is_ssl,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def send_mime(text: str, to: str) -> None:
    """Send one message (its text) to ``to`` through the configured server."""
    url = current_app.config.get("SMTP_URL")
    if not url:
        raise NotReady("SMTP not configured (LOBBY_SMTP_URL)")
    try:
        target = parse_url(url)
    except ValueError as e:
        raise NotReady(str(e)) from None
    message = message_from_string(text, policy=WIRE)
    if not message["From"]:
        message["From"] = current_app.config.get("MAIL_FROM") or f"lobby@{target.host}"
    context = ssl.create_default_context()
    try:
        if target.ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                target.host, target.port, timeout=TIMEOUT, context=context
            )
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=TIMEOUT)
        with client:
            if target.starttls:
                client.starttls(context=context)
            if target.user:
                client.login(target.user, target.password)
            client.send_message(message, to_addrs=[to])
    except (OSError, smtplib.SMTPException) as e:
        # the error text names the server's answer, never our credentials
        raise SendError(
            str(e).replace(target.password, "[redacted]") if target.password else str(e)
        ) from None


def configured() -> bool:
    """Whether ``LOBBY_SMTP_URL`` is set: without it email waits queued, unbuilt."""
    return bool(current_app.config.get("SMTP_URL"))


@sender("email", ready=configured)
def send_email(message) -> None:
    """The outbox's ``email`` sender."""
    payload = message.payload or {}
    if "invitation" in payload:
        from server.notify import invitations  # it imports this module

        text = invitations.render(payload["invitation"])
    else:
        text = payload.get("mime") or ""
    send_mime(text, message.recipient)
