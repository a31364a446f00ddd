"""The watchlist in a real browser (Debian's Chromium via Playwright, real app over HTTP
+ Socket.IO): a listed visitor scans at the kiosk and is asked to see reception (the
word never on the kiosk), the desk hears it live with who and why, and lets them in
with a reason; only then is the host alerted."""

import re

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import PrintJob, Visit
from server.services import watchlist
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    now_today,
    scan_like_a_wedge,
    staff_page,
)
from tests.warm_fonts import fonts_built  # noqa: F401

ARRIVED = re.compile(r"is here|已到达|On site|在访")


@pytest.mark.browser
def test_listed_visitor_is_sent_to_the_desk_which_hears_why_and_lets_them_in(
    device, staff, make_visit
):
    visit = make_visit(name="Zhang Wei", company="Acme", when=now_today())
    watchlist.add({"name": "ＺＨＡＮＧ wei", "reason": "Shouted at the guards in May"})
    desk = staff_page(device, "desk@example.com", "/reception/")
    host = staff_page(device, "grace@example.com", "/host/")
    kiosk = kiosk_page(device)

    scan_like_a_wedge(kiosk, visit.code)
    refused = kiosk.locator("[data-outcome=refused]")
    expect(refused).to_be_visible()
    expect(refused).to_contain_text("reception")
    assert "watchlist" not in kiosk.content().lower()
    assert "Shouted" not in kiosk.content()

    # The desk: a live banner with who and why, and the card in "At the kiosk".
    expect(desk.locator("#banner")).to_contain_text("Shouted at the guards in May")
    card = desk.locator(".desk-request.kind-watchlist_match")
    expect(card).to_contain_text("Zhang Wei")
    expect(card).to_contain_text("Shouted at the guards in May")
    assert not ARRIVED.search(host.locator("body").inner_text())

    card.locator("input[name=reason]").fill("Escorted by security")
    card.locator(".let-in-btn").click()
    expect(desk.locator("#desk-notice")).to_contain_text("checked in")
    expect(desk.locator(".desk-request.kind-watchlist_match")).to_have_count(0)
    expect(host.locator("body")).to_contain_text(ARRIVED)
    db.session.rollback()  # end the test's read snapshot: see what the server wrote
    assert db.session.get(Visit, visit.id).status == "checked_in"
    assert db.session.query(PrintJob).filter_by(visit_id=visit.id).count() == 1
