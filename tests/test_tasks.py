"""Tasks as data: tea, tours, follow-ups and the farewell, through the JSON API and
the services, each change a task_updated event; hosts act only on their own visits."""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Event, Task, Visit, utcnow
from server.services import checkin, hosting, people, tasks
from server.services.clock import iso
from tests.conftest import PASSWORD, auth, on_menu, staff_socket


@pytest.fixture
def arrived(app, staff, make_visit):
    on_menu("Green tea", "绿茶")
    on_menu("Coffee", "咖啡")
    visit = make_visit()
    checkin.check_in(visit.code)
    return visit


def events(sock, name):
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


def test_tea_request_goes_to_reception_and_served_comes_back(app, client, tokens, arrived):
    desk = staff_socket(app, "desk@example.com")
    grace = staff_socket(app, "grace@example.com")
    desk.get_received(), grace.get_received()
    resp = client.post(
        f"/api/v1/visits/{arrived.id}/tasks",
        headers=auth(tokens["host"]),
        json={"kind": "tea", "items": [{"drink": "Green tea", "count": 2}], "note": "no sugar"},
    )
    assert resp.status_code == 201
    task = resp.get_json()
    assert (task["kind"], task["status"]) == ("tea", "requested")
    assert task["details"] == {"items": [{"drink": "Green tea", "count": 2}], "note": "no sugar"}
    queued = events(desk, "task_updated")
    assert (
        queued[-1]["task"]["id"] == task["id"] and queued[-1]["visitor"]["name"] == "Ada Lovelace"
    )
    resp = client.post(
        f"/api/v1/tasks/{task['id']}", headers=auth(tokens["reception"]), json={"status": "served"}
    )
    assert resp.status_code == 200
    served = events(grace, "task_updated")[-1]["task"]
    assert served["status"] == "served" and served["done_by"] == "Rita Desk" and served["done_at"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"kind": "tea", "items": []}, "items"),
        ({"kind": "tea", "items": [{"drink": "Whisky", "count": 1}]}, "items"),
        ({"kind": "tea", "items": [{"drink": "Coffee", "count": 0}]}, "items"),
        ({"kind": "tour", "stops": []}, "stops"),
        ({"kind": "tour", "stops": [{"place": ""}], "starts_at": "2030-01-01T10:00"}, "stops"),
        (
            {
                "kind": "follow_up",
                "question": "Price?",
                "reply_method": "pigeon",
                "deadline": "2030-01-01T10:00",
            },
            "reply_method",
        ),
        ({"kind": "follow_up", "question": "Price?", "reply_method": "email"}, "deadline"),
        ({"kind": "party"}, "kind"),
    ],
)
def test_bad_tasks_are_422_with_the_field_and_write_nothing(client, tokens, arrived, body, field):
    resp = client.post(
        f"/api/v1/visits/{arrived.id}/tasks", headers=auth(tokens["host"]), json=body
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_task" and field in error["fields"]
    assert db.session.query(Task).count() == 0


def test_tour_is_planned_confirmed_started_and_finished_and_the_roster_knows(
    app, client, tokens, arrived, staff
):
    people_in_plant = people.create_user(
        "wu@example.com", "Wu Plant", ["host"], PASSWORD, department="Assembly"
    )
    plant = staff_socket(app, "wu@example.com")
    plant.get_received()
    start = utcnow() + timedelta(hours=3)
    resp = client.post(
        f"/api/v1/visits/{arrived.id}/tasks",
        headers=auth(tokens["host"]),
        json={
            "kind": "tour",
            "title": "Plant tour",
            "starts_at": iso(start),
            "stops": [
                {"place": "Assembly hall", "department": "Assembly", "planned_at": iso(start)},
                {
                    "place": "Test lab",
                    "department": "QA",
                    "planned_at": iso(start + timedelta(minutes=30)),
                },
            ],
        },
    )
    assert resp.status_code == 201
    tour = resp.get_json()
    assert [s["place"] for s in tour["stops"]] == ["Assembly hall", "Test lab"]
    told = events(plant, "task_updated")  # the departments on the route are told
    assert (
        told and told[-1]["task"]["id"] == tour["id"] and people_in_plant.department == "Assembly"
    )
    h = auth(tokens["host"])
    for status in ("confirmed", "in_progress"):
        assert (
            client.post(
                f"/api/v1/tasks/{tour['id']}", headers=h, json={"status": status}
            ).status_code
            == 200
        )
    visit = db.session.get(Visit, arrived.id)
    assert visit.state == "on_tour"
    assert "Assembly hall" in hosting.where(visit)
    assert [v.id for v in hosting.roster()] == [arrived.id]
    done = client.post(f"/api/v1/tasks/{tour['id']}", headers=h, json={"status": "done"})
    assert done.get_json()["status"] == "done"
    db.session.expire_all()
    assert (
        db.session.get(Visit, arrived.id).state == "with_host"
    )  # back from the tour with the host


def test_impossible_transitions_are_409_and_repeats_are_harmless(client, tokens, arrived):
    h = auth(tokens["host"])
    tour = client.post(
        f"/api/v1/visits/{arrived.id}/tasks",
        headers=h,
        json={
            "kind": "tour",
            "stops": [{"place": "Lab"}],
            "starts_at": "2030-01-01T10:00:00+00:00",
        },
    ).get_json()
    resp = client.post(f"/api/v1/tasks/{tour['id']}", headers=h, json={"status": "done"})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "bad_transition"
    resp = client.post(f"/api/v1/tasks/{tour['id']}", headers=h, json={"status": "served"})
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_status"
    first = client.post(f"/api/v1/tasks/{tour['id']}", headers=h, json={"status": "confirmed"})
    again = client.post(f"/api/v1/tasks/{tour['id']}", headers=h, json={"status": "confirmed"})
    assert first.status_code == again.status_code == 200
    assert db.session.query(Event).filter_by(kind="task_updated").count() == 2  # create + confirm


def test_follow_up_needs_an_answer_and_farewell_shows_open_ones(client, tokens, arrived):
    h = auth(tokens["host"])
    fu = client.post(
        f"/api/v1/visits/{arrived.id}/tasks",
        headers=h,
        json={
            "kind": "follow_up",
            "question": "Volume discount?",
            "reply_method": "email",
            "deadline": iso(utcnow() + timedelta(days=3)),
        },
    ).get_json()
    assert fu["status"] == "open" and fu["details"]["reply_method"] == "email"
    resp = client.post(f"/api/v1/tasks/{fu['id']}", headers=h, json={"status": "answered"})
    assert resp.status_code == 422
    bye = client.post(f"/api/v1/visits/{arrived.id}/farewell", headers=h, json={"note": "thanks"})
    assert bye.status_code == 200
    body = bye.get_json()
    assert body["visit"]["status"] == "checked_out"
    assert [t["id"] for t in body["open_follow_ups"]] == [fu["id"]]
    answered = client.post(
        f"/api/v1/tasks/{fu['id']}",
        headers=h,
        json={"status": "answered", "answer": "10% over 100 units"},
    )
    assert answered.get_json()["details"]["answer"] == "10% over 100 units"
    kinds = [
        t["kind"] for t in client.get(f"/api/v1/visits/{arrived.id}/tasks", headers=h).get_json()
    ]
    assert kinds == ["follow_up", "farewell"]


def test_hosts_act_only_on_their_own_visitors(client, tokens, arrived):
    other = auth(tokens["other_host"])
    assert client.get(f"/api/v1/visits/{arrived.id}/tasks", headers=other).status_code == 403
    assert (
        client.post(
            f"/api/v1/visits/{arrived.id}/tasks",
            headers=other,
            json={"kind": "tea", "items": [{"drink": "Coffee", "count": 1}]},
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/visits/{arrived.id}/acknowledge", headers=other).status_code == 403
    assert client.post(f"/api/v1/visits/{arrived.id}/farewell", headers=other).status_code == 403
    tea = client.post(
        f"/api/v1/visits/{arrived.id}/tasks",
        headers=auth(tokens["host"]),
        json={"kind": "tea", "items": [{"drink": "Coffee", "count": 1}]},
    ).get_json()
    assert (
        client.post(
            f"/api/v1/tasks/{tea['id']}", headers=other, json={"status": "served"}
        ).status_code
        == 403
    )
    assert (
        client.post("/api/v1/tasks/9999", headers=other, json={"status": "served"}).status_code
        == 404
    )
    assert db.session.query(Task).one().status == "requested"


def test_on_my_way_reaches_the_kiosk_and_reception(app, client, tokens, staff, make_visit):
    from server.services import devices

    _, path = devices.add_kiosk("Front")
    kiosk_browser = app.test_client()
    kiosk_browser.get(path)
    visit = make_visit()
    checkin.check_in(visit.code, kiosk="Front")
    from server.extensions import socketio

    with app.app_context():
        kiosk_sock = socketio.test_client(app, flask_test_client=kiosk_browser)
    desk = staff_socket(app, "desk@example.com")
    kiosk_sock.get_received(), desk.get_received()
    resp = client.post(f"/api/v1/visits/{visit.id}/acknowledge", headers=auth(tokens["host"]))
    assert resp.status_code == 200 and resp.get_json()["state"] == "with_host"
    for sock in (kiosk_sock, desk):
        [update] = events(sock, "visit_updated")
        assert update["change"] == "acknowledged" and update["visit_id"] == visit.id


def test_unconfirmed_tour_reminds_host_and_departments_an_hour_before_once(app, staff, arrived):
    people.create_user("wu@example.com", "Wu Plant", ["host"], PASSWORD, department="Assembly")
    plant = staff_socket(app, "wu@example.com")
    grace = staff_socket(app, "grace@example.com")
    soon = utcnow() + timedelta(minutes=50)
    later = utcnow() + timedelta(hours=3)
    for when in (soon, later):
        tasks.create(
            arrived.id,
            {
                "kind": "tour",
                "starts_at": iso(when),
                "stops": [{"place": "Hall", "department": "Assembly"}],
            },
            staff["host"],
        )
    plant.get_received(), grace.get_received()
    assert tasks.send_tour_reminders() == 1
    assert tasks.send_tour_reminders() == 0  # once
    for sock in (plant, grace):
        [reminder] = events(sock, "tour_reminder")
        assert reminder["task"]["starts_at"] == iso(soon)


def test_renotify_and_fallback_contact(app, staff, arrived):
    fallback = people.create_user("lee@example.com", "Lee Fallback", ["host"], PASSWORD)
    lee = staff_socket(app, "lee@example.com")
    grace = staff_socket(app, "grace@example.com")
    lee.get_received(), grace.get_received()
    hosting.renotify(arrived.id, staff["reception"])
    assert events(grace, "visitor_arrived")[-1]["renotified"] is True
    from server.services.errors import Conflict

    with pytest.raises(Conflict) as err:
        hosting.renotify(arrived.id, staff["reception"], fallback=True)
    assert err.value.code == "no_fallback"
    db.session.get(type(staff["host"]), staff["host"].id).fallback_contact_id = fallback.id
    db.session.commit()
    assert (
        hosting.renotify(arrived.id, staff["reception"], fallback=True).email == "lee@example.com"
    )
    assert events(lee, "visitor_arrived")[-1]["for_host"] == "Grace Hopper"


def test_walk_in_is_checked_in_and_told_to_the_host(app, staff):
    from server.models import PrintJob

    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    visit = hosting.walk_in(
        "Nguyễn Thị Minh Khai", "Vina Co", "+84 24 1234", staff["host"].id, staff["reception"]
    )
    assert visit.status == "checked_in" and visit.walk_in
    assert events(grace, "visitor_arrived")[-1]["visitor"]["name"] == "Nguyễn Thị Minh Khai"
    assert db.session.query(PrintJob).filter_by(visit_id=visit.id).count() == 1
    from server.services.errors import ValidationError

    with pytest.raises(ValidationError):
        hosting.walk_in("Nobody's guest", "", "", None, staff["reception"])
