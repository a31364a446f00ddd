"""The reception desk dashboard through the Flask test client and the real services:
visitors by state, the overdue warning, re-notify and fallback alerts, check-out,
the tea queue, walk-ins, the evacuation roster, and the admin drinks menu."""

import re
from datetime import timedelta

import pytest

from server.extensions import db
from server.models import PrintJob, Task, User, Visit, Visitor, utcnow
from server.services import checkin, clock, hosting, people, tasks
from tests.conftest import PASSWORD, csrf_from, login, on_menu, staff_socket

HX = {"HX-Request": "true"}


class Desk:
    """A signed-in browser-less client: ``get`` pages, ``post`` like htmx (CSRF header)."""

    def __init__(self, app, email="desk@example.com"):
        self.web = app.test_client()
        login(self.web, email)
        self.token = csrf_from(self.web.get("/login", follow_redirects=True).get_data(as_text=True))

    def get(self, url, htmx=False):
        return self.web.get(url, headers=HX if htmx else {})

    def html(self, url, htmx=False):
        return self.get(url, htmx).get_data(as_text=True)

    def post(self, url, data=None, htmx=True):
        headers = {**HX, "X-CSRFToken": self.token} if htmx else {}
        body = dict(data or {})
        if not htmx:
            body["csrf_token"] = self.token
        return self.web.post(url, data=body, headers=headers)


def received(sock, name):
    return [m["args"][0] for m in sock.get_received() if m["name"] == name]


def row(html, visit_id):
    """The board row of one visit (its <li> ... </li>)."""
    match = re.search(rf'<li class="row[^"]*" data-visit-id="{visit_id}".*?</li>', html, re.S)
    assert match, f"no row for visit {visit_id}"
    return match.group(0)


@pytest.fixture
def arrived(app, staff, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code)
    return visit


@pytest.fixture
def tea_menu(app):
    on_menu("Green tea", "绿茶")
    on_menu("Coffee", "咖啡")


def test_reception_routes_are_forbidden_to_a_host(app, staff, arrived):
    host = Desk(app, "grace@example.com")
    for url in [
        "/reception/",
        "/reception/roster",
        "/reception/hosts?host_q=a",
        "/reception/?part=tea",
    ]:
        assert host.get(url).status_code == 403, url
    for url in [
        f"/reception/visits/{arrived.id}/renotify",
        f"/reception/visits/{arrived.id}/checkout",
        "/reception/walk-ins",
        "/reception/tasks/1/served",
        f"/reception/visits/{arrived.id}/badge",
    ]:
        assert host.post(url, {"name": "X", "host_id": staff["host"].id}).status_code == 403, url
    db.session.rollback()
    assert db.session.get(Visit, arrived.id).status == "checked_in"
    assert db.session.scalar(db.select(db.func.count(Visit.id))) == 1


def test_desk_posts_without_csrf_are_refused(app, staff, arrived):
    desk = Desk(app)
    resp = desk.web.post(f"/reception/visits/{arrived.id}/checkout", headers=HX)
    assert resp.status_code == 400 and "expired" in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Visit, arrived.id).status == "checked_in"


def test_board_shows_each_state_with_counts(app, staff, make_visit):
    expected = make_visit("Eve Expected")
    waiting = make_visit("Wendy Waiting")
    with_host = make_visit("Hank Hosted")
    touring = make_visit("Tom Tour")
    gone = make_visit("Lea Left")
    for v in (waiting, with_host, touring, gone):
        checkin.check_in(v.code)
    hosting.acknowledge(with_host.id, staff["host"])
    tour = tasks.create(
        touring.id,
        {"kind": "tour", "stops": [{"place": "Showroom"}], "starts_at": clock.iso(utcnow())},
        staff["host"],
    )
    tasks.update(tour.id, {"status": "in_progress"}, staff["host"])
    checkin.check_out(gone.code)

    html = Desk(app).html("/reception/", htmx=True)
    assert "<html" not in html
    for visit, state in [
        (expected, "expected"),
        (waiting, "waiting"),
        (with_host, "with_host"),
        (touring, "on_tour"),
        (gone, "left"),
    ]:
        assert f'data-state="{state}"' in row(html, visit.id), state
    counts = dict(
        (k, int(n)) for k, n in re.findall(r'<div class="count (\w+)[^"]*"><b>(\d+)</b>', html)
    )
    assert counts == {
        "expected": 1,
        "waiting": 1,
        "with_host": 1,
        "on_tour": 1,
        "onsite": 3,
        "left": 1,
    }
    assert "On tour 参观中: Showroom" in row(html, touring.id)
    assert "Re-notify host" in row(html, waiting.id) and "Re-notify host" not in row(
        html, with_host.id
    )


def test_waiting_row_turns_to_an_overdue_warning_after_ack_warning_minutes(app, staff, make_visit):
    late, fresh = make_visit("Larry Late"), make_visit("Fiona Fresh")
    checkin.check_in(late.code)
    checkin.check_in(fresh.code)
    limit = app.config["ACK_WARNING_MINUTES"]
    db.session.get(Visit, late.id).checked_in_at = utcnow() - timedelta(minutes=limit + 2)
    db.session.commit()

    html = Desk(app).html("/reception/", htmx=True)
    late_row, fresh_row = row(html, late.id), row(html, fresh.id)
    assert 'data-overdue="true"' in late_row and "overdue" in late_row.split(">")[0]
    assert "Overdue 超时" in late_row and f"{limit + 2}</b> min" in late_row
    assert "data-overdue" not in fresh_row and "0</b> min" in fresh_row
    assert "1 overdue" in html  # the waiting count tile says so too
    # The page polls its board, so the minutes move without a reload.
    page = Desk(app).html("/reception/")
    assert re.search(r'id="board"[^>]*hx-trigger="[^"]*every 30s', page)


def test_renotify_alerts_the_host_again_on_their_socket(app, staff, arrived):
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    resp = Desk(app).post(f"/reception/visits/{arrived.id}/renotify")
    assert resp.status_code == 200 and resp.headers.get("HX-Trigger") == "lobby:refresh"
    assert "Grace Hopper notified again" in resp.get_data(as_text=True)
    alerts = received(grace, "visitor_arrived")
    assert len(alerts) == 1 and alerts[0]["renotified"] is True
    assert alerts[0]["visit_id"] == arrived.id and alerts[0]["by"] == "Rita Desk"
    db.session.rollback()
    assert db.session.get(Visit, arrived.id).renotified_at is not None
    assert "re-notified" in row(Desk(app).html("/reception/", htmx=True), arrived.id)


def test_fallback_alert_reaches_the_fallback_contacts_room(app, staff, arrived):
    lee = people.create_user("lee@example.com", "Lee Fallback", ["host"], PASSWORD)
    db.session.get(User, staff["host"].id).fallback_contact_id = lee.id
    db.session.commit()
    lee_sock, grace = staff_socket(app, "lee@example.com"), staff_socket(app, "grace@example.com")
    lee_sock.get_received(), grace.get_received()
    resp = Desk(app).post(f"/reception/visits/{arrived.id}/renotify", {"fallback": "1"})
    text = resp.get_data(as_text=True)
    assert "Fallback contact Lee Fallback alerted" in text and 'role="status"' in text
    alerts = received(lee_sock, "visitor_arrived")
    assert len(alerts) == 1 and alerts[0]["renotified"] and alerts[0]["for_host"] == "Grace Hopper"
    assert received(grace, "visitor_arrived") == []  # the fallback, not the host again


def test_fallback_refusal_is_shown_when_the_host_has_none(app, staff, arrived):
    desk = Desk(app)
    resp = desk.post(f"/reception/visits/{arrived.id}/renotify", {"fallback": "1"})
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'role="alert"' in text and "notice-error" in text
    assert "Grace Hopper has no fallback contact" in text and "未设置备用联系人" in text
    assert "HX-Trigger" not in resp.headers
    # Without htmx: the whole page, the refusal on it, and a 409.
    resp = desk.post(f"/reception/visits/{arrived.id}/renotify", {"fallback": "1"}, htmx=False)
    assert resp.status_code == 409 and "has no fallback contact" in resp.get_data(as_text=True)


def test_renotify_of_a_visitor_not_waiting_is_a_clear_message(app, staff, make_visit):
    visit = make_visit()
    resp = Desk(app).post(f"/reception/visits/{visit.id}/renotify")
    assert "Could not notify: the visitor is not waiting" in resp.get_data(as_text=True)
    resp = Desk(app).post("/reception/visits/99999/renotify")
    assert resp.status_code == 200 and "no visit 99999" in resp.get_data(as_text=True)


def test_check_out_from_the_desk_in_one_click(app, staff, arrived):
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    resp = Desk(app).post(f"/reception/visits/{arrived.id}/checkout")
    assert "Ada Lovelace checked out" in resp.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Visit, arrived.id).status == "checked_out"
    assert received(grace, "visitor_left")
    html = Desk(app).html("/reception/", htmx=True)
    assert 'data-state="left"' in row(html, arrived.id)


def test_walk_in_without_a_host_is_refused_next_to_the_field_and_writes_nothing(app, staff):
    desk = Desk(app)
    resp = desk.post(
        "/reception/walk-ins",
        {
            "name": "Walter Walkin",
            "company": "Acme",
            "phone": "+1 555 0100",
            "host_q": "",
            "host_id": "",
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<p class="field-error" data-field="host">' in html
    assert "no customer-service account" in html and "请选择接待人" in html
    assert 'value="Walter Walkin"' in html  # what was typed is kept
    assert "HX-Trigger" not in resp.headers
    # A host id that is no user is the same refusal.
    resp = desk.post("/reception/walk-ins", {"name": "Walter Walkin", "host_id": "9999"})
    assert 'data-field="host"' in resp.get_data(as_text=True)
    resp = desk.post("/reception/walk-ins", {"name": "Walter", "host_id": ""}, htmx=False)
    assert resp.status_code == 422 and 'data-field="host"' in resp.get_data(as_text=True)
    db.session.rollback()
    for model in (Visit, Visitor, PrintJob):
        assert db.session.scalar(db.select(db.func.count(model.id))) == 0, model


def test_walk_in_field_errors_keep_the_chosen_host(app, staff):
    resp = Desk(app).post(
        "/reception/walk-ins", {"name": "", "phone": "call me", "host_id": str(staff["host"].id)}
    )
    html = resp.get_data(as_text=True)
    assert 'data-field="name"' in html and 'data-field="phone"' in html
    assert 'data-field="host"' not in html
    assert re.search(rf'value="{staff["host"].id}" checked', html)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Visit.id))) == 0


def test_walk_in_with_a_host_checks_in_notifies_and_queues_a_badge(app, staff):
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    resp = Desk(app).post(
        "/reception/walk-ins",
        {
            "name": "Walter Walkin",
            "company": "Acme",
            "phone": "+1 555 0100",
            "host_id": str(staff["host"].id),
        },
    )
    html = resp.get_data(as_text=True)
    assert (
        "Checked in <strong>Walter Walkin</strong>" in html
        and "Grace Hopper has been notified" in html
    )
    assert 'value="Walter Walkin"' not in html  # a fresh form for the next visitor
    assert resp.headers.get("HX-Trigger") == "lobby:refresh"
    db.session.rollback()
    visit = db.session.scalar(db.select(Visit))
    assert (visit.status, visit.walk_in, visit.host_id) == ("checked_in", True, staff["host"].id)
    assert (visit.visitor.company, visit.visitor.phone) == ("Acme", "+1 555 0100")
    assert visit.created_by_id == staff["reception"].id
    jobs = db.session.scalars(db.select(PrintJob).where(PrintJob.visit_id == visit.id)).all()
    assert len(jobs) == 1
    alerts = received(grace, "visitor_arrived")
    assert alerts and alerts[0]["visitor"]["name"] == "Walter Walkin"
    board = Desk(app).html("/reception/", htmx=True)
    assert 'data-state="waiting"' in row(board, visit.id) and "walk-in" in row(board, visit.id)


def test_host_search_offers_matching_staff_to_choose(app, staff):
    desk = Desk(app)
    html = desk.html("/reception/hosts?host_q=grace", htmx=True)
    assert f'name="host_id" value="{staff["host"].id}"' in html and "Grace Hopper" in html
    assert "Linus" not in html
    assert " checked" in html  # the only match is chosen
    html = desk.html("/reception/hosts?host_q=%3Cb%3Enobody", htmx=True)
    assert "No one matches" in html and "&lt;b&gt;nobody" in html and "<b>nobody" not in html
    # A new search keeps the host already chosen.
    html = desk.html(f"/reception/hosts?host_q=linus&host_id={staff['host'].id}", htmx=True)
    assert re.search(rf'value="{staff["host"].id}" checked', html) and "Linus T" in html


def test_tea_queue_lists_open_requests_and_served_records_who(app, staff, arrived, tea_menu):
    db.session.get(Visit, arrived.id).meeting_room = "Room Pascal"
    db.session.commit()
    task = tasks.create(
        arrived.id,
        {
            "kind": "tea",
            "items": [{"drink": "Green tea", "count": 2}, {"drink": "Coffee", "count": 1}],
            "note": "no sugar",
        },
        staff["host"],
    )
    desk = Desk(app)
    html = desk.html("/reception/?part=tea", htmx=True)
    card = re.search(rf'<li class="tea-card" data-task-id="{task.id}">.*?</li>', html, re.S).group(
        0
    )
    for text in [
        "<b>2 ×</b> Green tea",
        "绿茶",
        "<b>1 ×</b> Coffee",
        "no sugar",
        "Ada Lovelace",
        "Analytical Engines",
        "Grace Hopper",
        "Room Pascal",
        "Served 已上茶",
    ]:
        assert text in card, text
    assert 'data-open="1"' in html

    desk_sock = staff_socket(app, "desk@example.com")
    desk_sock.get_received()
    resp = desk.post(f"/reception/tasks/{task.id}/served")
    assert "Tea served by Rita Desk" in resp.get_data(as_text=True)
    db.session.rollback()
    served = db.session.get(Task, task.id)
    assert (served.status, served.done_by_id) == ("served", staff["reception"].id)
    assert served.done_at is not None
    assert received(desk_sock, "task_updated")[-1]["task"]["done_by"] == "Rita Desk"
    html = desk.html("/reception/?part=tea", htmx=True)
    assert 'data-open="0"' in html and "No tea requested" in html
    assert re.search(r'data-status="served">.*served by Rita Desk', html, re.S)
    # Serving it again changes nothing and says so plainly; a non-tea task is refused.
    assert "Tea served" in desk.post(f"/reception/tasks/{task.id}/served").get_data(as_text=True)
    assert "no task 4242" in desk.post("/reception/tasks/4242/served").get_data(as_text=True)


def test_roster_lists_a_visitor_on_tour_with_the_stops_and_prints_cleanly(
    app, staff, arrived, make_visit
):
    other = make_visit("Bea Lobby", company="Lobby Co")
    checkin.check_in(other.code)
    tour = tasks.create(
        arrived.id,
        {
            "kind": "tour",
            "starts_at": clock.iso(utcnow()),
            "stops": [{"place": "Showroom", "department": "Sales"}, {"place": "Assembly line"}],
        },
        staff["host"],
    )
    tasks.update(tour.id, {"status": "in_progress"}, staff["host"])

    desk = Desk(app)
    page = desk.html("/reception/roster")
    assert "2 visitors on site" in page and 'class="roster-time"' in page
    ada = re.search(rf'<tr data-visit-id="{arrived.id}">.*?</tr>', page, re.S).group(0)
    assert "On tour 参观中: Showroom, Assembly line" in ada and "Grace Hopper" in ada
    bea = re.search(rf'<tr data-visit-id="{other.id}">.*?</tr>', page, re.S).group(0)
    assert "Lobby 大堂" in bea and "Lobby Co" in bea
    assert "data-print" in page and "/static/css/reception.css" in page  # lobby.js prints
    css = app.test_client().get("/static/css/reception.css").get_data(as_text=True)
    print_css = css[css.index("@media print") :]
    assert re.search(r"\.topbar, nav,[^{]*button[^{]*\{ display: none !important", print_css)
    assert "@page { size: A4" in css and "color: #000" in print_css
    # The live-refreshed part of the roster carries no nav and no buttons.
    part = desk.html("/reception/roster", htmx=True)
    assert "<nav" not in part and "<button" not in part and "2 visitors on site" in part


def test_visitor_text_is_escaped_on_the_desk_and_roster(app, staff, make_visit, tea_menu):
    visit = make_visit("<script>alert(1)</script>", company="<img src=x onerror=alert(2)>")
    checkin.check_in(visit.code)
    tasks.create(
        visit.id,
        {"kind": "tea", "items": [{"drink": "Coffee", "count": 1}], "note": "<b>bold</b>"},
        staff["host"],
    )
    desk = Desk(app)
    for url in ["/reception/", "/reception/roster"]:
        html = desk.html(url)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html, url
        assert "<img src=x" not in html and "<b>bold</b>" not in html, url


def test_admin_adds_drinks_with_chinese_names_and_sees_errors(app, staff):
    admin = Desk(app, "admin@example.com")
    assert "Drinks menu" in admin.html("/admin/")
    resp = admin.post("/admin/drinks", {"name": "Oolong", "name_zh": "乌龙茶"})
    html = resp.get_data(as_text=True)
    assert "Added Oolong" in html and 'data-drink="Oolong"' in html and "乌龙茶" in html
    html = admin.post("/admin/drinks", {"name": "Oolong", "name_zh": ""}).get_data(as_text=True)
    assert 'data-field="name"' in html and "Oolong is on the menu already" in html
    html = admin.post("/admin/drinks", {"name": "  ", "name_zh": "水"}).get_data(as_text=True)
    assert 'data-field="name"' in html and "needs a name" in html and 'value="水"' in html
    resp = admin.post("/admin/drinks", {"name": "", "name_zh": ""}, htmx=False)
    assert resp.status_code == 422 and 'data-field="name"' in resp.get_data(as_text=True)
    assert "Oolong" in [d.name for d in tasks.menu()]
    assert Desk(app).post("/admin/drinks", {"name": "Beer"}).status_code == 403
