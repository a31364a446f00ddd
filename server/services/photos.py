"""Visitor photos from the kiosk camera: optional, for the badge and the host's alert.

A photo is re-encoded (a JPEG of at most 640 px, no metadata) and stored with its
visit; deleting the visit deletes the photo (``ON DELETE CASCADE``), so a photo is
never kept longer than its visit record.
"""

import io

from PIL import Image

from server.extensions import db
from server.models import VisitPhoto, utcnow
from server.services import images
from server.services.errors import ValidationError
from server.services.tx import write

MAX_BYTES = 3 * 1024 * 1024
MAX_SIDE = 640


def normalise(data: bytes) -> bytes:
    """``data`` as a clean JPEG; ValidationError("invalid_photo") if it is not an image."""
    if not data or len(data) > MAX_BYTES:
        raise ValidationError(
            "invalid_photo", "the photo is empty or too large", fields={"photo": "at most 3 MB"}
        )
    try:  # PNG, JPEG or WebP only; too many pixels is refused before decoding
        image = images.open_image(data, max_side=MAX_SIDE)
    except ValueError as e:
        raise ValidationError(
            "invalid_photo", f"the photo is refused: {e}", fields={"photo": str(e)}
        ) from e
    return images.reencode(image, MAX_SIDE, "JPEG")


def save(visit_id: int, data: bytes) -> VisitPhoto:
    jpeg = normalise(data)
    with write() as session:
        photo = session.get(VisitPhoto, visit_id)
        if photo is None:
            photo = VisitPhoto(visit_id=visit_id, jpeg=jpeg)
            session.add(photo)
        else:
            photo.jpeg, photo.taken_at = jpeg, utcnow()
    return photo


def get(visit_id: int) -> bytes | None:
    photo = db.session.get(VisitPhoto, visit_id)
    return photo.jpeg if photo is not None else None


def image(visit_id: int) -> Image.Image | None:
    """The photo as a Pillow image (for the badge), or None."""
    data = get(visit_id)
    return Image.open(io.BytesIO(data)) if data else None
