"""Benchmark: render + ESC/POS-encode 200 badges at 576 dots (80 mm) with the
default layout plus a company logo (dithered at render time) and QR codes.

Run with ``python bench/badge.py``. Prints the count and p50/p99 latency in
milliseconds (target: p50 <= 30 ms). Font loading happens once, before timing
(as in the server, which keeps the process warm); the first-render cost is
printed separately. Names alternate Chinese and Latin.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw  # noqa: E402

from printers.badge import Badge, render_badge, visitor_type_for  # noqa: E402
from printers.fonts import font  # noqa: E402
from printers.layout import Layout  # noqa: E402
from printers.raster import encode_badge  # noqa: E402

NAMES = [
    "张伟",
    "Ada Lovelace",
    "欧阳娜娜",
    "Łukasz Nowak",
    "王小明",
    "José Müller",
    "李娜",
    "Nguyễn Thị Minh Khai",
]  # alternating Chinese and Latin
KINDS = [("visitor", None), ("contractor", 2), ("visitor", 4), ("interview", None)]
N = 200


def company_logo() -> Image.Image:
    """A 600x160 RGBA logo with a colour gradient mark and a word mark."""
    logo = Image.new("RGBA", (600, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    for x in range(160):
        draw.line((x, 0, x, 159), fill=(20 + x, 60, 200 - x, 255))
    draw.ellipse((18, 18, 142, 142), outline=(255, 255, 255, 255), width=12)
    draw.text((176, 36), "Acme", font=font(88, cjk=False), fill=(30, 30, 90, 255))
    return logo


LAYOUT = Layout(width=576, logo=company_logo())


def one(i: int) -> float:
    start = time.perf_counter()
    kind, stars = KINDS[i % len(KINDS)]
    badge = Badge(
        NAMES[i % len(NAMES)],
        company="Acme Robotics 有限公司",
        host_name="Grace Hopper",
        date_text="2024-06-01 09:30",
        code=f"V-20240601-{i:04d}",
        visitor_type=visitor_type_for(kind, stars),
        stars=stars,
        meeting_room="3F Everest",
        valid_until="18:00",
    )
    encode_badge(render_badge(badge, width=576, layout=LAYOUT))
    return (time.perf_counter() - start) * 1000


def main() -> None:
    cold = one(0)
    for i in range(len(NAMES) * len(KINDS)):  # warm the font caches for every size in use
        one(i)
    times = sorted(one(i) for i in range(N))
    p50 = statistics.median(times)
    p99 = times[min(N - 1, round(0.99 * N) - 1)]
    print(
        f"badges={N} width=576 layout=default+logo+qr first={cold:.1f}ms "
        f"p50={p50:.1f}ms p99={p99:.1f}ms"
    )


if __name__ == "__main__":
    main()
