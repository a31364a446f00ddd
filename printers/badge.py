"""Render a visitor badge as a 1-bit image for a thermal ESC/POS printer.

Contract: ``render_badge(badge, width=576)`` returns a mode "1" image exactly
``width`` dots wide (576 = 80 mm paper, 384 = 58 mm) and as tall as the
content needs (about 1.0-1.3x the width). Top to bottom: a black band with
the visitor type in white, the visitor name as large as fits (shrunk, then
wrapped onto two lines, never clipped), company, "Host: ...", date, and a QR
code (error correction M) that decodes to exactly ``badge.code``, with a
quiet zone of at least four modules. Empty fields are left out.

``render_badge(badge, width, layout=Layout(...))`` makes the badge from data
(see ``printers.layout``): an optional dithered logo at the top, the band
(VIP: framed), the visitor photo beside the name (above it on 58 mm), only
the chosen fields in the chosen order, and the QR. Without a layout the
default layout is used, which is the look above; meeting room and "valid
until" appear when set. ``visitor_type_for(kind, stars, language)`` gives the
band text, English and Chinese, the visitor's language first ("VISITOR 访客",
"访客 VISITOR", "VIP 贵宾").

``badge.language`` ("en", the default, or "zh") is the language the visitor chose at
the kiosk: the labels ("Host: " / "接待人：", "Room: " / "会议室：", "Valid until " /
"有效期至 ") and the order of a bilingual band follow it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import qrcode
from PIL import Image, ImageDraw

from .fonts import draw_text, line_metrics, text_width
from .layout import Layout, default_layout, dither, dither_photo

# Paints one block of the badge: ``paint(img, draw, y)``. Spelled with ``...`` because
# the painters bind loop values as defaulted parameters (``lambda img, draw, y, x=x:``),
# which a three-parameter Callable type cannot take.
Paint = Callable[..., None]


@dataclass
class Badge:
    visitor_name: str
    company: str = ""
    host_name: str = ""
    date_text: str = ""
    code: str = ""
    visitor_type: str = "VISITOR"
    meeting_room: str = ""
    valid_until: str = ""
    photo: Image.Image | None = field(default=None, repr=False)
    stars: int | None = None
    language: str = "en"  # "en" or "zh": labels and the band's first language


VISITOR_TYPES = {
    "VISITOR": "访客",
    "CONTRACTOR": "承包商",
    "INTERVIEW": "面试",
    "DELIVERY": "送货",
    "MEDIA": "媒体",
    "GOVERNMENT": "政府",
}
VIP_LABEL = "VIP 贵宾"
_CHINESE = {**VISITOR_TYPES, "VIP": "贵宾"}


def visitor_type_for(kind: str, stars: int | None = None, language: str = "en") -> str:
    """Band text for a visit: VIP for 4 or 5 stars, else the kind; in English and
    Chinese, the visitor's ``language`` first ("CONTRACTOR 承包商", "承包商 CONTRACTOR").
    Unknown kinds are visitors. A band text given back ("访客 VISITOR") is read again."""
    words = (kind or "").strip().upper().split()
    if (stars is not None and stars >= 4) or "VIP" in words or "贵宾" in words:
        word = "VIP"
    else:
        english = {zh: en for en, zh in VISITOR_TYPES.items()}
        known = (w if w in VISITOR_TYPES else english.get(w) for w in words)
        word = next((w for w in known if w), "VISITOR")
    return f"{_CHINESE[word]} {word}" if language == "zh" else f"{word} {_CHINESE[word]}"


def _band_text(badge: Badge) -> str:
    """The band: a bilingual visitor type in the badge's language order; any other
    text (a site's own type, say "SPEAKER") as given, upper-cased."""
    if _is_vip(badge):
        return visitor_type_for("VIP", badge.stars, badge.language)
    words = (badge.visitor_type or "VISITOR").strip().upper().split()
    pair = next((en for en, zh in VISITOR_TYPES.items() if sorted(words) == sorted([en, zh])), None)
    if pair:
        return visitor_type_for(pair, None, badge.language)
    return " ".join(words) or "VISITOR"


def _is_vip(badge: Badge) -> bool:
    words = (badge.visitor_type or "").strip().upper().split()
    return (badge.stars is not None and badge.stars >= 4) or "VIP" in words or "贵宾" in words


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
    """Last resort: fill lines word by word; a word wider than ``width`` (or
    text without spaces, e.g. Chinese) breaks between characters."""
    lines, cur = [], ""
    for word in text.split(" "):
        trial = f"{cur} {word}" if cur else word
        if text_width(trial, size) <= width:
            cur = trial
            continue
        if cur and text_width(word, size) <= width:
            lines.append(cur)
            cur = word
            continue
        for ch in f" {word}" if cur else word:  # too long: break inside it
            if cur and text_width(cur + ch, size) > width:
                lines.append(cur.rstrip())
                cur = ch.lstrip()
            else:
                cur += ch
    return lines + [cur] if cur else lines


def fit_text(
    text: str,
    width: int,
    max_size: int,
    min_size: int,
    two_line_max: int | None = None,
    stroke: int = 0,
) -> tuple[int, list[str]]:
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


_IDENTITY = ("name", "company")
_LABELS = {
    "en": {"host": "Host: {}", "meeting_room": "Room: {}", "valid_until": "Valid until {}"},
    "zh": {"host": "接待人：{}", "meeting_room": "会议室：{}", "valid_until": "有效期至 {}"},
}


def _field_text(badge: Badge, name: str) -> str:
    value = {
        "name": badge.visitor_name,
        "company": badge.company,
        "host": badge.host_name,
        "date": badge.date_text,
        "meeting_room": badge.meeting_room,
        "valid_until": badge.valid_until,
    }[name]
    value = " ".join((value or "").split())
    if not value:
        return ""
    labels = _LABELS.get(badge.language, _LABELS["en"])
    return labels.get(name, "{}").format(value)


def _text_height(size: int, lines: list[str]) -> int:
    asc, desc = line_metrics(size)
    return len(lines) * (asc + desc) - (len(lines) - 1) * round(size * 0.25)


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    x0: int,
    w: int,
    y: int,
    size: int,
    lines: list[str],
    stroke: int,
    align: str = "center",
) -> None:
    asc, desc = line_metrics(size)
    step = asc + desc - round(size * 0.25)  # metrics are loose; tighten leading
    for i, line in enumerate(lines):
        x = x0 + ((w - text_width(line, size, stroke)) / 2 if align == "center" else 0)
        draw_text(draw, (x, y + i * step), line, size, stroke=stroke)


def render_badge(
    badge: Badge, width: int | None = None, layout: Layout | None = None
) -> Image.Image:
    """Render ``badge`` as a 1-bit image ``width`` dots wide (see module doc).

    ``width`` defaults to ``layout.width`` (576 without a layout); the layout's
    dimensions scale to the paper, so an explicit ``width`` always wins.
    """
    if width is None:
        width = layout.width if layout is not None else 576
    if layout is None:
        layout = default_layout(576)
    s = width / 576  # every dimension is designed at 576 dots and scaled
    margin = round(28 * s)
    inner = width - 2 * margin
    stroke = max(1, round(2 * s))  # Noto Sans SC has one weight: embolden it
    # Blocks top to bottom: (gap_before, height, paint(img, draw, y)).
    blocks: list[list[Any]] = []

    def add(gap: int, height: int, paint: Paint) -> None:
        blocks.append([gap, height, paint])

    if layout.logo is not None:
        logo = dither(layout.logo, inner, round(96 * s))
        pad = round(20 * s)
        add(
            pad,
            logo.height + (pad if not layout.band else round(16 * s)),
            lambda img, draw, y, logo=logo: img.paste(logo, ((width - logo.width) // 2, y)),
        )

    band_h = round(76 * s) if layout.band else 0
    if layout.band:
        vt, vip = _band_text(badge), _is_vip(badge)

        def paint_band(
            img: Image.Image, draw: ImageDraw.ImageDraw, y: int, vt: str = vt, vip: bool = vip
        ) -> None:
            draw.rectangle((0, y, width - 1, y + band_h - 1), fill=0)
            room = inner
            if vip:  # a white frame inside the band: the VIP band reads as special
                inset, line = round(8 * s), max(2, round(3 * s))
                for k in range(line):
                    draw.rectangle(
                        (
                            inset + k,
                            y + inset + k,
                            width - 1 - inset - k,
                            y + band_h - 1 - inset - k,
                        ),
                        outline=1,
                    )
                room = width - 2 * (inset + line + round(10 * s))
            # Visitor types are short labels; an absurdly long one shows its first line.
            tsize, tlines = fit_text(vt, room, round(44 * s), round(20 * s))
            asc, desc = line_metrics(tsize)
            draw_text(
                draw,
                ((width - text_width(tlines[0], tsize)) / 2, y + (band_h - asc - desc) / 2),
                tlines[0],
                tsize,
                fill=1,
            )

        add(0, band_h, paint_band)

    photo_on = badge.photo is not None and layout.show_photo
    beside = photo_on and width >= 480  # 80 mm: photo left of the name; 58 mm: above it
    if badge.photo is not None and layout.show_photo:  # photo_on, spelled out for mypy
        pw = round(inner / 3) if beside else round(width * 0.36)
        photo = dither_photo(badge.photo, pw, round(pw * 4 / 3))
        frame = max(2, round(3 * s))

        def paint_photo(
            img: Image.Image, draw: ImageDraw.ImageDraw, y: int, x: int, photo: Image.Image = photo
        ) -> None:
            img.paste(photo, (x, y))
            for k in range(frame):
                draw.rectangle(
                    (x - k - 1, y - k - 1, x + photo.width + k, y + photo.height + k), outline=0
                )

    fields = [(name, _field_text(badge, name)) for name in layout.fields]
    if "name" in layout.fields and not fields[layout.fields.index("name")][1]:
        fields[layout.fields.index("name")] = ("name", " ")  # keep the name's place
    fields = [(n, t) for n, t in fields if t]
    first_gap = round(26 * s) if (layout.band or layout.logo is not None) else round(32 * s)
    photo_done = not photo_on
    prev = None
    i = 0
    while i < len(fields):
        name, text = fields[i]
        if name in _IDENTITY:
            group = [fields[i]]
            while i + 1 < len(fields) and fields[i + 1][0] in _IDENTITY:
                i += 1
                group.append(fields[i])
            gap = first_gap if prev is None else round(16 * s)
            col_x, col_w = margin, inner
            if not photo_done and not beside:  # 58 mm: the photo centred above the name
                x = (width - photo.width) // 2
                add(
                    gap + frame,
                    photo.height + frame,
                    lambda img, draw, y, x=x: paint_photo(img, draw, y, x),
                )
                gap, photo_done = round(18 * s), True
            row = not photo_done and beside
            if row:
                col_x = margin + photo.width + round(22 * s)
                col_w = width - margin - col_x
                if any(
                    f == "name"
                    and len(
                        fit_text(
                            t,
                            col_w,
                            round(92 * s),
                            round(48 * s),
                            two_line_max=round(68 * s),
                            stroke=stroke,
                        )[1]
                    )
                    > 2
                    for f, t in group
                ):
                    # A name too long for two lines beside the photo: photo above.
                    x = (width - photo.width) // 2
                    add(
                        gap + frame,
                        photo.height + frame,
                        lambda img, draw, y, x=x: paint_photo(img, draw, y, x),
                    )
                    gap, photo_done, row = round(18 * s), True, False
                    col_x, col_w = margin, inner
            texts = []
            for j, (fname, ftext) in enumerate(group):
                if fname == "name":
                    size, lines = fit_text(
                        ftext,
                        col_w,
                        round(92 * s),
                        round(48 * s),
                        two_line_max=round(68 * s),
                        stroke=stroke,
                    )
                    texts.append((round(2 * s) if j else 0, size, lines, stroke))
                else:
                    size, lines = fit_text(
                        ftext, col_w, round(38 * s), round(26 * s), two_line_max=round(30 * s)
                    )
                    texts.append((round(2 * s) if j else 0, size, lines, 0))
            text_h = sum(g + _text_height(sz, ln) for g, sz, ln, _ in texts)
            align = "left" if row else "center"
            if row:
                photo_done = True
                h = max(photo.height + frame, text_h)

                def paint_row(
                    img: Image.Image,
                    draw: ImageDraw.ImageDraw,
                    y: int,
                    texts: list[tuple[int, int, list[str], int]] = texts,
                    h: int = h,
                    text_h: int = text_h,
                    col_x: int = col_x,
                    col_w: int = col_w,
                ) -> None:
                    paint_photo(img, draw, y + (h - photo.height - frame) // 2 + frame, margin)
                    ty = y + (h - text_h) // 2
                    for g, sz, ln, st in texts:
                        ty += g
                        _draw_lines(draw, col_x, col_w, ty, sz, ln, st, "left")
                        ty += _text_height(sz, ln)

                add(gap, h, paint_row)
            else:
                for j, (g, sz, ln, st) in enumerate(texts):

                    def paint_text(
                        img: Image.Image,
                        draw: ImageDraw.ImageDraw,
                        y: int,
                        sz: int = sz,
                        ln: list[str] = ln,
                        st: int = st,
                        col_x: int = col_x,
                        col_w: int = col_w,
                        align: str = align,
                    ) -> None:
                        _draw_lines(draw, col_x, col_w, y, sz, ln, st, align)

                    add(gap if j == 0 else g, _text_height(sz, ln), paint_text)

            # A rule between who the visitor is and the visit (and above the QR).
            rh = max(2, round(3 * s))
            add(
                round(20 * s),
                rh,
                lambda img, draw, y, rh=rh: draw.rectangle(
                    (margin, y, width - margin - 1, y + rh - 1), fill=0
                ),
            )
            prev = "identity"
        else:
            if not photo_done:  # no name or company to stand beside: photo on its own
                x = (width - photo.width) // 2
                add(
                    (first_gap if prev is None else round(16 * s)) + frame,
                    photo.height + frame,
                    lambda img, draw, y, x=x: paint_photo(img, draw, y, x),
                )
                photo_done, prev = True, "photo"
            if prev == "identity":  # just below the rule
                gap = round(16 * s)
            elif prev is None:
                gap = first_gap
            else:
                gap = round(2 * s)
            size, lines = fit_text(
                text, inner, round(30 * s), round(22 * s), two_line_max=round(26 * s)
            )
            add(
                gap,
                _text_height(size, lines),
                lambda img, draw, y, size=size, lines=lines: _draw_lines(
                    draw, margin, inner, y, size, lines, 0
                ),
            )
            prev = "detail"
        i += 1
    if not photo_done:  # no fields at all
        x = (width - photo.width) // 2
        add(
            first_gap + frame,
            photo.height + frame,
            lambda img, draw, y, x=x: paint_photo(img, draw, y, x),
        )

    qr = _qr_image(badge.code, width) if badge.code and layout.qr else None
    if qr is not None:
        # The QR carries its own 4-module quiet zone; only a small extra gap.
        add(
            round(4 * s),
            qr.height,
            lambda img, draw, y: img.paste(qr, ((width - qr.width) // 2, y)),
        )

    bottom = round(20 * s) if qr is not None else round(36 * s)
    height = sum(g + h for g, h, _ in blocks) + bottom
    if height < round(1.2 * width) and blocks:
        # Same card length for short and long content; the slack goes above
        # the last block (the QR) so the text stays together at the top.
        blocks[-1][0] += round(1.2 * width) - height
        height = round(1.2 * width)
    img = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(img)
    y = 0
    for gap, h, paint in blocks:
        y += gap
        paint(img, draw, y)
        y += h
    return img
