"""/host: "Promised answers 承诺答复", the host's open follow-ups of every day (not only
today's visitors), earliest deadline first, each with its overdue flag and a form to
record the answer (it posts to the existing /host/tasks/<id>/status).

The section (templates/host/_follow_ups.html) asks for its list here again on every
live event (a reminder is a ``task_updated`` event), every minute (deadlines pass on
their own) and after an answer is sent; never while the host is typing an answer."""

from datetime import timedelta

from flask import current_app, render_template
from flask_login import current_user

from server.auth import page_roles
from server.host import bp
from server.models import utcnow
from server.services import follow_ups

REPLY_METHODS = {
    "email": "Email 邮件",
    "phone": "Phone 电话",
    "meeting": "Meeting 会面",
    "wechat": "WeChat 微信",
    "letter": "Letter 信函",
}


def promised_answers() -> list[dict]:
    """The signed-in host's open follow-ups as the section shows them."""
    now = utcnow()
    soon = now + timedelta(hours=current_app.config["FOLLOW_UP_REMINDER_HOURS"])
    rows = []
    for task in follow_ups.listing(current_user, "open", mine=True):
        details = task.details or {}
        method = details.get("reply_method") or ""  # a method we have no label for shows as is
        rows.append(
            {
                "task": task,
                "visit": task.visit,
                "question": details.get("question", ""),
                "reply": REPLY_METHODS.get(method, method),
                "overdue": follow_ups.is_overdue(task, now),
                "due_soon": task.starts_at is not None and now < task.starts_at <= soon,
            }
        )
    return rows


@bp.context_processor
def follow_up_helpers():
    # host/index.html includes the section; it asks for its rows itself.
    return {"promised_answers": promised_answers}


@bp.get("/follow-ups")
@page_roles("host")
def follow_ups_list():
    """The section's list (htmx refresh)."""
    return render_template("host/_follow_ups_list.html", rows=promised_answers())
