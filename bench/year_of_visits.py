"""A year of Lobby data in a data dir, for trying the retention purge (issue 13) and
for reports (issue 15).

    .venv/bin/python bench/year_of_visits.py --data-dir /tmp/year [--visits 20000]
        [--days 365] [--photos 0.3] [--seed 1]

Builds the schema with the real migrations (SQLite in the data dir, or
``LOBBY_DATABASE_URL``), then inserts in bulk (Core ``INSERT`` of a few thousand rows
at a time): 40 hosts, 2 kiosks, a published site rules version; ``--visits`` visits
spread evenly over the last ``--days`` days (each with its own visitor: Chinese and
Latin names, company, email, phone); most checked in and out, some cancelled or
no-shows, walk-ins and groups; a photo for ``--photos`` of those who came (a 640 px
JPEG, ~33 KB, with noise so it does not compress away), a drawn signature for every
fifth, tea for every third, a few desk requests and reprints, and the event log
(booked, arrived, left) with each event's real time. For the reports (issue 15):
hosts in six departments, the host's "on my way" 1 to ~40 minutes after each arrival,
a guided tour for every tenth, and a hospitality request a day (approved, 3 to 5
stars, with expenses, some rejected, and a few approved budget increases). Prints
progress and, at the end, the counts and the database's size.

Then, on a *copy* of the data dir: ``LOBBY_DATA_DIR=copy lobby purge --dry-run`` and
``lobby purge`` (bench/README.md has the figures).
"""

import argparse
import io
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image, ImageDraw, ImageFilter  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from server import create_app, upgrade_database  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models import (  # noqa: E402
    BudgetIncrease,
    DeskRequest,
    Event,
    Expense,
    HospitalityRequest,
    Kiosk,
    PrintJob,
    Signature,
    SiteRules,
    Standard,
    Task,
    User,
    Visit,
    VisitGroup,
    Visitor,
    VisitPhoto,
    utcnow,
)

SURNAMES = ["张", "王", "李", "刘", "陈", "Smith", "Müller", "Nguyễn", "García", "Kowalski"]
GIVEN = ["伟", "芳", "娜", "敏", "静", "Ada", "José", "Minh", "Lucía", "Łukasz"]
COMPANIES = ["华为技术", "Analytical Engines", "Siemens AG", "阿里巴巴", "Acme Ltd", "比亚迪"]
DEPARTMENTS = [
    "Sales 销售部",
    "R&D 研发部",
    "Purchasing 采购部",
    "Finance 财务部",
    "HR 人事部",
    "Ops",
]
BATCH = 2000


def photo_jpeg(rng: random.Random) -> bytes:
    """A 640x480 JPEG with soft noise (~33 KB), like a kiosk photo after re-encoding."""
    image = Image.effect_noise((640, 480), 20).filter(ImageFilter.GaussianBlur(1)).convert("RGB")
    ImageDraw.Draw(image).ellipse((220, 100, 420, 380), fill=(rng.randrange(256), 180, 150))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def signature_png() -> bytes:
    image = Image.new("LA", (1200, 400), (0, 0))
    ImageDraw.Draw(image).line(
        [(80, 300), (240, 80), (400, 320), (640, 100), (960, 280)], fill=(0, 255), width=8
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def in_batches(table, rows: list[dict], label: str) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start : start + BATCH])
    db.session.commit()
    print(f"  {label}: {len(rows):,}", flush=True)


def fill(visits: int, days: int, photo_share: float, seed: int) -> dict:
    rng = random.Random(seed)
    now = utcnow()
    hosts = [
        User(
            email=f"host{i}@year.local",
            name=f"Host {i} 接待{i}",
            roles="host",
            department=DEPARTMENTS[i % len(DEPARTMENTS)],
        )
        for i in range(40)
    ]
    kiosks = [Kiosk(name="Lobby east"), Kiosk(name="Lobby west")]
    rules = SiteRules(
        version=1, text_en="Rules.", text_zh="规则。", published_at=now - timedelta(days=days + 1)
    )
    db.session.add_all(hosts + kiosks + [rules])
    db.session.flush()
    groups = [
        VisitGroup(name=f"Delegation {i} 代表团", host_id=hosts[i % 40].id)
        for i in range(visits // 200 + 1)
    ]
    db.session.add_all(groups)
    db.session.commit()

    people: list[dict] = []
    for i in range(visits):
        name = SURNAMES[i % 10] + GIVEN[(i // 10) % 10] + str(i)
        people.append(
            {
                "name": name,
                "company": f"{COMPANIES[i % 6]} {i % 97}",
                "title": "Engineer" if i % 3 else "",
                "email": f"visitor{i}@example.com" if i % 4 else "",
                "phone": f"+86 138 {i:08d}" if i % 5 else "",
                "language": "zh" if i % 2 else "en",
            }
        )
    step = timedelta(days=days) / visits
    for i, person in enumerate(people):
        person["created_at"] = now - step * i - timedelta(days=2)
    started = time.perf_counter()
    ids: list[int] = []
    for start in range(0, visits, BATCH):
        ids += (
            db.session.execute(insert(Visitor).returning(Visitor.id), people[start : start + BATCH])
            .scalars()
            .all()
        )
    db.session.commit()
    print(f"  visitors: {len(ids):,}", flush=True)

    visit_rows: list[dict] = []
    came: list[dict] = []
    for i, visitor_id in enumerate(ids):
        when = now - step * i
        status = (
            "cancelled"
            if i % 40 == 0
            else "expected"
            if i % 23 == 0 or when > now - timedelta(hours=2)
            else "checked_out"
        )
        arrived = status == "checked_out"
        visit_rows.append(
            {
                "visitor_id": visitor_id,
                "host_id": hosts[i % 40].id,
                "code": f"year-{i}-{rng.getrandbits(64):x}",
                "expected_at": when,
                "status": status,
                "created_at": when - timedelta(days=2),
                "checked_in_at": when + timedelta(minutes=5) if arrived else None,
                # The host's "on my way": mostly a few minutes, a long tail.
                "acknowledged_at": when
                + timedelta(minutes=5 + min(45.0, rng.lognormvariate(1.6, 0.7)))
                if arrived
                else None,
                "checked_out_at": when + timedelta(hours=2) if arrived else None,
                "kiosk_id": kiosks[i % 2].id if arrived else None,
                "walk_in": i % 25 == 0,
                "group_id": groups[i // 200].id if i % 50 < 4 else None,
                "cancel_reason": "Flight cancelled 航班取消" if status == "cancelled" else "",
                "purpose": f"Supplier review with {people[i]['name']}",
                "requirements": "Projector; vegetarian lunch" if i % 7 == 0 else "",
                "meeting_room": f"Room {i % 12}",
                "kind": "vip" if i % 30 == 0 else "visitor",
                "stars": 4 if i % 30 == 0 else None,
                "language": people[i]["language"],
                "admit_reason": "",
            }
        )
    visit_ids: list[int] = []
    for start in range(0, visits, BATCH):
        visit_ids += (
            db.session.execute(insert(Visit).returning(Visit.id), visit_rows[start : start + BATCH])
            .scalars()
            .all()
        )
    db.session.commit()
    print(
        f"  visits: {len(visit_ids):,} ({time.perf_counter() - started:.1f} s so far)", flush=True
    )
    for row, visit_id in zip(visit_rows, visit_ids, strict=True):
        row["id"] = visit_id
        if row["status"] == "checked_out":
            came.append(row)

    jpeg, png = photo_jpeg(rng), signature_png()
    photos = [
        {"visit_id": r["id"], "jpeg": jpeg, "taken_at": r["checked_in_at"]}
        for r in came
        if rng.random() < photo_share
    ]
    in_batches(VisitPhoto, photos, "photos")
    signatures = [
        {
            "visit_id": r["id"],
            "rules_id": rules.id,
            "version": 1,
            "language": r["language"] or "en",
            "visitor_key": f"name:{r['id']}",
            "image_png": png,
            "signed_at": r["checked_in_at"],
            "kiosk_id": r["kiosk_id"],
        }
        for n, r in enumerate(came)
        if n % 5 == 0
    ]
    in_batches(Signature, signatures, "signatures")
    tea = [
        {
            "visit_id": r["id"],
            "kind": "tea",
            "status": "served",
            "details": {"items": [{"drink": "Green tea", "count": 2}], "note": "no sugar"},
            "created_at": r["checked_in_at"],
            "updated_at": r["checked_in_at"],
        }
        for n, r in enumerate(came)
        if n % 3 == 0
    ]
    in_batches(Task, tea, "tea tasks")
    tours = [
        {
            "visit_id": r["id"],
            "kind": "tour",
            "status": "done" if n % 7 else "cancelled",
            "details": {"title": "Plant tour 工厂参观", "reminded_at": None},
            "starts_at": r["checked_in_at"] + timedelta(minutes=20),
            "started_at": r["checked_in_at"] + timedelta(minutes=20) if n % 7 else None,
            "done_at": r["checked_in_at"] + timedelta(minutes=80) if n % 7 else None,
            "created_at": r["checked_in_at"],
            "updated_at": r["checked_in_at"],
        }
        for n, r in enumerate(came)
        if n % 10 == 0
    ]
    in_batches(Task, tours, "tours")
    money = hospitality(hosts, days, now, rng)
    jobs = [
        {
            "visit_id": r["id"],
            "printer_url": "emulator:///dev/null",
            "status": "done",
            "reason": "check-in" if n % 50 else "Badge lost 证件遗失",
            "reprint": n % 50 == 0,
            "created_at": r["checked_in_at"],
            "finished_at": r["checked_in_at"],
        }
        for n, r in enumerate(came)
    ]
    in_batches(PrintJob, jobs, "badges printed")
    desk = [
        {
            "kind": "turned_away" if n % 2 else "route_walk_in",
            "status": "handled",
            "visit_id": r["id"] if n % 2 else None,
            "details": {"reason": "not_today"}
            if n % 2
            else {"name": "Walk In", "company": "X", "phone": "123456789", "language": "en"},
            "created_at": r["expected_at"],
        }
        for n, r in enumerate(visit_rows)
        if n % 60 == 0
    ]
    in_batches(DeskRequest, desk, "desk requests")
    events = []
    for r, person in zip(visit_rows, people, strict=True):
        who = {
            "visit_id": r["id"],
            "visitor": {"name": person["name"], "company": person["company"]},
        }
        events.append(
            {
                "kind": "visit_updated",
                "payload": {**who, "change": "created"},
                "rooms": ["reception"],
                "created_at": r["created_at"],
            }
        )
        if r["status"] == "checked_out":
            events.append(
                {
                    "kind": "visitor_arrived",
                    "payload": who,
                    "rooms": ["reception", f"host:{r['host_id']}"],
                    "created_at": r["checked_in_at"],
                }
            )
            events.append(
                {
                    "kind": "visitor_left",
                    "payload": who,
                    "rooms": ["reception"],
                    "created_at": r["checked_out_at"],
                }
            )
    events.sort(key=lambda e: e["created_at"])  # seq grows with time, as in real life
    in_batches(Event, events, "events")
    return {
        "visitors": len(ids),
        "visits": len(visit_ids),
        "photos": len(photos),
        "signatures": len(signatures),
        "events": len(events),
        **money,
        "seconds": time.perf_counter() - started,
    }


def hospitality(hosts: list, days: int, now, rng: random.Random) -> dict:
    """A hospitality request a day: approved, 3 to 5 stars, its estimate, expenses
    (every tenth rejected) and now and then an approved budget increase."""
    standards = {s.level: s.id for s in db.session.scalars(select(Standard))}
    requests = []
    for d in range(days):
        level = (3, 3, 4, 4, 5)[d % 5]
        arrives = now - timedelta(days=d, hours=rng.randint(0, 6))
        requests.append(
            {
                "requester_id": hosts[d % 40].id,
                "status": "approved",
                "client_company": f"{COMPANIES[d % 6]} {d % 97}",
                "star_level": level,
                "visitors": [{"name": f"Guest {d}"}],
                "purpose": "Contract talks 合同洽谈",
                "arrives_at": arrives,
                "departs_at": arrives + timedelta(hours=6),
                "attendees": 2 + d % 4,
                "materials": [],
                "plan": {},
                "standard_id": standards[level],
                "estimate_total": level * 400 + rng.randint(0, 20) * 50,
                "created_at": arrives - timedelta(days=7),
                "updated_at": arrives - timedelta(days=5),
                "approved_at": arrives - timedelta(days=5),
            }
        )
    ids = (
        db.session.execute(insert(HospitalityRequest).returning(HospitalityRequest.id), requests)
        .scalars()
        .all()
    )
    db.session.commit()
    receipt = b"%PDF-1.4\n%%EOF\n"
    expenses, increases = [], []
    for n, (rid, req) in enumerate(zip(ids, requests, strict=True)):
        for k, kind in enumerate(("meal", "vehicle", "gift")[: 1 + n % 3]):
            expenses.append(
                {
                    "request_id": rid,
                    "kind": kind,
                    "amount": round(float(req["estimate_total"]) * rng.uniform(0.15, 0.45), 2),
                    "spent_at": req["arrives_at"] + timedelta(hours=2),
                    "receipt": receipt,
                    "receipt_type": "application/pdf",
                    "receipt_name": "receipt.pdf",
                    "status": "rejected" if (n + k) % 10 == 0 else "paid",
                    "created_at": req["arrives_at"] + timedelta(days=1),
                }
            )
        if n % 12 == 0:
            increases.append(
                {
                    "request_id": rid,
                    "amount": 300,
                    "reason": "Extra guests 追加来宾",
                    "status": "approved",
                    "created_at": req["arrives_at"],
                    "decided_at": req["arrives_at"] + timedelta(hours=1),
                }
            )
    in_batches(Expense, expenses, "expenses")
    in_batches(BudgetIncrease, increases, "budget increases")
    return {"requests": len(ids), "expenses": len(expenses)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--visits", type=int, default=20_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--photos", type=float, default=0.3, help="Share of arrivals with a photo.")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    app = create_app({"DATA_DIR": args.data_dir, "PRINT_WORKER": False, "MESSAGE_QUEUE": None})
    upgrade_database(app)
    with app.app_context():
        if db.session.scalar(select(func.count(Visit.id))):
            sys.exit(f"{args.data_dir} already holds visits: give an empty data dir")
        print(f"filling {args.data_dir} with {args.visits:,} visits over {args.days} days")
        done = fill(args.visits, args.days, args.photos, args.seed)
        db.session.remove()
        db.engine.dispose()
    size = sum(p.stat().st_size for p in Path(args.data_dir).glob("lobby.db*"))
    print(
        f"done in {done.pop('seconds'):.1f} s: "
        + ", ".join(f"{k} {v:,}" for k, v in done.items())
        + (f"; database {size / 1e6:.0f} MB" if size else "")
    )


if __name__ == "__main__":
    main()
