"""Badge layouts as data: which fields show, in which order, band, logo, photo, QR.

Contract:
- ``Layout`` is validated on creation (``ValueError`` on unknown fields,
  duplicate fields, bad widths or wrong types). ``width`` is the paper width
  in dots the layout is designed for (576 = 80 mm, 384 = 58 mm; any multiple
  of 8 from 256 to 2048).
- ``Layout.to_dict()`` gives plain JSON-able data without the logo (store the
  logo image separately); ``Layout.from_dict(d, logo=img)`` is its inverse and
  rejects unknown keys and bad values with ``ValueError``. Missing keys take
  the defaults.
- ``default_layout(width)``: every field, band, photo and QR, no logo.
- ``dither(img, max_w, max_h)``: any image -> mode "1", scaled to fit the box
  (aspect kept), transparent parts white, Floyd-Steinberg dithered; used for
  logos and photos at render time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageOps

FIELDS = ("name", "company", "host", "date", "meeting_room", "valid_until")
MIN_WIDTH, MAX_WIDTH = 256, 2048
_KEYS = ("width", "fields", "band", "show_photo", "qr")


def _check_width(width: Any) -> int:
    if isinstance(width, bool) or not isinstance(width, int):
        raise ValueError(f"layout width must be an integer number of dots, not {width!r}")
    if not MIN_WIDTH <= width <= MAX_WIDTH or width % 8:
        raise ValueError(
            f"layout width must be a multiple of 8 from {MIN_WIDTH} to "
            f"{MAX_WIDTH} dots (576 = 80 mm, 384 = 58 mm), not {width}"
        )
    return width


def _check_fields(fields: Any) -> tuple[str, ...]:
    if isinstance(fields, (str, bytes)) or not isinstance(fields, (list, tuple)):
        raise ValueError(f"layout fields must be a list of field names, not {fields!r}")
    out = tuple(fields)
    for name in out:
        if name not in FIELDS:
            raise ValueError(f"unknown badge field {name!r} (use {', '.join(FIELDS)})")
    if len(set(out)) != len(out):
        raise ValueError(f"badge fields repeat: {list(out)}")
    return out


@dataclass
class Layout:
    width: int = 576
    fields: tuple[str, ...] = FIELDS
    band: bool = True  # black band with the visitor type
    logo: Image.Image | None = field(default=None, compare=False, repr=False)
    show_photo: bool = True
    qr: bool = True  # the QR of the visit code

    def __post_init__(self) -> None:
        self.width = _check_width(self.width)
        self.fields = _check_fields(self.fields)
        for name in ("band", "show_photo", "qr"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"layout {name} must be true or false, not {getattr(self, name)!r}"
                )
        if self.logo is not None and not isinstance(self.logo, Image.Image):
            raise ValueError("layout logo must be a PIL image or None")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able settings; the logo is not included (store it apart)."""
        return {
            "width": self.width,
            "fields": list(self.fields),
            "band": self.band,
            "show_photo": self.show_photo,
            "qr": self.qr,
        }

    @classmethod
    def from_dict(cls, d: Any, logo: Image.Image | None = None) -> Layout:
        """Inverse of ``to_dict``; ``ValueError`` on unknown keys or bad values."""
        if not isinstance(d, dict):
            raise ValueError(f"a layout must be a JSON object, not {type(d).__name__}")
        if unknown := sorted(set(d) - set(_KEYS), key=str):
            raise ValueError(f"unknown layout setting {unknown[0]!r} (use {', '.join(_KEYS)})")
        return cls(**{k: d[k] for k in _KEYS if k in d}, logo=logo)


def default_layout(width: int = 576) -> Layout:
    """The standard badge for ``width`` dots (576 = 80 mm, 384 = 58 mm)."""
    return Layout(width=width)


def dither(img: Image.Image, max_w: int, max_h: int, upscale: float = 4.0) -> Image.Image:
    """Fit ``img`` into ``max_w`` x ``max_h`` (aspect kept, at most ``upscale``
    times enlarged), flatten transparency onto white, Floyd-Steinberg to 1-bit."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        flat.alpha_composite(rgba)
        img = flat
    grey = img.convert("L")
    scale = min(max_w / grey.width, max_h / grey.height, upscale)
    size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
    if size != grey.size:
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    return grey.convert("1", dither=Image.Dither.FLOYDSTEINBERG)


def dither_photo(img: Image.Image, w: int, h: int) -> Image.Image:
    """A portrait photo cropped to fill ``w`` x ``h``, contrast stretched
    (thermal paper has no grey, so detail lives in the mid-tones), dithered."""
    grey = img.convert("RGBA") if img.mode in ("RGBA", "LA", "PA") else img
    if grey.mode == "RGBA":
        flat = Image.new("RGBA", grey.size, (255, 255, 255, 255))
        flat.alpha_composite(grey)
        grey = flat
    grey = ImageOps.fit(grey.convert("L"), (w, h), Image.Resampling.LANCZOS, centering=(0.5, 0.35))
    grey = ImageOps.autocontrast(grey, cutoff=1)
    grey = grey.point(lambda v: min(255, round(v * 0.85 + 40)))  # thermal prints dark: lift
    return grey.convert("1", dither=Image.Dither.FLOYDSTEINBERG)
