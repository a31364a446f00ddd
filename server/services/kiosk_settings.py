"""The site's kiosk settings: company name, logo and welcome message per language,
whether kiosks take photos, and how many days a rules signature stays valid.

There is one row; until an admin saves it, ``get()`` returns the defaults (unsaved).
The logo is kept as PNG (what ``/kiosk/logo`` serves), from a PNG or JPEG upload.
"""

from sqlalchemy import select

from server.extensions import db
from server.models import KioskSettings
from server.services import images


def get() -> KioskSettings:
    row = db.session.scalar(select(KioskSettings).order_by(KioskSettings.id).limit(1))
    if row is None:
        row = KioskSettings(
            company_name="",
            welcome_en="",
            welcome_zh="",
            logo_png=None,
            photo_enabled=True,
            rules_valid_days=365,
        )
    return row


def welcome_message(settings: KioskSettings, language: str) -> str:
    """The admin's welcome message in ``language`` ("" when none was set)."""
    return (settings.welcome_zh if language == "zh" else settings.welcome_en) or ""


FIELDS = {"company_name": 200, "welcome_en": 500, "welcome_zh": 500}
MAX_LOGO_BYTES = 2 * 1024 * 1024
LOGO_FORMATS = ("PNG", "JPEG")
LOGO_MAX_SIDE = 800  # the kiosk header shows it at most a few hundred pixels wide


def read_logo(data: bytes) -> bytes:
    """An uploaded logo (PNG or JPEG, at most 2 MB) as PNG bytes, scaled down to
    LOGO_MAX_SIDE; ValueError with the reason for anything else."""
    if not data:
        raise ValueError("the file is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError("at most 2 MB")
    # Only PNG and JPEG reach a decoder; the pixel count is checked before decoding.
    image = images.open_image(data, LOGO_FORMATS, LOGO_MAX_SIDE)  # ValueError: its words
    return images.reencode(image, LOGO_MAX_SIDE, "PNG")


def save(
    logo_png: bytes | None = None,
    remove_logo: bool = False,
    logo_upload: bytes | None = None,
    **fields,
) -> KioskSettings:
    """Update the settings row (created on first save). Text fields are stripped and
    length-checked, ``photo_enabled`` is a bool, ``rules_valid_days`` 0..3650, a
    ``logo_upload`` must be a PNG or JPEG (``logo_png`` is taken as it is); every
    problem is reported at once as ValidationError("invalid_settings", fields=...)
    and nothing is saved."""
    from server.services.errors import ValidationError
    from server.services.tx import write

    errors: dict[str, str] = {}
    clean: dict[str, str | bool | int] = {}
    if logo_upload is not None:
        try:
            logo_png = read_logo(logo_upload)
        except ValueError as e:
            errors["logo"] = str(e)
    for key, value in fields.items():
        if key in FIELDS:
            value = (value or "").strip() if isinstance(value, str) or value is None else None
            if value is None:
                errors[key] = "must be text"
            elif len(value) > FIELDS[key]:
                errors[key] = f"at most {FIELDS[key]} characters"
            else:
                clean[key] = value
        elif key == "photo_enabled":
            clean[key] = bool(value)
        elif key == "rules_valid_days":
            try:
                days = int(value)
            except (TypeError, ValueError):
                days = -1
            if not 0 <= days <= 3650:
                errors[key] = "a whole number of days, 0 to 3650"
            else:
                clean[key] = days
        else:
            errors[key] = "unknown setting"
    if errors:
        raise ValidationError(
            "invalid_settings", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    with write() as session:
        row = session.scalar(select(KioskSettings).order_by(KioskSettings.id).limit(1))
        if row is None:
            row = KioskSettings()
            session.add(row)
        for key, value in clean.items():
            setattr(row, key, value)
        if logo_png is not None:
            row.logo_png = logo_png
        elif remove_logo:
            row.logo_png = None
    return row
