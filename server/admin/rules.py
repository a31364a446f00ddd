"""/admin/rules: the site rules / NDA in English and Chinese, published as versions.

The form starts from the current version's texts; "Publish as version N+1" saves a
new version (never an edit of an old one: signatures name the version they signed).
The form carries the version it started from, so an admin who publishes over a
version published meanwhile by someone else is stopped and shown it. Below: every
version with its date and publisher, and the latest signatures with their images.
"""

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user

from server.admin import bp
from server.auth import page_roles
from server.extensions import db
from server.models import Signature, User
from server.services import kiosk_settings, retention, rules
from server.services.errors import Conflict, ValidationError


def _page(
    form: dict | None = None,
    errors: dict | None = None,
    error: str | None = None,
    published: int | None = None,
    status: int = 200,
):
    current = rules.current()
    if form is None:
        form = {
            "text_en": current.text_en if current else "",
            "text_zh": current.text_zh if current else "",
            "privacy_en": current.privacy_en if current else "",
            "privacy_zh": current.privacy_zh if current else "",
        }
        if not (form["privacy_en"] or form["privacy_zh"]):  # a draft to start from
            form["privacy_en"], form["privacy_zh"] = privacy_draft()
    versions = rules.versions()
    publishers = {
        u.id: u
        for u in db.session.scalars(
            db.select(User).where(
                User.id.in_({v.published_by_id for v in versions if v.published_by_id})
            )
        )
    }
    return render_template(
        "admin/rules.html",
        current=current,
        versions=versions,
        publishers=publishers,
        counts=rules.signature_counts(),
        signatures=rules.recent_signatures(),
        valid_days=kiosk_settings.get().rules_valid_days,
        form=form,
        base_version=current.version if current else 0,
        errors=errors or {},
        error=error,
        published=published,
        max_text=rules.MAX_TEXT,
    ), status


def _version(raw: str) -> int | None:
    """A version number from the form or URL; None for anything else ("²".isdigit()
    is True, yet int() refuses it)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


@bp.get("/rules")
@page_roles("admin")
def site_rules():
    published = request.args.get("published", "")
    return _page(published=_version(published))


@bp.post("/rules")
@page_roles("admin")
def publish_rules():
    form = {k: request.form.get(k, "") for k in ("text_en", "text_zh", "privacy_en", "privacy_zh")}
    base = request.form.get("base_version", "")
    try:
        published = rules.publish(
            form["text_en"],
            form["text_zh"],
            current_user,
            privacy_en=form["privacy_en"],
            privacy_zh=form["privacy_zh"],
            base_version=_version(base),
        )
    except ValidationError as e:
        return _page(form, errors=e.fields, error=e.message if not e.fields else None, status=422)
    except Conflict as e:
        return _page(form, error=e.message, status=409)
    return redirect(url_for("admin.site_rules", published=published.version))


def privacy_draft() -> tuple[str, str]:
    """A privacy notice to start from, with the retention settings' windows."""
    keep = retention.settings()
    return (
        "Why we ask: to let you in, tell your host you are here and keep the site safe.\n"
        f"What we keep: your name, company and contact details and your visit for "
        f"{keep.personal_days} days; your photo and signature for {keep.images_days} days. "
        "Then they are removed; only anonymous counts remain.\n"
        "Your rights: ask reception for a copy of your data, or to have it removed.",
        "收集目的：为您办理入场、通知接待人并保障场所安全。\n"
        f"保存内容：您的姓名、公司、联系方式及到访记录保存 {keep.personal_days} 天；"
        f"照片与签名保存 {keep.images_days} 天，之后删除，仅保留匿名统计。\n"
        "您的权利：可向前台索取您的个人数据副本，或要求删除。",
    )


@bp.get("/rules/signatures/<int:signature_id>.png")
@page_roles("admin")
def signature_image(signature_id: int):
    signature = db.get_or_404(Signature, signature_id)
    if not signature.image_png:  # signed on paper, or removed by retention
        return Response(status=404)
    resp = Response(signature.image_png, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
