"""Every page runs under the Content-Security-Policy without a single violation (issue 13
item 1): the login page, each role's staff pages, an invitation, the error page, and
the kiosk's screens from the start to a signed welcome (the camera's QR decoder, a
Blob worker, too). A violation is what Chromium reports: the page's
``securitypolicyviolation`` events (recorded by an init script, which CSP does not
govern) and its console errors ("Refused to execute inline script ..."; htmx's
``evalDisallowedError`` for an hx-on or a trigger filter it may not eval). The
scripts moved out of the templates still work: the desk's print and dismiss buttons,
the "Find host" focus, the host's follow-up answer form, the walk-in's Enter."""

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.services import checkin, devices, kiosk_settings, rules, tasks
from server.services import desk as desk_requests
from tests.conftest import PASSWORD, on_menu
from tests.fake_camera import fake_camera_args, qr_video
from tests.test_browser import (  # noqa: F401
    CHROMIUM,
    CHROMIUM_ARGS,
    browser,
    device,
    kiosk_page,
    now_today,
    scan_like_a_wedge,
)
from tests.test_browser_reprint import open_reprint
from tests.test_browser_rules import draw_signature
from tests.test_zh_strings import KIOSK_SCREENS, STAFF_PAGES
from tests.warm_fonts import fonts_built  # noqa: F401

pytestmark = pytest.mark.browser

RECORD = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
                    " at " + e.sourceFile + ":" + e.lineNumber + " " + (e.sample || "") +
                    " in " + String((e.target && e.target.outerHTML) || "").slice(0, 300));
}, true);
"""


def watched(page):
    """Record ``page``'s violations and console errors from its next document on."""
    page.add_init_script(RECORD)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def violations(page, errors) -> list[str]:
    """What the current document reported so far (and empties the console list)."""
    seen = page.evaluate("window.__csp || []") + [
        e for e in errors if "Content Security Policy" in e or "eval" in e.lower()
    ]
    errors.clear()
    return seen


def settle(page, open_details=True):
    if page.evaluate("document.body.classList.contains('has-live')"):
        expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
    page.wait_for_timeout(300)
    if not open_details:
        return
    # Forms folded in <details> shown: their htmx is processed, their fields usable.
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    page.wait_for_timeout(200)


def sign_in(device, email):
    page = device()
    errors = watched(page)
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page, errors


NOT_PAGES = ("/api/", "/static/", "/fonts/", "/socket.io", "/kiosk", "/logout", "/metrics")
NOT_PAGE_ENDINGS = (".png", ".jpg", ".csv", ".json", ".pdf", ".xlsx", ".ico", ".css")


def extra_pages(app, visit_id: int, user_id: int) -> list[tuple[str, str]]:
    """Pages beyond STAFF_PAGES: a visit's and a user's own pages, the error page, and
    every other page without a parameter in the URL map (the back office's pages as
    they come), seen by an admin."""
    pages = [
        ("admin@example.com", f"/admin/users/{user_id}"),
        ("admin@example.com", f"/admin/visits/{visit_id}/edit"),
        ("admin@example.com", f"/admin/visits/{visit_id}/invitation"),
        ("grace@example.com", f"/host/visits/{visit_id}/edit"),
        ("desk@example.com", "/no-such-page"),  # the error page
    ]
    known = {path for _, path in STAFF_PAGES + pages}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        path = rule.rule
        if (
            "GET" in (rule.methods or ())
            and not rule.arguments
            and path not in known
            and path not in ("/", "/login", "/healthz", "/readyz", "/favicon.ico")
            and not path.startswith(NOT_PAGES)
            and not path.endswith(NOT_PAGE_ENDINGS)
        ):
            pages.append(("admin@example.com", path))
    return pages


def test_every_staff_page_and_the_login_run_without_a_csp_violation(app, device, staff, make_visit):
    on_menu("Green tea", "绿茶")
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    make_visit("张伟", "华为技术", when=now_today())
    found: dict[str, list[str]] = {}

    anonymous = device()
    errors = watched(anonymous)
    anonymous.goto("/login")
    anonymous.wait_for_timeout(300)
    found["/login"] = violations(anonymous, errors)
    anonymous.goto("/kiosk/")  # not paired: the unpaired page
    found["/kiosk/ (unpaired)"] = violations(anonymous, errors)

    pages: dict[str, tuple] = {}
    for email, path in STAFF_PAGES + extra_pages(app, visit.id, staff["host"].id):
        if email not in pages:
            pages[email] = sign_in(device, email)
        page, errors = pages[email]
        page.goto(path)
        settle(page)
        found[f"{email} {path}"] = violations(page, errors)
    assert {k: v for k, v in found.items() if v} == {}
    assert len(found) >= len(STAFF_PAGES) + 7


def test_kiosk_screens_and_signing_the_rules_run_without_a_csp_violation(
    app, device, staff, make_visit
):
    kiosk_settings.save(photo_enabled=False)
    rules.publish("Wear your badge.", "请佩戴访客证。", staff["admin"])
    visit = make_visit(when=now_today())
    db.session.commit()
    _, pair = devices.add_kiosk("Front door")
    kiosk = device()
    errors = watched(kiosk)
    kiosk.goto(pair)
    kiosk.wait_for_url("**/kiosk/")
    kiosk.wait_for_function(
        "() => document.activeElement && document.activeElement.name === 'code'"
    )
    found = {"/kiosk/": violations(kiosk, errors)}
    for path in KIOSK_SCREENS[1:]:
        kiosk.evaluate(f"htmx.ajax('GET', {path!r}, '#kiosk-result')")
        kiosk.wait_for_timeout(300)
        found[path] = violations(kiosk, errors)

    # The walk-in's host search: Enter picks nothing and sends nothing (kiosk.js).
    kiosk.evaluate("htmx.ajax('GET', '/kiosk/walk-in', '#kiosk-result')")
    search = kiosk.locator("#walk-in-host_q")
    search.press_sequentially("Gra", delay=30)
    expect(kiosk.locator("#host-suggestions")).to_contain_text("Grace Hopper")
    posts: list[str] = []
    kiosk.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    search.press("Enter")
    kiosk.wait_for_timeout(300)
    assert posts == []
    found["walk-in"] = violations(kiosk, errors)

    kiosk.evaluate("window.lobbyKiosk.reset()")
    kiosk.wait_for_function(
        "() => document.activeElement && document.activeElement.name === 'code'"
    )
    scan_like_a_wedge(kiosk, visit.code)
    accept = kiosk.get_by_role("button", name="I accept and sign")
    expect(accept).to_be_disabled()
    draw_signature(kiosk)
    accept.click()
    expect(kiosk.locator("#kiosk-result [data-outcome=welcome]")).to_contain_text("Ada Lovelace")
    found["rules and welcome"] = violations(kiosk, errors)
    assert {k: v for k, v in found.items() if v} == {}


def test_the_kiosk_camera_decodes_a_qr_under_the_csp(
    app, browser, live_server, make_visit, tmp_path
):
    """qr-scanner's decoder is a Worker built from a Blob (worker-src blob:)."""
    kiosk_settings.save(photo_enabled=False)
    visit = make_visit("Grace Camera", when=now_today())
    video = qr_video(tmp_path / "qr.y4m", visit.code)
    _, path = devices.add_kiosk("Camera door")
    db.session.commit()
    # A Chromium of its own (the same Playwright), with the fake camera.
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera_args(video)
    )
    try:
        page = chromium.new_context(base_url=live_server.url).new_page()
        page.set_default_timeout(10_000)
        errors = watched(page)
        page.goto(path)
        welcome = page.locator("#kiosk-result [data-outcome=welcome]")
        expect(welcome.locator(".visitor-name")).to_have_text("Grace Camera")
        assert violations(page, errors) == []
    finally:
        chromium.close()


def test_scripts_moved_out_of_the_pages_still_work(app, device, staff, make_visit, printer):
    devices.add_printer("Front desk", printer.url)
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code, printer="Front desk")
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
    desk_requests.open_request(
        "route_walk_in", details={"name": "Zhao Min", "company": "Ming Trading", "phone": ""}
    )

    desk, desk_errors = sign_in(device, "desk@example.com")
    desk.goto("/reception/roster")
    # (the last expression is not the function: evaluate() would call it)
    desk.evaluate("window.__printed = 0; window.print = () => { window.__printed += 1; }; 0")
    desk.get_by_role("button", name="Print 打印").click()
    assert desk.evaluate("window.__printed") == 1  # data-print (was onclick)

    desk.goto("/reception/")
    settle(desk, open_details=False)
    desk.locator("#desk-requests button.find-host").click()  # data-focus-after (was hx-on)
    expect(desk.locator("#walk-in-form [name=name]")).to_have_value("Zhao Min")
    desk.wait_for_function(
        "() => document.activeElement && document.activeElement.name === 'host_q'"
    )
    row = open_reprint(desk, "Ada Lovelace")
    row.locator("input[name=reason]").fill("badge lost")
    row.get_by_role("button", name="Reprint badge 重印").click()
    notice = desk.locator("#desk-notice .reprint-result")
    expect(notice).to_contain_text("queued for printer")
    notice.get_by_role("button", name="Dismiss 关闭").click()  # data-dismiss (was onclick)
    expect(notice).to_have_count(0)
    assert violations(desk, desk_errors) == []

    host, host_errors = sign_in(device, "grace@example.com")
    host.goto("/host/")
    settle(host)  # (opens every <details>: the answer form too)
    panel = host.locator("#follow-ups")
    panel.locator("textarea[name=answer]").fill("Quoted 4,000 by email")
    panel.get_by_role("button", name="Mark answered 标记已答复").click()
    # data-follow-up-answer (was hx-on): the list asked for again, the answer gone.
    expect(panel).not_to_contain_text("Price for 40 units?")
    assert violations(host, host_errors) == []
