"""Signing the site rules on the kiosk in headless Chromium: drawing with the mouse on
the signature pad in English (landscape) and in Chinese (portrait, switching language
on the rules screen), clearing, rules updated while reading, and declining."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from server.extensions import db
from server.models import DeskRequest, Signature, Visit
from server.services import kiosk_settings, rules
from tests.kiosk_helpers import SCREENSHOTS, snap
from tests.test_browser import (  # noqa: F401
    browser,
    device,
    kiosk_page,
    now_today,
    scan_like_a_wedge,
    staff_page,
)

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1280, "height": 800}
RULES_EN = (
    "1. Photography and video are not allowed in production areas.\n"
    "2. Information you see or hear during your visit is confidential.\n"
    "3. Wear your visitor badge where it can be seen, and stay with your host.\n"
    "4. Follow the safety signs and the instructions of our staff."
)
RULES_ZH = (
    "一、生产区域内禁止拍照和录像。\n"
    "二、参观期间所见所闻的信息均属保密内容。\n"
    "三、请佩戴访客证并随时与接待人同行。\n"
    "四、请遵守安全标识及工作人员的指引。"
)


@pytest.fixture
def site_rules(app, staff):
    kiosk_settings.save(photo_enabled=False)
    return rules.publish(RULES_EN, RULES_ZH, staff["admin"])


def draw_signature(page, offset=0):
    """Sign with the mouse: a few connected strokes across the pad."""
    pad = page.locator("#kiosk-result canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    points = [
        (0.10, 0.70),
        (0.22, 0.25),
        (0.34, 0.75),
        (0.48, 0.30),
        (0.60, 0.72),
        (0.75, 0.35),
        (0.88, 0.60),
    ]
    page.mouse.move(x + w * points[0][0], y + h * points[0][1] + offset)
    page.mouse.down()
    for px, py in points[1:]:
        page.mouse.move(x + w * px, y + h * py + offset, steps=8)
    page.mouse.up()


def saved_signatures():
    db.session.rollback()
    return list(db.session.scalars(select(Signature).order_by(Signature.id)))


def test_visitor_signs_with_the_mouse_in_english_and_is_welcomed(
    app, device, site_rules, make_visit
):
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size(LANDSCAPE)
    visit = make_visit(when=now_today())
    scan_like_a_wedge(kiosk, visit.code)
    step = kiosk.locator("#kiosk-result [data-screen=rules]")
    expect(step.locator(".rules-text")).to_contain_text("Information you see or hear")
    expect(step.locator(".rules-version")).to_have_text("Version 1")
    accept = step.get_by_role("button", name="I accept and sign")
    expect(accept).to_be_disabled()
    snap(kiosk, "kiosk-rules-en")

    draw_signature(kiosk)
    expect(accept).to_be_enabled()
    snap(kiosk, "kiosk-rules-signed-en")
    accept.click()
    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome).to_contain_text("Ada Lovelace")

    [sig] = saved_signatures()
    assert (sig.visit_id, sig.version, sig.language) == (visit.id, 1, "en")
    image = Image.open(io.BytesIO(sig.image_png))
    dark = sum(image.histogram()[:128])
    assert dark > 200  # the strokes drawn, not an empty canvas
    assert db.session.get(Visit, visit.id).status == "checked_in"


def test_visitor_switches_to_chinese_on_the_rules_clears_and_signs(
    app, device, site_rules, make_visit
):
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size(PORTRAIT)
    visit = make_visit("张伟", "华为技术", when=now_today())
    scan_like_a_wedge(kiosk, visit.code)
    expect(kiosk.locator("#kiosk-result .rules-text")).to_contain_text("confidential")

    kiosk.click(".lang-switch .lang[data-lang=zh]")
    step = kiosk.locator("#kiosk-result [data-screen=rules]")
    expect(step.locator(".rules-text")).to_contain_text("参观期间所见所闻的信息均属保密内容")
    expect(step.locator("h2")).to_have_text("访客须知与保密协议")
    expect(step.locator(".rules-version")).to_have_text("第 1 版")
    accept = step.get_by_role("button", name="我接受并签名")
    expect(accept).to_be_disabled()
    snap(kiosk, "kiosk-rules-zh")

    draw_signature(kiosk)  # the pad works on the re-rendered screen too
    expect(accept).to_be_enabled()
    step.get_by_role("button", name="清除").click()
    expect(accept).to_be_disabled()
    draw_signature(kiosk, offset=10)
    expect(accept).to_be_enabled()
    snap(kiosk, "kiosk-rules-signed-zh")
    accept.click()
    expect(kiosk.locator("#kiosk-result [data-outcome=welcome]")).to_contain_text("张伟")
    [sig] = saved_signatures()
    assert (sig.visit_id, sig.language) == (visit.id, "zh")


def test_rules_updated_while_reading_are_shown_again_to_sign(
    app, device, staff, site_rules, make_visit
):
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size(LANDSCAPE)
    kiosk.click(".lang-switch .lang[data-lang=zh]")
    expect(kiosk.locator("#kiosk-start h1")).to_have_text("欢迎光临")
    kiosk.locator("#code").focus()
    scan_like_a_wedge(kiosk, make_visit(when=now_today()).code)
    expect(kiosk.locator("#kiosk-result .rules-version")).to_have_text("第 1 版")
    rules.publish(RULES_EN + "\n5. No smoking.", RULES_ZH + "\n五、禁止吸烟。", staff["admin"])
    draw_signature(kiosk)
    kiosk.get_by_role("button", name="我接受并签名").click()
    step = kiosk.locator("#kiosk-result [data-screen=rules]")
    expect(step.locator(".rules-error")).to_have_text("访客须知刚刚已更新，请重新阅读并签名。")
    expect(step.locator(".rules-version")).to_have_text("第 2 版")
    expect(step.locator(".rules-text")).to_contain_text("五、禁止吸烟。")
    expect(step.get_by_role("button", name="我接受并签名")).to_be_disabled()  # sign anew
    snap(kiosk, "kiosk-rules-changed-zh")
    assert saved_signatures() == []

    draw_signature(kiosk)
    step.get_by_role("button", name="我接受并签名").click()
    expect(kiosk.locator("#kiosk-result [data-outcome=welcome]")).to_be_visible()
    assert [s.version for s in saved_signatures()] == [2]


@pytest.mark.parametrize(
    "lang, text",
    [
        ("en", "You did not accept the site rules."),
        ("zh", "您未接受访客须知"),
    ],
)
def test_declining_ends_at_see_reception_and_tells_the_desk(
    app, device, site_rules, make_visit, lang, text
):
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size(PORTRAIT if lang == "zh" else LANDSCAPE)
    visit = make_visit(when=now_today())
    scan_like_a_wedge(kiosk, visit.code)
    expect(kiosk.locator("#kiosk-result [data-screen=rules]")).to_be_visible()
    if lang == "zh":
        kiosk.click(".lang-switch .lang[data-lang=zh]")
        expect(kiosk.locator("#kiosk-result h2")).to_have_text("访客须知与保密协议")
    draw_signature(kiosk)  # signed, then changed their mind: the drawing is not kept
    kiosk.locator("#kiosk-result [data-action=decline-rules]").click()
    result = kiosk.locator("#kiosk-result [data-outcome=see_reception][data-reason=rules_declined]")
    expect(result).to_be_visible()
    expect(result).to_contain_text(text)
    snap(kiosk, f"kiosk-rules-declined-{lang}")

    db.session.rollback()
    [req] = db.session.scalars(select(DeskRequest)).all()
    assert (req.kind, req.visit_id, req.details["language"]) == ("rules_declined", visit.id, lang)
    assert saved_signatures() == []
    assert db.session.get(Visit, visit.id).status == "expected"


def test_admin_publishes_a_version_and_reception_sees_the_signature(app, device, staff, make_visit):
    kiosk_settings.save(photo_enabled=False)
    admin = staff_page(device, "admin@example.com", "/admin/")
    admin.click("#nav-setup summary")  # the admin's setup menu
    admin.click("nav >> text=Site rules 须知")
    admin.fill("textarea[name=text_en]", RULES_EN)
    admin.fill("textarea[name=text_zh]", RULES_ZH)
    admin.click("button:has-text('Publish as version 1')")
    expect(admin.locator("#rules-published")).to_contain_text("Version 1 is published")
    expect(admin.locator("#rules-versions tr[data-version='1']")).to_contain_text("Alex Admin")

    kiosk = kiosk_page(device)
    scan_like_a_wedge(kiosk, make_visit(when=now_today()).code)
    draw_signature(kiosk)
    kiosk.get_by_role("button", name="I accept and sign").click()
    expect(kiosk.locator("#kiosk-result [data-outcome=welcome]")).to_be_visible()

    desk = staff_page(device, "desk@example.com", "/reception/")
    signed = desk.locator(".row", has_text="Ada Lovelace").locator(".rules-signed")
    expect(signed).to_contain_text("Signed site rules v1 · English")
    image = desk.request.get(signed.get_attribute("href"))
    assert image.status == 200 and image.headers["content-type"] == "image/png"
    snap(desk, "reception-rules-signed")
    admin.reload()
    thumb = admin.locator("#rules-signatures img.signature-thumb")
    expect(thumb).to_have_count(1)
    assert admin.evaluate("document.querySelector('#rules-signatures img').naturalWidth") > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(SCREENSHOTS / "admin-rules.png"), full_page=True)
