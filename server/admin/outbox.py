"""/admin/outbox: every message Lobby sends (issue 16 item 1), newest first, with its
state, attempts and last error; filter by state or visit; "Resend" queues one again
(POST, CSRF). The outbox itself: server/notify/outbox.py."""

from flask import render_template, request
from flask_wtf import FlaskForm

from server.admin import bp
from server.auth import page_roles
from server.models.notify import OUTBOX_STATES
from server.notify import outbox
from server.services import clock
from server.services.errors import ServiceError


class ResendForm(FlaskForm):
    """Only the CSRF token."""


def _filters() -> tuple[int | None, str]:
    visit = request.args.get("visit", "")
    status = request.args.get("status", "")
    return (
        int(visit) if visit.isascii() and visit.isdigit() and len(visit) < 19 else None,
        status if status in OUTBOX_STATES else "",
    )


def _page(notice=None, status=200):
    visit_id, state = _filters()
    return render_template(
        "admin/outbox.html",
        messages=outbox.listing(visit_id, state or None),
        waiting_reason=outbox.waiting_reason,
        states=OUTBOX_STATES,
        visit_id=visit_id,
        state=state,
        form=ResendForm(),
        notice=notice,
        local=clock.to_local,
    ), status


@bp.get("/outbox")
@page_roles("admin")
def outbox_page():
    return _page()


@bp.post("/outbox/<int:message_id>/resend")
@page_roles("admin")
def outbox_resend(message_id: int):
    if not ResendForm().validate_on_submit():  # CSRF
        return _page({"error": "The form expired; try again."}, status=400)
    try:
        message = outbox.resend(message_id)
    except ServiceError as e:
        return _page({"error": e.message}, status=e.status)
    return _page({"ok": message.id})
