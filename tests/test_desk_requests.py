"""Reception sees what the kiosks ask: the "At the kiosk · 自助机" panel (kind in plain
words, who, which kiosk, how long ago), "Done" and "Find host", the live refresh
hook, and the API (/api/v1/desk-requests)."""

from datetime import timedelta
from pathlib import Path

import pytest

from server.extensions import db
from server.models import DeskRequest, utcnow
from server.reception.desk_requests import ago
from server.services import checkin, desk, devices
from tests.conftest import auth, csrf_from, login, staff_socket

LIVE_JS = Path(__file__).resolve().parent.parent / "static" / "js" / "live.js"


@pytest.fixture
def requests(app, staff, make_visit):
    kiosk, _ = devices.add_kiosk("Front door")
    walk_in = desk.open_request(
        "route_walk_in",
        kiosk=kiosk,
        details={
            "name": "张伟",
            "company": "华为",
            "phone": "13800001234",
            "purpose": "Business negotiation",
            "language": "zh",
        },
    )
    visit = make_visit()
    declined = desk.open_request("rules_declined", visit=visit, kiosk=kiosk)
    return {"walk_in": walk_in, "declined": declined, "visit": visit}


@pytest.fixture
def desk_client(app, staff):
    client = app.test_client()
    login(client, "desk@example.com")
    return client


def test_reception_page_lists_open_requests_in_plain_words(app, desk_client, requests):
    page = desk_client.get("/reception/").get_data(as_text=True)
    assert 'id="desk-requests"' in page and "At the kiosk" in page and "自助机" in page
    assert "Walk-in needs a host 需安排接待人" in page
    assert "Declined the site rules 未接受访客须知" in page
    assert (
        "张伟" in page
        and "华为" in page
        and "13800001234" in page
        and "Business negotiation" in page
    )
    assert "Ada Lovelace" in page and "host Grace Hopper" in page
    assert "Front door" in page and "just now 刚刚" in page
    assert page.count("Find host 安排接待人") == 1  # only for the walk-in
    assert page.count("Done 已处理") == 2
    assert 'hx-trigger="lobby:refresh from:body, every 30s"' in page


def test_panel_refreshes_from_its_own_url(app, desk_client, requests):
    part = desk_client.get("/reception/desk-requests", headers={"HX-Request": "true"})
    assert part.status_code == 200
    text = part.get_data(as_text=True)
    assert "<html" not in text and f'data-request-id="{requests["walk_in"].id}"' in text


def test_how_long_ago():
    now = utcnow()
    assert ago(now - timedelta(seconds=20), now) == "just now 刚刚"
    assert ago(now - timedelta(minutes=7), now) == "7 min ago 7分钟前"
    assert ago(now - timedelta(minutes=65), now) == "1 h 5 min ago 1小时5分钟前"


def test_done_closes_the_request_records_who_and_tells_the_desk_live(
    app, desk_client, staff, requests
):
    other_desk = staff_socket(app, "admin@example.com")
    other_desk.get_received()
    token = csrf_from(desk_client.get("/reception/").get_data(as_text=True))
    req_id = requests["walk_in"].id
    resp = desk_client.post(
        f"/reception/desk-requests/{req_id}/done",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Done: 张伟" in text
    assert f'data-request-id="{req_id}"' not in text
    assert f'data-request-id="{requests["declined"].id}"' in text
    db.session.expire_all()
    req = db.session.get(DeskRequest, req_id)
    assert req.status == "done" and req.handled_by_id == staff["reception"].id and req.handled_at
    events = [m["args"][0] for m in other_desk.get_received() if m["name"] == "desk_request"]
    assert [(e["id"], e["status"]) for e in events] == [(req_id, "done")]
    again = desk_client.post(
        f"/reception/desk-requests/{req_id}/done",
        data={"csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert "Already handled" in again.get_data(as_text=True)
    plain = desk_client.post(
        f"/reception/desk-requests/{requests['declined'].id}/done", data={"csrf_token": token}
    )
    assert plain.status_code == 302  # without htmx: back to the page


def test_done_needs_csrf_and_the_desk_role(app, desk_client, staff, requests):
    req_id = requests["walk_in"].id
    assert desk_client.post(f"/reception/desk-requests/{req_id}/done").status_code == 400
    host = app.test_client()
    login(host, "grace@example.com")
    token = csrf_from(host.get("/host/").get_data(as_text=True))
    assert (
        host.post(f"/reception/desk-requests/{req_id}/done", data={"csrf_token": token}).status_code
        == 403
    )
    assert host.get("/reception/desk-requests").status_code == 403
    assert host.get(f"/reception/desk-requests/{req_id}/walk-in").status_code == 403
    assert app.test_client().get("/reception/desk-requests").status_code == 302  # to /login
    db.session.expire_all()
    assert db.session.get(DeskRequest, req_id).status == "open"


def test_find_host_opens_the_desk_walk_in_form_filled_in(app, desk_client, requests):
    resp = desk_client.get(
        f"/reception/desk-requests/{requests['walk_in'].id}/walk-in", headers={"HX-Request": "true"}
    )
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'id="walk-in-form"' in text
    assert 'value="张伟"' in text and 'value="华为"' in text and 'value="13800001234"' in text
    # A request that is not a walk-in, or unknown, opens an empty form.
    empty = desk_client.get(f"/reception/desk-requests/{requests['declined'].id}/walk-in")
    assert 'value="Ada' not in empty.get_data(as_text=True)
    assert desk_client.get("/reception/desk-requests/99999/walk-in").status_code == 200


def test_registering_a_kiosk_walk_in_at_the_desk_closes_its_request(
    app, desk_client, staff, requests
):
    """The whole desk path: Find host fills the form (with the request's id), the desk
    registers the visitor, and the request is done without a second click."""
    req_id = requests["walk_in"].id
    form = desk_client.get(
        f"/reception/desk-requests/{req_id}/walk-in", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    token = csrf_from(desk_client.get("/reception/").get_data(as_text=True))
    assert 'value="张伟"' in form
    assert f'name="desk_request_id" type="hidden" value="{req_id}"' in form
    resp = desk_client.post(
        "/reception/walk-ins",
        headers={"HX-Request": "true"},
        data={
            "csrf_token": token,
            "name": "张伟",
            "company": "华为",
            "phone": "13800001234",
            "host_id": str(staff["host"].id),
            "desk_request_id": str(req_id),
        },
    )
    assert "Checked in" in resp.get_data(as_text=True)
    req = db.session.get(DeskRequest, req_id)
    assert req.status == "done" and req.handled_by_id == staff["reception"].id
    # A form whose request was closed meanwhile (or a nonsense id) still registers.
    for stale in (str(req_id), "9" * 40):
        resp = desk_client.post(
            "/reception/walk-ins",
            headers={"HX-Request": "true"},
            data={
                "csrf_token": token,
                "name": "Ada Again",
                "host_id": str(staff["host"].id),
                "desk_request_id": stale,
            },
        )
        assert resp.status_code == 200 and "Checked in" in resp.get_data(as_text=True)


def test_live_client_refreshes_on_desk_request_events():
    assert "desk_request:" in LIVE_JS.read_text()


# ---- API ---------------------------------------------------------------------------


def test_api_lists_open_requests_and_closes_one(app, tokens, requests):
    client = app.test_client()
    resp = client.get("/api/v1/desk-requests", headers=auth(tokens["reception"]))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 2
    first = body["requests"][0]
    assert first["kind"] == "route_walk_in" and first["status"] == "open"
    assert (
        first["visitor"] == {"name": "张伟", "company": "华为"} and first["kiosk"] == "Front door"
    )
    assert body["requests"][1]["visit_id"] == requests["visit"].id

    done = client.post(f"/api/v1/desk-requests/{first['id']}/done", headers=auth(tokens["admin"]))
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert (
        client.get("/api/v1/desk-requests", headers=auth(tokens["reception"])).get_json()["count"]
        == 1
    )
    again = client.post(f"/api/v1/desk-requests/{first['id']}/done", headers=auth(tokens["admin"]))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_handled"
    missing = client.post("/api/v1/desk-requests/99999/done", headers=auth(tokens["admin"]))
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_api_needs_a_desk_token(app, tokens, requests):
    client = app.test_client()
    assert client.get("/api/v1/desk-requests").status_code == 401
    assert client.get("/api/v1/desk-requests", headers=auth(tokens["host"])).status_code == 403
    resp = client.post(
        f"/api/v1/desk-requests/{requests['walk_in'].id}/done", headers=auth(tokens["host"])
    )
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(DeskRequest, requests["walk_in"].id).status == "open"


def test_requests_about_a_visit_show_its_visitor(app, desk_client, requests):
    checkin.check_in(requests["visit"].code)
    text = desk_client.get("/reception/desk-requests", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "Ada Lovelace" in text and "Analytical Engines" in text
