"""The pages in a real browser: Debian's Chromium driven by Playwright against the real
app over HTTP + Socket.IO (``live_server``). Each "device" (kiosk, host, desk) is its own
browser context, so cookies, sessions and sessionStorage are as separate as on real
hardware. Chromium starts once per module; a context costs milliseconds."""

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect, sync_playwright

from server.extensions import db
from server.models import Visit, utcnow
from server.services import checkin, clock, devices
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT = 5000  # ms: the longest any single wait may take
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


_fonts_warm: list[bool] = []


@pytest.fixture
def device(browser, live_server):
    """``device(path=None)`` -> a page in a fresh browser context (one per device).

    The process's first page cuts the web-font subsets (seconds on a busy 2-core
    machine): the first device of the run loads /login once with a long timeout, so
    no test's first step pays for it (tests/warm_fonts.py does the same, earlier)."""
    contexts = []
    if not _fonts_warm:
        warm = browser.new_context(base_url=live_server.url)
        warm.new_page().goto("/login", timeout=60000)
        warm.close()
        _fonts_warm.append(True)

    def open_device(path=None):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(TIMEOUT)
        contexts.append(context)
        page = context.new_page()
        if path:
            page.goto(path)
        return page

    yield open_device
    for context in contexts:
        context.close()


def now_today():
    """An expected time that is surely today: the suite may run just before midnight,
    when the fixture's default (in five minutes) would already be tomorrow."""
    _, end = clock.today_bounds()
    return min(utcnow(), end - timedelta(seconds=30))


def kiosk_page(device, name="Front door"):
    _, path = devices.add_kiosk(name)
    page = device(path)
    page.wait_for_url("**/kiosk/")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'code'")
    return page


def staff_page(device, email, path):
    """Sign in through the real form, open ``path`` and wait for the live socket."""
    page = device("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    if not page.url.endswith(path):
        page.goto(path)
    expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
    page.evaluate("window.__marker = 1")  # gone if the page ever reloads
    return page


def scan_like_a_wedge(page, code):
    """A keyboard-wedge scanner types into whatever has focus, then presses Enter."""
    page.keyboard.type(code, delay=0)
    page.keyboard.press("Enter")


def not_reloaded(page):
    return page.evaluate("window.__marker") == 1


@pytest.mark.browser
def test_kiosk_scan_welcomes_visitor_and_host_page_updates_live(device, staff, make_visit):
    kiosk = kiosk_page(device)
    assert kiosk.evaluate("document.activeElement.name") == "code"
    host = staff_page(device, "grace@example.com", "/host/")
    assert host.url.endswith("/host/")
    visit = make_visit(when=now_today())

    scan_like_a_wedge(kiosk, visit.code)
    scanned = time.monotonic()
    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome).to_contain_text("Ada Lovelace")
    expect(welcome).to_contain_text("Grace Hopper")
    expect(welcome).to_contain_text("has been told")
    expect(kiosk.locator("#kiosk-start")).to_be_hidden()

    card = host.locator(".visit-card", has_text="Ada Lovelace")
    expect(card.locator(".status")).to_contain_text("On site", timeout=2000)
    expect(host.locator("#banner")).to_be_visible(timeout=2000)
    expect(host.locator("#banner")).to_contain_text(
        "Ada Lovelace from Analytical Engines is here", timeout=2000
    )
    assert time.monotonic() - scanned < 2.5  # the scan round trip plus the 2 s budget
    assert not_reloaded(host)
    db.session.rollback()  # end the test's read snapshot: see what the server wrote
    assert db.session.get(Visit, visit.id).status == "checked_in"


@pytest.mark.browser
def test_kiosk_returns_to_an_empty_focused_start_screen_when_idle(app, device, make_visit):
    app.config["KIOSK_IDLE_SECONDS"] = app.config["KIOSK_RESULT_SECONDS"] = 1
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    scan_like_a_wedge(kiosk, visit.code)
    expect(kiosk.locator("[data-outcome=welcome]")).to_be_visible()
    expect(kiosk.locator("#kiosk-start")).to_be_hidden()
    expect(kiosk.locator("#code")).to_have_value("")  # cleared for the next visitor at once

    expect(kiosk.locator("#kiosk-start")).to_be_visible(timeout=3000)
    expect(kiosk.locator("#kiosk-result")).to_be_empty()
    expect(kiosk.locator("#code")).to_have_value("")
    assert kiosk.evaluate("document.activeElement.id") == "code"


@pytest.mark.browser
def test_kiosk_refuses_an_unknown_code_then_resets(app, device, staff):
    app.config["KIOSK_IDLE_SECONDS"] = app.config["KIOSK_RESULT_SECONDS"] = 1
    kiosk = kiosk_page(device)
    scan_like_a_wedge(kiosk, "nope-nope-nope")
    refused = kiosk.locator("[data-outcome=refused][data-reason=unknown_code]")
    expect(refused).to_contain_text("We don't recognise this code.")
    expect(refused).to_contain_text("Please ask at the reception desk")
    expect(kiosk.locator("#kiosk-start")).to_be_visible(timeout=3000)
    expect(kiosk.locator("#kiosk-result")).to_be_empty()
    assert kiosk.evaluate("document.activeElement.id") == "code"


@pytest.mark.browser
def test_reception_board_moves_a_visitor_to_on_site_without_reload(device, make_visit):
    visit = make_visit(when=now_today())
    desk = staff_page(device, "desk@example.com", "/reception/")
    expected = desk.locator(".col-expected")
    onsite = desk.locator(".col-onsite")
    expect(expected).to_contain_text("Ada Lovelace")
    expect(onsite).not_to_contain_text("Ada Lovelace")

    checkin.check_in(visit.code)
    expect(onsite.locator(".row", has_text="Ada Lovelace")).to_contain_text("Grace Hopper")
    expect(expected).not_to_contain_text("Ada Lovelace")
    expect(desk.locator(".count.onsite b")).to_have_text("1")
    expect(desk.locator("#banner")).to_contain_text("Ada Lovelace from Analytical Engines is here")
    assert not_reloaded(desk)


@pytest.mark.browser
def test_visitor_markup_is_shown_as_text_and_never_runs(device, make_visit):
    dialogs = []
    host = staff_page(device, "grace@example.com", "/host/")
    host.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    kiosk = kiosk_page(device)
    kiosk.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    visit = make_visit(XSS, company="<b>Evil</b>", when=now_today())

    scan_like_a_wedge(kiosk, visit.code)
    expect(kiosk.locator("[data-outcome=welcome] .visitor-name")).to_have_text(XSS)
    banner = host.locator("#banner")
    expect(banner).to_contain_text(f"{XSS} from <b>Evil</b> is here")
    expect(host.locator(".visit-card .visitor-name")).to_have_text(XSS)
    expect(host.locator(".visit-card .company")).to_have_text("<b>Evil</b>")
    # Give a broken image's onerror time to fire, were there any such element.
    host.wait_for_timeout(300)
    for page in (host, kiosk):
        assert page.locator("img[src=x], b:has-text('Evil')").count() == 0
    assert dialogs == []
    assert not_reloaded(host)


@pytest.mark.browser
def test_admin_pre_registration_shows_errors_then_invites_live(device, staff):
    admin = staff_page(device, "admin@example.com", "/admin/")
    visit_list = admin.locator("#visit-list")
    expect(visit_list).to_contain_text("No upcoming visits")
    when = clock.to_local(now_today()).strftime("%Y-%m-%dT%H:%M")
    admin.fill("#visit-form input[name=expected_at]", when)
    admin.select_option("#visit-form select[name=host]", "grace@example.com")

    admin.click("#visit-form button[type=submit]")
    expect(admin.locator("#visit-form .field-error[data-field=name]")).to_be_visible()
    expect(admin.locator("#visit-form [role=alert]")).to_contain_text("Please correct")
    expect(admin.locator("#visit-form input[name=name]")).to_have_attribute("aria-invalid", "true")
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Visit.id))) == 0
    expect(visit_list).to_contain_text("No upcoming visits")

    admin.fill("#visit-form input[name=name]", "Katherine Johnson")
    admin.fill("#visit-form input[name=company]", "NASA Langley")
    admin.fill("#visit-form input[name=expected_at]", when)  # kept, but be explicit
    admin.select_option("#visit-form select[name=host]", "grace@example.com")
    admin.click("#visit-form button[type=submit]")
    expect(admin.locator("#visit-form .ok")).to_contain_text("Registered 已登记 Katherine Johnson")
    expect(admin.locator("#visit-form .field-error")).to_have_count(0)
    expect(visit_list).to_contain_text("Katherine Johnson")
    expect(visit_list).to_contain_text("Grace Hopper")
    assert not_reloaded(admin)
    db.session.rollback()
    visit = db.session.scalar(db.select(Visit))
    assert visit.visitor.name == "Katherine Johnson" and visit.status == "expected"
