"""The kiosk page reads the invitation's QR through the camera (issue 5 item 3):
Chromium's fake camera shows the QR of a real visit code; the kiosk checks the visitor
in by itself — once, however many frames show the code — and the keyboard-wedge field
keeps working beside it."""

import pytest
from playwright.sync_api import expect, sync_playwright

from server.extensions import db
from server.models import Event, Visit
from server.services import devices, kiosk_settings
from tests.fake_camera import fake_camera_args, qr_video
from tests.kiosk_helpers import snap
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, now_today


@pytest.mark.browser
def test_the_camera_reads_the_invitation_and_checks_in_once(app, live_server, make_visit, tmp_path):
    kiosk_settings.save(photo_enabled=False)
    visit = make_visit("Grace Camera", when=now_today())
    other = make_visit("Wedge Visitor", when=now_today())
    video = qr_video(tmp_path / "qr.y4m", f"https://lobby.example/v/{visit.code}")
    _, path = devices.add_kiosk("Camera door")
    db.session.commit()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera_args(video)
        )
        try:
            page = browser.new_context(
                base_url=live_server.url, viewport={"width": 1080, "height": 1920}
            ).new_page()
            page.set_default_timeout(10_000)
            scans = []
            page.on(
                "request", lambda r: scans.append(r.url) if r.url.endswith("/kiosk/scan") else None
            )
            page.goto(path)
            welcome = page.locator("#kiosk-result [data-outcome=welcome]")
            expect(welcome.locator(".visitor-name")).to_have_text("Grace Camera")
            snap(page, "kiosk-camera-welcome-en")
            page.wait_for_timeout(1500)  # the code stays in view: still one scan
            assert len(scans) == 1
            db.session.rollback()
            assert db.session.get(Visit, visit.id).status == "checked_in"
            arrivals = db.session.scalars(
                db.select(Event).where(Event.kind == "visitor_arrived")
            ).all()
            assert [e.payload["visit_id"] for e in arrivals] == [visit.id]

            # Back at the start the wedge field still takes a typed code.
            page.evaluate("window.lobbyKiosk.reset()")
            page.wait_for_function(
                "() => document.activeElement && document.activeElement.id === 'code'"
            )
            expect(page.locator("#kiosk-camera")).to_be_visible()
            page.keyboard.type(other.code)
            page.keyboard.press("Enter")
            expect(welcome.locator(".visitor-name")).to_have_text("Wedge Visitor")
        finally:
            browser.close()
