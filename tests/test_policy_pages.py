"""Issue 14's pages through real forms (Flask test client, CSRF tokens from the pages):
the request form priced live and refused field by field, the decision form, the
arrangement form, the print view and its PDF, the approvals count in the navigation."""

import re
from datetime import timedelta

from server.policy import rooms
from server.services import clock
from tests.conftest import csrf_from, login
from tests.test_policy_requests import office  # noqa: F401  (fixture)


def local(days: float) -> str:
    return (clock.to_local(clock.utcnow()) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def browser(app, email):
    web = app.test_client()
    login(web, email)
    return web


def post(web, url, page, data):
    token = csrf_from(web.get(page).get_data(as_text=True))
    return web.post(url, data={"csrf_token": token, **data})


def form() -> dict:
    return {
        "company": "华为技术",
        "star_level": "4",
        "background": "Key account",
        "purpose": "Contract talks",
        "arrives_at": local(5),
        "departs_at": local(5.3),
        "attendees": "3",
        "visitor-0-name": "张伟",
        "visitor-0-title": "VP",
        "visitor-1-name": "Ada Lovelace",
        "item-0-kind": "meal",
        "item-0-quantity": "6",
        "materials": "flags",
    }


def test_file_a_request_on_the_form_and_decide_it_on_its_page(app, office):  # noqa: F811
    rita = browser(app, "rita@example.com")
    page = rita.get("/requests/new").get_data(as_text=True)
    assert "客户招待申请表" in page and "★★★★" in page
    est = post(rita, "/requests/estimate", "/requests/new", form()).get_data(as_text=True)
    assert "¥912.00" in est  # 6 meals x 152 at four stars
    bad = post(
        rita,
        "/requests/new",
        "/requests/new",
        {**form(), "item-0-amount": "5000", "visitor-0-email": "nope"},
    )
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="items.0.amount"' in html and 'data-field="visitors.0.email"' in html
    assert 'value="张伟"' in html  # what was typed stays
    r = post(rita, "/requests/new", "/requests/new", form())
    assert r.status_code == 303
    url = r.headers["Location"]
    rid = int(url.rsplit("/", 1)[1])
    shown = rita.get(url).get_data(as_text=True)
    assert "华为技术" in shown and "Department head 部门负责人" in shown and "¥912.00" in shown
    assert 'id="decision-form"' not in shown  # not Rita's to decide

    grace = browser(app, "grace@example.com")
    nav = grace.get("/approvals").get_data(as_text=True)
    assert re.search(r'id="approvals-count">1<', nav) and f'data-request="{rid}"' in nav
    assert 'id="decision-form"' in grace.get(url).get_data(as_text=True)
    refused = post(grace, f"/requests/{rid}/decision", url, {"decision": "reject", "comment": ""})
    assert refused.status_code == 422 and 'data-field="comment"' in refused.get_data(as_text=True)
    assert post(grace, f"/requests/{rid}/decision", url, {"decision": "approve"}).status_code == 303
    assert 'id="approvals-count"' not in grace.get("/approvals").get_data(as_text=True)

    mark = browser(app, "mark@example.com")
    r = post(
        mark,
        f"/requests/{rid}/decision",
        url,
        {"decision": "return", "comment": "Add the dinner", "venue": "Room 3"},
    )
    assert r.status_code == 303
    edit = rita.get(f"/requests/{rid}/edit").get_data(as_text=True)
    assert 'value="张伟"' in edit
    r = post(
        rita,
        f"/requests/{rid}/edit",
        f"/requests/{rid}/edit",
        {**form(), "item-0-quantity": "9", "resubmit": "1"},
    )
    assert r.status_code == 303
    shown = rita.get(url).get_data(as_text=True)
    assert "¥1368.00" in shown and "Waiting 审批中" in shown


def test_arrangement_form_print_view_and_pdf(app, office):  # noqa: F811
    rooms.add_room("Room 3", 8, projector=True)
    rita = browser(app, "rita@example.com")
    rid = int(
        post(rita, "/requests/new", "/requests/new", form()).headers["Location"].rsplit("/", 1)[1]
    )
    url = f"/requests/{rid}"
    sheet = {
        "receiving_staff": "Rita, 李娜",
        "attendees": "3",
        "visitors": "2",
        "background": "Key account",
        "arrives_at": local(5),
        "departs_at": local(5.3),
        "room": "Room 3",
        "stop-0-place": "Assembly line",
        "stop-0-department": "Production",
        "stop-0-at": local(5.1),
        "welcome_banner": "热烈欢迎",
        "materials": "flags",
    }
    bad = post(rita, f"{url}/arrangement", url, {**sheet, "attendees": "lots", "stop-0-at": ""})
    assert bad.status_code == 422
    assert 'data-field="attendees"' in bad.get_data(as_text=True)
    assert post(rita, f"{url}/arrangement", url, sheet).status_code == 303
    shown = rita.get(url).get_data(as_text=True)
    assert "Complete 已完整" in shown and "Room 3" in shown
    printed = rita.get(f"{url}/arrangement").get_data(as_text=True)
    assert "客户接待安排表" in printed and "热烈欢迎" in printed and "Assembly line" in printed
    assert "data-print" in printed and "@page" not in printed  # print CSS lives in lobby.css
    pdf = rita.get(f"{url}/arrangement.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    linus = browser(app, "linus@example.com")
    assert linus.get(url).status_code == 404
    assert linus.get(f"{url}/arrangement.pdf").status_code == 404


def test_request_list_marks_overdue_sheets_red(app, office):  # noqa: F811
    rita = browser(app, "rita@example.com")
    soon = {**form(), "arrives_at": local(0.5), "departs_at": local(0.6)}
    post(rita, "/requests/new", "/requests/new", soon)
    post(rita, "/requests/new", "/requests/new", form())
    listing = rita.get("/requests").get_data(as_text=True)
    assert listing.count('class="overdue"') == 1 and "Overdue 逾期未提交" in listing
    assert (
        browser(app, "linus@example.com")
        .get("/requests")
        .get_data(as_text=True)
        .count("data-request=")
        == 0
    )
    assert app.test_client().get("/requests").status_code == 302


def test_the_visit_knows_its_request_on_the_host_card_and_the_reception_board(app, office, client):  # noqa: F811
    from tests.conftest import auth, soon_today
    from tests.test_policy_arrangements import sheet
    from tests.test_policy_requests import body, when

    rooms.add_room("Room 3", 8)
    h = auth(office["rita"])
    arrives = soon_today(14).isoformat() + "+00:00"  # today: the card shows today's visits
    rid = client.post(
        "/api/v1/requests", json=body(arrives_at=arrives, departs_at=when(0.2)), headers=h
    ).get_json()["id"]
    tour = [{"place": "Assembly line 2", "department": "Production", "at": when(0.05)}]
    client.put(
        f"/api/v1/requests/{rid}/arrangement",
        json=sheet(arrives_at=arrives, departs_at=when(0.2), tour=tour),
        headers=h,
    )
    plan = {"schedule": "10:00 talks, 12:00 lunch", "venue": "Room 3", "dining": "VIP room"}
    for who in ("grace", "mark", "fay", "gus"):
        client.post(
            f"/api/v1/requests/{rid}/decision",
            json={"decision": "approve", "plan": plan if who == "mark" else None},
            headers=auth(office[who]),
        )
    host = browser(app, "rita@example.com").get("/host/").get_data(as_text=True)
    card = host[host.index('class="request-facts"') :][:1200]
    assert (
        "★★★★" in card and "Room 3" in card and "10:00 talks" in card and "Assembly line 2" in card
    )
    mine = host[host.index('id="my-requests"') :][:1500]
    assert "华为技术" in mine and "Approved 已批准" in mine
    desk = browser(app, "desk@example.com").get("/reception/").get_data(as_text=True)
    assert desk.count('class="request-facts"') == 2 and "Room 3" in desk
