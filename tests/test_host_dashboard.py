"""The host's dashboard through the Flask test client and the real services: every
form works, a host cannot act on another host's visitor (403, nothing changes),
refusals show next to their fields, the farewell shows what is still promised."""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Event, Task, Visit
from server.services import checkin, clock, tasks
from tests.conftest import csrf_from, login, on_menu

HX = {"HX-Request": "true"}


@pytest.fixture
def menu(app):
    return [on_menu("Green tea", "绿茶"), on_menu("Coffee", "咖啡")]


def signed_in(app, email="grace@example.com"):
    web = app.test_client()
    login(web, email)
    token = csrf_from(web.get("/host/").get_data(as_text=True))
    web.environ_base["HTTP_X_CSRFTOKEN"] = token  # what the body's hx-headers send
    return web


@pytest.fixture
def arrived(make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    return visit


def fresh(visit_id) -> Visit:
    db.session.expire_all()
    return db.session.get_one(Visit, visit_id)


def events() -> int:
    return db.session.scalar(db.select(db.func.count(Event.seq)))


def test_page_groups_visitors_by_state_with_minutes_waited(app, staff, make_visit):
    make_visit("Expected Erin")
    waiting = make_visit("Waiting Will")
    checkin.check_in(waiting.code)
    with_me = make_visit("Met Mary")
    checkin.check_in(with_me.code)
    web = signed_in(app)
    web.post(f"/host/visits/{with_me.id}/ack", headers=HX)
    html = web.get("/host/", headers=HX).get_data(as_text=True)
    assert "<html" not in html
    groups = {g: html.index(f'id="group-{g}"') for g in ("waiting", "with_host", "expected")}
    assert groups["waiting"] < html.index("Waiting Will") < groups["with_host"]
    assert (
        groups["with_host"]
        < html.index("Met Mary")
        < groups["expected"]
        < html.index("Expected Erin")
    )
    assert "min waiting" in html and 'data-minutes="0"' in html
    page = web.get("/host/").get_data(as_text=True)
    assert "<html" in page and "css/host.css" in page and "js/host.js" in page
    assert 'data-last-seq="' in page


def test_on_my_way_acknowledges_and_moves_the_card(app, staff, arrived):
    web = signed_in(app)
    html = web.post(f"/host/visits/{arrived.id}/ack", headers=HX).get_data(as_text=True)
    assert fresh(arrived.id).acknowledged_at is not None
    assert html.index('id="group-with_host"') < html.index("Ada Lovelace")
    assert "On my way 我这就来" not in html


def test_acknowledging_before_arrival_is_shown_not_a_500(app, staff, make_visit):
    visit = make_visit()
    resp = signed_in(app).post(f"/host/visits/{visit.id}/ack", headers=HX)
    assert resp.status_code == 200 and "has not arrived" in resp.get_data(as_text=True)
    assert fresh(visit.id).acknowledged_at is None


def test_tea_request_with_counts_and_note(app, staff, arrived, menu):
    green, coffee = menu
    html = (
        signed_in(app)
        .post(
            f"/host/visits/{arrived.id}/tea",
            headers=HX,
            data={f"count-{green.id}": "2", f"count-{coffee.id}": "", "note": "no sugar"},
        )
        .get_data(as_text=True)
    )
    task = db.session.scalar(db.select(Task).where(Task.kind == "tea"))
    assert task.details == {"items": [{"drink": "Green tea", "count": 2}], "note": "no sugar"}
    assert task.status == "requested" and "Green tea ×2" in html and "no sugar" in html


def test_tea_without_a_drink_shows_the_error_by_the_drinks(app, staff, arrived, menu):
    resp = signed_in(app).post(
        f"/host/visits/{arrived.id}/tea", headers=HX, data={f"count-{menu[0].id}": "0", "note": "x"}
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert 'class="field-error" data-field="items"' in html and "choose at least one drink" in html
    assert f'id="tea-{arrived.id}-d" open' in html  # the form stays open with the error
    assert db.session.scalar(db.select(db.func.count(Task.id))) == 0


def test_bad_tea_count_is_a_field_error_not_a_500(app, staff, arrived, menu):
    resp = signed_in(app).post(
        f"/host/visits/{arrived.id}/tea", headers=HX, data={f"count-{menu[0].id}": "lots"}
    )
    assert resp.status_code == 200 and "count must be 1 to 50" in resp.get_data(as_text=True)


def test_served_tea_shows_who_served_it(app, staff, arrived, menu):
    task = tasks.create(
        arrived.id, {"kind": "tea", "items": [{"drink": "Coffee", "count": 1}]}, staff["host"]
    )
    tasks.update(task.id, {"status": "served"}, staff["reception"])
    html = signed_in(app).get("/host/", headers=HX).get_data(as_text=True)
    assert 'Served 已上茶 by <b class="served-by">Rita Desk</b>' in html


def test_tour_is_planned_started_and_finished(app, staff, arrived):
    web = signed_in(app)
    html = web.post(
        f"/host/visits/{arrived.id}/tour",
        headers=HX,
        data={
            "title": "Plant tour",
            "starts_at": "",
            "stop_place": ["Assembly hall", "Lab 3"],
            "stop_department": ["Production", "R&D"],
            "stop_time": ["15:00", "15:30"],
        },
    ).get_data(as_text=True)
    tour = db.session.scalar(db.select(Task).where(Task.kind == "tour"))
    assert tour.status == "planned" and [s.place for s in tour.stops] == ["Assembly hall", "Lab 3"]
    assert clock.to_local(tour.starts_at).strftime("%H:%M") == "15:00"  # the first stop's time
    assert "Plant tour" in html and "Assembly hall" in html
    html = web.post(
        f"/host/tasks/{tour.id}/status", headers=HX, data={"status": "in_progress"}
    ).get_data(as_text=True)
    assert fresh(arrived.id).state == "on_tour"
    assert html.index('id="group-on_tour"') < html.index("Ada Lovelace")
    web.post(f"/host/tasks/{tour.id}/status", headers=HX, data={"status": "done"})
    assert fresh(arrived.id).state == "with_host" or fresh(arrived.id).state == "waiting"
    assert db.session.get(Task, tour.id).status == "done"


def test_tour_without_stops_or_with_a_nameless_stop_shows_errors(app, staff, arrived):
    web = signed_in(app)
    html = web.post(
        f"/host/visits/{arrived.id}/tour",
        headers=HX,
        data={
            "title": "Plant tour",
            "stop_place": [""],
            "stop_department": [""],
            "stop_time": [""],
        },
    ).get_data(as_text=True)
    assert 'data-field="stops"' in html and "at least one stop" in html
    html = web.post(
        f"/host/visits/{arrived.id}/tour",
        headers=HX,
        data={
            "title": "Plant tour",
            "stop_place": ["", "Lab"],
            "stop_department": ["Sales", ""],
            "stop_time": ["10:00", "nonsense"],
        },
    ).get_data(as_text=True)
    assert 'data-field="stops"' in html and "stop 1: place required" in html
    assert 'value="Sales"' in html and 'value="nonsense"' in html  # rows come back as typed
    assert db.session.scalar(db.select(db.func.count(Task.id))) == 0


def test_finishing_a_tour_that_never_started_is_refused_on_the_card(app, staff, arrived):
    tour = tasks.create(
        arrived.id,
        {
            "kind": "tour",
            "title": "T",
            "stops": [
                {"place": "Hall", "planned_at": (clock.utcnow() + timedelta(hours=1)).isoformat()}
            ],
        },
        staff["host"],
    )
    resp = signed_in(app).post(f"/host/tasks/{tour.id}/status", headers=HX, data={"status": "done"})
    assert resp.status_code == 200 and "cannot go from planned to done" in resp.get_data(
        as_text=True
    )
    assert db.session.get(Task, tour.id).status == "planned"


def test_requirements_are_recorded_and_escaped(app, staff, arrived):
    text = "Needs a quote for 40 units\n<script>alert(1)</script>"
    html = (
        signed_in(app)
        .post(f"/host/visits/{arrived.id}/requirements", headers=HX, data={"requirements": text})
        .get_data(as_text=True)
    )
    assert fresh(arrived.id).requirements == text
    assert "Needs a quote for 40 units" in html and "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_too_long_requirements_show_by_the_field(app, staff, arrived):
    html = (
        signed_in(app)
        .post(
            f"/host/visits/{arrived.id}/requirements", headers=HX, data={"requirements": "x" * 5001}
        )
        .get_data(as_text=True)
    )
    assert 'data-field="requirements"' in html and fresh(arrived.id).requirements == ""


def test_promised_answer_then_answered(app, staff, arrived):
    web = signed_in(app)
    html = web.post(
        f"/host/visits/{arrived.id}/follow-ups",
        headers=HX,
        data={
            "question": "Price for 40 units?",
            "deadline": "2031-05-02T17:00",
            "reply_method": "email",
        },
    ).get_data(as_text=True)
    fu = db.session.scalar(db.select(Task).where(Task.kind == "follow_up"))
    assert fu.status == "open" and fu.details["reply_method"] == "email"
    assert "Price for 40 units?" in html and "Open 待答复" in html
    html = web.post(
        f"/host/tasks/{fu.id}/status", headers=HX, data={"status": "answered", "answer": ""}
    ).get_data(as_text=True)
    assert 'data-field="answer"' in html and db.session.get(Task, fu.id).status == "open"
    html = web.post(
        f"/host/tasks/{fu.id}/status", headers=HX, data={"status": "answered", "answer": "€12 each"}
    ).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Task, fu.id).status == "answered" and "€12 each" in html


def test_promised_answer_needs_question_deadline_and_method(app, staff, arrived):
    html = (
        signed_in(app)
        .post(
            f"/host/visits/{arrived.id}/follow-ups",
            headers=HX,
            data={"question": "", "deadline": "someday", "reply_method": "pigeon"},
        )
        .get_data(as_text=True)
    )
    for field in ("question", "deadline", "reply_method"):
        assert f'data-field="{field}"' in html
    assert db.session.scalar(db.select(db.func.count(Task.id))) == 0


def test_farewell_shows_open_promises_then_checks_out_with_thanks(app, staff, arrived):
    tasks.create(
        arrived.id,
        {
            "kind": "follow_up",
            "question": "Delivery date?",
            "deadline": "2031-05-02T17:00",
            "reply_method": "phone",
        },
        staff["host"],
    )
    web = signed_in(app)
    html = web.get(f"/host/visits/{arrived.id}/farewell", headers=HX).get_data(as_text=True)
    assert 'class="open-follow-up"' in html and "Delivery date?" in html
    assert fresh(arrived.id).status == "checked_in"  # the confirmation step changes nothing
    html = web.post(
        f"/host/visits/{arrived.id}/farewell", headers=HX, data={"note": "walked to the lift"}
    ).get_data(as_text=True)
    visit = fresh(arrived.id)
    assert visit.status == "checked_out" and visit.state == "left"
    assert "Thank you — Ada Lovelace has been seen off" in html and "Still to answer" in html
    assert html.index('id="group-left"') < html.index("Ada Lovelace")
    assert any(
        t.kind == "farewell" and t.details["note"] == "walked to the lift" for t in visit.tasks
    )


def test_farewell_of_a_visitor_not_in_the_building_is_shown_not_a_500(app, staff, make_visit):
    visit = make_visit()
    resp = signed_in(app).post(f"/host/visits/{visit.id}/farewell", headers=HX)
    assert resp.status_code == 200 and "not in the building" in resp.get_data(as_text=True)
    assert fresh(visit.id).status == "expected"


def test_plain_post_without_htmx_redirects_back(app, staff, arrived):
    resp = signed_in(app).post(f"/host/visits/{arrived.id}/ack")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/host/")


@pytest.mark.parametrize(
    "method,path,data",
    [
        ("post", "/host/visits/{v}/ack", {}),
        ("post", "/host/visits/{v}/tea", {"count-1": "1"}),
        (
            "post",
            "/host/visits/{v}/tour",
            {"title": "T", "stop_place": "Hall", "stop_time": "15:00"},
        ),
        ("post", "/host/visits/{v}/requirements", {"requirements": "hacked"}),
        (
            "post",
            "/host/visits/{v}/follow-ups",
            {"question": "Q", "deadline": "2031-01-01T10:00", "reply_method": "email"},
        ),
        ("get", "/host/visits/{v}/farewell", {}),
        ("post", "/host/visits/{v}/farewell", {}),
        ("post", "/host/tasks/{t}/status", {"status": "served"}),
        ("post", "/host/tasks/{f}/status", {"status": "answered", "answer": "no"}),
    ],
)
def test_another_hosts_visitor_is_403_and_nothing_changes(
    app, staff, arrived, menu, method, path, data
):
    tea = tasks.create(
        arrived.id, {"kind": "tea", "items": [{"drink": "Coffee", "count": 1}]}, staff["host"]
    )
    fu = tasks.create(
        arrived.id,
        {
            "kind": "follow_up",
            "question": "Q?",
            "deadline": "2031-05-02T17:00",
            "reply_method": "phone",
        },
        staff["host"],
    )
    before = events()
    linus = signed_in(app, "linus@example.com")
    url = path.format(v=arrived.id, t=tea.id, f=fu.id)
    for headers in (HX, {}):
        resp = getattr(linus, method)(url, data=data, headers=headers)
        assert resp.status_code == 403, url
    assert events() == before
    visit = fresh(arrived.id)
    assert visit.status == "checked_in" and visit.acknowledged_at is None
    assert visit.requirements == "" and len(visit.tasks) == 2
    assert {t.status for t in visit.tasks} == {"requested", "open"}
    assert "Ada Lovelace" not in linus.get("/host/").get_data(as_text=True)


def test_reception_cannot_use_the_host_page(app, staff, arrived):
    web = app.test_client()
    login(web, "desk@example.com")
    assert web.get("/host/").status_code == 403


def test_unknown_visit_or_task_is_404(app, staff):
    web = signed_in(app)
    assert web.post("/host/visits/999/ack", headers=HX).status_code == 404
    assert (
        web.post("/host/tasks/999/status", headers=HX, data={"status": "done"}).status_code == 404
    )


def test_post_without_csrf_token_is_refused(app, staff, arrived):
    web = app.test_client()
    login(web, "grace@example.com")
    assert web.post(f"/host/visits/{arrived.id}/ack", headers=HX).status_code == 400
    assert fresh(arrived.id).acknowledged_at is None


def test_visitor_text_is_escaped_on_the_host_page(app, staff, make_visit):
    visit = make_visit("<img src=x onerror=alert(1)>", company="<b>Evil</b>")
    checkin.check_in(visit.code)
    tasks.create(
        visit.id,
        {
            "kind": "follow_up",
            "question": "<script>q()</script>",
            "deadline": "2031-05-02T17:00",
            "reply_method": "email",
        },
        staff["host"],
    )
    web = signed_in(app)
    for html in (
        web.get("/host/").get_data(as_text=True),
        web.get(f"/host/visits/{visit.id}/farewell", headers=HX).get_data(as_text=True),
    ):
        assert "<img src=x" not in html and "<b>Evil</b>" not in html
        assert "<script>q()" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html and "&lt;b&gt;Evil&lt;/b&gt;" in html
