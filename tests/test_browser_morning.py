"""A morning at the front desk, in real browsers (Debian's Chromium via Playwright)
against the real app over HTTP + Socket.IO: reception checks a booked visitor in by
hand, a cancelled visitor is turned away at the kiosk and let in by reception with a
reason, a walk-in's host is searched slowly with a typo, and two visitors scan back to
back at the kiosk. Each device is its own browser context."""

import re

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import PrintJob, Visit
from server.services import visit_changes
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    now_today,  # noqa: F401
    scan_like_a_wedge,
    staff_page,
)

ARRIVED = re.compile(r"is here|已到达")


def reload_visit(visit_id: int) -> Visit:
    db.session.rollback()  # end the test's read snapshot: see what the server wrote
    return db.session.get_one(Visit, visit_id)


@pytest.mark.browser
def test_a_morning_at_the_desk(device, staff, make_visit):
    ada = make_visit(name="Ada Lovelace", when=now_today())
    zhang = make_visit(name="张伟", company="华为", when=now_today())
    visit_changes.cancel(zhang.id, "Trip postponed", staff["host"])
    desk = staff_page(device, "desk@example.com", "/reception/")
    host = staff_page(device, "grace@example.com", "/host/")
    kiosk = kiosk_page(device)

    # 1. Reception checks Ada in by hand: badge at the desk, host alerted.
    row = desk.locator(".col-expected .row", has_text="Ada Lovelace")
    row.get_by_role("button", name="Check in 签到").click()
    expect(desk.locator("#desk-notice")).to_contain_text("Ada Lovelace checked in 已签到")
    expect(desk.locator(".col-waiting .row", has_text="Ada Lovelace")).to_have_count(1)
    expect(host.locator("body")).to_contain_text("Ada Lovelace from Analytical Engines is here")
    assert reload_visit(ada.id).checked_in_by_id == staff["reception"].id

    # 2. 张伟's visit was cancelled: the kiosk turns him away, the desk is asked live.
    scan_like_a_wedge(kiosk, zhang.code)
    expect(kiosk.locator("#kiosk-result")).to_contain_text(re.compile(r"cancel|取消", re.I))
    ask = desk.locator("#desk-requests .desk-request", has_text="张伟")
    expect(ask).to_contain_text("Turned away at the kiosk")
    expect(ask).to_contain_text("cancelled")
    ask.locator("input[name=reason]").fill("Host confirmed by phone")
    ask.get_by_role("button", name="Let in 准许进入").click()
    expect(desk.locator("#desk-notice")).to_contain_text("Let in: Host confirmed by phone")
    expect(desk.locator(".col-waiting .row", has_text="张伟")).to_have_count(1)
    expect(desk.locator("#desk-requests .desk-request", has_text="张伟")).to_have_count(0)
    zhang = reload_visit(zhang.id)
    assert (zhang.status, zhang.admit_reason) == ("checked_in", "Host confirmed by phone")

    # 3. A walk-in: the host is searched slowly, with a typo, then corrected.
    search = desk.locator("#walk-in-form input[name=host_q]")
    search.press_sequentially("Grcae", delay=250)
    choices = desk.locator("#host-results .host-choice")
    expect(choices).to_have_count(1)
    expect(choices).to_contain_text("Grace Hopper")
    for _ in range(4):
        search.press("Backspace", delay=250)
    search.press_sequentially("race", delay=250)
    expect(choices).to_contain_text("Grace Hopper")
    search.fill("Linus")  # still answering after many searches (the chosen host stays)
    expect(desk.locator("#host-results")).to_contain_text("Linus T")
    search.fill("Grace")
    expect(choices.filter(has_text="Linus T")).to_have_count(0)
    desk.locator("#walk-in-form input[name=name]").fill("Walk-In Wang")
    choices.filter(has_text="Grace Hopper").locator("input").check()
    desk.locator("#walk-in-form button[type=submit]").click()
    expect(desk.locator("#walk-in-form")).to_contain_text("Checked in Walk-In Wang")
    expect(host.locator("body")).to_contain_text("Walk-In Wang")
    expect(desk.locator(".col-waiting .row", has_text="Walk-In Wang")).to_have_count(1)

    # 4. Two visitors scan back to back: the second during the first's welcome.
    first, second = (
        make_visit(name="First Fang", when=now_today()),
        make_visit(name="Second Song", when=now_today()),
    )
    scan_like_a_wedge(kiosk, first.code)
    expect(kiosk.locator("[data-outcome=welcome]")).to_contain_text("First Fang")
    scan_like_a_wedge(kiosk, second.code)
    expect(kiosk.locator("[data-outcome=welcome]")).to_contain_text("Second Song")
    assert reload_visit(first.id).status == "checked_in"
    assert reload_visit(second.id).status == "checked_in"
    expect(desk.locator(".col-waiting .row")).to_have_count(5)

    # Every arrival printed exactly one badge.
    db.session.rollback()
    for visit_id in (ada.id, zhang.id, first.id, second.id):
        assert db.session.query(PrintJob).filter_by(visit_id=visit_id).count() == 1
