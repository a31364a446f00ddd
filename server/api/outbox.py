"""The outbox over the API (admins): ``GET /api/v1/outbox`` (``?visit=<id>``,
``?status=queued|sending|sent|failed``), newest first; ``POST
/api/v1/outbox/<id>/resend`` queues a message again (404 unknown, 409 ``outbox_busy``
while it is being sent). The outbox itself: server/notify/outbox.py."""

from flask import request

from server.api import bp
from server.auth import api_roles
from server.models.notify import OUTBOX_STATES
from server.notify import outbox
from server.services.errors import ValidationError


@bp.get("/outbox")
@api_roles("admin")
def list_outbox():
    """``{"count", "messages": [...]}``, newest first (at most 200)."""
    visit = request.args.get("visit", "")
    status = request.args.get("status", "")
    if visit and not (visit.isascii() and visit.isdigit() and len(visit) < 19):
        raise ValidationError(
            "invalid_query", "visit must be a visit id", fields={"visit": "an id"}
        )
    if status and status not in OUTBOX_STATES:
        raise ValidationError(
            "invalid_query", "unknown status", fields={"status": " or ".join(OUTBOX_STATES)}
        )
    rows = outbox.listing(int(visit) if visit else None, status or None)
    return {"count": len(rows), "messages": [outbox.as_dict(m) for m in rows]}


@bp.post("/outbox/<int:message_id>/resend")
@api_roles("admin")
def resend_outbox(message_id: int):
    """The message, queued again (due now, attempts from zero)."""
    return outbox.as_dict(outbox.resend(message_id))
