"""/admin/retention: how long visitors' personal data is kept (days, 1..3650 each: a
visit's personal fields, photos and signatures, the event log), a dry run of the purge
with its counts, a purge now, and the latest purges from the audit trail. The daily
purge itself runs in the worker (services/retention.py); ``lobby purge`` does the
same from the command line."""

import tempfile
from pathlib import Path

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user

from server.admin import bp
from server.auth import page_roles
from server.services import retention, visitor_data
from server.services.errors import NotFound, ValidationError

FIELDS = tuple(retention.DEFAULTS)


def _page(
    values=None,
    errors=None,
    preview=None,
    purged=None,
    status: int = 200,
    person: dict | None = None,
):
    row = retention.settings()
    return render_template(
        "admin/retention.html",
        settings=row,
        values=values or {k: str(getattr(row, k)) for k in FIELDS},
        errors=errors or {},
        limits=retention.DAY_LIMITS,
        preview=preview,
        purged=purged,
        saved=request.args.get("saved") == "1",
        history=retention.last_purges(),
        person=person or {},
    ), status


@bp.get("/retention")
@page_roles("admin")
def retention_page():
    return _page()


@bp.post("/retention")
@page_roles("admin")
def save_retention():
    values = {k: request.form.get(k, "").strip()[:20] for k in FIELDS}
    try:
        retention.save_settings(values, current_user)
    except ValidationError as e:
        return _page(values, e.fields or {"form": e.message}, status=422)
    return redirect(url_for("admin.retention_page", saved="1"), 303)


@bp.post("/retention/purge")
@page_roles("admin")
def run_purge():
    """``dry_run=0`` purges now; anything else only shows the counts a purge would
    have (nothing changed)."""
    dry_run = request.form.get("dry_run") != "0"
    done = retention.purge(dry_run=dry_run, actor=current_user)
    return _page(preview=done if dry_run else None, purged=None if dry_run else done)


@bp.post("/retention/visitor")
@page_roles("admin")
def visitor_rights():
    """A visitor's request by email: ``action=export`` downloads the zip of everything
    held on them, ``action=forget`` (with ``confirm``) anonymises them now. Both
    audited with the admin as actor."""
    email = request.form.get("email", "").strip()[:300]
    action = request.form.get("action", "")
    person = {"email": email}
    try:
        if action == "export":
            with tempfile.TemporaryDirectory() as tmp:
                path = visitor_data.export(email, tmp, actor=current_user)
                data = Path(path).read_bytes()
            resp = Response(data, mimetype="application/zip")
            resp.headers["Content-Disposition"] = f'attachment; filename="{Path(path).name}"'
            resp.headers["Cache-Control"] = "no-store"
            return resp
        if action == "forget":
            if request.form.get("confirm") != "1":
                person["error"] = "Tick the box to confirm. 请勾选确认。"
                return _page(person=person, status=422)
            person["forgotten"] = visitor_data.forget(email, actor=current_user)
            return _page(person={"forgotten": person["forgotten"]})
        person["error"] = "Choose export or forget. 请选择导出或删除。"
        return _page(person=person, status=422)
    except ValidationError:
        person["error"] = "Give the visitor's email address. 请输入访客的电子邮箱。"
        return _page(person=person, status=422)
    except NotFound:
        person["error"] = "No visitor has this email. 没有使用此邮箱的访客。"
        return _page(person=person, status=404)
