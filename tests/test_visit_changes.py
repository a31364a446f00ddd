"""Editing, rescheduling and cancelling a visit: the service, PATCH /api/v1/visits/<id>,
POST /api/v1/visits/<id>/cancel, the live events, and the edit pages."""

import re
import threading
from datetime import date, timedelta

import pytest
import socketio as sio

from server.extensions import db
from server.models import Event, Visit
from server.services import checkin, clock, visit_changes
from tests.conftest import auth, csrf_from, login, staff_socket
from tests.kiosk_helpers import KioskClient


def local_day(visit) -> date:
    return clock.to_local(visit.expected_at).date()


def fresh(visit_id) -> Visit:
    db.session.rollback()  # end the test's snapshot: see what the request wrote
    return db.session.get_one(Visit, visit_id)


def received(sock, event="visit_updated"):
    return [m["args"][0] for m in sock.get_received() if m["name"] == event]


# --- the API ------------------------------------------------------------------------


def test_patch_changes_every_field_and_answers_with_the_visit(client, tokens, make_visit):
    visit = make_visit()
    day = local_day(visit) + timedelta(days=1)
    resp = client.patch(
        f"/api/v1/visits/{visit.id}",
        headers=auth(tokens["reception"]),
        json={
            "visitor": {
                "name": "Ada King",
                "company": "Babbage & Co",
                "title": "Countess",
                "email": "ada@example.com",
                "phone": "+44 20 7946 0000",
            },
            "host": "linus@example.com",
            "expected_at": f"{day.isoformat()}T10:30:00+00:00",
            "purpose": "Difference engine",
            "meeting_room": "Room 3 三号会议室",
            "kind": "contractor",
            "stars": 3,
            "valid_until": (day + timedelta(days=2)).isoformat(),
        },
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["visitor"] == {
        "name": "Ada King",
        "company": "Babbage & Co",
        "title": "Countess",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
    }
    assert body["host"]["email"] == "linus@example.com"
    assert body["expected_at"] == f"{day.isoformat()}T10:30:00+00:00"
    assert (body["purpose"], body["meeting_room"]) == ("Difference engine", "Room 3 三号会议室")
    assert (body["kind"], body["stars"]) == ("contractor", 3)
    assert body["valid_until"] == (day + timedelta(days=2)).isoformat()
    assert body["cancelled_at"] is None and body["group"] is None
    saved = fresh(visit.id)
    assert saved.visitor.title == "Countess" and saved.meeting_room == "Room 3 三号会议室"
    assert saved.updated_at is not None


def test_patch_is_partial_and_stars_can_be_cleared(client, tokens, make_visit):
    visit = make_visit()
    h = auth(tokens["admin"])
    assert (
        client.patch(f"/api/v1/visits/{visit.id}", headers=h, json={"stars": 5}).get_json()["stars"]
        == 5
    )
    body = client.patch(f"/api/v1/visits/{visit.id}", headers=h, json={"stars": None}).get_json()
    assert body["stars"] is None
    assert body["visitor"]["name"] == "Ada Lovelace" and body["purpose"] == "Engine review"


def test_patch_names_every_problem_at_once_and_writes_nothing(client, tokens, make_visit):
    visit = make_visit()
    resp = client.patch(
        f"/api/v1/visits/{visit.id}",
        headers=auth(tokens["reception"]),
        json={
            "visitor": {"name": " ", "email": "not-an-email", "phone": "call me", "age": 36},
            "host": "nobody@example.com",
            "expected_at": "tomorrow-ish",
            "kind": "alien",
            "stars": 6,
            "valid_until": "someday",
            "meeting_room": "x" * 121,
            "colour": "red",
        },
    )
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_visit"
    assert set(error["fields"]) == {
        "name",
        "email",
        "phone",
        "visitor.age",
        "host",
        "expected_at",
        "kind",
        "stars",
        "valid_until",
        "meeting_room",
        "colour",
    }
    assert error["fields"]["colour"] == "unknown field"
    saved = fresh(visit.id)
    assert saved.visitor.name == "Ada Lovelace" and saved.kind == "visitor"
    assert saved.updated_at is None


@pytest.mark.parametrize("stars", [0, 6, True, "3", 2.5])
def test_stars_are_a_whole_number_from_one_to_five(client, tokens, make_visit, stars):
    visit = make_visit()
    resp = client.patch(
        f"/api/v1/visits/{visit.id}", headers=auth(tokens["admin"]), json={"stars": stars}
    )
    assert resp.status_code == 422 and "stars" in resp.get_json()["error"]["fields"]


def test_valid_until_may_not_fall_before_the_expected_day(client, tokens, make_visit):
    visit = make_visit()
    h = auth(tokens["admin"])
    before = (local_day(visit) - timedelta(days=1)).isoformat()
    resp = client.patch(f"/api/v1/visits/{visit.id}", headers=h, json={"valid_until": before})
    assert resp.get_json()["error"]["fields"] == {
        "valid_until": "must not be before the expected day"
    }
    same_day = local_day(visit).isoformat()
    assert (
        client.patch(
            f"/api/v1/visits/{visit.id}", headers=h, json={"valid_until": same_day}
        ).status_code
        == 200
    )
    # Moving the visit past its last day is refused too: the pair is checked as saved.
    later = f"{(local_day(visit) + timedelta(days=3)).isoformat()}T09:00"
    resp = client.patch(f"/api/v1/visits/{visit.id}", headers=h, json={"expected_at": later})
    assert resp.status_code == 422 and "valid_until" in resp.get_json()["error"]["fields"]


def test_unknown_fields_and_non_objects_are_422_not_500(client, tokens, make_visit):
    visit = make_visit()
    h = auth(tokens["admin"])
    assert client.patch(f"/api/v1/visits/{visit.id}", headers=h, json=[1, 2]).status_code == 422
    resp = client.patch(f"/api/v1/visits/{visit.id}", headers=h, json={"visitor": "Ada"})
    assert resp.get_json()["error"]["fields"] == {"visitor": "must be an object"}
    assert client.patch("/api/v1/visits/9999", headers=h, json={}).status_code == 404


def test_host_edits_only_own_visits(client, tokens, make_visit):
    mine = make_visit()
    theirs = make_visit("Linus Guest", host="linus@example.com")
    h = auth(tokens["host"])
    resp = client.patch(f"/api/v1/visits/{mine.id}", headers=h, json={"meeting_room": "Lab 1"})
    assert resp.status_code == 200 and resp.get_json()["meeting_room"] == "Lab 1"
    resp = client.patch(f"/api/v1/visits/{theirs.id}", headers=h, json={"meeting_room": "Lab 1"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert fresh(theirs.id).meeting_room == ""


def test_host_cannot_hand_a_visit_to_another_host(client, tokens, make_visit):
    visit = make_visit()
    h = auth(tokens["host"])
    resp = client.patch(
        f"/api/v1/visits/{visit.id}",
        headers=h,
        json={"host": "linus@example.com", "purpose": "handed on"},
    )
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    saved = fresh(visit.id)
    assert saved.host.email == "grace@example.com" and saved.purpose == "Engine review"
    # Naming themselves as host changes nothing and is allowed.
    assert (
        client.patch(
            f"/api/v1/visits/{visit.id}", headers=h, json={"host": "grace@example.com"}
        ).status_code
        == 200
    )


def test_a_cancelled_or_finished_visit_cannot_be_edited(client, tokens, make_visit):
    gone, cancelled = make_visit("Gone Guest"), make_visit("Cancelled Guest")
    checkin.check_in(gone.code)
    checkin.check_out(gone.code)
    visit_changes.cancel(cancelled.id, "postponed", db.session.get(Visit, cancelled.id).host)
    h = auth(tokens["reception"])
    for visit in (gone, cancelled):
        resp = client.patch(f"/api/v1/visits/{visit.id}", headers=h, json={"purpose": "late edit"})
        assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "visit_closed"


def test_unchanged_values_announce_nothing(app, staff, make_visit):
    visit = make_visit()
    before = db.session.query(Event).count()
    visit_changes.update(
        visit.id, {"purpose": "Engine review", "kind": "visitor"}, staff["reception"]
    )
    assert db.session.query(Event).count() == before
    assert fresh(visit.id).updated_at is None


def test_an_edit_reaches_the_old_host_the_new_host_and_reception(app, staff, make_visit):
    visit = make_visit()
    grace = staff_socket(app, "grace@example.com")
    linus = staff_socket(app, "linus@example.com")
    desk = staff_socket(app, "desk@example.com")
    for s in (grace, linus, desk):
        s.get_received()
    visit_changes.update(
        visit.id, {"host": "linus@example.com", "meeting_room": "Lab 2"}, staff["reception"]
    )
    for sock in (grace, linus, desk):
        events = received(sock)
        assert len(events) == 1, events
        ev = events[0]
        assert ev["change"] == "edited" and ev["visit_id"] == visit.id
        assert ev["host"] == {"id": staff["other_host"].id, "name": "Linus T"}
        assert ev["previous_host_id"] == staff["host"].id
        assert ev["fields"] == ["host", "meeting_room"] and ev["meeting_room"] == "Lab 2"


# --- cancelling ---------------------------------------------------------------------


def test_cancel_needs_a_reason_of_at_most_300_characters(client, tokens, make_visit):
    visit = make_visit()
    h = auth(tokens["reception"])
    for body in ({}, {"reason": "   "}, {"reason": "x" * 301}, {"reason": 7}):
        resp = client.post(f"/api/v1/visits/{visit.id}/cancel", headers=h, json=body)
        assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_reason"
    assert fresh(visit.id).status == "expected"


def test_cancel_records_who_when_and_why_and_is_idempotent(client, tokens, staff, make_visit):
    visit = make_visit()
    h = auth(tokens["reception"])
    resp = client.post(
        f"/api/v1/visits/{visit.id}/cancel", headers=h, json={"reason": "Flight delayed 航班延误"}
    )
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "cancelled" and body["cancel_reason"] == "Flight delayed 航班延误"
    assert body["cancelled_at"]
    saved = fresh(visit.id)
    assert saved.cancelled_by_id == staff["reception"].id
    again = client.post(f"/api/v1/visits/{visit.id}/cancel", headers=h, json={"reason": "again"})
    assert again.status_code == 200
    assert again.get_json()["cancelled_at"] == body["cancelled_at"]
    assert again.get_json()["cancel_reason"] == "Flight delayed 航班延误"


def test_only_an_expected_visit_can_be_cancelled(client, tokens, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    resp = client.post(
        f"/api/v1/visits/{visit.id}/cancel",
        headers=auth(tokens["admin"]),
        json={"reason": "too late"},
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "not_expected"
    assert fresh(visit.id).status == "checked_in"


def test_host_cancels_own_visit_but_not_another_hosts(client, tokens, make_visit):
    mine, theirs = make_visit(), make_visit("Linus Guest", host="linus@example.com")
    h = auth(tokens["host"])
    assert (
        client.post(
            f"/api/v1/visits/{theirs.id}/cancel", headers=h, json={"reason": "mine now"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/visits/{mine.id}/cancel", headers=h, json={"reason": "meeting moved"}
        ).status_code
        == 200
    )
    assert fresh(theirs.id).status == "expected"


def test_a_cancelled_code_is_refused_at_checkin_and_at_the_kiosk(app, client, tokens, make_visit):
    visit = make_visit()
    kiosk = KioskClient(app)
    client.post(
        f"/api/v1/visits/{visit.id}/cancel",
        headers=auth(tokens["host"]),
        json={"reason": "meeting moved"},
    )
    resp = client.post(
        "/api/v1/checkins", headers=auth(tokens["reception"]), json={"code": visit.code}
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "cancelled"
    html = kiosk.scan(visit.code).get_data(as_text=True)
    assert 'data-reason="cancelled"' in html
    assert fresh(visit.id).status == "cancelled"


def test_the_hosts_socket_hears_the_cancellation_with_its_reason(
    app, live_server, tokens, make_visit
):
    visit = make_visit()
    other = make_visit("Linus Guest", host="linus@example.com")
    heard, got = [], threading.Event()
    grace, linus = sio.Client(), sio.Client()
    linus_heard = []

    @grace.on("visit_updated")
    def on_update(data):
        heard.append(data)
        if data.get("change") == "cancelled":
            got.set()

    linus.on("visit_updated", linus_heard.append)
    grace.connect(live_server.url, auth={"token": tokens["host"]}, wait_timeout=5)
    linus.connect(live_server.url, auth={"token": tokens["other_host"]}, wait_timeout=5)
    try:
        resp = app.test_client().post(
            f"/api/v1/visits/{visit.id}/cancel",
            headers=auth(tokens["reception"]),
            json={"reason": "Client postponed 客户改期"},
        )
        assert resp.status_code == 200
        assert got.wait(5), "the host was not told"
        ev = [e for e in heard if e["change"] == "cancelled"][0]
        assert ev["visit_id"] == visit.id and ev["status"] == "cancelled"
        assert ev["reason"] == "Client postponed 客户改期" and ev["by"] == "Rita Desk"
        assert isinstance(ev["seq"], int)
        assert [e for e in linus_heard if e.get("visit_id") == visit.id] == []
        assert other.id  # Linus's own visit is untouched
    finally:
        grace.disconnect()
        linus.disconnect()


# --- the pages ----------------------------------------------------------------------


def signed_in(app, email):
    web = app.test_client()
    login(web, email)
    return web


def post_form(web, url, data):
    token = csrf_from(web.get(url).get_data(as_text=True))
    return web.post(url, data={"csrf_token": token, **data})


def form_of(visit, **changes):
    values = {
        "name": visit.visitor.name,
        "company": visit.visitor.company,
        "title": "",
        "email": "",
        "phone": "",
        "host": visit.host.email,
        "expected_at": clock.to_local(visit.expected_at).strftime("%Y-%m-%dT%H:%M"),
        "purpose": visit.purpose,
        "meeting_room": "",
        "kind": "visitor",
        "stars": "",
        "valid_until": "",
    }
    return {**values, **changes}


def test_edit_page_shows_the_visit_with_visitor_text_escaped(app, staff, make_visit):
    visit = make_visit("<script>alert(1)</script>", company="<b>Evil</b> & Co")
    html = (
        signed_in(app, "admin@example.com")
        .get(f"/admin/visits/{visit.id}/edit")
        .get_data(as_text=True)
    )
    assert "<script>alert(1)</script>" not in html and "<b>Evil</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'name="csrf_token"' in html
    assert re.search(
        r'<input type="datetime-local" name="expected_at" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', html
    )
    assert 'name="valid_until"' in html and 'type="date"' in html
    assert '<option value="contractor">CONTRACTOR 承包商</option>' in html  # the badge's words
    assert '<option value="linus@example.com">' in html  # staff may choose the host
    assert "Cancel visit 取消来访" in html and "Edit visit" in html


def test_saving_the_edit_page_returns_to_next_with_a_notice(app, staff, make_visit):
    visit = make_visit()
    web = signed_in(app, "desk@example.com")  # reception uses the admin URL
    url = f"/admin/visits/{visit.id}/edit?next=/reception/"
    resp = post_form(
        web,
        url,
        form_of(
            visit, meeting_room="Board room 董事会议室", stars="4", kind="vip", title="Countess"
        ),
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/reception/")
    saved = fresh(visit.id)
    assert (saved.meeting_room, saved.stars, saved.kind) == ("Board room 董事会议室", 4, "vip")
    assert saved.visitor.title == "Countess"
    page = web.get("/reception/").get_data(as_text=True)
    assert "Saved Ada Lovelace&#39;s visit. 已保存来访信息。" in page


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_next_must_be_a_local_path(app, staff, make_visit, target):
    visit = make_visit()
    web = signed_in(app, "admin@example.com")
    resp = post_form(web, f"/admin/visits/{visit.id}/edit?next={target}", form_of(visit))
    assert resp.status_code == 303
    assert resp.headers["Location"] in ("/admin/", "http://localhost/admin/")


def test_refused_fields_come_back_next_to_their_inputs(app, staff, make_visit):
    visit = make_visit()
    web = signed_in(app, "admin@example.com")
    resp = post_form(
        web,
        f"/admin/visits/{visit.id}/edit",
        form_of(visit, name="", email="nope", valid_until="2000-01-01"),
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for field in ("name", "email", "valid_until"):
        assert f'data-field="{field}"' in html
    assert 'value="nope"' in html  # what was typed stays
    assert fresh(visit.id).visitor.name == "Ada Lovelace"


def test_host_edits_own_visit_on_the_host_page_without_a_host_select(app, staff, make_visit):
    mine, theirs = make_visit(), make_visit("Linus Guest", host="linus@example.com")
    web = signed_in(app, "grace@example.com")
    html = web.get(f"/host/visits/{mine.id}/edit").get_data(as_text=True)
    assert 'name="host"' not in html and "Grace Hopper" in html
    resp = post_form(
        web, f"/host/visits/{mine.id}/edit?next=/host/", form_of(mine, meeting_room="Lab 1")
    )
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/host/")
    assert fresh(mine.id).meeting_room == "Lab 1"
    assert web.get(f"/host/visits/{theirs.id}/edit").status_code == 403
    assert web.get(f"/admin/visits/{mine.id}/edit").status_code == 403
    # A host field smuggled into the host's form is not taken.
    resp = post_form(web, f"/host/visits/{mine.id}/edit", form_of(mine, host="linus@example.com"))
    assert fresh(mine.id).host.email == "grace@example.com"


def test_cancel_form_needs_a_reason_and_a_confirmation(app, staff, make_visit):
    visit = make_visit()
    web = signed_in(app, "grace@example.com")
    edit = f"/host/visits/{visit.id}/edit"
    token = csrf_from(web.get(edit).get_data(as_text=True))
    cancel = f"/host/visits/{visit.id}/cancel?next=/host/"
    resp = web.post(cancel, data={"csrf_token": token, "reason": "moved"})
    assert resp.status_code == 422 and 'data-field="confirm"' in resp.get_data(as_text=True)
    resp = web.post(cancel, data={"csrf_token": token, "reason": " ", "confirm": "1"})
    assert resp.status_code == 422 and 'data-field="reason"' in resp.get_data(as_text=True)
    assert fresh(visit.id).status == "expected"
    assert web.post(cancel, data={"reason": "moved", "confirm": "1"}).status_code == 400  # no CSRF
    resp = web.post(cancel, data={"csrf_token": token, "reason": "Meeting moved", "confirm": "1"})
    assert resp.status_code == 303
    saved = fresh(visit.id)
    assert (saved.status, saved.cancel_reason) == ("cancelled", "Meeting moved")
    html = web.get(edit).get_data(as_text=True)
    assert "Meeting moved" in html and 'id="visit-edit"' not in html  # closed: no form


def test_edit_links_on_the_admin_list_and_the_host_card(app, staff, make_visit):
    visit = make_visit()
    admin_html = signed_in(app, "admin@example.com").get("/admin/").get_data(as_text=True)
    assert f'href="/admin/visits/{visit.id}/edit?next=/admin/"' in admin_html
    host_html = signed_in(app, "grace@example.com").get("/host/").get_data(as_text=True)
    assert f'href="/host/visits/{visit.id}/edit?next=/host/"' in host_html
    assert "Edit 编辑" in host_html
