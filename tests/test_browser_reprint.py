"""A reprint from the reception desk says what happened (issue 11 item 6): "Badge #N
queued for printer X 已加入打印队列", in the desk's notice area, where the live refresh
the reprint causes does not wipe it."""

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import PrintJob
from server.services import checkin, devices
from tests.test_browser import browser, device, now_today, staff_page  # noqa: F401
from tests.warm_fonts import fonts_built  # noqa: F401

pytestmark = pytest.mark.browser


def open_reprint(desk, name):
    """Open the row's badge box (a live refresh keeps it open)."""
    row = desk.locator(".row", has_text=name).first
    row.locator("summary", has_text="Badge 访客证").click()
    expect(row.locator("input[name=reason]")).to_be_visible()
    return row


def test_a_reprint_confirms_the_badge_number_and_printer(device, staff, make_visit, printer):
    devices.add_printer("Front desk", printer.url)
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code, printer="Front desk")
    desk = staff_page(device, "desk@example.com", "/reception/")
    row = open_reprint(desk, "Ada Lovelace")
    row.locator("input[name=reason]").fill("badge lost")
    row.get_by_role("button", name="Reprint badge 重印").click()

    notice = desk.locator("#desk-notice .reprint-result .notice-text")
    expect(notice).to_contain_text("queued for printer")
    db.session.rollback()
    job = db.session.scalars(db.select(PrintJob).where(PrintJob.reprint.is_(True))).one()
    expect(notice).to_have_text(
        f"Badge #{job.id} for Ada Lovelace queued for printer Front desk 已加入打印队列"
    )
    desk.wait_for_timeout(600)  # the live refresh the reprint triggered has landed
    expect(notice).to_be_visible()
    assert job.reason == "badge lost"


def test_a_reprint_without_a_reason_says_why_not(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    desk = staff_page(device, "desk@example.com", "/reception/")
    row = open_reprint(desk, "Ada Lovelace")
    reason = row.locator("input[name=reason]")
    reason.focus()  # as a receptionist would; the board then holds its refreshes
    reason.evaluate("el => { el.required = false; el.value = ' '; }")
    row.get_by_role("button", name="Reprint badge 重印").click()
    expect(desk.locator("#desk-notice [role=alert]")).to_contain_text("未能重印")


def test_the_board_refresh_keeps_an_opened_badge_box_open(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    desk = staff_page(device, "desk@example.com", "/reception/")
    row = desk.locator(".row", has_text="Ada Lovelace").first
    row.locator("summary", has_text="Badge 访客证").click()
    expect(row.locator("input[name=reason]")).to_be_visible()
    with desk.expect_response(
        lambda r: r.url.endswith("/reception/") and r.request.headers.get("hx-request") == "true"
    ):
        desk.evaluate("htmx.trigger(document.body, 'lobby:refresh')")
    desk.wait_for_timeout(200)  # the swap has happened
    expect(
        desk.locator(".row", has_text="Ada Lovelace").first.locator("input[name=reason]")
    ).to_be_visible()
