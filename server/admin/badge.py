"""/admin/badge: the badge layout as data, with a live PNG preview."""

import io
from urllib.parse import urlencode

from flask import redirect, render_template, request, send_file, url_for

from printers.badge import render_badge
from printers.layout import FIELDS
from server.admin import bp
from server.auth import page_roles
from server.limits import upload_limit
from server.services import badges
from server.services.errors import ValidationError

FIELD_LABELS = {
    "name": "Name 姓名",
    "company": "Company 公司",
    "host": "Host 接待人",
    "date": "Date 日期",
    "meeting_room": "Meeting room 会议室",
    "valid_until": "Valid until 有效期",
}


def _config_from(values) -> dict:
    """A layout mapping from form or query values (checkboxes: present = on)."""
    try:
        width = int(values.get("width", 576))
    except ValueError:
        raise ValidationError(
            "invalid_layout",
            "width must be 576 (80 mm) or 384 (58 mm)",
            fields={"width": "576 or 384"},
        ) from None
    return {
        "width": width,
        "fields": [f for f in FIELDS if values.get(f"field_{f}")],
        "band": bool(values.get("band")),
        "show_photo": bool(values.get("show_photo")),
        "qr": bool(values.get("qr")),
    }


def _page(layout, error=None, saved=False, status=200):
    query = urlencode(
        {
            "width": layout.width,
            **{f"field_{f}": 1 for f in layout.fields},
            **{k: 1 for k in ("band", "show_photo", "qr") if getattr(layout, k)},
        }
    )
    return render_template(
        "admin/badge.html",
        layout=layout,
        fields=FIELDS,
        labels=FIELD_LABELS,
        preview=url_for("admin.badge_preview_png") + "?" + query,
        error=error,
        saved=saved,
    ), status


@bp.get("/badge")
@page_roles("admin")
def badge_layout():
    return _page(badges.current_layout(), saved=request.args.get("saved") == "1")


@bp.get("/badge/preview")
@page_roles("admin")
def badge_preview():
    """htmx: the preview <img> for the form's current (unsaved) settings."""
    try:
        badges.layout_from_form(_config_from(request.args))
    except ValidationError as e:
        return render_template("admin/_badge_preview.html", error=e.message)
    return render_template(
        "admin/_badge_preview.html",
        src=url_for("admin.badge_preview_png") + "?" + request.query_string.decode(),
    )


@bp.get("/badge/preview.png")
@page_roles("admin")
def badge_preview_png():
    layout = badges.layout_from_form(_config_from(request.args))
    layout.logo = badges.current_layout().logo
    image = render_badge(badges.sample_badge(), width=layout.width, layout=layout)
    buf = io.BytesIO()
    image.convert("L").save(buf, format="PNG")
    buf.seek(0)
    return send_file(buf, mimetype="image/png", max_age=0)


@bp.post("/badge")
@upload_limit(badges.MAX_LOGO_BYTES + 256 * 1024)  # the logo and the form's fields
@page_roles("admin")
def save_badge_layout():
    upload = request.files.get("logo")
    try:
        config = _config_from(request.form)
        logo = badges.read_logo(upload.read()) if upload and upload.filename else None
        badges.save_layout(config, logo_png=logo, remove_logo=bool(request.form.get("remove_logo")))
    except ValidationError as e:
        layout = badges.current_layout()
        return _page(layout, error=e.message, status=422)
    return redirect(url_for("admin.badge_layout", saved=1))
