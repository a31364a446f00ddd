"""Benchmark: render + ESC/POS-encode 200 badges at 576 dots, with QR codes.

Run with ``python bench/badge.py``. Prints the count and p50/p99 latency in
milliseconds. Font loading happens once, before timing (as in the server,
which keeps the process warm); the first-render cost is printed separately.
"""

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from printers.badge import Badge, render_badge  # noqa: E402
from printers.raster import encode_badge  # noqa: E402

NAMES = ["张伟", "Ada Lovelace", "欧阳娜娜", "Łukasz Nowak", "王小明", "José Müller",
         "李娜", "Nguyễn Thị Minh Khai"]  # alternating Chinese and Latin
N = 200


def one(i: int) -> float:
    start = time.perf_counter()
    badge = Badge(NAMES[i % len(NAMES)], company="Acme Robotics 有限公司", host_name="Grace Hopper",
                  date_text="2024-06-01 09:30", code=f"V-20240601-{i:04d}")
    encode_badge(render_badge(badge, width=576))
    return (time.perf_counter() - start) * 1000


def main() -> None:
    cold = one(0)
    for i in range(len(NAMES)):  # warm the font caches for every size in use
        one(i)
    times = sorted(one(i) for i in range(N))
    p50 = statistics.median(times)
    p99 = times[min(N - 1, round(0.99 * N) - 1)]
    print(f"badges={N} width=576 first={cold:.1f}ms p50={p50:.1f}ms p99={p99:.1f}ms")


if __name__ == "__main__":
    main()
