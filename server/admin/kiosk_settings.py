"""/admin/kiosk-settings: how every kiosk greets visitors (company name, logo, welcome
message in English and Chinese), whether it takes photos, how long a rules signature
lasts, and each kiosk's default language."""

from flask import Response, redirect, render_template, request, url_for

from server.admin import bp
from server.auth import page_roles
from server.extensions import db
from server.limits import upload_limit
from server.models import LANGUAGES, Kiosk
from server.services import devices, kiosk_settings
from server.services.errors import ValidationError

TEXT_FIELDS = ("company_name", "welcome_en", "welcome_zh")


def _values(settings) -> dict:
    """What the form shows for the saved settings."""
    return {
        **{k: getattr(settings, k) or "" for k in TEXT_FIELDS},
        "photo_enabled": bool(settings.photo_enabled),
        "rules_valid_days": str(settings.rules_valid_days),
    }


def _page(
    values: dict | None = None,
    errors: dict | None = None,
    status: int = 200,
    kiosk_errors: dict | None = None,
):
    settings = kiosk_settings.get()
    kiosks = db.session.scalars(db.select(Kiosk).order_by(Kiosk.name)).all()
    return render_template(
        "admin/kiosk_settings.html",
        settings=settings,
        values=values or _values(settings),
        errors=errors or {},
        kiosks=kiosks,
        languages=LANGUAGES,
        kiosk_errors=kiosk_errors or {},
        saved=request.args.get("saved"),
    ), status


@bp.get("/kiosk-settings")
@page_roles("admin")
def kiosk_settings_page():
    return _page()


@bp.post("/kiosk-settings")
@upload_limit(kiosk_settings.MAX_LOGO_BYTES + 256 * 1024)  # the logo and the form's fields
@page_roles("admin")
def save_kiosk_settings():
    """Save every field at once; any problem comes back on the form, nothing saved."""
    form = request.form
    values = {
        **{k: form.get(k, "") for k in TEXT_FIELDS},
        "photo_enabled": bool(form.get("photo_enabled")),
        "rules_valid_days": form.get("rules_valid_days", "").strip(),
    }
    upload = request.files.get("logo")
    logo = upload.read(kiosk_settings.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
    try:
        kiosk_settings.save(logo_upload=logo, remove_logo=bool(form.get("remove_logo")), **values)
    except ValidationError as e:
        return _page(values, e.fields or {"form": e.message}, status=422)
    return redirect(url_for("admin.kiosk_settings_page", saved="settings"), 303)


@bp.get("/kiosk-settings/logo.png")
@page_roles("admin")
def kiosk_logo_preview():
    """The saved logo, for the admin's preview (``/kiosk/logo`` is for paired kiosks)."""
    logo = kiosk_settings.get().logo_png
    if not logo:
        return Response(status=404)
    resp = Response(logo, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@bp.post("/kiosk-settings/kiosks/<int:kiosk_id>/language")
@page_roles("admin")
def set_kiosk_language(kiosk_id: int):
    """The language a kiosk greets visitors in until they switch."""
    try:
        devices.set_kiosk_language(kiosk_id, request.form.get("language", ""))
    except ValidationError as e:
        return _page(kiosk_errors={kiosk_id: e.fields.get("language", e.message)}, status=422)
    return redirect(url_for("admin.kiosk_settings_page", saved="kiosk"), 303)
