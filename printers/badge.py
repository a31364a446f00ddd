"""Render a visitor badge as a 1-bit image for a thermal ESC/POS printer.

Contract: ``render_badge(badge, width=576)`` returns a mode "1" image exactly
``width`` dots wide (576 = 80 mm paper, 384 = 58 mm) and as tall as the
content needs (about 1.0-1.3x the width). Top to bottom: a black band with
the visitor type in white, the visitor name as large as fits (shrunk, then
wrapped onto two lines, never clipped), company, "Host: ...", date, and a QR
code (error correction M) that decodes to exactly ``badge.code``, with a
quiet zone of at least four modules. Empty fields are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import qrcode
from PIL import Image, ImageDraw

from .fonts import draw_text, line_metrics, text_width


@dataclass
class Badge:
    visitor_name: str
    company: str = ""
    host_name: str = ""
    date_text: str = ""
    code: str = ""
    visitor_type: str = "VISITOR"


def _balanced_split(text: str, size: int) -> list[str]:
    """Split into two lines of similar width, at a space if there is one."""
    words = text.split()
    if len(words) > 1:
        cands = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    else:  # one long token (e.g. Chinese without spaces): split between characters
        cands = [(text[:i], text[i:]) for i in range(1, len(text))]
    if not cands:
        return [text]
    best = min(cands, key=lambda c: max(text_width(c[0], size), text_width(c[1], size)))
    return list(best)


def _greedy_wrap(text: str, size: int, width: int) -> list[str]:
    """Last resort: break anywhere so that every line fits ``width``."""
    lines, cur = [], ""
    for ch in text:
        if cur and text_width(cur + ch, size) > width:
            lines.append(cur.rstrip())
            cur = ch.lstrip()
        else:
            cur += ch
    return lines + [cur] if cur else lines


def fit_text(text: str, width: int, max_size: int, min_size: int,
             two_line_max: int | None = None, stroke: int = 0) -> tuple[int, list[str]]:
    """Pick (size, lines) so every line fits ``width``: one line from
    ``max_size`` down to ``min_size``, then two balanced lines from
    ``two_line_max`` down to ``min_size * 3 // 4``, then a hard wrap."""
    for size in range(max_size, min_size - 1, -2):
        if text_width(text, size, stroke) <= width:
            return size, [text]
    if two_line_max:
        floor = min_size * 3 // 4
        lines = _balanced_split(text, floor)
        for size in range(two_line_max, floor - 1, -2):
            if all(text_width(line, size, stroke) <= width for line in lines):
                return size, lines
        min_size = floor
    return min_size, _greedy_wrap(text, min_size, width - 2 * stroke)


def _qr_image(code: str, width: int) -> Image.Image:
    """QR of ``code`` with a 4-module quiet zone; modules are whole dots
    (no resampling blur) and the symbol is at least ~180 dots at 576."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(code)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # includes the border
    n = len(matrix)
    modules = n - 8
    box = max(math.ceil(width * 180 / 576 / modules), round(width * 208 / 576 / modules))
    box = max(1, min(box, (width - 16) // n))  # never wider than the paper
    raw = bytes(0 if cell else 255 for row in matrix for cell in row)
    small = Image.frombytes("L", (n, n), raw).convert("1", dither=Image.Dither.NONE)
    return small.resize((n * box, n * box), Image.Resampling.NEAREST)


def render_badge(badge: Badge, width: int = 576) -> Image.Image:
    """Render ``badge`` as a 1-bit image ``width`` dots wide (see module doc)."""
    s = width / 576  # every dimension is designed at 576 dots and scaled
    margin = round(28 * s)
    inner = width - 2 * margin
    band_h = round(76 * s)
    # (kind, payload, size, lines, gap_before)
    items: list[tuple] = []

    name = " ".join(badge.visitor_name.split()) or " "
    stroke = max(1, round(2 * s))  # Noto Sans SC has one weight: embolden it
    size, lines = fit_text(name, inner, round(92 * s), round(48 * s),
                           two_line_max=round(68 * s), stroke=stroke)
    items.append(("text", stroke, size, lines, round(26 * s)))
    if badge.company.strip():
        size, lines = fit_text(badge.company.strip(), inner, round(38 * s),
                               round(26 * s), two_line_max=round(30 * s))
        items.append(("text", 0, size, lines, round(2 * s)))
    items.append(("rule", None, 0, [], round(20 * s)))
    for text, gap in ((f"Host: {badge.host_name.strip()}" if badge.host_name.strip() else "", 16),
                      (badge.date_text.strip(), 2)):
        if text:
            size, lines = fit_text(text, inner, round(30 * s), round(22 * s),
                                   two_line_max=round(26 * s))
            items.append(("text", 0, size, lines, round(gap * s)))
    qr = _qr_image(badge.code, width) if badge.code else None
    if qr is not None:
        # The QR carries its own 4-module quiet zone; only a small extra gap.
        items.append(("qr", qr, 0, [], round(4 * s)))

    def item_height(kind, payload, size, lines):
        if kind == "text":
            asc, desc = line_metrics(size)
            return len(lines) * (asc + desc) - (len(lines) - 1) * round(size * 0.25)
        return payload.height if kind == "qr" else max(2, round(3 * s))

    bottom = round(20 * s) if qr is not None else round(36 * s)
    height = band_h + sum(g + item_height(k, p, sz, ln) for k, p, sz, ln, g in items) + bottom
    if height < round(1.2 * width):
        # Same card length for short and long content; the slack goes above
        # the last block (the QR) so the text stays together at the top.
        kind, payload, size, lines, gap = items[-1]
        items[-1] = (kind, payload, size, lines, gap + round(1.2 * width) - height)
        height = round(1.2 * width)
    img = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(img)

    draw.rectangle((0, 0, width - 1, band_h - 1), fill=0)
    vt = (badge.visitor_type or "VISITOR").upper()
    # Visitor types are short labels; an absurdly long one shows its first line.
    tsize, tlines = fit_text(vt, inner, round(44 * s), round(20 * s))
    asc, desc = line_metrics(tsize)
    draw_text(draw, ((width - text_width(tlines[0], tsize)) / 2, (band_h - asc - desc) / 2),
              tlines[0], tsize, fill=1)

    y = band_h
    for kind, payload, size, lines, gap in items:
        y += gap
        if kind == "text":
            asc, desc = line_metrics(size)
            step = asc + desc - round(size * 0.25)  # metrics are loose; tighten leading
            for i, line in enumerate(lines):
                x = (width - text_width(line, size, payload)) / 2
                draw_text(draw, (x, y + i * step), line, size, stroke=payload)
        elif kind == "rule":
            draw.rectangle((margin, y, width - margin - 1, y + max(2, round(3 * s)) - 1), fill=0)
        else:
            img.paste(payload, ((width - payload.width) // 2, y))
        y += item_height(kind, payload, size, lines)
    return img
