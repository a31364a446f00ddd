"""Reception checks in by hand (issue 11 item 1) and bookings that span days or hold
a group (item 3): through the real services, the reception routes and the API."""

from datetime import date, timedelta

import pytest

from server.extensions import db
from server.models import DeskRequest, PrintJob, Signature, Visit, utcnow
from server.services import checkin, clock, hosting, rules, visits
from server.services.errors import CheckInError, ValidationError
from tests.conftest import auth, on_menu, staff_socket
from tests.test_kiosk import paired_kiosk, scan
from tests.test_reception_desk import Desk, received, row


def local_today() -> date:
    return clock.to_local(utcnow()).date()


def days_from_now(days: int) -> str:
    """A time on the local day ``days`` from today, at noon local."""
    day = local_today() + timedelta(days=days)
    return f"{day.isoformat()}T12:00:00"


def badges(visit_id: int) -> int:
    db.session.rollback()
    return db.session.query(PrintJob).filter_by(visit_id=visit_id).count()


def test_reception_checks_in_an_expected_visitor_with_one_click(app, staff, make_visit):
    visit = make_visit(name="张伟")
    host_sock = staff_socket(app, "grace@example.com")
    host_sock.get_received()
    desk = Desk(app)
    board = desk.html("/reception")
    assert "Check in 签到" in row(board, visit.id)
    answer = desk.post(f"/reception/visits/{visit.id}/checkin").get_data(as_text=True)
    assert "张伟 checked in 已签到" in answer
    db.session.expire_all()
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "checked_in"
    assert visit.checked_in_by_id == staff["reception"].id
    assert badges(visit.id) == 1
    arrivals = received(host_sock, "visitor_arrived")
    assert [a["visitor"]["name"] for a in arrivals] == ["张伟"]
    # A second click is the same check-in: no second badge, no second alert.
    desk.post(f"/reception/visits/{visit.id}/checkin")
    assert badges(visit.id) == 1
    assert received(host_sock, "visitor_arrived") == []


def test_a_host_cannot_use_the_desk_check_in(app, staff, make_visit):
    visit = make_visit()
    host = Desk(app, "grace@example.com")
    assert host.post(f"/reception/visits/{visit.id}/checkin").status_code == 403
    assert db.session.get(Visit, visit.id).status == "expected"


def test_cancelled_visitor_is_turned_away_at_the_kiosk_and_reception_is_asked(
    app, staff, make_visit
):
    visit = make_visit(name="Ada Lovelace")
    with db.session.begin_nested():
        db.session.get(Visit, visit.id).status = "cancelled"
    db.session.commit()
    kiosk, _ = paired_kiosk(app)
    html = scan(kiosk, visit.code).get_data(as_text=True)
    assert "cancelled" in html
    scan(kiosk, visit.code)  # scanned twice: one request
    db.session.rollback()
    asks = db.session.query(DeskRequest).filter_by(kind="turned_away").all()
    assert [(r.visit_id, r.details["reason"]) for r in asks] == [(visit.id, "cancelled")]
    desk = Desk(app)
    panel = desk.html("/reception")
    assert "Turned away at the kiosk" in panel and "Let in 准许进入" in panel


def test_reception_lets_a_turned_away_visitor_in_only_with_a_reason(app, staff, make_visit):
    visit = make_visit(when=utcnow() + timedelta(days=3))
    desk = Desk(app)
    refused = desk.post(f"/reception/visits/{visit.id}/checkin").get_data(as_text=True)
    assert "another day" in refused and 'role="alert"' in refused
    assert db.session.get(Visit, visit.id).status == "expected"
    req = DeskRequest(kind="turned_away", visit_id=visit.id, details={"reason": "not_today"})
    db.session.add(req)
    db.session.commit()
    ok = desk.post(
        f"/reception/visits/{visit.id}/checkin",
        {"reason": "Came early for the audit", "desk_request_id": str(req.id)},
    )
    assert "Let in: Came early for the audit" in ok.get_data(as_text=True)
    db.session.expire_all()
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "checked_in"
    assert (visit.admit_reason, visit.admitted_by_id) == (
        "Came early for the audit",
        staff["reception"].id,
    )
    assert db.session.get(DeskRequest, req.id).status == "done"
    assert badges(visit.id) == 1


def test_a_cancelled_visit_let_in_keeps_who_cancelled_and_who_let_in(app, staff, make_visit):
    visit = make_visit()
    with db.session.begin_nested():
        v = db.session.get(Visit, visit.id)
        v.status, v.cancel_reason = "cancelled", "Meeting moved"
    db.session.commit()
    with pytest.raises(CheckInError) as refused:
        hosting.check_in_at_desk(visit.id, staff["reception"])
    assert refused.value.code == "cancelled"
    hosting.check_in_at_desk(visit.id, staff["reception"], reason="Host asked to see them anyway")
    db.session.expire_all()
    v = db.session.get(Visit, visit.id)
    assert (v.status, v.cancel_reason, v.admit_reason) == (
        "checked_in",
        "Meeting moved",
        "Host asked to see them anyway",
    )


def test_unsigned_site_rules_block_the_desk_check_in_until_signed_on_paper(app, staff, make_visit):
    rules.publish("Wear the badge.", "请佩戴访客证。", staff["admin"])
    visit = make_visit(name="José Müller")
    desk = Desk(app)
    assert "Rules signed on paper" in row(desk.html("/reception"), visit.id)
    answer = desk.post(f"/reception/visits/{visit.id}/checkin").get_data(as_text=True)
    assert "has not signed the site rules" in answer
    assert db.session.get(Visit, visit.id).status == "expected"
    desk.post(f"/reception/visits/{visit.id}/checkin", {"paper_rules": "1"})
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "checked_in"
    signature = db.session.query(Signature).filter_by(visit_id=visit.id).one()
    assert signature.on_paper and signature.image_png is None
    assert signature.witnessed_by_id == staff["reception"].id
    board = desk.html("/reception")
    assert "on paper 纸质签署" in board and "Rita Desk" in row(board, visit.id)
    # The signature covers the next visit: the kiosk would not ask again.
    again = make_visit(name="José Müller")
    assert rules.needs_signature(again) is None


def test_desk_walk_in_with_rules_records_paper_or_hands_the_step_to_the_kiosk(app, staff):
    rules.publish("Wear the badge.", "请佩戴访客证。", staff["admin"])
    desk = Desk(app)
    host_id = str(staff["host"].id)
    missing = desk.post("/reception/walk-ins", {"name": "Walk In", "host_id": host_id})
    assert "Say how the visitor signs the site rules" in missing.get_data(as_text=True)
    assert db.session.query(Visit).count() == 0  # nothing half-written
    desk.post(
        "/reception/walk-ins", {"name": "Paper Person", "host_id": host_id, "rules_step": "paper"}
    )
    paper = db.session.query(Visit).join(Visit.visitor).filter_by(name="Paper Person").one()
    assert paper.status == "checked_in"
    assert db.session.query(Signature).filter_by(visit_id=paper.id, on_paper=True).count() == 1
    at_kiosk = desk.post(
        "/reception/walk-ins", {"name": "Kiosk Person", "host_id": host_id, "rules_step": "kiosk"}
    ).get_data(as_text=True)
    assert "scan this code at the kiosk" in at_kiosk and 'src="data:image/png;base64,' in at_kiosk
    later = db.session.query(Visit).join(Visit.visitor).filter_by(name="Kiosk Person").one()
    assert later.status == "expected" and later.walk_in
    # At the kiosk that code asks for the rules (the desk did not sign for them).
    kiosk, _ = paired_kiosk(app)
    screen = scan(kiosk, later.code).get_data(as_text=True)
    assert "请佩戴访客证" in screen or "Wear the badge" in screen


def test_a_multi_day_visit_checks_in_and_out_each_day_until_valid_until(app, staff):
    visit = visits.pre_register(
        {"name": "Auditor Ng"},
        "grace@example.com",
        days_from_now(-1),
        "Audit",
        valid_until=days_from_now(1)[:10],
    )
    assert visit.valid_until == local_today() + timedelta(days=1)
    # Yesterday's arrival and departure, as if it had happened then.
    with db.session.begin_nested():
        v = db.session.get(Visit, visit.id)
        v.status = "checked_out"
        v.checked_in_at = utcnow() - timedelta(days=1, hours=2)
        v.checked_out_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert visits.state_today(db.session.get(Visit, visit.id)) == "expected"
    assert visit.id in [v.id for v in visits.today()]
    first = checkin.check_in(visit.code)
    assert first.created and first.visit.status == "checked_in"
    assert checkin.check_out(visit.code).visit.status == "checked_out"
    # Left today: the same code does not arrive again today.
    with pytest.raises(CheckInError) as again:
        checkin.check_in(visit.code)
    assert again.value.code == "already_checked_out"


def test_a_multi_day_visit_is_refused_after_its_last_day(app, staff):
    visit = visits.pre_register(
        {"name": "Late Larry"},
        "grace@example.com",
        days_from_now(-3),
        "Audit",
        valid_until=days_from_now(-1)[:10],
    )
    with pytest.raises(CheckInError) as refused:
        checkin.check_in(visit.code)
    assert refused.value.code == "not_today"


def test_valid_until_before_the_expected_day_is_refused_by_field(app, staff):
    with pytest.raises(ValidationError) as bad:
        visits.pre_register(
            {"name": "X"},
            "grace@example.com",
            days_from_now(2),
            "",
            valid_until=days_from_now(1)[:10],
        )
    assert "valid_until" in bad.value.fields
    assert db.session.query(Visit).count() == 0


def test_api_books_a_group_each_with_own_code_and_reception_sees_it_together(
    app, staff, tokens, client
):
    body = {
        "visitors": [
            {"name": "张伟", "company": "华为"},
            {"name": "李娜", "company": "华为"},
            {"name": "Ada Lovelace", "company": "华为"},
        ],
        "group": "华为 delegation",
        "host": "grace@example.com",
        "expected_at": days_from_now(0),
        "purpose": "Plant tour",
        "valid_until": days_from_now(1)[:10],
    }
    resp = client.post("/api/v1/visits", json=body, headers=auth(tokens["admin"]))
    assert resp.status_code == 201, resp.get_json()
    data = resp.get_json()
    assert data["group"]["name"] == "华为 delegation" and data["group"]["size"] == 3
    codes = [v["code"] for v in data["visits"]]
    assert len(set(codes)) == 3
    desk = Desk(app)
    board = desk.html("/reception")
    box = board[board.index(f'data-group-id="{data["group"]["id"]}"') :]
    box = box[: box.index("</ul>")]
    assert all(name in box for name in ("张伟", "李娜", "Ada Lovelace"))
    desk.post(f"/reception/groups/{data['group']['id']}/checkin")
    db.session.expire_all()
    assert {db.session.get(Visit, v["id"]).status for v in data["visits"]} == {"checked_in"}
    assert sum(badges(v["id"]) for v in data["visits"]) == 3


def test_a_group_with_one_bad_member_writes_nothing(app, staff, tokens, client):
    body = {
        "visitors": [{"name": "Good"}, {"name": "", "email": "not-an-email"}],
        "host": "grace@example.com",
    }
    resp = client.post("/api/v1/visits", json=body, headers=auth(tokens["admin"]))
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert set(fields) == {"visitors.1.name", "visitors.1.email"}
    assert db.session.query(Visit).count() == 0


def test_waiting_list_puts_the_longest_wait_first(app, staff, make_visit):
    early, late = make_visit(name="Early Bird"), make_visit(name="Late Comer")
    checkin.check_in(late.code)
    checkin.check_in(early.code)
    with db.session.begin_nested():  # Late Comer arrived 20 minutes before Early Bird
        db.session.get(Visit, late.id).checked_in_at = utcnow() - timedelta(minutes=20)
    db.session.commit()
    board = Desk(app).html("/reception")
    assert board.index("Late Comer") < board.index("Early Bird")


def test_reception_sees_the_hosts_phone_and_the_tea_queue_the_hosts_desk(app, staff, make_visit):
    from server.services import tasks

    with db.session.begin_nested():
        host = db.session.get(type(staff["host"]), staff["host"].id)
        host.phone, host.department = "+86 21 5555 0101", "Sales"
    db.session.commit()
    visit = make_visit()
    checkin.check_in(visit.code)
    desk = Desk(app)
    assert 'href="tel:+862155550101"' in row(desk.html("/reception"), visit.id)
    on_menu("Green tea", "绿茶")
    tasks.create(
        visit.id, {"kind": "tea", "items": [{"drink": "Green tea", "count": 1}]}, staff["host"]
    )
    hosting.acknowledge(visit.id, staff["host"])
    tea = desk.html("/reception?part=tea", htmx=True)
    assert "Grace Hopper&#39;s desk 接待人工位 · Sales" in tea
    assert "With host" not in tea


def test_host_search_tolerates_a_typo(app, staff):
    assert [u.name for u in hosting.search_hosts("Grcae")] == ["Grace Hopper"]
    assert [u.name for u in hosting.search_hosts("grace")] == ["Grace Hopper"]
    assert hosting.search_hosts("zzzzzz") == []


def test_desk_check_in_refuses_a_reason_that_is_too_long(app, staff, make_visit):
    visit = make_visit()
    with pytest.raises(ValidationError):
        hosting.check_in_at_desk(visit.id, staff["reception"], reason="x" * 301)
    assert db.session.get(Visit, visit.id).status == "expected"


def test_admin_form_books_a_multi_day_group(app, staff):
    from tests.test_pages import form_data, signed_in

    web = signed_in(app, "admin@example.com")
    page = web.get("/admin/").get_data(as_text=True)
    day = local_today() + timedelta(days=2)
    data = form_data(
        page,
        expected_at=f"{day.isoformat()}T10:00",
        valid_until=(day + timedelta(days=2)).isoformat(),
        companions="李娜, 华为, li@example.com\nBob Builder，华为\n",
        group_name="华为 visit",
    )
    resp = web.post("/admin/visits", data=data, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and 'role="alert"' not in resp.get_data(as_text=True)
    db.session.rollback()
    booked = db.session.query(Visit).order_by(Visit.id).all()
    assert [v.visitor.name for v in booked] == ["Ada Lovelace", "李娜", "Bob Builder"]
    assert {v.group.name for v in booked} == {"华为 visit"}
    assert {v.valid_until for v in booked} == {day + timedelta(days=2)}
    assert booked[1].visitor.email == "li@example.com" and booked[2].visitor.company == "华为"


def test_admin_form_points_at_the_bad_line_of_a_group(app, staff):
    from tests.test_pages import form_data, signed_in

    web = signed_in(app, "admin@example.com")
    page = web.get("/admin/").get_data(as_text=True)
    html = web.post(
        "/admin/visits",
        data=form_data(page, companions="Fine Person\n, Nameless Co"),
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert 'data-field="companions"' in html and "line 2: name required" in html
    db.session.rollback()
    assert db.session.query(Visit).count() == 0
