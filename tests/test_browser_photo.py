"""The optional photo step in a real browser: Chromium's fake camera shows a picture
(a yellow smiley on blue, ``tests.fake_camera.face_image``). A visitor scans their
code (keyboard wedge), takes the photo, is welcomed; the photo is stored as a small
JPEG of that picture and their host sees it in the arrival banner and on the card.
In Chinese, a visitor skips it: no photo is kept."""

import io

import pytest
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from server.extensions import db
from server.models import Visit, VisitPhoto
from server.services import devices
from tests.fake_camera import FACE_BACKGROUND, FACE_SKIN, face_video, fake_camera_args
from tests.kiosk_helpers import snap
from tests.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    now_today,
    scan_like_a_wedge,
    staff_page,
)

pytestmark = pytest.mark.browser
PORTRAIT, LANDSCAPE = {"width": 1080, "height": 1920}, {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory):
    """Chromium whose only camera looks at face_image()."""
    video = face_video(tmp_path_factory.mktemp("camera") / "face.y4m")
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + fake_camera_args(video)
        )
        yield chromium
        chromium.close()


@pytest.fixture
def device(camera_browser, live_server):
    """``device(path=None, viewport=LANDSCAPE)`` -> a page in its own browser context."""
    contexts = []

    def open_device(path=None, viewport=LANDSCAPE):
        context = camera_browser.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(10000)  # a loaded machine: the first page builds font subsets
        contexts.append(context)
        page = context.new_page()
        if path:
            page.goto(path)
        return page

    yield open_device
    for context in contexts:
        context.close()


def kiosk(device, viewport):
    _, path = devices.add_kiosk(f"Door {viewport['width']}")
    page = device(path, viewport)
    page.wait_for_url("**/kiosk/")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'code'")
    return page


def camera_live(page):
    """Wait until the photo step's camera shows frames."""
    page.wait_for_function(
        "() => "
        "(() => { const v = document.getElementById('photo-camera');"
        " return v && v.readyState >= 2 && v.videoWidth > 0; })()"
    )


def switch_to_chinese(page):
    """Press 中文 and wait until the start screen came back in Chinese (a code typed
    before that would go into the field being replaced)."""
    page.locator(".lang-switch .lang[data-lang=zh]").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#kiosk-start h1")).to_contain_text("欢迎")
    expect(page.locator("#code")).not_to_have_attribute("placeholder", "Type or scan your code")
    page.locator("#code").focus()


def close(colour, expected, tolerance=45):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected, strict=True))


def image_loaded(locator) -> bool:
    return locator.evaluate("img => img.complete && img.naturalWidth > 0")


def test_visitor_takes_a_photo_and_the_host_sees_it(app, device, staff, make_visit):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    host = staff_page(device, "grace@example.com", "/host/")
    page = kiosk(device, PORTRAIT)
    visit = make_visit("Ada Lovelace", when=now_today())

    scan_like_a_wedge(page, visit.code)
    step = page.locator("#kiosk-result [data-screen=photo]")
    expect(step).to_contain_text("A photo for your badge")
    camera_live(page)
    take = step.get_by_role("button", name="Take photo")
    skip = step.get_by_role("button", name="Skip")
    for button in (take, skip):  # touch targets
        assert button.bounding_box()["height"] >= 64
    snap(page, "kiosk-photo-en")

    take.click()
    welcome = page.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome.locator(".visitor-name")).to_have_text("Ada Lovelace")

    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "checked_in"
    photo = Image.open(io.BytesIO(db.session.get(VisitPhoto, visit.id).jpeg))
    assert photo.format == "JPEG" and photo.size == (640, 360)  # 1280x720 scaled down
    rgb = photo.convert("RGB")
    assert close(rgb.getpixel((320, 220)), FACE_SKIN)  # the smiley's face, below the eyes
    assert close(rgb.getpixel((20, 20)), FACE_BACKGROUND)  # the blue around it
    assert close(rgb.getpixel((620, 340)), FACE_BACKGROUND)

    # The host's alert carries the photo, and so does the card.
    banner_photo = host.locator("#banner img.banner-photo")
    expect(banner_photo).to_be_visible()
    expect(host.locator("#banner")).to_contain_text("Ada Lovelace from Analytical Engines is here")
    host.wait_for_function(
        "() => "
        "(() => { const i = document.querySelector('#banner img.banner-photo');"
        " return i && i.complete && i.naturalWidth > 0; })()"
    )
    card_photo = host.locator(".visit-card", has_text="Ada Lovelace").locator("img.visit-photo")
    expect(card_photo).to_be_visible()
    host.wait_for_function(
        "() => "
        "(() => { const i = document.querySelector('.visit-card img.visit-photo');"
        " return i && i.complete && i.naturalWidth > 0; })()"
    )
    snap(host, "host-arrival-photo")
    served = host.request.get(f"/host/visits/{visit.id}/photo.jpg")
    assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.body() == db.session.get(VisitPhoto, visit.id).jpeg


def test_visitor_skips_the_photo_in_chinese(app, device, staff, make_visit):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    host = staff_page(device, "grace@example.com", "/host/")
    page = kiosk(device, LANDSCAPE)
    visit = make_visit("张伟", company="华为技术有限公司", when=now_today())

    switch_to_chinese(page)
    scan_like_a_wedge(page, visit.code)
    step = page.locator("#kiosk-result [data-screen=photo]")
    expect(step.locator("h2")).not_to_have_text("A photo for your badge")
    camera_live(page)
    skip = step.locator("[data-action=skip-photo]")
    expect(skip).not_to_have_text("Skip")
    assert "拍照" in step.locator("[data-action=take-photo]").inner_text()
    snap(page, "kiosk-photo-zh")

    skip.click()
    welcome = page.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome.locator(".visitor-name")).to_have_text("张伟")
    expect(welcome).to_contain_text("欢迎")
    db.session.rollback()
    saved = db.session.get(Visit, visit.id)
    assert saved.status == "checked_in" and saved.language == "zh"
    assert db.session.get(VisitPhoto, visit.id) is None

    expect(host.locator("#banner")).to_contain_text("张伟 from 华为技术有限公司 is here")
    expect(host.locator("#banner img.banner-photo")).to_have_count(0)
    expect(host.locator(".visit-card", has_text="张伟").locator("img.visit-photo")).to_have_count(0)
    assert host.request.get(f"/host/visits/{visit.id}/photo.jpg").status == 404


def test_photo_step_in_english_landscape_and_chinese_portrait_look_right(
    app, device, staff, make_visit
):
    """The other two screenshots (each language in the other orientation); the step
    keeps the camera and both buttons on screen."""
    for viewport, lang, name in ((LANDSCAPE, "en", "Ada Lovelace"), (PORTRAIT, "zh", "李娜")):
        page = kiosk(device, viewport)
        visit = make_visit(name, when=now_today())
        if lang == "zh":
            switch_to_chinese(page)
        scan_like_a_wedge(page, visit.code)
        step = page.locator("#kiosk-result [data-screen=photo]")
        expect(step).to_be_visible()
        camera_live(page)
        for target in (
            step.locator("video"),
            step.locator("[data-action=take-photo]"),
            step.locator("[data-action=skip-photo]"),
        ):
            box = target.bounding_box()
            assert box and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]
        orientation = "landscape" if viewport is LANDSCAPE else "portrait"
        snap(page, f"kiosk-photo-{lang}-{orientation}")
