"""Uploaded images (logos, visitor photos): read them safely and store a clean copy.

``open_image`` decodes what was uploaded (ValueError, with words a person can act on,
if it is not an image we accept); ``reencode`` scales it down and writes it afresh as
PNG (with transparency) or JPEG, so nothing of the upload but its pixels is kept (no
metadata, no tricks). Each caller keeps its own byte limit and its own words.

Only PNG, JPEG and WebP are ever handed to a decoder (Pillow's ``formats=``): left to
itself Pillow tries every format it knows, and an EPS file runs Ghostscript (a
117-byte upload held a request 55 s). The pixel count is checked from the header,
before anything is decoded, against MAX_PIXELS (far below Pillow's own 89 M bomb
limit: a 657 KB PNG of 13000x13000 took 2.2 GB). A JPEG is decoded straight at a
reduced scale (``draft``) when the caller only keeps a small copy. Measured in
tests/test_hardening_inputs.py: refusing that PNG in 0.04 s raises the peak RSS by
about 1 MB; a 12 MP RGBA PNG photo (the most accepted) by about 100 MB, in 0.9 s.
"""

import io

from PIL import Image

FORMATS = ("PNG", "JPEG", "WEBP")
# 12 megapixels: a phone photo (4000x3000) fits; a logo or a kiosk snapshot is far less.
MAX_PIXELS = 12_000_000


def open_image(
    data: bytes, formats: tuple[str, ...] = FORMATS, max_side: int | None = None
) -> Image.Image:
    """The decoded image (``.format`` says what it was); ValueError if it is not one
    of ``formats`` (a subset of FORMATS) or has more than MAX_PIXELS pixels.
    ``max_side``: the largest side the caller will keep (lets a JPEG decode smaller)."""
    allowed = [f for f in formats if f in FORMATS]
    try:
        image = Image.open(io.BytesIO(data), formats=allowed)
    except Exception as e:  # Pillow raises many kinds for a file that is not an image
        raise ValueError(f"not a {_names(allowed)} image") from e
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        image.close()
        raise ValueError(
            f"{width}x{height} pixels is too large: at most {MAX_PIXELS // 1_000_000} megapixels"
        )
    if max_side and image.format == "JPEG":
        image.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
    try:
        image.load()
    except Exception as e:
        raise ValueError(f"not a readable {_names(allowed)} image") from e
    return image


def _names(formats) -> str:
    names = [{"WEBP": "WebP"}.get(f, f) for f in formats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def reencode(image: Image.Image, max_side: int, fmt: str = "PNG") -> bytes:
    """``image`` fitted within ``max_side`` pixels, as PNG (RGBA) or JPEG (RGB, q85)."""
    mode = "RGBA" if fmt == "PNG" else "RGB"
    if image.mode not in ("RGB", "RGBA", "L", "LA"):  # palette, CMYK...: scaled badly as is
        image = image.convert(mode)
    image.thumbnail((max_side, max_side))  # before converting: fewer pixels to convert
    image = image.convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()
