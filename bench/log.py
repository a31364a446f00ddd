"""Benchmark: the visitor log with a year of visits.

Run with ``python bench/log.py [--visits 20000] [--runs 30]``. Builds a Lobby in a
temporary directory (SQLite, the real migrations), fills it in bulk with a year of
visits (20,000 by default: ~80 a working day; Chinese and Latin names, 40 hosts, a
kiosk and the desk, some cancelled, walk-ins and groups), signs in as a receptionist
and times whole requests through the app (routing, the search, the template) for
several searches, the API and the CSV export. Prints p50 and p95 in milliseconds per
query (target: a page under a second; the test asserts it once, in
``tests/test_visit_log.py``).
"""

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from server import create_app, upgrade_database  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import Kiosk, User, Visit, VisitGroup, Visitor, utcnow  # noqa: E402
from server.services import people  # noqa: E402

SURNAMES = ["张", "王", "李", "刘", "陈", "Smith", "Müller", "Nguyễn", "García", "Kowalski"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "Ada", "José", "Minh", "Lucía", "Łukasz"]
COMPANIES = [
    "华为技术有限公司",
    "Analytical Engines",
    "Siemens AG",
    "阿里巴巴",
    "Acme 100% Ltd",
    "Tata_Steel",
    "比亚迪",
    "Nokia",
    "腾讯",
    "Volvo",
]


def fill(n: int, hosts: int = 40) -> None:
    """``n`` visits over the last year, newest now, inserted in bulk."""
    users = [
        User(email=f"host{i}@bench.local", name=f"Host {i} 接待{i}", roles="host")
        for i in range(hosts)
    ]
    kiosk = Kiosk(name="Lobby east")
    db.session.add_all(users + [kiosk])
    db.session.flush()
    groups = [
        VisitGroup(name=f"Delegation {i} 代表团", host_id=users[i % hosts].id)
        for i in range(n // 200 + 1)
    ]
    db.session.add_all(groups)
    db.session.flush()
    visitors = [
        {
            "name": SURNAMES[i % 10] + GIVEN[(i // 10) % 10] + ("" if i < 100 else str(i)),
            "company": f"{COMPANIES[i % 10]} {i % 97}",
        }
        for i in range(n)
    ]
    ids = db.session.execute(insert(Visitor).returning(Visitor.id), visitors).scalars().all()
    start, step = utcnow(), timedelta(days=365) / n
    rows = []
    for i, visitor_id in enumerate(ids):
        when = start - step * i
        status = "cancelled" if i % 40 == 0 else "expected" if i % 11 == 0 else "checked_out"
        arrived = status == "checked_out"
        rows.append(
            {
                "visitor_id": visitor_id,
                "host_id": users[i % hosts].id,
                "expected_at": when,
                "status": status,
                "code": f"bench-{i}",
                "created_at": when - timedelta(days=2),
                "checked_in_at": when + timedelta(minutes=5) if arrived else None,
                "checked_out_at": when + timedelta(hours=2) if arrived else None,
                "kiosk_id": kiosk.id if arrived and i % 2 else None,
                "walk_in": i % 25 == 0,
                "group_id": groups[i // 200].id if i % 50 < 4 else None,
                "cancel_reason": "Flight cancelled 航班取消" if status == "cancelled" else "",
                "purpose": "Meeting",
                "meeting_room": "",
                "kind": "visitor",
                "requirements": "",
                "language": "",
                "admit_reason": "",
            }
        )
    db.session.execute(insert(Visit), rows)
    db.session.commit()


def timed(client, url: str, runs: int, headers=None) -> tuple[float, float, int]:
    client.get(url, headers=headers)  # warm
    times = []
    size = 0
    for _ in range(runs):
        began = time.perf_counter()
        resp = client.get(url, headers=headers)
        size = len(resp.get_data())  # inside the timing: the CSV is streamed
        times.append((time.perf_counter() - began) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--visits", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATA_DIR": tmp,
                "PRINT_WORKER": False,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/lobby.db",
                "WTF_CSRF_ENABLED": False,
                "MESSAGE_QUEUE": None,
            }
        )
        upgrade_database(app)
        with app.app_context():
            people.create_user("desk@bench.local", "Desk", ["receptionist"], "bench-pw")
            token = people.create_token("desk@bench.local")
            began = time.perf_counter()
            fill(args.visits)
            print(f"filled {args.visits:,} visits in {time.perf_counter() - began:.1f} s")
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"email": "desk@bench.local", "password": "bench-pw"})
        month = (utcnow() - timedelta(days=30)).date().isoformat()
        week_from = (utcnow() - timedelta(days=100)).date()
        week = f"from={week_from}&to={week_from + timedelta(days=6)}"
        queries = [
            ("page 1, no filter", "/reception/log"),
            ("Chinese name", "/reception/log?q=%E5%BC%A0%E4%BC%9F"),
            ("company substring", "/reception/log?q=siemens+ag+4"),
            ("host name", "/reception/log?host=Host+17"),
            ("one week", f"/reception/log?{week}"),
            ("cancelled", "/reception/log?status=cancelled"),
            ("walk-ins, page 5", "/reception/log?status=walk_in&page=5"),
            (
                "q+status+range p2",
                f"/reception/log?q=analytical&status=checked_out&from={month}&page=2",
            ),
            ("deep page 300", "/reception/log?page=300"),
            ("htmx results only", "/reception/log?q=nokia"),
            ("API q, page 3", "/api/v1/visits?q=%E5%8D%8E%E4%B8%BA&page=3"),
            ("CSV one month", f"/reception/log.csv?from={month}"),
            ("CSV the whole year", "/reception/log.csv"),
        ]
        print(f"{'query':<22} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>10}")
        for name, url in queries:
            headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api") else None
            if name.startswith("htmx"):
                headers = {"HX-Request": "true"}
            runs = max(3, args.runs // 5) if "year" in name else args.runs
            p50, p95, size = timed(client, url, runs, headers)
            print(f"{name:<22} {p50:8.1f} {p95:8.1f} {size:10,}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
