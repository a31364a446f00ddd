"""A dashboard that stays connected still gets an event whose live push was lost (the
message queue was down when it was emitted): the event is in the database, and the
page asks for what came after its last seq every so often (live.js CATCH_UP_MS)."""

import pytest
from playwright.sync_api import expect

from server import realtime
from server.models import Visit
from server.services.tx import write
from tests.conftest import PASSWORD
from tests.test_browser import browser, device, now_today  # noqa: F401

pytestmark = pytest.mark.browser


def record_without_push(visit_id: int) -> None:
    """What a process does when its publish to Redis fails: the event is committed to
    the log, but no socket hears it."""
    with write() as session:
        visit = session.get(Visit, visit_id)
        realtime.record(
            session, "visitor_arrived", realtime.arrival_payload(visit), realtime.visit_rooms(visit)
        )


def test_a_connected_dashboard_catches_up_on_an_event_whose_push_was_lost(
    device, staff, make_visit
):
    visit = make_visit(name="Lost Push", when=now_today())
    page = device()
    page.add_init_script("window.lobbyCatchUpMs = 700")
    page.goto("/login")
    page.fill("input[name=email]", "grace@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/host/")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
    record_without_push(visit.id)
    expect(page.locator("#banner")).to_contain_text("Lost Push", timeout=5000)
