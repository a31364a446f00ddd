"""The kiosk a visitor uses without help (issue 5), in headless Chromium: QR check-in in
both languages, the badge's fate told live, goodbye in the visitor's language, the
idle reset, double scans, and touch targets in portrait and landscape."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import PrintJob, Visit
from server.services import printing
from tests.kiosk_helpers import snap
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    now_today,  # noqa: F401
    scan_like_a_wedge,
)

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1280, "height": 800}


def drain_badges():
    """Run the print worker's pass in the test (the app under test has none)."""
    db.session.commit()
    printing.drain()


@pytest.mark.browser
def test_qr_check_in_in_chinese_with_the_badge_told_live_then_idle_reset(
    app, device, make_visit, printer
):
    app.config["KIOSK_RESULT_SECONDS"] = 3
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size(PORTRAIT)
    visit = make_visit("张伟", "华为技术", when=now_today())
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("Welcome")
    snap(kiosk, "kiosk-start-en")

    kiosk.click(".lang-switch .lang[data-lang=zh]")
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("欢迎光临")
    expect(kiosk.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(kiosk.locator(".lang-switch .lang[data-lang=zh]")).to_have_attribute(
        "aria-pressed", "true"
    )
    snap(kiosk, "kiosk-start-zh")
    kiosk.locator("#code").focus()
    scan_like_a_wedge(kiosk, visit.code)

    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome.locator("h2")).to_have_text("欢迎您，张伟")
    expect(welcome.locator(".told")).to_have_text("已通知Grace Hopper您已到达。")
    badge = welcome.locator(".badge-state")
    expect(badge).to_have_text("正在打印您的访客证…")
    drain_badges()
    expect(badge).to_have_text("请从打印机取走您的访客证。")
    expect(badge).to_have_attribute("data-state", "printed")
    snap(kiosk, "kiosk-welcome-zh")
    assert len(printer.wait_for_jobs(1)) == 1
    db.session.rollback()
    assert db.session.get(Visit, visit.id).language == "zh"

    # Idle: back to the start, in the kiosk's own language, nothing of the visitor left.
    expect(kiosk.locator("#kiosk-start")).to_be_visible(timeout=6000)
    expect(kiosk.locator("#kiosk-result")).to_be_empty()
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("Welcome")
    expect(kiosk.locator("html")).to_have_attribute("lang", "en")
    assert "张伟" not in kiosk.content()
    kiosk.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'")


@pytest.mark.browser
def test_a_badge_that_cannot_print_sends_the_visitor_to_reception(app, device, make_visit, printer):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    printer.paper_out = True
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    scan_like_a_wedge(kiosk, visit.code)
    badge = kiosk.locator("[data-outcome=welcome] .badge-state")
    expect(badge).to_have_text("Your badge is printing…")
    drain_badges()
    expect(badge).to_have_text("Please see reception for your badge.")
    expect(badge).to_have_attribute("data-state", "waiting")
    snap(kiosk, "kiosk-welcome-badge-failed-en")
    db.session.rollback()
    assert (
        db.session.scalar(db.select(PrintJob.status).where(PrintJob.visit_id == visit.id))
        == "queued"
    )  # kept: it prints when the paper is back


@pytest.mark.browser
def test_scanning_the_badge_says_goodbye_in_the_visitors_language(app, device, make_visit):
    app.config["CHECKOUT_GRACE_SECONDS"] = 0
    kiosk = kiosk_page(device)
    visit = make_visit("张伟", when=now_today())
    kiosk.click(".lang-switch .lang[data-lang=zh]")
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("欢迎光临")
    kiosk.locator("#code").focus()
    scan_like_a_wedge(kiosk, visit.code)
    expect(kiosk.locator("[data-outcome=welcome]")).to_be_visible()
    kiosk.evaluate("window.lobbyKiosk.reset()")
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("Welcome")  # the next visitor's kiosk

    kiosk.wait_for_timeout(4100)  # past the double-scan window: this is leaving
    kiosk.locator("#code").focus()
    scan_like_a_wedge(kiosk, visit.code)
    goodbye = kiosk.locator("#kiosk-result [data-outcome=goodbye]")
    expect(goodbye.locator("h2")).to_have_text("再见，张伟")
    expect(goodbye).to_contain_text("感谢您的来访")
    snap(kiosk, "kiosk-goodbye-zh")
    # The visitor may still switch: the thanks follow.
    kiosk.click(".lang-switch .lang[data-lang=en]")
    expect(goodbye.locator("h2")).to_have_text("Goodbye, 张伟")
    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "checked_out"


@pytest.mark.browser
def test_the_same_code_scanned_twice_within_seconds_counts_once(app, device, make_visit):
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    scans = []
    kiosk.on("request", lambda r: scans.append(r) if r.url.endswith("/kiosk/scan") else None)
    scan_like_a_wedge(kiosk, visit.code)
    expect(kiosk.locator("[data-outcome=welcome]")).to_be_visible()
    kiosk.evaluate("window.lobbyKiosk.reset()")
    kiosk.locator("#code").focus()
    scan_like_a_wedge(kiosk, visit.code)  # the scanner read the same badge again at once
    kiosk.wait_for_timeout(500)
    assert len(scans) == 1
    expect(kiosk.locator("#kiosk-start")).to_be_visible()
    expect(kiosk.locator("#code")).to_have_value("")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_every_target_is_large_enough_to_touch(app, device, viewport):
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size(viewport)
    kiosk.click(".lang-switch .lang[data-lang=zh]")
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("欢迎光临")
    small = kiosk.evaluate("""() => [...document.querySelectorAll(
        'button:not([hidden]), input:not([type=hidden]), a[href]')]
      .filter(el => el.offsetParent !== null)
      .map(el => { const r = el.getBoundingClientRect();
                   return [el.outerHTML.slice(0, 60), Math.round(r.width), Math.round(r.height)]; })
      .filter(([_, w, h]) => w < 64 || h < 64)""")
    assert small == []
    # Nothing runs off the screen.
    assert kiosk.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    snap(kiosk, f"kiosk-start-zh-{'portrait' if viewport is PORTRAIT else 'landscape'}")


@pytest.mark.browser
def test_an_expired_step_starts_again_politely(app, device, make_visit, monkeypatch):
    from kiosk import flow

    monkeypatch.setattr(flow, "TICKET_SECONDS", -1)  # every ticket is already too old
    kiosk = kiosk_page(device)
    visit = make_visit(when=now_today())
    scan_like_a_wedge(kiosk, visit.code)  # -> the photo step, skipped without a camera
    refused = kiosk.locator("[data-outcome=refused][data-reason=ticket_expired]")
    expect(refused).to_be_visible()
    kiosk.click("[data-action=restart]")
    expect(kiosk.locator("#kiosk-start")).to_be_visible()
    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "expected"
    assert visit.expected_at - now_today() < timedelta(hours=1)
