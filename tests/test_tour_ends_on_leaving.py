"""A visitor who leaves is no longer on a tour (issue 11 item 6): the check-out, by the
kiosk, the desk or the host's farewell, finishes a tour in progress as done and tells
the host's page (task_updated)."""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Task, utcnow
from server.services import checkin, hosting, tasks
from server.services.clock import iso
from tests.conftest import staff_socket


@pytest.fixture
def on_tour(app, staff, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    tour = tasks.create(
        visit.id,
        {
            "kind": "tour",
            "title": "Plant tour",
            "starts_at": iso(utcnow() + timedelta(minutes=1)),
            "stops": [{"place": "Assembly hall"}],
        },
        staff["host"],
    )
    tasks.update(tour.id, {"status": "in_progress"}, staff["host"])
    return visit, tour


def tour_updates(sock, task_id):
    return [
        m["args"][0]["task"]
        for m in sock.get_received()
        if m["name"] == "task_updated" and m["args"][0]["task"]["id"] == task_id
    ]


def test_checking_out_finishes_the_tour_in_progress_and_tells_the_host(app, on_tour):
    visit, tour = on_tour
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    checkin.check_out(visit.code)
    db.session.expire_all()
    task = db.session.get(Task, tour.id)
    assert task.status == "done" and task.done_at is not None
    assert [t["status"] for t in tour_updates(grace, tour.id)] == ["done"]


def test_the_hosts_farewell_finishes_the_tour_too(app, staff, on_tour):
    visit, tour = on_tour
    hosting.farewell(visit.id, staff["host"], "walked to the lift")
    db.session.expire_all()
    assert db.session.get(Task, tour.id).status == "done"


def test_a_tour_only_planned_is_left_as_it_was(app, staff, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    tour = tasks.create(
        visit.id,
        {"kind": "tour", "starts_at": iso(utcnow()), "stops": [{"place": "Lab"}]},
        staff["host"],
    )
    checkin.check_out(visit.code)
    db.session.expire_all()
    assert db.session.get(Task, tour.id).status == "planned"
