"""The reception desk in a real browser (Debian's Chromium via Playwright) against the
real app over HTTP + Socket.IO: arrivals on host and desk at once, the tea queue round
trip, a walk-in reaching the host, and the evacuation roster's print layout. Each
device is its own browser context; the host page is asserted on loosely (its text),
since its markup belongs to the host dashboard."""

import re
import time

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import Task, Visit
from server.services import checkin
from tests.conftest import on_menu
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    not_reloaded,  # noqa: F401
    now_today,
    staff_page,
)

TIMEOUT = 5000  # ms: the longest any single wait may take
ARRIVED = re.compile(r"is here|已到达|On site|在访")
# Loose: the host page says the tea was served and by whom, whatever its markup.
SERVED_BY_DESK = re.compile(r"(served|已上茶).{0,60}Rita Desk", re.I | re.S)


def both_within(pages_and_checks, seconds):
    """Poll until every ``check(page)`` is true; return the time it took."""
    start = time.monotonic()
    while time.monotonic() - start < seconds + 2:
        if all(check(page) for page, check in pages_and_checks):
            return time.monotonic() - start
        time.sleep(0.02)
    return float("inf")


@pytest.mark.browser
def test_kiosk_check_in_shows_on_host_and_desk_within_a_second(device, staff, make_visit):
    visit = make_visit(when=now_today())
    host = staff_page(device, "grace@example.com", "/host/")
    desk = staff_page(device, "desk@example.com", "/reception/")
    kiosk = kiosk_page(device)
    expect(desk.locator(".col-expected")).to_contain_text("Ada Lovelace")
    assert not ARRIVED.search(host.locator("body").inner_text())
    waiting = desk.locator(".col-waiting .row", has_text="Ada Lovelace")

    kiosk.keyboard.type(visit.code, delay=0)
    kiosk.keyboard.press("Enter")
    took = both_within(
        [
            (host, lambda p: bool(ARRIVED.search(p.locator("body").inner_text()))),
            (desk, lambda p: waiting.count() == 1),
        ],
        1.0,
    )
    assert took < 1.0, f"host and desk saw the arrival after {took:.2f}s"
    expect(kiosk.locator("[data-outcome=welcome]")).to_contain_text("Ada Lovelace")
    expect(waiting).to_contain_text("Grace Hopper")
    expect(waiting.locator(".minutes")).to_have_text("0")
    expect(desk.locator(".count.waiting b")).to_have_text("1")
    expect(desk.locator(".col-expected")).not_to_contain_text("Ada Lovelace")
    assert not_reloaded(host) and not_reloaded(desk)


@pytest.mark.browser
def test_tea_request_appears_live_and_served_reaches_the_host(device, staff, make_visit):
    on_menu("Green tea", "绿茶")
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    desk = staff_page(device, "desk@example.com", "/reception/")
    host = staff_page(device, "grace@example.com", "/host/")
    queue = desk.locator("#tea-queue")
    expect(queue).to_contain_text("No tea requested")

    # the host asks for tea on their own page, as a host would
    host_card = host.locator(".visit-card", has_text="Ada Lovelace")
    host_card.locator("summary", has_text="Tea").click()
    tea_form = host_card.locator("form.tea-form")
    tea_form.locator("label.drink", has_text="Green tea").locator("input").fill("2")
    tea_form.locator("input[name=note]").fill("no sugar")
    tea_form.get_by_role("button", name="Ask reception 请前台上茶").click()
    card = queue.locator(".tea-card", has_text="Ada Lovelace")
    expect(card).to_contain_text("2 × Green tea 绿茶", timeout=2000)
    expect(card).to_contain_text("no sugar")
    expect(card).to_contain_text("Ada Lovelace")
    expect(queue.locator(".pill")).to_have_text("1")
    expect(host.locator("body")).to_contain_text("Green tea")
    assert not SERVED_BY_DESK.search(host.locator("body").inner_text())

    card.get_by_role("button", name="Served 已上茶").click()
    expect(desk.locator("#desk-notice")).to_contain_text("Tea served by Rita Desk")
    expect(queue.locator(".tea-card")).to_have_count(0)
    db.session.rollback()
    task = db.session.scalars(db.select(Task).where(Task.kind == "tea")).one()
    assert task.created_by_id == staff["host"].id and task.details["note"] == "no sugar"
    served = queue.locator(f".tea-served [data-task-id='{task.id}']")
    expect(served).to_contain_text("served by Rita Desk")
    expect(served).to_contain_text("2× Green tea")
    expect(host.locator("body")).to_contain_text(SERVED_BY_DESK, timeout=2000)
    assert not_reloaded(desk) and not_reloaded(host)
    db.session.rollback()
    assert db.session.get(Task, task.id).done_by_id == staff["reception"].id


@pytest.mark.browser
def test_walk_in_through_the_desk_form_reaches_the_host_live(device, staff):
    host = staff_page(device, "grace@example.com", "/host/")
    desk = staff_page(device, "desk@example.com", "/reception/")
    form = desk.locator("#walk-in-form")
    form.locator("input[name=name]").fill("Walter Walkin")
    form.locator("input[name=company]").fill("Acme Pumps")
    form.get_by_role("button", name=re.compile("Check in")).click()
    expect(form.locator(".field-error[data-field=host]")).to_contain_text("customer-service")
    form = desk.locator("#walk-in-form")
    expect(form.locator("input[name=name]")).to_have_value("Walter Walkin")

    form.locator("input[name=host_q]").press_sequentially("grace", delay=20)
    choice = form.locator("input[name=host_id]")
    expect(choice).to_have_count(1)
    expect(choice).to_be_checked()
    form.get_by_role("button", name=re.compile("Check in")).click()
    expect(desk.locator("#walk-in-form .ok")).to_contain_text("Checked in Walter Walkin")
    expect(desk.locator("#walk-in-form input[name=name]")).to_have_value("")
    expect(host.locator("body")).to_contain_text("Walter Walkin", timeout=2000)
    expect(desk.locator(".col-waiting .row", has_text="Walter Walkin")).to_contain_text("walk-in")
    assert not_reloaded(host) and not_reloaded(desk)
    db.session.rollback()
    visit = db.session.scalar(db.select(Visit))
    assert visit.walk_in and visit.status == "checked_in"


@pytest.mark.browser
def test_roster_prints_black_on_white_without_nav_or_buttons(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    desk = staff_page(device, "desk@example.com", "/reception/roster")
    print_button = desk.get_by_role("button", name="Print 打印")
    expect(print_button).to_be_visible()
    expect(desk.locator(".topbar nav")).to_be_visible()
    expect(desk.locator(".roster-count")).to_contain_text("1 visitor on site")
    expect(desk.locator(".roster-table")).to_contain_text("Ada Lovelace")

    desk.emulate_media(media="print")
    expect(desk.locator(".topbar")).to_be_hidden()
    expect(desk.locator("nav")).to_be_hidden()
    expect(print_button).to_be_hidden()
    assert desk.locator("button:visible, a:has-text('Reception'):visible").count() == 0
    expect(desk.locator(".roster-table")).to_contain_text("Ada Lovelace")
    style = desk.evaluate("""() => {
        const s = el => getComputedStyle(document.querySelector(el));
        return {bg: s('body').backgroundColor, ink: s('.roster-table td').color,
                title: s('.roster-head h1').color};
    }""")
    assert style == {"bg": "rgb(255, 255, 255)", "ink": "rgb(0, 0, 0)", "title": "rgb(0, 0, 0)"}
    pdf = desk.pdf(format="A4")
    assert pdf[:4] == b"%PDF"
