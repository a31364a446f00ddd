"""Fake camera footage for Chromium: Pillow images written as YUV4MPEG2 (.y4m) files.

Chromium plays such a file as its camera, in a loop, when started with
``fake_camera_args(path)``:

    --use-fake-device-for-media-stream --use-fake-ui-for-media-stream
    --use-file-for-fake-video-capture=PATH

The file is 4:2:0 (``C420jpeg``), progressive, 30 fps, a handful of identical frames
(Chromium loops it, so a still picture stays on camera for as long as the test needs).
Colours are converted with BT.601 in limited ("TV") range, as Chromium reads I420.
"""

from pathlib import Path

import qrcode
from PIL import Image, ImageDraw

FRAMES = 5
FPS = 30

# What face_video() shows, for tests that check a photo of it.
FACE_BACKGROUND = (30, 90, 200)  # blue
FACE_SKIN = (250, 200, 40)  # yellow
FACE_FEATURES = (40, 20, 20)  # eyes and smile


def fake_camera_args(path) -> list[str]:
    """Chromium flags that make ``path`` (.y4m) the only camera, permission granted."""
    return [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={path}",
    ]


def write_y4m(path, image: Image.Image, frames: int = FRAMES, fps: int = FPS) -> Path:
    """Write ``image`` as ``frames`` identical frames of a Y4M (C420jpeg) video."""
    path = Path(path)
    image = image.convert("RGB")
    width, height = image.size
    if width % 2 or height % 2:
        raise ValueError("4:2:0 needs even width and height")
    y, cb, cr = image.convert("YCbCr").split()  # full range (JFIF) ...
    y = y.point(lambda v: 16 + round(v * 219 / 255))  # ... to limited range
    cb, cr = (
        c.resize((width // 2, height // 2), Image.Resampling.BOX).point(
            lambda v: 128 + round((v - 128) * 224 / 255)
        )
        for c in (cb, cr)
    )
    frame = b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
    header = f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii")
    with path.open("wb") as f:
        f.write(header)
        for _ in range(frames):
            f.write(frame)
    return path


def qr_image(text: str, size=(640, 480), qr_px: int = 280) -> Image.Image:
    """A black-on-white QR code of ``text`` (UTF-8) about ``qr_px`` wide, centred on white.

    The default fits inside the centre square qr-scanner decodes (2/3 of the short side)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text.encode("utf-8"))
    qr.make(fit=True)
    matrix = qr.get_matrix()  # rows of booleans, True = dark module
    box = max(2, qr_px // len(matrix))
    code = Image.new("1", (len(matrix), len(matrix)), 1)
    code.putdata([0 if dark else 1 for row in matrix for dark in row])
    code = code.convert("RGB").resize((len(matrix) * box,) * 2, Image.Resampling.NEAREST)
    canvas = Image.new("RGB", size, "white")
    canvas.paste(code, ((size[0] - code.width) // 2, (size[1] - code.height) // 2))
    return canvas


def face_image(size=(1280, 720)) -> Image.Image:
    """A yellow smiley on a blue background (easy to recognise by colour in a photo)."""
    w, h = size
    image = Image.new("RGB", size, FACE_BACKGROUND)
    draw = ImageDraw.Draw(image)
    r = int(min(w, h) * 0.35)
    cx, cy = w // 2, h // 2
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=FACE_SKIN)
    eye = r // 7
    for ex in (cx - r // 3, cx + r // 3):
        ey = cy - r // 4
        draw.ellipse((ex - eye, ey - eye, ex + eye, ey + eye), fill=FACE_FEATURES)
    draw.arc(
        (cx - r // 2, cy - r // 4, cx + r // 2, cy + r // 2),
        20,
        160,
        fill=FACE_FEATURES,
        width=max(4, r // 15),
    )
    return image


def qr_video(path, text: str, size=(640, 480)) -> Path:
    """A fake camera looking at a QR code of ``text``."""
    return write_y4m(path, qr_image(text, size))


def face_video(path, size=(1280, 720)) -> Path:
    """A fake camera looking at face_image() (1280x720: photos must be scaled down)."""
    return write_y4m(path, face_image(size))


if __name__ == "__main__":  # python -m tests.fake_camera OUT.y4m [TEXT]
    import sys

    out = sys.argv[1]
    print(qr_video(out, sys.argv[2]) if len(sys.argv) > 2 else face_video(out))
