"""The main pages load clean in Chromium (issue 11 item 6): no request answers 404 (the
favicon was missing on every page) and the console shows no error (an ``hx-include``
matching nothing was one). The pages: tests/test_zh_strings.py's STAFF_PAGES, the
login page and the kiosk."""

import pytest
from playwright.sync_api import expect

from server.services import checkin
from tests.conftest import PASSWORD, on_menu
from tests.test_browser import browser, device, kiosk_page, now_today  # noqa: F401
from tests.test_zh_strings import STAFF_PAGES
from tests.warm_fonts import fonts_built  # noqa: F401

pytestmark = pytest.mark.browser


def watch(page):
    """Collect the page's failed requests and console errors from now on."""
    seen = {"404": [], "errors": []}
    page.on("response", lambda r: seen["404"].append(r.url) if r.status >= 400 else None)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    return seen


def icon_of(page) -> int:
    """The status of the page's icon (browsers fetch it outside the page's requests)."""
    href = page.evaluate("(document.querySelector('link[rel~=icon]') || {}).href || '/favicon.ico'")
    return page.request.get(href).status


def sign_in(device, email):
    page = device()
    seen = watch(page)
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page, seen


def test_no_request_of_the_main_pages_fails_and_the_console_stays_clean(device, staff, make_visit):
    on_menu("Green tea", "绿茶")
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    make_visit("张伟", "华为技术", when=now_today())
    pages = {}
    for email, path in STAFF_PAGES:
        if email not in pages:
            pages[email] = sign_in(device, email)
        page, seen = pages[email]
        page.goto(path)
        if page.evaluate("document.body.classList.contains('has-live')"):  # a live page
            expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
        page.wait_for_timeout(300)  # the first live refresh has come and gone
        assert icon_of(page) == 200, path
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        page.wait_for_timeout(300)  # forms folded in details are shown, their htmx runs
    kiosk = kiosk_page(device)
    kiosk_seen = watch(kiosk)
    kiosk.reload()
    kiosk.wait_for_function(
        "() => document.activeElement && document.activeElement.name === 'code'"
    )
    assert icon_of(kiosk) == 200
    failed = {email: seen for email, (_, seen) in pages.items()}
    failed["kiosk"] = kiosk_seen
    assert {k: v["404"] for k, v in failed.items() if v["404"]} == {}
    assert {k: v["errors"] for k, v in failed.items() if v["errors"]} == {}


def test_favicon_ico_is_served(client):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200 and resp.mimetype == "image/x-icon"
    assert client.get("/static/favicon.svg").status_code == 200


def test_the_desk_walk_in_form_leaves_no_console_error(device, staff):
    page, seen = sign_in(device, "desk@example.com")
    page.goto("/reception/")
    search = page.locator("#walk-in-form input[name=host_q]")
    search.press_sequentially("Gra", delay=30)
    expect(page.locator("#host-results")).to_contain_text("Grace Hopper")
    page.locator("#walk-in-form button[type=submit]").click()  # no name: the form again
    expect(page.locator("#walk-in-form .error")).to_be_visible()
    search.fill("")
    search.press_sequentially("Lin", delay=30)
    expect(page.locator("#host-results")).to_contain_text("Linus T")
    page.wait_for_timeout(300)
    assert seen["errors"] == [] and seen["404"] == []


def test_the_admins_nav_fits_and_folds_setup_into_one_menu(device, staff):
    """An admin's nav (twenty pages) once ran past the window's edge and clipped "Sign
    out": it now wraps, and the setup pages are one menu that a click outside or
    Escape closes."""
    page, seen = sign_in(device, "admin@example.com")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/admin/")
    out = page.get_by_role("button", name="Sign out 退出").bounding_box()
    assert out is not None and out["x"] + out["width"] <= 1280
    staff_link = page.locator("#nav-setup").get_by_role("link", name="Staff 员工")
    expect(staff_link).to_be_hidden()
    page.locator("#nav-setup summary").click()
    expect(staff_link).to_be_visible()
    page.keyboard.press("Escape")
    expect(staff_link).to_be_hidden()
    page.locator("#nav-setup summary").click()
    page.locator("main").click(position={"x": 5, "y": 5})
    expect(staff_link).to_be_hidden()
    page.locator("#nav-setup summary").click()
    staff_link.click()
    page.wait_for_url("**/admin/users")
    assert seen["errors"] == []
