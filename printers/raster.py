"""ESC/POS encoding of badge images, and the inverse decoder.

Contract:
- ``encode_badge(img, profile=None, max_width=None)`` -> bytes: ESC @, the
  image as ``GS v 0`` raster (python-escpos splits tall images into several
  blocks), two line feeds, feed + cut. An image wider than the profile's
  ``media.width.pixels`` (or ``max_width``) is scaled down to fit, never
  rejected.
- ``profile_width(profile)`` -> printable dots of an escpos profile, or None.
- ``decode_raster(data)`` -> one 1-bit image per job: the ``GS v 0`` blocks
  between two cuts (``GS V``, ``ESC i``, ``ESC m``) stacked top to bottom.
  Every other command is skipped by its length, so a byte inside bitmap data
  is never mistaken for a command. Decoded width is a multiple of 8 dots.
- ``iter_commands(data, start)`` yields ``(start, end)`` of each complete
  command, stopping before an incomplete one; the emulator uses it to parse
  a stream as it arrives.
"""

from __future__ import annotations

from collections.abc import Iterator

from .escpos_import import load as _load_escpos

_load_escpos()  # before escpos: no root logger set-up, no /tmp folder per process
# Re-exported: connection.py takes CAPABILITIES from here, where escpos is loaded quietly.
from escpos.capabilities import CAPABILITIES as CAPABILITIES  # noqa: E402
from escpos.printer import Dummy  # noqa: E402
from PIL import Image  # noqa: E402

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C
# Argument byte counts of fixed-length commands we may meet (ESC x / GS x).
_ESC_ARGS = {
    b"@": 0,
    b"2": 0,
    b"<": 0,
    b"i": 0,
    b"m": 0,
    b"p": 3,
    b"$": 2,
    b"\\": 2,
    b"B": 2,
    b"c": 2,
    b"(": None,
    b"*": None,
    b"D": None,
}
_GS_ARGS = {
    b"V": None,
    b"v": None,
    b"(": None,
    b"8": None,
    b"k": None,
    b"P": 2,
    b"L": 2,
    b"W": 2,
    b"$": 2,
    b"\\": 2,
    b"^": 3,
    b"*": None,
}
_INVERT = bytes(255 - i for i in range(256))  # ESC/POS 1 = ink, PIL "1" 1 = white


def profile_width(profile: str | None) -> int | None:
    """Printable width in dots of escpos profile ``profile`` (None if unknown)."""
    data = CAPABILITIES["profiles"].get(profile or "default", {})
    pixels = data.get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) and pixels > 0 else None


def fit_width(img: Image.Image, width: int) -> Image.Image:
    """Scale a 1-bit image down to ``width`` dots (box filter + threshold:
    crisper text and QR modules than dithering)."""
    height = max(1, round(img.height * width / img.width))
    grey = img.convert("L").resize((width, height), Image.Resampling.BOX)
    return grey.point(lambda v: 255 if v >= 128 else 0, mode="1")


def encode_badge(
    img: Image.Image, profile: str | None = None, max_width: int | None = None
) -> bytes:
    """ESC/POS bytes printing ``img`` then cutting (see module doc)."""
    limits = [w for w in (profile_width(profile), max_width) if w]
    if limits and img.width > min(limits):
        img = fit_width(img, min(limits))
    if profile and profile not in CAPABILITIES["profiles"]:
        raise ValueError(f"unknown escpos profile {profile!r}")
    printer = Dummy(profile=profile)
    # escpos.image() prints a warning for profiles of unknown width, raises
    # for images wider than the profile and crashes on a None width. We have
    # already fitted the image, so tell this instance (not the shared profile
    # class) that the paper is exactly as wide as the image.
    data = dict(printer.profile.profile_data)
    data["media"] = {**data.get("media", {}), "width": {"pixels": img.width}}
    printer.profile.profile_data = data
    printer.hw("INIT")
    printer.image(img, impl="bitImageRaster", center=False)
    printer.print_and_feed(2)
    printer.cut()
    output: bytes = printer.output  # escpos is untyped; Dummy.output is bytes
    return output


def _length(data: bytes | bytearray, i: int) -> int | None:
    """Length of the command starting at ``data[i]``; None if incomplete."""
    n = len(data)
    b = data[i]
    if b not in (ESC, GS, DLE, FS):
        return 1  # text, LF, CR, HT, ...: one byte each

    def need(k: int) -> int | None:
        return k if i + k <= n else None

    def le(at: int, size: int = 2) -> int:
        return int.from_bytes(bytes(data[i + at : i + at + size]), "little")

    def until_nul(at: int) -> int | None:
        end = data.find(b"\x00", i + at)
        return None if end < 0 else end + 1 - i

    if i + 2 > n:
        return None
    cmd = bytes(data[i + 1 : i + 2])
    if b == DLE:  # DLE EOT n / DLE ENQ n; DLE EOT 7|8 a; DLE DC4 fn m t
        if cmd in (b"\x04", b"\x05"):
            if need(3) is None:
                return None
            return need(4 if cmd == b"\x04" and data[i + 2] in (7, 8) else 3)
        return need(5) if cmd == b"\x14" else 2
    if b == FS:
        return need(4) if cmd == b"p" else need(2) if cmd in (b"&", b".") else need(3)
    args = (_ESC_ARGS if b == ESC else _GS_ARGS).get(cmd, 1)
    if args is not None:
        return need(2 + args)
    if b == ESC and cmd == b"D":  # tab stops, NUL-terminated
        return until_nul(2)
    if cmd == b"V":  # GS V m [n]: function B (m >= 65) has a feed argument
        return need(3) and need(4 if data[i + 2] >= 65 else 3)
    if cmd == b"(":  # ESC|GS ( fn pL pH d...
        return need(5) and need(5 + le(3))
    if b == ESC:  # ESC * m nL nH d...: column image, 3 bytes a column in 24-dot mode
        return need(5) and need(5 + le(3) * (3 if data[i + 2] >= 32 else 1))
    if cmd == b"v":  # GS v 0 m xL xH yL yH d...
        return need(8) and need(8 + le(4) * le(6))
    if cmd == b"8":  # GS 8 L p1..p4 fn d...
        return need(7) and need(7 + le(3, 4))
    if cmd == b"k":  # barcode: m <= 6 is NUL-terminated, else a length byte
        if need(4) is None:
            return None
        return until_nul(3) if data[i + 2] <= 6 else need(4 + data[i + 3])
    return need(4) and need(4 + le(2, 1) * le(3, 1) * 8)  # GS * x y d...


def iter_commands(
    data: bytes | bytearray, start: int = 0, partial: bool = False
) -> Iterator[tuple[int, int]]:
    """Yield ``(start, end)`` of each command; an incomplete final command is
    yielded as ``(start, len(data))`` only if ``partial``."""
    i = start
    while i < len(data):
        length = _length(data, i)
        if length is None:
            if partial:
                yield i, len(data)
            return
        yield i, i + length
        i += length


def _raster_block(data: bytes | bytearray, i: int, j: int) -> Image.Image | None:
    m, xbytes, rows = (
        data[i + 3] & 3,
        data[i + 4] | data[i + 5] << 8,
        data[i + 6] | data[i + 7] << 8,
    )
    rows = min(rows, (j - i - 8) // xbytes) if xbytes else 0  # truncated job: keep whole rows
    if rows <= 0:
        return None
    bits = bytes(data[i + 8 : i + 8 + xbytes * rows]).translate(_INVERT)
    img = Image.frombytes("1", (xbytes * 8, rows), bits)
    if m:  # m=1 double width, m=2 double height, m=3 both
        img = img.resize((img.width * (1 + (m & 1)), rows * (1 + (m >> 1))))
    return img


def _stack(blocks: list[Image.Image]) -> Image.Image:
    out = Image.new("1", (max(b.width for b in blocks), sum(b.height for b in blocks)), 1)
    y = 0
    for b in blocks:
        out.paste(b, (0, y))
        y += b.height
    return out


def decode_raster(data: bytes) -> list[Image.Image]:
    """Images printed by an ESC/POS stream, one per cut (see module doc)."""
    images, blocks = [], []
    for i, j in iter_commands(data, partial=True):
        head = data[i : i + 3]
        if head == b"\x1dv0" and j - i >= 8:
            block = _raster_block(data, i, j)
            if block is not None:
                blocks.append(block)
        elif head[:2] in (b"\x1dV", b"\x1bi", b"\x1bm") and blocks:
            images.append(_stack(blocks))
            blocks = []
    if blocks:
        images.append(_stack(blocks))
    return images
