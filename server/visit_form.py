"""The visit edit page shared by /admin (reception, admins) and /host (a host's own
visits): the form's fields to and from what ``services.visit_changes`` takes, and
the views' common body. Only shape is handled here; every rule is the service's,
whose ``ValidationError.fields`` the template shows next to each field.
"""

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from printers.badge import visitor_type_for
from server.models import KINDS
from server.services import clock, people, visit_changes, visits
from server.services.errors import ServiceError, ValidationError

VISITOR_FIELDS = visit_changes.VISITOR_FIELDS
# The badge's words for a visit's type, one vocabulary: VISITOR 访客, VIP 贵宾,
# CONTRACTOR 承包商, INTERVIEW 面试, DELIVERY 送货, MEDIA 媒体, GOVERNMENT 政府 (written out
# here as well because the staff font subset is cut from the views' text, webfonts.py).
KIND_LABELS = [(k, visitor_type_for(k)) for k in KINDS]
STAR_LABELS = [("", "— none 无")] + [(str(n), "★" * n) for n in range(1, 6)]
LABELS = {
    "name": "Visitor name 访客姓名",
    "company": "Company 公司",
    "title": "Job title 职务",
    "email": "Email 邮箱",
    "phone": "Phone 电话",
    "host": "Host 接待人",
    "expected_at": "Expected 预计到访",
    "purpose": "Purpose 来访目的",
    "meeting_room": "Meeting room 会议室",
    "kind": "Visitor type 访客类型",
    "stars": "Star level 星级",
    "valid_until": "Valid until 有效期",
}


def safe_next(value: str | None, default: str) -> str:
    """``value`` if it is a path on this site ("/host/"), else ``default``: a link
    from elsewhere must not send the user off-site after saving."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else default


def values_of(visit) -> dict:
    """The form's values for ``visit`` as it is (local time for the datetime input)."""
    local = clock.to_local(visit.expected_at)
    return {
        **{k: getattr(visit.visitor, k) or "" for k in VISITOR_FIELDS},
        "host": visit.host.email,
        "expected_at": local.strftime("%Y-%m-%dT%H:%M") if local else "",
        "purpose": visit.purpose or "",
        "meeting_room": visit.meeting_room or "",
        "kind": visit.kind or "visitor",
        "stars": str(visit.stars or ""),
        "valid_until": visit.valid_until.isoformat() if visit.valid_until else "",
    }


def changes_from(form, staff: bool) -> dict:
    """The posted form as the service's partial update (the host only for the desk)."""
    data: dict[str, Any] = {"visitor": {k: form.get(k, "") for k in VISITOR_FIELDS}}
    for key in ("expected_at", "purpose", "meeting_room", "kind", "valid_until"):
        data[key] = form.get(key, "")
    stars = form.get("stars", "").strip()
    # "x" (and "²", which isdigit() but int() refuses): refused by the field
    data["stars"] = int(stars) if stars.isascii() and stars.isdigit() else (stars or None)
    if staff:
        data["host"] = form.get("host", "")
    return data


def _page(
    visit,
    prefix: str,
    back: str,
    values=None,
    errors=None,
    error="",
    cancel_errors=None,
    status=200,
):
    staff = prefix == "admin"
    return render_template(
        "visits/edit.html",
        visit=visit,
        values=values or values_of(visit),
        errors=errors or {},
        error=error,
        cancel_errors=cancel_errors or {},
        labels=LABELS,
        kinds=KIND_LABELS,
        stars=STAR_LABELS,
        hosts=people.hosts() if staff else None,
        next=back,
        closed=visit_changes.closed(visit),
        submitted=request.form if cancel_errors else {},
        save_url=url_for(f"{prefix}.visit_edit", visit_id=visit.id, next=back),
        cancel_url=url_for(f"{prefix}.visit_cancel", visit_id=visit.id, next=back),
    ), status


def edit(visit_id: int, prefix: str, default_next: str):
    """GET: the form. POST: save, then back to ``next`` with a notice; refused
    fields come back next to their inputs (422), a conflict above the form (409)."""
    visit = visits.visible_visit(current_user, visit_id)  # 404 / 403 first
    back = safe_next(request.values.get("next"), default_next)
    if request.method == "GET":
        return _page(visit, prefix, back)
    try:
        saved = visit_changes.update(
            visit_id, changes_from(request.form, prefix == "admin"), current_user
        )
    except ServiceError as e:
        if e.status in (401, 403, 404):
            raise
        fields = dict(e.fields) if isinstance(e, ValidationError) else {}
        return _page(
            visit,
            prefix,
            back,
            values=request.form,
            errors=fields,
            error="" if fields else e.message,
            status=e.status,
        )
    flash(f"Saved {saved.visitor.name}'s visit. 已保存来访信息。", "ok")
    return redirect(back, 303)


def cancel(visit_id: int, prefix: str, default_next: str):
    """Cancel with a reason and a ticked confirmation; the host is told."""
    visit = visits.visible_visit(current_user, visit_id)
    back = safe_next(request.values.get("next"), default_next)
    if not request.form.get("confirm"):
        return _page(
            visit, prefix, back, cancel_errors={"confirm": "tick to confirm 请勾选确认"}, status=422
        )
    try:
        done = visit_changes.cancel(visit_id, request.form.get("reason", ""), current_user)
    except ServiceError as e:
        if e.status in (401, 403, 404):
            raise
        return _page(
            visit,
            prefix,
            back,
            cancel_errors=dict(e.fields) or {"reason": e.message},
            status=e.status,
        )
    flash(
        f"Cancelled {done.visitor.name}'s visit; {done.host.name} has been told. "
        f"已取消来访，已通知接待人。",
        "ok",
    )
    return redirect(back, 303)
