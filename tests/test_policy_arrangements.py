"""Issue 14 items 6 and 7 on real databases: meeting rooms and bookings that never
overlap (also when made at the same moment, on SQLite and PostgreSQL), the arrangement
sheet (booking its room, its tour becoming the visits' tour task, the GM and the
department head told, overdue inside the last day and said once), and its PDF read
back with Chinese text."""

import io
import threading
import traceback
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.cli import main
from server.extensions import db
from server.models import Booking, Task
from server.policy import arrangements, rooms
from server.services.errors import Conflict
from tests.conftest import auth, staff_socket
from tests.test_policy_requests import body, office, when  # noqa: F401  (fixture)


def at(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def test_cli_adds_and_lists_rooms(app, capsys, monkeypatch):
    monkeypatch.setenv("LOBBY_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("LOBBY_DATA_DIR", str(app.config["DATA_DIR"]))
    assert main(["room", "add", "Room 3", "--capacity", "8", "--projector"]) == 0
    assert main(["room", "add", "会议室 A", "--capacity", "20"]) == 0
    assert main(["room", "add", "room 3", "--capacity", "4"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["room", "add", "Tiny", "--capacity", "0"]) == 1
    assert main(["room", "list"]) == 0
    out = capsys.readouterr().out
    assert "Room 3" in out and "8 people, projector" in out and "会议室 A" in out


def test_rooms_free_for_a_time_and_head_count_and_bookings_never_overlap(client, tokens):
    small = rooms.add_room("Room 3", 6, projector=True)
    big = rooms.add_room("Hall", 40)
    h = auth(tokens["host"])
    r = client.post(
        f"/api/v1/rooms/{small.id}/bookings",
        json={"starts_at": at(24), "ends_at": at(26)},
        headers=h,
    )
    assert r.status_code == 201 and r.get_json()["room"]["name"] == "Room 3"
    free = client.get(
        "/api/v1/rooms", query_string={"from": at(25), "to": at(27), "people": 4}, headers=h
    ).get_json()["rooms"]
    assert [x["name"] for x in free] == ["Hall"]
    free = client.get(
        "/api/v1/rooms", query_string={"from": at(26), "to": at(27), "people": 4}, headers=h
    ).get_json()["rooms"]
    assert [x["name"] for x in free] == ["Room 3", "Hall"]  # half-open: 26:00 is free
    assert [
        x["name"]
        for x in client.get(
            "/api/v1/rooms", query_string={"from": at(1), "to": at(2), "people": 10}, headers=h
        ).get_json()["rooms"]
    ] == ["Hall"]
    clash = client.post(
        f"/api/v1/rooms/{small.id}/bookings",
        json={"starts_at": at(25.5), "ends_at": at(28)},
        headers=h,
    )
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "room_taken"
    for bad in (
        {"starts_at": at(3), "ends_at": at(2)},
        {"starts_at": "tomorrow"},
        {"starts_at": at(1), "ends_at": at(2), "request": "x"},
    ):
        assert (
            client.post(f"/api/v1/rooms/{big.id}/bookings", json=bad, headers=h).status_code == 422
        )
    assert (
        client.post(
            "/api/v1/rooms/9999/bookings", json={"starts_at": at(1), "ends_at": at(2)}, headers=h
        ).status_code
        == 404
    )
    assert (
        client.get(
            "/api/v1/rooms", query_string={"from": at(1), "to": at(2), "people": "²"}, headers=h
        ).status_code
        == 422
    )


def _race(app, room_id: int, n: int = 20) -> tuple[int, int]:
    barrier = threading.Barrier(n)
    won, taken, errors = [], [], []
    starts, ends = at(48), at(50)

    def book():
        with app.app_context():
            try:
                barrier.wait()
                rooms.book(room_id, starts, ends)
                won.append(1)
            except Conflict:
                taken.append(1)
            except Exception:
                errors.append(traceback.format_exc())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=book) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [], errors[0]
    return len(won), len(taken)


def test_bookings_made_at_the_same_moment_never_overlap_on_sqlite(app):
    room = rooms.add_room("Room 3", 6)
    assert _race(app, room.id) == (1, 19)
    db.session.rollback()
    assert len(db.session.scalars(select(Booking)).all()) == 1


@pytest.mark.postgres
def test_bookings_made_at_the_same_moment_never_overlap_on_postgresql(pg_app):
    room = rooms.add_room("Room 3", 6)
    assert _race(pg_app, room.id) == (1, 19)
    db.session.rollback()
    assert len(db.session.scalars(select(Booking)).all()) == 1


def sheet(**over):
    data = {
        "receiving_staff": "Rita Sales, 李娜",
        "attendees": 3,
        "visitors": 2,
        "background": "华为技术: key account, contract renewal",
        "arrives_at": when(5),
        "departs_at": when(5.3),
        "room": "Room 3",
        "projector": {"borrowed": True, "from": when(5), "to": when(5.1)},
        "tour": [
            {"place": "Assembly line 2", "department": "Production", "at": when(5.1)},
            {"place": "Lab", "department": "R and D", "at": when(5.15)},
        ],
        "welcome_banner": "热烈欢迎华为技术莅临指导",
        "materials": ["flags", "name_plates"],
    }
    data.update(over)
    return data


def test_the_arrangement_sheet_books_the_room_plans_the_tour_and_tells_the_gm(client, office, app):
    rooms.add_room("Room 3", 8, projector=True)
    gus = staff_socket(app, "gus@example.com")
    head = staff_socket(app, "grace@example.com")
    rid = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"])).get_json()[
        "id"
    ]
    for who in ("grace", "mark", "fay", "gus"):
        client.post(
            f"/api/v1/requests/{rid}/decision",
            json={"decision": "approve"},
            headers=auth(office[who]),
        )
    gus.get_received(), head.get_received()

    assert (
        client.put(
            f"/api/v1/requests/{rid}/arrangement", json=sheet(), headers=auth(office["linus"])
        ).status_code
        == 404
    )
    r = client.put(
        f"/api/v1/requests/{rid}/arrangement", json=sheet(), headers=auth(office["rita"])
    )
    assert r.status_code == 200, r.get_json()
    got = r.get_json()["arrangement"]
    assert got["room"] == "Room 3" and got["complete"] is True and r.get_json()["overdue"] is False
    for sock in (gus, head):
        filed = [m for m in sock.get_received() if m["name"] == "arrangement_filed"]
        assert [m["args"][0]["request_id"] for m in filed] == [rid]
    tours = db.session.scalars(select(Task).where(Task.kind == "tour")).all()
    assert len(tours) == 2  # one per visit of the request
    assert [s.place for s in tours[0].stops] == ["Assembly line 2", "Lab"]
    assert tours[0].stops[1].department == "R and D" and tours[0].status == "planned"

    # Filing again with another time moves the booking; the old one is released.
    again = client.put(
        f"/api/v1/requests/{rid}/arrangement",
        json=sheet(arrives_at=when(6), departs_at=when(6.2), tour=[]),
        headers=auth(office["mark"]),
    )
    assert again.status_code == 200
    live = db.session.scalars(select(Booking).where(Booking.cancelled_at.is_(None))).all()
    assert len(live) == 1
    assert (
        db.session.scalars(select(Task).where(Task.kind == "tour", Task.status == "planned")).all()
        == []
    )

    bad = client.put(
        f"/api/v1/requests/{rid}/arrangement",
        json={
            "attendees": "many",
            "room": "Nowhere",
            "tour": [{"place": ""}],
            "materials": ["cake"],
        },
        headers=auth(office["rita"]),
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["fields"]
    assert {"attendees", "room", "tour.0.place", "materials", "receiving_staff"} <= set(fields)


def test_a_sheet_missing_inside_the_last_day_is_overdue_and_told_once(client, office, app):
    rita = staff_socket(app, "rita@example.com")
    desk = staff_socket(app, "desk@example.com")
    soon = body(arrives_at=when(0.5), departs_at=when(0.7))
    rid = client.post("/api/v1/requests", json=soon, headers=auth(office["rita"])).get_json()["id"]
    later = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"])).get_json()
    assert later["overdue"] is False
    assert (
        client.get(f"/api/v1/requests/{rid}", headers=auth(office["rita"])).get_json()["overdue"]
        is True
    )
    assert arrangements.send_overdue_notices() == 1
    assert arrangements.send_overdue_notices() == 0  # once
    for sock in (rita, desk):
        told = [m for m in sock.get_received() if m["name"] == "arrangement_overdue"]
        assert [m["args"][0]["request_id"] for m in told] == [rid]
    rooms.add_room("Room 3", 8)
    client.put(
        f"/api/v1/requests/{rid}/arrangement",
        json=sheet(arrives_at=when(0.5), departs_at=when(0.7), tour=[]),
        headers=auth(office["rita"]),
    )
    assert (
        client.get(f"/api/v1/requests/{rid}", headers=auth(office["rita"])).get_json()["overdue"]
        is False
    )


def test_the_arrangement_pdf_has_the_sheet_in_chinese_and_english(client, office):
    import pypdf

    rooms.add_room("Room 3", 8)
    rid = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"])).get_json()[
        "id"
    ]
    client.put(f"/api/v1/requests/{rid}/arrangement", json=sheet(), headers=auth(office["rita"]))
    r = client.get(f"/api/v1/requests/{rid}/arrangement.pdf", headers=auth(office["rita"]))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(r.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for needle in (
        "客户接待安排表",
        "Reception arrangement sheet",
        "华为技术",
        "张伟",
        "Room 3",
        "热烈欢迎华为技术莅临指导",
        "Assembly line 2",
        "Rita Sales",
    ):
        assert needle in text, needle
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptor = (
        next(iter(fonts.values()))
        .get_object()["/DescendantFonts"][0]
        .get_object()["/FontDescriptor"]
    )
    assert "/FontFile2" in descriptor  # embedded
    assert (
        client.get(
            f"/api/v1/requests/{rid}/arrangement.pdf", headers=auth(office["linus"])
        ).status_code
        == 404
    )


def test_the_hosts_alert_names_the_room_of_the_sheet(client, office, app):
    from server.services import checkin

    rooms.add_room("Room 3", 8)
    rid = client.post(
        "/api/v1/requests",
        json=body(arrives_at=when(0), departs_at=when(0.2)),
        headers=auth(office["rita"]),
    ).get_json()["id"]
    client.put(
        f"/api/v1/requests/{rid}/arrangement",
        json=sheet(arrives_at=when(0), departs_at=when(0.2), tour=[]),
        headers=auth(office["rita"]),
    )
    for who in ("grace", "mark", "fay", "gus"):
        r = client.post(
            f"/api/v1/requests/{rid}/decision",
            json={"decision": "approve"},
            headers=auth(office[who]),
        )
    visits = r.get_json()["visits"]
    rita = staff_socket(app, "rita@example.com")
    checkin.check_in(visits[0]["code"])
    arrived = [m["args"][0] for m in rita.get_received() if m["name"] == "visitor_arrived"]
    assert [(a["visitor"]["name"], a["room"]) for a in arrived] == [("张伟", "Room 3")]
