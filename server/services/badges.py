"""What a visit's badge looks like: the site's layout (data) and the badge fields."""

import io

from PIL import Image
from sqlalchemy import select

from printers.badge import Badge, visitor_type_for
from printers.layout import Layout, default_layout
from server.extensions import db
from server.models import LANGUAGES, BadgeLayout, Visit, utcnow
from server.services import clock, images, photos
from server.services.errors import ValidationError
from server.services.tx import write

MAX_LOGO_BYTES = 2 * 1024 * 1024


def _row() -> BadgeLayout | None:
    return db.session.scalar(select(BadgeLayout).where(BadgeLayout.name == "default"))


def current_layout(width: int | None = None) -> Layout:
    """The saved layout (or the default), at ``width`` dots when given."""
    row = _row()
    logo = Image.open(io.BytesIO(row.logo_png)) if row is not None and row.logo_png else None
    if row is None or not row.config:
        layout = default_layout(width or 576)
        layout.logo = logo
    else:
        layout = Layout.from_dict(row.config, logo=logo)
    if width:
        layout.width = width
    return layout


def layout_from_form(config: dict) -> Layout:
    """Validate a layout mapping; ValidationError("invalid_layout") on anything wrong."""
    try:
        return Layout.from_dict(config)
    except (ValueError, TypeError) as e:
        raise ValidationError("invalid_layout", str(e), fields={"layout": str(e)}) from e


def read_logo(data: bytes) -> bytes:
    """An uploaded logo as PNG bytes; ValidationError("invalid_logo") if not an image."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError(
            "invalid_logo", "the logo must be at most 2 MB", fields={"logo": "at most 2 MB"}
        )
    try:
        image = images.open_image(data, max_side=1024)  # PNG, JPEG, WebP; pixels capped
    except ValueError as e:
        raise ValidationError(
            "invalid_logo", f"the logo is not an image we take: {e}", fields={"logo": str(e)}
        ) from e
    return images.reencode(image, 1024, "PNG")


def save_layout(config: dict, logo_png: bytes | None = None, remove_logo: bool = False) -> Layout:
    layout = layout_from_form(config)
    with write() as session:
        row = _row()
        if row is None:
            row = BadgeLayout(name="default")
            session.add(row)
        row.config = layout.to_dict()
        if logo_png is not None:
            row.logo_png = logo_png
        elif remove_logo:
            row.logo_png = None
    return layout


def _layout_shows_photo() -> bool:
    """Whether the saved layout prints the visitor photo (the default layout does)."""
    row = _row()
    return row is None or not row.config or bool(row.config.get("show_photo", True))


def badge_for(visit: Visit, with_photo: bool | None = None) -> Badge:
    """The badge of ``visit``, in the language the visitor chose at the kiosk, with
    the kiosk photo when there is one and the layout prints photos (``with_photo``
    decides when given)."""
    local = clock.to_local(visit.checked_in_at or utcnow())
    language = visit.language if visit.language in LANGUAGES else "en"
    if with_photo is None:
        with_photo = _layout_shows_photo()
    return Badge(
        visitor_name=visit.visitor.name,
        company=visit.visitor.company,
        host_name=visit.host.name,
        date_text=local.strftime("%Y-%m-%d %H:%M"),
        code=visit.code,
        meeting_room=visit.meeting_room or "",
        valid_until=local.strftime("%Y-%m-%d") + " 23:59",
        visitor_type=visitor_type_for(visit.kind or "visitor", visit.stars, language),
        stars=visit.stars,
        language=language,
        photo=photos.image(visit.id) if with_photo else None,
    )


def sample_badge() -> Badge:
    """What the layout preview and `lobby printer test` print."""
    now = clock.to_local(utcnow())
    return Badge(
        visitor_name="张伟 Zhang Wei",
        company="Analytical Engines Ltd.",
        host_name="Grace Hopper",
        date_text=now.strftime("%Y-%m-%d %H:%M"),
        code="sample-badge-0000000000000000",
        meeting_room="Room 3 · 三号会议室",
        valid_until=now.strftime("%Y-%m-%d") + " 23:59",
        visitor_type=visitor_type_for("vip", 5),
        stars=5,
    )
