"""How fast /reports and the report exports answer over a year of data (issue 15 item 7:
the page under a second with 20,000 visits).

    .venv/bin/python bench/reports.py [--data-dir /tmp/lobby-year] [--visits 20000]
        [--runs 5]

Fills the data dir with ``bench/year_of_visits.py`` (no photos) unless it already
holds visits, then signs in as an admin through the real /login form and times, in
this process with Flask's test client (no network), ``GET /reports`` for the last 365
days and each report's CSV and XLSX from ``/api/v1/reports/<report>.<ext>`` for the
same range: p50 and p99 of ``--runs`` runs each (the first run is a warm-up and is
not counted), wall clock and this process's CPU time (SQLite runs in the process, so
on a busy machine the CPU time is the cost and the wall clock the wait). Prints one
line per URL with its size.

``--screenshot PATH`` instead serves the same data over HTTP and saves Chromium's view
of /reports for the last 90 days (the README's docs/screenshots/reports.png).
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from server import create_app, upgrade_database  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import User, Visit  # noqa: E402
from server.policy import reports  # noqa: E402
from server.services import people  # noqa: E402

PASSWORD = "bench-password-123"
EMAIL = "bench-admin@example.com"
DESK = "bench-desk@example.com"  # the screenshot's receptionist (a shorter navigation)


def p99(values: list[float]) -> float:
    return reports.percentile(values, 99)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--visits", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--screenshot", type=Path, default=None)
    ap.add_argument("--page-only", action="store_true", help="time /reports alone")
    args = ap.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="lobby-reports-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "DATA_DIR": data_dir,
        "PRINT_WORKER": False,
        "MESSAGE_QUEUE": None,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }
    app = create_app(config)
    upgrade_database(app)
    with app.app_context():
        have = db.session.scalar(select(func.count(Visit.id)))
        db.session.remove()
    if not have:
        print(f"generating {args.visits:,} visits in {data_dir} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "year_of_visits.py"),
                "--data-dir",
                str(data_dir),
                "--visits",
                str(args.visits),
                "--photos",
                "0",
            ],
            check=True,
        )
    with app.app_context():
        have = db.session.scalar(select(func.count(Visit.id)))
        if not db.session.scalar(select(func.count(User.id)).where(User.email == EMAIL)):
            people.create_user(EMAIL, "Bench Admin", ["admin"], PASSWORD)
        if not db.session.scalar(select(func.count(User.id)).where(User.email == DESK)):
            people.create_user(DESK, "Rita Desk 前台", ["receptionist"], PASSWORD)
        token = people.create_token(EMAIL)
        end = reports.today()
        start = end - timedelta(days=364)
        db.session.remove()
    if args.screenshot:
        screenshot(app, args.screenshot, end - timedelta(days=89), end)
        return
    print(f"{have:,} visits in {data_dir}; range {start} to {end}; {args.runs} runs each")
    client = app.test_client()
    resp = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert resp.status_code == 302, resp.status_code
    rng = f"from={start.isoformat()}&to={end.isoformat()}"
    urls = [(f"/reports?{rng}", {})]
    for name in () if args.page_only else reports.NAMES:
        for ext in ("csv", "xlsx"):
            urls.append(
                (f"/api/v1/reports/{name}.{ext}?{rng}", {"Authorization": f"Bearer {token}"})
            )
    for url, headers in urls:
        times, cpu, size = [], [], 0
        for n in range(args.runs + 1):
            t0, c0 = time.perf_counter(), time.process_time()
            resp = client.get(url, headers=headers)
            body = resp.get_data()
            elapsed = time.perf_counter() - t0
            assert resp.status_code == 200, (url, resp.status_code, body[:200])
            size = len(body)
            if n:  # the first is a warm-up
                times.append(elapsed)
                cpu.append(time.process_time() - c0)
        print(
            f"{url.split('?')[0]:32} p50 {statistics.median(times) * 1000:7.0f} ms"
            f"  p99 {p99(times) * 1000:7.0f} ms  (CPU p50 {statistics.median(cpu) * 1000:5.0f} ms)"
            f"  {size / 1024:8.0f} KB",
            flush=True,
        )


def screenshot(app, out: Path, start, end) -> None:
    import socket
    import threading

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(60000)
            page.goto(f"http://127.0.0.1:{port}/login")
            page.fill("input[name=email]", DESK)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(f"http://127.0.0.1:{port}/reports?from={start}&to={end}")
            page.locator("#chart-spend").wait_for()
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    finally:
        server.shutdown()
    print(f"saved {out}")


if __name__ == "__main__":
    main()
