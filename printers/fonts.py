"""Fonts for badge rendering, shipped as pinned PyPI packages (no system fonts).

Contract:
- ``font_path(cjk)`` is the path of Noto Sans SC (``cjk=True``) or of the
  Latin fallback Noto Sans (``cjk=False``); ``FontMissing`` if not installed.
- ``font(size, cjk=True)`` returns a cached ``FreeTypeFont``; loading the
  16 MB CJK font takes ~50 ms, so it must happen once per size, not per badge.
- ``has_cjk_glyph(ch)`` tells whether Noto Sans SC can draw ``ch``.
- ``text_width`` / ``draw_text`` lay out a string with Noto Sans SC and fall
  back, run by run, to Noto Sans for characters the CJK font lacks (Ł, ...),
  keeping one baseline so mixed runs line up.
"""

from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from pathlib import Path

from PIL import ImageDraw, ImageFont


class FontMissing(RuntimeError):
    """A font package is not installed."""


@cache
def font_path(cjk: bool = True) -> Path:
    """Path of Noto Sans SC (cjk) or Noto Sans (Latin fallback), asked of each font
    package's own API (``pylopdf_fonts_zh_cn.sans_path()``, ``fontpkg.path``), so a
    package that renames or moves its files keeps working."""
    try:
        if cjk:
            import pylopdf_fonts_zh_cn

            path = Path(pylopdf_fonts_zh_cn.sans_path())
        else:
            import fontpkg

            path = Path(fontpkg.path("Noto Sans", weight=400, style="normal"))
    except ImportError as exc:  # pragma: no cover - dependency is pinned
        raise FontMissing(str(exc)) from exc
    except LookupError as exc:  # fontpkg: family, weight or style not installed
        raise FontMissing(str(exc)) from exc
    if not path.is_file():  # pragma: no cover
        raise FontMissing(f"font file not found: {path}")
    return path


@lru_cache(maxsize=128)
def font(size: int, cjk: bool = True) -> ImageFont.FreeTypeFont:
    """Cached font of ``size`` pixels (em size).

    BASIC layout (plain cmap lookup, no HarfBuzz) on purpose: with Raqm,
    Noto Sans SC's ccmp decomposes e.g. ễ into e + marks and stacks the tilde
    onto the circumflex, while its precomposed glyph is fine. It also makes
    the glyph probe below agree with drawing by construction, and is faster.
    """
    return ImageFont.truetype(str(font_path(cjk)), int(size), layout_engine=ImageFont.Layout.BASIC)


# A code point unassigned in Unicode: every font renders it as .notdef, so its
# mask is the reference for "no glyph" (Noto's .notdef is a visible box).
_NOTDEF_PROBE = "\u0378"
_PROBE_SIZE = 32


@lru_cache(maxsize=1)
def _notdef_signature() -> tuple[tuple[int, int], bytes]:
    return _mask_signature(_NOTDEF_PROBE)


def _mask_signature(ch: str) -> tuple[tuple[int, int], bytes]:

    mask = font(_PROBE_SIZE).getmask(ch, mode="1")
    return mask.size, bytes(mask)


# Punctuation that Noto Sans SC draws full-width (CJK convention), which
# looks gappy in Latin text such as "Mon 3 Jun · 09:30": use Noto Sans.
_LATIN_PUNCTUATION = frozenset("·‘’“”–—…")


@lru_cache(maxsize=4096)
def has_cjk_glyph(ch: str) -> bool:
    """True if ``ch`` is drawn with Noto Sans SC: it has a real glyph there
    (not .notdef) and is not Latin punctuation it would set full-width."""
    if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
        return True  # invisible: no ink either way, keep it in the main run
    if ch in _LATIN_PUNCTUATION:
        return False
    return _mask_signature(ch) != _notdef_signature()


def split_runs(text: str) -> list[tuple[bool, str]]:
    """Split ``text`` (NFC-normalised) into ``(cjk, run)`` pieces.

    Combining marks stay with the preceding character so a base letter and
    its accents are always shaped by the same font.
    """
    runs: list[tuple[bool, str]] = []
    for ch in unicodedata.normalize("NFC", text):
        if runs and unicodedata.combining(ch):
            cjk = runs[-1][0]
        else:
            cjk = has_cjk_glyph(ch)
        if runs and runs[-1][0] == cjk:
            runs[-1] = (cjk, runs[-1][1] + ch)
        else:
            runs.append((cjk, ch))
    return runs


def line_metrics(size: int) -> tuple[int, int]:
    """(ascent, descent) of a line at ``size``; the CJK font's are the larger."""
    a1, d1 = font(size).getmetrics()
    a2, d2 = font(size, cjk=False).getmetrics()
    return max(a1, a2), max(d1, d2)


def text_width(text: str, size: int, stroke: int = 0) -> int:
    """Advance width in pixels of ``text`` at ``size`` with per-run fallback."""
    total = sum(font(size, cjk).getlength(run) for cjk, run in split_runs(text))
    return int(round(total)) + 2 * stroke


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int,
    fill: int = 0,
    stroke: int = 0,
) -> int:
    """Draw ``text`` with its line box's top-left at ``xy``; return the width.

    The line box is ``line_metrics(size)`` tall, so callers can stack lines
    without ink overlapping or being clipped.
    """
    x, y = xy
    x += stroke
    baseline = y + line_metrics(size)[0]
    for cjk, run in split_runs(text):
        f = font(size, cjk)
        draw.text(
            (x, baseline),
            run,
            font=f,
            fill=fill,
            anchor="ls",
            stroke_width=stroke,
            stroke_fill=fill,
        )
        x += f.getlength(run)
    return int(round(x - xy[0])) + stroke
