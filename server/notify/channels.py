"""The outbox's chat and webhook senders: one per ``Channel.kind``, each in the
vendor's documented format and signing, with the channel's own secret.

An alert message (alerts.py) is queued with ``channel_id`` and a payload
``{"alert": {"event", "title", "lines", "language", "seq", "data"}}``: plain text
that each sender escapes for its vendor here, at send time (the URL and secret are
read from the ``Channel`` row then, never copied into the outbox). ``email``
channels are queued as ordinary ``email`` messages (mail.py sends them).

- ``webhook``: POST of a JSON body; ``X-Lobby-Signature: sha256=<hex HMAC-SHA256 of
  the raw body, keyed with the channel secret>``, ``X-Lobby-Timestamp`` (Unix
  seconds, also ``timestamp`` inside the signed body), ``X-Lobby-Event`` and
  ``Idempotency-Key`` (the message's dedupe key: the same across retries).
- ``wecom`` (企业微信 group robot): ``{"msgtype": "markdown", ...}`` to the URL
  (``.../webhook/send?key=...``); ``errcode`` != 0 is a failure.
- ``dingtalk`` (钉钉 custom robot): with a secret (加签), ``timestamp`` (ms) and
  ``sign`` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))
  added to the URL; ``{"msgtype": "markdown", ...}``; ``errcode`` != 0 fails.
- ``feishu`` (飞书 custom bot): with a secret, ``timestamp`` (s) and ``sign`` =
  base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")) in the body;
  ``{"msg_type": "post", ...}`` (rich text of plain ``text`` elements: nothing a
  visitor types can become a link or a mention); ``code`` != 0 fails.
- ``slack`` incoming webhook: ``{"text", "blocks"}`` with ``&``, ``<`` and ``>``
  escaped (Slack's markup: ``<!channel>`` or ``<http://x|y>`` in a visitor's name stay
  text); the answer must be ``ok``.

Any non-2xx answer, a vendor error code or a timeout (``TIMEOUT``) raises
``SendError``: the outbox retries with backoff and at last marks the message failed
with the reason (never the URL: its key is a credential).
"""

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import quote_plus, urlsplit, urlunsplit

from flask import current_app

from server.extensions import db
from server.models.notify import Channel
from server.notify.outbox import SendError, sender

TIMEOUT = 10.0
MAX_ANSWER = 64 * 1024  # of a vendor's answer read: enough for any error text
USER_AGENT = "Lobby-Alerts/1"
FOOTER = "Lobby 前台"  # DingTalk's keyword security can name this word


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a new destination (a POST would become a GET)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def private_address(host: str) -> str | None:
    """The first loopback, private, link-local or otherwise non-public address ``host``
    names (itself, or what DNS resolves it to); None when every one is public, or when
    it does not resolve here (then there is nothing to reach either)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return str(address)
    return None


def refused_destination(url: str) -> str | None:
    """Why the worker may not POST to ``url`` (None: it may). Unless the site allows
    private networks (``LOBBY_CHANNELS_PRIVATE_NETWORKS=1``), a channel can reach only
    public addresses: checked when it is added and again before every send (DNS may
    have changed since)."""
    if current_app.config.get("CHANNELS_PRIVATE_NETWORKS"):
        return None
    host = urlsplit(url).hostname or ""
    found = private_address(host)
    if found is None:
        return None
    return f"{host} is a private or loopback address ({found}): not reachable from channels"


def post(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST ``body`` (JSON) to ``url``; the status and (the start of) the answer.
    A non-2xx answer or no answer within ``TIMEOUT`` raises ``SendError``, and so does a
    destination on a private network (``refused_destination``: nothing is sent)."""
    if why := refused_destination(url):
        raise SendError(f"refused: {why}")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            **(headers or {}),
        },
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as answer:
            return answer.status, answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as e:
        # A vendor's short error word (Slack's "no_service") helps; a page does not, and
        # a channel's owner must not read other servers' answers through the error text.
        text = e.read(200).decode("utf-8", "replace").strip() if e.fp else ""
        text = text if len(text) <= 100 and "\n" not in text else f"({len(text)}+ bytes)"
        raise SendError(f"HTTP {e.code} {e.reason}: {text}".strip()) from None
    except (urllib.error.URLError, OSError) as e:  # refused, DNS, timeout, TLS
        reason = getattr(e, "reason", e)
        raise SendError(f"no answer: {reason}") from None


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise SendError(f"not the vendor's JSON answer ({len(body)} bytes)") from None
    if not isinstance(data, dict):
        raise SendError(f"not the vendor's JSON answer ({len(body)} bytes)")
    return data


def _dumps(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


# --- signatures (each as its vendor documents it) ----------------------------------


def webhook_signature(secret: str, body: bytes) -> str:
    """``X-Lobby-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk 加签: base64 HMAC-SHA256 of ``"{timestamp}\\n{secret}"`` keyed with the
    secret, URL-encoded (the ``sign`` query parameter)."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return quote_plus(base64.b64encode(mac.digest()).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu 签名校验: base64 HMAC-SHA256 of an empty message keyed with
    ``"{timestamp}\\n{secret}"`` (the ``sign`` body field)."""
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


# --- text for each vendor -----------------------------------------------------------

# Markdown of WeCom and DingTalk has no documented escape: the characters that make
# links, mentions (<@id>), tags (<font>) and emphasis become their full-width twins.
_MARKDOWN_SAFE = str.maketrans(
    {"[": "［", "]": "］", "<": "＜", ">": "＞", "*": "＊", "`": "｀", "_": "＿", "#": "＃"}
)


def markdown_safe(text: str) -> str:
    return " ".join(str(text).translate(_MARKDOWN_SAFE).split())


def slack_escape(text: str) -> str:
    """Slack's three control characters (api.slack.com formatting: escaping)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(alert: dict) -> str:
    return "\n".join([alert["title"], *alert.get("lines", [])])


def wecom_body(alert: dict) -> dict:
    lines = [f"**{markdown_safe(alert['title'])}**"]
    lines += [f"> {markdown_safe(line)}" for line in alert.get("lines", [])]
    lines.append(f'<font color="comment">{FOOTER}</font>')
    return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}


def dingtalk_body(alert: dict) -> dict:
    parts = [f"#### {markdown_safe(alert['title'])}"]
    parts += [f"> {markdown_safe(line)}" for line in alert.get("lines", [])]
    parts.append(f"###### {FOOTER}")
    return {
        "msgtype": "markdown",
        # the title is what the notification preview shows: plain text
        "markdown": {"title": " ".join(alert["title"].split())[:100], "text": "\n\n".join(parts)},
    }


def feishu_body(alert: dict) -> dict:
    rows = [[{"tag": "text", "text": line}] for line in alert.get("lines", [])]
    rows.append([{"tag": "text", "text": FOOTER}])
    locale = "zh_cn" if alert.get("language") == "zh" else "en_us"
    return {
        "msg_type": "post",
        "content": {"post": {locale: {"title": alert["title"], "content": rows}}},
    }


def slack_body(alert: dict) -> dict:
    title = slack_escape(alert["title"])
    lines = [slack_escape(line) for line in alert.get("lines", [])]
    return {
        "text": "\n".join([title, *lines]),  # the notification's text and the fallback
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "\n".join([f"*{title}*", *lines])},
            },
            {"type": "context", "elements": [{"type": "plain_text", "text": FOOTER}]},
        ],
    }


# --- the senders ----------------------------------------------------------------------


def _channel(message) -> Channel:
    channel = db.session.get(Channel, message.channel_id) if message.channel_id else None
    db.session.commit()  # no read transaction held while talking to a server
    if channel is None:
        raise SendError("the channel was removed")
    return channel


def _alert(message) -> dict:
    alert = (message.payload or {}).get("alert")
    if not isinstance(alert, dict) or "title" not in alert:
        raise SendError("not an alert message")
    return alert


def idempotency_key(message) -> str:
    return message.dedupe_key or f"lobby-outbox-{message.id}"


@sender("webhook")
def send_webhook(message) -> None:
    channel, alert = _channel(message), _alert(message)
    now = int(time.time())
    body = _dumps(
        {
            "id": idempotency_key(message),
            "event": alert["event"],
            "timestamp": now,
            "seq": alert.get("seq"),
            "language": alert.get("language"),
            "text": plain(alert),
            "data": alert.get("data") or {},
        }
    )
    headers = {
        "X-Lobby-Timestamp": str(now),
        "X-Lobby-Event": alert["event"],
        "Idempotency-Key": idempotency_key(message),
    }
    if channel.secret:
        headers["X-Lobby-Signature"] = webhook_signature(channel.secret, body)
    post(channel.url, body, headers)


def _errcode(answer: dict, vendor: str) -> None:
    if answer.get("errcode", 0) != 0:
        raise SendError(f"{vendor} errcode {answer.get('errcode')}: {answer.get('errmsg', '')}")


@sender("wecom")
def send_wecom(message) -> None:
    channel, alert = _channel(message), _alert(message)
    _, answer = post(channel.url, _dumps(wecom_body(alert)))
    _errcode(_json(answer), "WeCom")


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot's URL with ``timestamp`` and ``sign`` added to its query."""
    parts = urlsplit(url)
    query = f"{parts.query}&" if parts.query else ""
    query += f"timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"
    return urlunsplit(parts._replace(query=query))


@sender("dingtalk")
def send_dingtalk(message) -> None:
    channel, alert = _channel(message), _alert(message)
    url = channel.url
    if channel.secret:
        url = dingtalk_url(url, channel.secret, int(time.time() * 1000))
    _, answer = post(url, _dumps(dingtalk_body(alert)))
    _errcode(_json(answer), "DingTalk")


@sender("feishu")
def send_feishu(message) -> None:
    channel, alert = _channel(message), _alert(message)
    body = feishu_body(alert)
    if channel.secret:
        now = int(time.time())
        body = {"timestamp": str(now), "sign": feishu_sign(channel.secret, now), **body}
    _, answer = post(channel.url, _dumps(body))
    data = _json(answer)
    # v2 hooks answer {"code": 0, "msg": "success"}; older ones {"StatusCode": 0}
    code = data.get("code", data.get("StatusCode", 0))
    if code != 0:
        raise SendError(f"Feishu code {code}: {data.get('msg', data.get('StatusMessage', ''))}")


@sender("slack")
def send_slack(message) -> None:
    channel, alert = _channel(message), _alert(message)
    _, answer = post(channel.url, _dumps(slack_body(alert)))
    if answer.strip() != b"ok":
        raise SendError(f"Slack did not answer ok ({len(answer)} bytes)")
