"""Promised answers of every day: the host's page lists their open follow-ups of any
day with deadline, reply method and an overdue flag, and answers them; the API lists
them by deadline (hosts: their own); hosts are reminded once before a deadline and
once when it passes, live, on their own room only."""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Task, utcnow
from server.services import checkin, follow_ups, tasks
from server.services.clock import iso
from tests.conftest import auth, csrf_from, login, staff_socket

# Naive UTC, as stored; the pages judge "overdue" by the clock, so it is today.
NOW = utcnow().replace(microsecond=0)


def events(sock, name):
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


def promise(visit, user, question, deadline, method="email"):
    return tasks.create(
        visit.id,
        {
            "kind": "follow_up",
            "question": question,
            "reply_method": method,
            "deadline": iso(deadline),
        },
        user,
    )


@pytest.fixture
def promises(app, staff, make_visit):
    """Grace's visitor of last week with two promises (one late), one answered, and
    Linus's visitor with one."""
    old = make_visit(when=NOW - timedelta(days=7))
    other = make_visit(
        name="张伟", company="华为", host="linus@example.com", when=NOW - timedelta(days=2)
    )
    late = promise(old, staff["host"], "Price for 500 units?", NOW - timedelta(days=1))
    soon = promise(old, staff["host"], "Delivery date?", NOW + timedelta(hours=1), "wechat")
    later = promise(old, staff["host"], "Warranty terms?", NOW + timedelta(days=3), "phone")
    done = promise(old, staff["host"], "Brochure?", NOW + timedelta(days=1))
    tasks.update(done.id, {"status": "answered", "answer": "Sent"}, staff["host"])
    linus = promise(other, staff["other_host"], "样品？", NOW + timedelta(hours=5))
    return {"late": late.id, "soon": soon.id, "later": later.id, "done": done.id, "linus": linus.id}


def test_hosts_list_their_open_follow_ups_of_every_day_by_deadline(staff, promises):
    rows = follow_ups.listing(staff["host"])
    assert [t.id for t in rows] == [promises["late"], promises["soon"], promises["later"]]
    desk = follow_ups.listing(staff["reception"])
    assert [t.id for t in desk] == [
        promises["late"],
        promises["soon"],
        promises["linus"],
        promises["later"],
    ]
    assert [t.id for t in follow_ups.listing(staff["host"], "answered")] == [promises["done"]]


def test_api_follow_ups_open_by_deadline_with_overdue_flag(client, tokens, promises):
    resp = client.get("/api/v1/follow-ups?status=open", headers=auth(tokens["host"]))
    body = resp.get_json()
    assert resp.status_code == 200 and body["count"] == 3
    first = body["follow_ups"][0]
    assert (first["id"], first["question"], first["reply_method"]) == (
        promises["late"],
        "Price for 500 units?",
        "email",
    )
    assert first["overdue"] is True and first["visitor"]["name"] == "Ada Lovelace"
    assert first["host"]["email"] == "grace@example.com" and first["deadline"]
    everyone = client.get("/api/v1/follow-ups", headers=auth(tokens["reception"])).get_json()
    assert everyone["count"] == 4 and everyone["follow_ups"][2]["question"] == "样品？"
    resp = client.get("/api/v1/follow-ups?status=maybe", headers=auth(tokens["admin"]))
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_query"


def test_host_page_shows_promised_answers_of_other_days_and_answers_one(client, staff, promises):
    login(client, "grace@example.com")
    html = client.get("/host").get_data(as_text=True)
    section = html.split("Promised answers")[1]
    assert "承诺答复" in section
    for question in ("Price for 500 units?", "Delivery date?", "Warranty terms?"):
        assert question in section
    assert "Brochure?" not in section and "样品" not in section  # answered; Linus's
    assert section.count("Overdue 已逾期") == 1  # the late one (the others are not due)
    assert "WeChat 微信" in section
    resp = client.post(
        f"/host/tasks/{promises['late']}/status",
        data={"status": "answered", "answer": "USD 12 each", "csrf_token": csrf_from(html)},
    )
    assert resp.status_code == 303
    assert db.session.get(Task, promises["late"]).details["answer"] == "USD 12 each"
    part = client.get("/host/follow-ups", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Price for 500 units?" not in part and "Delivery date?" in part
    assert "<html" not in part


def test_follow_up_list_is_host_only_and_escaped(app, client, staff, make_visit):
    visit = make_visit()
    promise(visit, staff["host"], "<img src=x onerror=alert(1)>", NOW)
    login(client, "grace@example.com")
    part = client.get("/host/follow-ups").get_data(as_text=True)
    assert "<img src=x" not in part and "&lt;img src=x" in part
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get("/host/follow-ups").status_code == 403


def test_reminders_before_the_deadline_and_when_it_passes_each_once(app, staff, promises):
    app.config["FOLLOW_UP_REMINDER_HOURS"] = 2
    grace = staff_socket(app, "grace@example.com")
    linus = staff_socket(app, "linus@example.com")
    desk = staff_socket(app, "desk@example.com")
    for sock in (grace, linus, desk):
        sock.get_received()
    # At NOW: "late" is overdue, "soon" (in 1 h) is within 2 h; Linus's (5 h) is not yet.
    assert follow_ups.send_follow_up_reminders(now=NOW) == 2
    assert follow_ups.send_follow_up_reminders(now=NOW) == 0  # once
    got = {(e["task"]["id"], e["reminder"]) for e in events(grace, "task_updated")}
    assert got == {(promises["late"], "overdue"), (promises["soon"], "before")}
    assert events(linus, "task_updated") == [] and events(desk, "task_updated") == []
    # An hour and a bit later "soon" has passed its deadline: its second reminder.
    assert follow_ups.send_follow_up_reminders(now=NOW + timedelta(minutes=61)) == 1
    [overdue] = events(grace, "task_updated")
    assert (overdue["task"]["id"], overdue["reminder"]) == (promises["soon"], "overdue")
    task = db.session.get(Task, promises["soon"])
    db.session.refresh(task)
    assert task.details["reminded_before"] and task.details["reminded_overdue"]
    # Three hours later Linus's is within two hours of its deadline.
    assert follow_ups.send_follow_up_reminders(now=NOW + timedelta(hours=3, minutes=1)) == 1
    assert events(linus, "task_updated")[0]["reminder"] == "before"


def test_answered_follow_ups_are_not_reminded(app, staff, promises):
    tasks.update(promises["late"], {"status": "answered", "answer": "Done"}, staff["host"])
    assert follow_ups.send_follow_up_reminders(now=NOW - timedelta(hours=30)) == 0
    assert follow_ups.send_follow_up_reminders(now=NOW) == 1  # only "soon"


def test_reminder_window_is_configurable(app, staff, promises):
    app.config["FOLLOW_UP_REMINDER_HOURS"] = 0.5
    # "soon" is due in an hour: outside half an hour; "late" is overdue anyway.
    assert follow_ups.send_follow_up_reminders(now=NOW) == 1


def test_config_reads_the_reminder_hours_from_the_environment(monkeypatch, tmp_path):
    from server import config

    monkeypatch.setenv("LOBBY_FOLLOW_UP_REMINDER_HOURS", "4")
    assert config.load({"DATA_DIR": tmp_path})["FOLLOW_UP_REMINDER_HOURS"] == 4
    monkeypatch.delenv("LOBBY_FOLLOW_UP_REMINDER_HOURS")
    assert config.load({"DATA_DIR": tmp_path})["FOLLOW_UP_REMINDER_HOURS"] == 2


def test_follow_ups_of_a_visit_that_has_left_still_listed(client, tokens, staff, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    promise(visit, staff["host"], "Spec sheet?", NOW)
    checkin.check_out(visit.code)
    body = client.get("/api/v1/follow-ups", headers=auth(tokens["host"])).get_json()
    assert [f["question"] for f in body["follow_ups"]] == ["Spec sheet?"]


def test_the_print_worker_sends_follow_up_reminders_on_its_own(app, staff, make_visit):
    import time

    from server.services.printing import PrintWorker

    visit = make_visit()
    task = promise(visit, staff["host"], "Spec sheet?", utcnow() - timedelta(minutes=1))
    db.session.commit()
    worker = PrintWorker(app, interval=0.1).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.rollback()  # a fresh read of what the worker wrote
            if db.session.get(Task, task.id).details.get("reminded_overdue"):
                break
            time.sleep(0.1)
    finally:
        worker.stop()
    db.session.rollback()
    assert db.session.get(Task, task.id).details.get("reminded_overdue")
