"""A scan is a scan on every kiosk screen (issue 11 item 6): the next visitor does not
wait for the previous one's welcome to time out, and the welcome has a "Done" button."""

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import Visit
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    now_today,  # noqa: F401
    scan_like_a_wedge,
)


def status(visit_id):
    db.session.rollback()  # see what the server wrote
    return db.session.get(Visit, visit_id).status


@pytest.mark.browser
def test_two_visitors_scanning_back_to_back_are_both_checked_in(app, device, make_visit):
    app.config["KIOSK_RESULT_SECONDS"] = 60  # the first welcome would stay a minute
    kiosk = kiosk_page(device)
    first = make_visit("Ada Lovelace", when=now_today())
    second = make_visit("张伟", "华为技术", when=now_today())
    scans = []
    kiosk.on("request", lambda r: scans.append(r) if r.url.endswith("/kiosk/scan") else None)

    scan_like_a_wedge(kiosk, first.code)
    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome).to_have_attribute("data-visit-id", str(first.id))
    scan_like_a_wedge(kiosk, second.code)  # while Ada's welcome shows

    expect(welcome).to_have_attribute("data-visit-id", str(second.id))
    expect(welcome.locator("h2")).to_contain_text("张伟")
    assert len(scans) == 2
    assert status(first.id) == status(second.id) == "checked_in"


@pytest.mark.browser
@pytest.mark.parametrize("screen", ["refused", "lookup", "walk_in"])
def test_a_scan_on_another_screen_starts_that_visitors_check_in(app, device, make_visit, screen):
    app.config["KIOSK_RESULT_SECONDS"] = app.config["KIOSK_IDLE_SECONDS"] = 60
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    if screen == "refused":
        scan_like_a_wedge(kiosk, "no-such-code-at-all")
        expect(kiosk.locator("[data-outcome=refused]")).to_be_visible()
    else:
        path = screen.replace("_", "-")
        kiosk.click(f".way[hx-get$='/{path}']")
        expect(
            kiosk.locator("#kiosk-result input[type=text], #kiosk-result input[type=search]").first
        ).to_be_focused()
    scan_like_a_wedge(kiosk, visit.code)
    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome).to_have_attribute("data-visit-id", str(visit.id))
    assert status(visit.id) == "checked_in"
    # The step's field did not keep the scanned code.
    assert visit.code not in kiosk.content()


@pytest.mark.browser
def test_done_on_the_welcome_screen_goes_back_to_the_start(app, device, make_visit):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    kiosk.click(".lang-switch .lang[data-lang=zh]")
    kiosk.locator("#code").focus()
    scan_like_a_wedge(kiosk, visit.code)
    done = kiosk.locator("[data-outcome=welcome] [data-action=restart]")
    expect(done).to_have_text("完成")
    done.click()
    expect(kiosk.locator("#kiosk-start")).to_be_visible()
    expect(kiosk.locator("#kiosk-result")).to_be_empty()
    kiosk.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'")


@pytest.mark.browser
def test_a_scan_stalled_midway_is_still_a_scan_and_a_person_typing_is_not(app, device, make_visit):
    """Scanner-fast is the burst's mean gap between keys: a busy tablet that stalls one
    key of a scan for 150 ms still sees a scan; a person typing 16+ characters into the
    walk-in's name field at a person's pace is typing (the field keeps it)."""
    app.config["KIOSK_RESULT_SECONDS"] = app.config["KIOSK_IDLE_SECONDS"] = 60
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    kiosk.click(".way[hx-get$='/walk-in']")
    name = kiosk.locator("#kiosk-result input[type=text]").first
    expect(name).to_be_focused()
    kiosk.keyboard.type("Alexandra Lovelace-Byron", delay=110)
    kiosk.keyboard.press("Enter")
    kiosk.wait_for_timeout(300)
    assert status(visit.id) == "expected"
    assert not kiosk.locator("#kiosk-result [data-outcome=welcome]").count()
    kiosk.reload()  # the name went on to the walk-in's next step: start again
    kiosk.click(".way[hx-get$='/walk-in']")
    expect(name).to_be_focused()
    half = len(visit.code) // 2
    kiosk.keyboard.type(visit.code[:half], delay=0)
    kiosk.wait_for_timeout(150)  # the stall
    kiosk.keyboard.type(visit.code[half:], delay=0)
    kiosk.keyboard.press("Enter")
    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome).to_have_attribute("data-visit-id", str(visit.id))
    assert status(visit.id) == "checked_in"
