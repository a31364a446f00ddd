"""The host's dashboard in a real browser (Debian's Chromium via Playwright) against the
real app over HTTP + Socket.IO: arrival alerts, "on my way" reaching the kiosk, tours,
the farewell, no alert lost across a dropped connection, and visitor text as text."""

import time

import pytest
from playwright.sync_api import expect

from server.extensions import db, socketio
from server.models import Event, Visit
from server.services import checkin, tasks
from tests.test_browser import (
    XSS,
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    not_reloaded,  # noqa: F401
    now_today,
    scan_like_a_wedge,
    staff_page,
)

pytestmark = pytest.mark.browser


def card(page, name):
    return page.locator(".visit-card", has_text=name)


def group(page, state):
    return page.locator(f"#group-{state}")


def test_kiosk_check_in_alerts_the_host_and_on_my_way_reaches_the_kiosk(
    app, device, staff, make_visit
):
    app.config["KIOSK_IDLE_SECONDS"] = app.config["KIOSK_RESULT_SECONDS"] = (
        60  # the welcome stays while the host answers
    )
    kiosk = kiosk_page(device)
    host = staff_page(device, "grace@example.com", "/host/")
    visit = make_visit(when=now_today())
    expect(group(host, "expected")).to_contain_text("Ada Lovelace")

    scan_like_a_wedge(kiosk, visit.code)
    scanned = time.monotonic()
    expect(host.locator("#banner")).to_contain_text(
        "Ada Lovelace from Analytical Engines is here", timeout=1000
    )
    expect(group(host, "waiting").locator(".visit-card", has_text="Ada Lovelace")).to_be_visible(
        timeout=1000
    )
    assert time.monotonic() - scanned < 1.5  # the scan round trip plus the 1 s budget
    expect(host.locator("#banner")).to_have_class("banner banner-arrival")
    assert host.evaluate("lobbyLive.sounds()") >= 1
    expect(card(host, "Ada Lovelace").locator(".waited .minutes")).to_have_text("0")
    expect(kiosk.locator("[data-outcome=welcome] .on-the-way")).to_be_hidden()

    card(host, "Ada Lovelace").get_by_role("button", name="On my way 我这就来").click()
    expect(group(host, "with_host")).to_contain_text("Ada Lovelace")
    expect(kiosk.locator("[data-outcome=welcome] .on-the-way")).to_have_text(
        "Grace Hopper is on the way.", timeout=1500
    )
    assert not_reloaded(host)
    db.session.rollback()
    assert db.session.get(Visit, visit.id).acknowledged_at is not None


def test_tour_is_planned_started_and_finished_on_the_page(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    host = staff_page(device, "grace@example.com", "/host/")
    ada = card(host, "Ada Lovelace")
    ada.locator("summary", has_text="Tour").click()
    form = ada.locator("form.tour-form")
    form.locator("button[type=submit]").click()  # no stop: refused by the field
    expect(ada.locator(".field-error[data-field=stops]")).to_contain_text("at least one stop")

    form = card(host, "Ada Lovelace").locator("form.tour-form")
    form.locator("input[name=title]").fill("Plant tour")
    form.locator("input[name=stop_place]").fill("Assembly hall")
    form.locator("input[name=stop_department]").fill("Production")
    form.locator("input[name=stop_time]").fill("15:00")
    form.locator(".add-stop").click()
    form.locator("input[name=stop_place]").nth(1).fill("Lab 3")
    form.locator("input[name=stop_time]").nth(1).fill("15:30")
    form.locator("button[type=submit]").click()
    tour = card(host, "Ada Lovelace").locator(".task.tour")
    expect(tour).to_contain_text("Plant tour")
    expect(tour).to_contain_text("Assembly hall (Production 15:00) → Lab 3 (15:30)")
    expect(tour.locator(".task-status")).to_contain_text("not confirmed")

    tour.get_by_role("button", name="Start 开始").click()
    expect(group(host, "on_tour").locator(".visit-card")).to_contain_text("Ada Lovelace")
    expect(card(host, "Ada Lovelace").locator(".where")).to_contain_text("Assembly hall, Lab 3")
    card(host, "Ada Lovelace").get_by_role("button", name="Finish 结束").click()
    expect(card(host, "Ada Lovelace").locator(".task.tour .task-status")).to_have_text(
        "Done 已结束"
    )
    expect(group(host, "on_tour")).to_have_count(0)
    assert not_reloaded(host)


def test_farewell_shows_the_open_promise_then_checks_out(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    tasks.create(
        visit.id,
        {
            "kind": "follow_up",
            "question": "Price for 40 units?",
            "deadline": "2031-05-02T17:00",
            "reply_method": "email",
        },
        staff["host"],
    )
    host = staff_page(device, "grace@example.com", "/host/")
    card(host, "Ada Lovelace").get_by_text("See off 送客").click()
    confirm = host.locator(".farewell-confirm")
    expect(confirm.locator(".open-follow-up")).to_contain_text("Price for 40 units?")
    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "checked_in"  # only asked so far

    confirm.locator("input[name=note]").fill("walked to the lift")
    confirm.get_by_role("button", name="Thank & check out 致谢并签出").click()
    left = group(host, "left").locator(".visit-card", has_text="Ada Lovelace")
    expect(left).to_contain_text("Thank you — Ada Lovelace has been seen off")
    expect(left.locator(".still-open")).to_contain_text("Price for 40 units?")
    expect(group(host, "waiting")).to_have_count(0)
    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "checked_out"

    # The next live refresh (another visitor arrives) redraws the list; what the
    # farewell said, and the promise still open, stay on Ada's card.
    checkin.check_in(make_visit("Charles Babbage", when=now_today()).code)
    expect(card(host, "Charles Babbage")).to_be_visible()
    expect(left).to_contain_text("Thank you — Ada Lovelace has been seen off")
    expect(left.locator(".still-open")).to_contain_text("Price for 40 units?")
    assert not_reloaded(host)


def _server_drop(user_id: int) -> int:
    """Disconnect, from the server side, every socket of this host (a network drop the
    server notices): the page must reconnect by itself."""
    sids = list(socketio.server.manager.rooms.get("/", {}).get(f"host:{user_id}", {}))
    for sid in sids:
        socketio.server.disconnect(sid, namespace="/")
    return len(sids)


def test_no_alert_is_lost_while_the_page_is_disconnected(device, staff, make_visit):
    pending = [make_visit(f"Visitor {n:02d}", when=now_today()) for n in range(20)]
    host = staff_page(device, "grace@example.com", "/host/")
    expect(group(host, "expected").locator(".visit-card")).to_have_count(20)
    first_seq = db.session.scalar(db.select(db.func.max(Event.seq))) or 0
    host.evaluate("window.__before = lobbyLive.applied().length")

    assert _server_drop(staff["host"].id) == 1
    expect(host.locator("#live-state")).not_to_have_attribute("data-state", "online", timeout=1000)
    started = time.monotonic()
    for visit in pending:
        checkin.check_in(visit.code)
    # All twenty happened while the page was away (it waits a second before reconnecting).
    assert time.monotonic() - started < 1.0, "check-ins too slow to test the replay"

    expect(host.locator("#live-state")).to_have_attribute("data-state", "online")
    waiting = group(host, "waiting").locator(".visit-card")
    expect(waiting).to_have_count(20)
    for n in range(20):
        expect(host.locator(".visit-card", has_text=f"Visitor {n:02d}")).to_have_count(1)
    expect(group(host, "expected")).to_have_count(0)

    db.session.rollback()
    arrival_seqs = sorted(
        db.session.scalars(
            db.select(Event.seq).where(Event.seq > first_seq, Event.kind == "visitor_arrived")
        )
    )
    assert len(arrival_seqs) == 20
    applied = host.evaluate("lobbyLive.applied().slice(window.__before)")
    assert len(applied) == len(set(applied)), "an event was applied twice"
    assert sorted(s for s in applied if s in set(arrival_seqs)) == arrival_seqs
    assert host.evaluate("lobbyLive.lastSeq()") >= arrival_seqs[-1]
    expect(host.locator("#banner")).to_contain_text("20 visitors arrived while you were offline")

    # And after the replay, live delivery goes on, still once per event.
    late = make_visit("Late Larry", when=now_today())
    checkin.check_in(late.code)
    expect(host.locator("#banner")).to_contain_text("Late Larry from Analytical Engines is here")
    expect(host.locator(".visit-card", has_text="Late Larry")).to_have_count(1)
    applied = host.evaluate("lobbyLive.applied()")
    assert len(applied) == len(set(applied))
    assert not_reloaded(host)


def test_markup_in_a_live_arrival_is_shown_as_text(device, staff, make_visit):
    dialogs = []
    host = staff_page(device, "grace@example.com", "/host/")
    host.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    visit = make_visit(XSS, company="<b>Evil</b>", when=now_today())
    checkin.check_in(visit.code)
    banner = host.locator("#banner .banner-text")
    expect(banner).to_have_text(f"{XSS} from <b>Evil</b> is here · 已到达")
    expect(host.locator(".visit-card .visitor-name")).to_have_text(XSS)
    host.wait_for_timeout(300)  # a broken image's onerror would have fired by now
    assert host.locator("#banner img, #banner b, .visit-card img").count() == 0
    assert dialogs == []


def test_a_department_on_the_tour_route_is_told_when_the_tour_is_planned(device, staff, make_visit):
    from server.services import people
    from tests.conftest import PASSWORD

    people.create_user("wu@example.com", "Wu Plant", ["host"], PASSWORD, department="Assembly")
    visit = make_visit("Ada Lovelace", when=now_today())
    checkin.check_in(visit.code)
    plant = staff_page(device, "wu@example.com", "/host/")
    tasks.create(
        visit.id,
        {
            "kind": "tour",
            "title": "Plant tour",
            "starts_at": "2031-05-02T10:00",
            "stops": [{"place": "Assembly hall", "department": "Assembly"}],
        },
        staff["host"],
    )
    expect(plant.locator("#banner")).to_contain_text("Plant tour through Assembly")
    expect(plant.locator("#banner")).to_contain_text("Ada Lovelace from Analytical Engines")
    assert not_reloaded(plant)
