"""Alert channels over the API (admins): ``GET /api/v1/channels`` (everyone's and the
site's defaults, credentials masked), ``POST /api/v1/channels`` ``{"name", "kind",
"url", "secret"?, "for"?, "events"?}`` → 201 (with ``secret`` once when one was made
for a webhook), ``DELETE /api/v1/channels/<id>`` → 204, ``POST
/api/v1/channels/<id>/test`` → 202 (a test message queued). Rules and codes:
server/services/channels.py."""

from flask import g

from server.api import bp
from server.api.routes import json_body
from server.auth import api_roles
from server.notify import outbox
from server.services import channels
from server.services.errors import ValidationError


def _text(data: dict, key: str) -> str:
    value = data.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("invalid_channel", f"{key} must be text", fields={key: "text"})
    return value


@bp.get("/channels")
@api_roles("admin")
def list_channels():
    rows = channels.everyone()
    return {"count": len(rows), "channels": [channels.as_dict(c) for c in rows]}


@bp.post("/channels")
@api_roles("admin")
def add_channel():
    data = json_body()
    events = data.get("events") or []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise ValidationError(
            "invalid_events", "events is a list of topics", fields={"events": "a list"}
        )
    owner = channels.owner_by_email(_text(data, "for") or None)
    secret = _text(data, "secret")
    added = channels.add(
        _text(data, "name"), _text(data, "kind"), _text(data, "url"), secret, owner, events
    )
    answer = channels.as_dict(added)
    if added.kind == "webhook" and not secret:
        answer["secret"] = added.secret  # made here: shown this once
    return answer, 201


@bp.delete("/channels/<int:channel_id>")
@api_roles("admin")
def remove_channel(channel_id: int):
    channels.remove_by(channel_id, g.user)
    return "", 204


@bp.post("/channels/<int:channel_id>/test")
@api_roles("admin")
def test_channel(channel_id: int):
    """A test message queued to the channel (the worker sends it): the outbox row."""
    message = channels.send_test(channel_id, g.user)
    return outbox.as_dict(message), 202
