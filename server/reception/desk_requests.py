"""/reception: "At the kiosk · 自助机", what the kiosks ask the desk to handle — a
walk-in who needs a host, a visitor who declined the site rules, a badge that did
not print. Live: the panel refreshes on every ``desk_request`` event (live.js
``lobby:refresh``) and every 30 s (the "how long ago" moves on its own).

"Done 已处理" closes a request (who and when are recorded); "Find host 安排接待人" opens
the desk's walk-in form filled in with the visitor's name, company and phone."""

from flask import redirect, render_template, url_for
from flask_login import current_user

from server.auth import page_roles
from server.extensions import db, htmx
from server.models import DeskRequest, utcnow
from server.reception import bp
from server.reception.forms import WalkInForm
from server.services import desk
from server.services.errors import ServiceError

KINDS = {
    "route_walk_in": "Walk-in needs a host 需安排接待人",
    "rules_declined": "Declined the site rules 未接受访客须知",
    "badge_failed": "Badge did not print 访客证未打印",
    "help": "Asks for help 需要帮助",
    "turned_away": "Turned away at the kiosk 自助机拒绝签到",
    "watchlist_match": "On the watchlist 命中观察名单",
}
# Why the kiosk turned a visitor away, as the desk reads it.
REFUSALS = {
    "cancelled": "the visit was cancelled 来访已取消",
    "not_today": "the visit is for another day 非今日来访",
    "already_checked_out": "the visitor has already left 访客已离开",
    # The visitor matched the watchlist: the card in "At the kiosk" says who and why.
    "see_reception": (
        "the visitor is on the watchlist, see “At the kiosk” 命中观察名单，请查看自助机请求"
    ),
}


def ago(ts, now=None) -> str:
    """How long ago, for the desk: "just now 刚刚", "7 min ago 7分钟前", "1 h 5 min ago"."""
    minutes = max(0, int(((now or utcnow()) - ts).total_seconds() // 60)) if ts else 0
    if minutes < 1:
        return "just now 刚刚"
    if minutes < 60:
        return f"{minutes} min ago {minutes}分钟前"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min ago {hours}小时{rest}分钟前"


def open_rows() -> list[dict]:
    """The open requests as the panel shows them, oldest first."""
    now = utcnow()
    rows = []
    for req in desk.open_requests():
        data = desk.request_dict(req)
        visit = req.visit
        rows.append(
            {
                **data,
                "label": KINDS.get(req.kind, req.kind),
                "ago": ago(req.created_at, now),
                "created": req.created_at,
                "host": visit.host.name if visit is not None else None,
                "phone": (
                    visit.visitor.phone if visit is not None else str(req.details.get("phone", ""))
                ),
                "purpose": (
                    visit.purpose if visit is not None else str(req.details.get("purpose", ""))
                ),
            }
        )
    return rows


@bp.context_processor
def desk_request_helpers():
    # The reception page includes the panel; it asks for its rows itself.
    return {"open_desk_requests": open_rows, "refusals": REFUSALS}


def _panel(message: dict | None = None):
    if not htmx:  # a plain form post: back to the page
        return redirect(url_for("reception.index"))
    return render_template(
        "reception/_desk_requests.html", desk_requests=open_rows(), desk_message=message
    )


@bp.get("/desk-requests")
@page_roles("receptionist", "admin")
def desk_requests():
    """The panel's contents (htmx refresh)."""
    return _panel()


@bp.post("/desk-requests/<int:request_id>/done")
@page_roles("receptionist", "admin")
def desk_request_done(request_id: int):
    try:
        req = desk.handle(request_id, current_user)
    except ServiceError as e:
        text = (
            "Already handled by someone else. 已由他人处理。"
            if e.code == "already_handled"
            else f"Could not close it: {e.message}."
        )
        return _panel({"ok": False, "text": text})
    who = req.details.get("name") or (req.visit.visitor.name if req.visit else "")
    return _panel({"ok": True, "text": f"Done: {who}. 已处理。" if who else "Done. 已处理。"})


@bp.get("/desk-requests/<int:request_id>/walk-in")
@page_roles("receptionist", "admin")
def desk_request_walk_in(request_id: int):
    """The desk's walk-in form, filled in from a kiosk walk-in (the host is left to
    choose)."""
    req = db.session.get(DeskRequest, request_id)
    details = req.details if req is not None and req.kind == "route_walk_in" else {}
    form = WalkInForm(
        formdata=None,
        data={
            "name": str(details.get("name", "")),
            "company": str(details.get("company", "")),
            "phone": str(details.get("phone", "")),
            "desk_request_id": str(req.id) if req is not None and details else "",
        },
    )
    return render_template("reception/_walk_in.html", form=form, walk_in_ok=None, host_results=[])
