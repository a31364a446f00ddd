"""Uploaded images (logos, visitor photos): read them safely and store a clean copy.

``open_image`` decodes what was uploaded (ValueError if it is not an image Pillow can
read); ``reencode`` scales it down and writes it afresh as PNG (with transparency)
or JPEG, so nothing of the upload but its pixels is kept (no metadata, no tricks).
Each caller keeps its own limits and its own words for what is wrong.
"""

import io

from PIL import Image


def open_image(data: bytes) -> Image.Image:
    """The decoded image (``.format`` says what it was); ValueError if unreadable."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as e:  # Pillow raises many kinds for a file that is not an image
        raise ValueError("not an image") from e
    return image


def reencode(image: Image.Image, max_side: int, fmt: str = "PNG") -> bytes:
    """``image`` fitted within ``max_side`` pixels, as PNG (RGBA) or JPEG (RGB, q85)."""
    image = image.convert("RGBA" if fmt == "PNG" else "RGB")
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()
