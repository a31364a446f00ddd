"""The kiosk's other ways in and out, by touch, in headless Chromium, in English and
Chinese: finding a booking without the QR code, a walk-in who picks their host from
the autocomplete, a walk-in with no host (reception sees it live and routes them),
and leaving by name. Screens are saved with ``snap`` (portrait and landscape)."""

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import DeskRequest, Visit
from server.services import checkin, devices, people
from tests.kiosk_helpers import snap
from tests.test_browser import (  # noqa: F401
    CHROMIUM,
    browser,
    device,
    not_reloaded,
    now_today,
    staff_page,
)

pytestmark = pytest.mark.browser

PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1280, "height": 800}
assert CHROMIUM  # the module-scoped browser of test_browser drives Debian's Chromium


@pytest.fixture
def touch_kiosk(browser, live_server):
    """``touch_kiosk(viewport, name)`` -> a paired kiosk page on a touchscreen."""
    contexts = []

    def open_kiosk(viewport=LANDSCAPE, name="Front door"):
        _, path = devices.add_kiosk(name)
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, has_touch=True, is_mobile=False
        )
        context.set_default_timeout(5000)
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        page.wait_for_url("**/kiosk/")
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.name === 'code'"
        )
        return page

    yield open_kiosk
    for context in contexts:
        context.close()


def to_chinese(page):
    page.locator(".lang-switch .lang[data-lang=zh]").tap()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def way(page, path):
    page.locator(f"#kiosk-start button.way[hx-get='{path}']").tap()


def type_into(page, selector, text):
    """Tap a field and type, as a visitor on the on-screen keyboard."""
    page.locator(selector).tap()
    page.keyboard.type(text)


def test_no_qr_lookup_in_english(app, touch_kiosk, make_visit):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    visit = make_visit(
        "José Müller", "Analytical Engines", when=now_today(), phone="+44 20 7946 1234"
    )
    kiosk = touch_kiosk(LANDSCAPE)
    way(kiosk, "/kiosk/lookup")
    form = kiosk.locator("#kiosk-result [data-screen=lookup]")
    expect(form.locator("h2")).to_have_text("Find your booking")
    expect(kiosk.locator("#kiosk-start")).to_be_hidden()
    assert kiosk.evaluate("document.activeElement.name") == "surname"
    snap(kiosk, "kiosk-lookup-en")

    kiosk.keyboard.type("Mueller")
    type_into(kiosk, "#lookup-company", "Analytical")
    form.locator("[data-action=find]").tap()
    expect(form.locator(".not-found")).to_have_text(
        "We could not find your booking. Check the spelling,"
        " or try the last four digits of your phone."
    )
    expect(kiosk.locator("#lookup-surname")).to_have_value("Mueller")
    snap(kiosk, "kiosk-lookup-not-found-en")

    kiosk.locator("#lookup-surname").fill("muller")  # no umlaut on this keyboard
    kiosk.locator("[data-action=find]").tap()
    confirm = kiosk.locator("[data-screen=lookup-confirm]")
    expect(confirm.locator(".masked-name")).to_have_text("José M.")
    expect(confirm.locator(".masked-host")).to_have_text("Meeting Grace H.")
    expect(confirm.locator(".masked-company")).to_have_text("A••••••••• E••••••")
    expect(confirm).not_to_contain_text("Müller")
    expect(confirm).not_to_contain_text("Engines")
    snap(kiosk, "kiosk-lookup-confirm-en")
    confirm.locator("[data-action=not-me]").tap()  # No: back to the form, as typed
    expect(kiosk.locator("#lookup-surname")).to_have_value("muller")
    kiosk.locator("[data-action=find]").tap()
    kiosk.locator("[data-screen=lookup-confirm] [data-action=confirm]").tap()

    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome.locator("h2")).to_have_text("Welcome, José Müller")
    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "checked_in"


def test_no_qr_lookup_in_chinese_keeps_what_was_typed_across_the_language_switch(
    app, touch_kiosk, make_visit
):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    make_visit("张伟", "华为技术", when=now_today(), phone="138 0000 1234")
    kiosk = touch_kiosk(PORTRAIT)
    to_chinese(kiosk)
    way(kiosk, "/kiosk/lookup")
    form = kiosk.locator("#kiosk-result [data-screen=lookup]")
    expect(form.locator("h2")).to_have_text("查找您的预约")
    form.locator("[data-action=find]").tap()  # nothing typed
    expect(form.locator("[data-field=surname]")).to_have_text("请输入您的姓氏。")
    snap(kiosk, "kiosk-lookup-errors-zh")
    type_into(kiosk, "#lookup-surname", "张")
    type_into(kiosk, "#lookup-phone_last4", "1234")
    # Switch to English and back: the fields keep what was typed.
    kiosk.locator(".lang-switch .lang[data-lang=en]").tap()
    expect(kiosk.locator("[data-screen=lookup] h2")).to_have_text("Find your booking")
    expect(kiosk.locator("#lookup-phone_last4")).to_have_value("1234")
    to_chinese(kiosk)
    expect(kiosk.locator("[data-screen=lookup] h2")).to_have_text("查找您的预约")
    expect(kiosk.locator("#lookup-surname")).to_have_value("张")
    snap(kiosk, "kiosk-lookup-zh")
    kiosk.locator("[data-action=find]").tap()
    confirm = kiosk.locator("[data-screen=lookup-confirm]")
    expect(confirm.locator("h2")).to_have_text("这是您吗？")
    expect(confirm.locator(".masked-name")).to_have_text("张*")
    snap(kiosk, "kiosk-lookup-confirm-zh")
    confirm.locator("[data-action=confirm]").tap()
    expect(kiosk.locator("[data-outcome=welcome] h2")).to_have_text("欢迎您，张伟")


def test_walk_in_picks_the_host_by_touch_and_the_host_is_alerted(app, device, touch_kiosk, staff):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    grace = staff["host"]
    grace.department = "Engineering"
    db.session.commit()
    host = staff_page(device, "grace@example.com", "/host/")
    kiosk = touch_kiosk(LANDSCAPE)
    way(kiosk, "/kiosk/walk-in")
    form = kiosk.locator("#kiosk-result [data-screen=walk-in]")
    expect(form.locator("h2")).to_have_text("Welcome! Tell us who you are")
    snap(kiosk, "kiosk-walk-in-en")
    form.locator("[data-action=register]").tap()
    expect(form.locator("[data-field=name]")).to_have_text("Please enter your name.")
    expect(kiosk.locator("#walk-in-name")).to_have_attribute("aria-invalid", "true")
    snap(kiosk, "kiosk-walk-in-errors-en")

    type_into(kiosk, "#walk-in-name", "Ada Lovelace")
    type_into(kiosk, "#walk-in-company", "Analytical Engines")
    kiosk.locator("label.choice:has(input[value=negotiation])").tap()
    expect(kiosk.locator("input[name=purpose][value=negotiation]")).to_be_checked()
    type_into(kiosk, "#walk-in-host_q", "gra")
    option = kiosk.locator(".host-option", has_text="Grace Hopper")
    expect(option).to_contain_text("Engineering")
    expect(kiosk.locator("#host-suggestions")).not_to_contain_text("@")
    snap(kiosk, "kiosk-walk-in-hosts-en")
    option.tap()
    chosen = kiosk.locator(".chosen-host")
    expect(chosen).to_contain_text("Grace Hopper")
    expect(kiosk.locator("input[name=host_id]")).to_have_value(str(grace.id))
    box = kiosk.locator("[data-action=register]").bounding_box()
    assert box["height"] >= 64
    kiosk.locator("[data-action=register]").tap()

    welcome = kiosk.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome.locator("h2")).to_have_text("Welcome, Ada Lovelace")
    expect(host.locator("#banner")).to_contain_text("Ada Lovelace from Analytical Engines is here")
    assert not_reloaded(host)
    db.session.rollback()
    visit = db.session.query(Visit).one()
    assert (
        visit.walk_in and visit.purpose == "Business negotiation" and visit.status == "checked_in"
    )


def test_walk_in_in_chinese_picks_a_host_by_a_chinese_name(app, touch_kiosk, staff):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    people.create_user("li.na@example.com", "李娜", ["host"], department="研发部")
    kiosk = touch_kiosk(PORTRAIT)
    to_chinese(kiosk)
    way(kiosk, "/kiosk/walk-in")
    expect(kiosk.locator("[data-screen=walk-in] h2")).to_have_text("欢迎！请告诉我们您是谁")
    type_into(kiosk, "#walk-in-name", "王芳")
    kiosk.locator("label.choice:has(input[value=rnd])").tap()
    type_into(kiosk, "#walk-in-host_q", "李")
    kiosk.locator(".host-option", has_text="李娜").tap()
    expect(kiosk.locator(".chosen-host")).to_contain_text("研发部")
    snap(kiosk, "kiosk-walk-in-zh")
    kiosk.locator("[data-action=register]").tap()
    expect(kiosk.locator("[data-outcome=welcome] h2")).to_have_text("欢迎您，王芳")
    db.session.rollback()
    visit = db.session.query(Visit).one()
    assert visit.host.name == "李娜" and visit.language == "zh"


def test_walk_in_without_a_host_reaches_reception_live(app, device, touch_kiosk, staff):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    desk = staff_page(device, "desk@example.com", "/reception/")
    expect(desk.locator("#desk-requests")).to_contain_text("Nothing waiting")
    kiosk = touch_kiosk(PORTRAIT, name="Lobby east")
    to_chinese(kiosk)
    way(kiosk, "/kiosk/walk-in")
    type_into(kiosk, "#walk-in-name", "赵敏")
    type_into(kiosk, "#walk-in-company", "明教贸易")
    type_into(kiosk, "#walk-in-phone", "13912345678")
    kiosk.locator("label.choice:has(input[value=other])").tap()
    kiosk.locator("[data-action=register]").tap()  # "other" needs a few words
    expect(kiosk.locator("[data-field=purpose_other]")).to_have_text("请简要说明来访目的。")
    type_into(kiosk, "#walk-in-purpose_other", "送样品")
    kiosk.locator("[data-action=register]").tap()
    told = kiosk.locator("#kiosk-result [data-outcome=see_reception]")
    expect(told.locator("h2")).to_have_text("请到前台")
    expect(told).to_contain_text("前台工作人员将为您联系合适的接待人。")
    snap(kiosk, "kiosk-see-reception-walk-in-zh")

    card = desk.locator("#desk-requests .desk-request", has_text="赵敏")
    expect(card).to_contain_text("Walk-in needs a host 需安排接待人", timeout=3000)
    expect(card).to_contain_text("明教贸易")
    expect(card).to_contain_text("Lobby east")
    expect(card).to_contain_text("Other: 送样品")
    assert not_reloaded(desk)
    snap(desk, "reception-desk-requests")
    card.locator("button.find-host").click()
    expect(desk.locator("#walk-in-form [name=name]")).to_have_value("赵敏")
    expect(desk.locator("#walk-in-form [name=phone]")).to_have_value("13912345678")
    card.locator("button.done-btn").click()
    expect(desk.locator("#desk-requests")).not_to_contain_text("赵敏")
    db.session.rollback()
    assert db.session.query(DeskRequest).one().status == "done"


def test_leaving_by_name_in_english_and_chinese(app, device, touch_kiosk, staff, make_visit):
    app.config["KIOSK_RESULT_SECONDS"] = 60
    ada = make_visit(when=now_today(), phone="+44 20 7946 0042")
    zhang = make_visit("张伟", "华为技术", when=now_today(), phone="13800001234")
    checkin.check_in(ada.code, language="en")
    checkin.check_in(zhang.code, language="zh")
    host = staff_page(device, "grace@example.com", "/host/")

    kiosk = touch_kiosk(LANDSCAPE)
    way(kiosk, "/kiosk/leave")
    expect(kiosk.locator("[data-screen=leave] h2")).to_have_text("Leaving?")
    snap(kiosk, "kiosk-leave-en")
    kiosk.keyboard.type("Lovelace")
    kiosk.locator("[data-action=find]").tap()  # a name alone checks nobody out
    expect(kiosk.locator("[data-outcome=see_reception]")).to_contain_text(
        "we need the last four digits of your phone"
    )
    snap(kiosk, "kiosk-leave-name-alone-en")
    kiosk.evaluate("window.lobbyKiosk.reset()")
    way(kiosk, "/kiosk/leave")
    type_into(kiosk, "#leave-surname", "Lovelace")
    type_into(kiosk, "#leave-phone_last4", "0042")
    kiosk.locator("[data-action=find]").tap()
    confirm = kiosk.locator("[data-screen=leave-confirm]")
    expect(confirm.locator(".masked-name")).to_have_text("Ada L.")
    expect(confirm.locator(".masked-company")).to_have_text("A••••••••• E••••••")
    snap(kiosk, "kiosk-leave-confirm-en")
    confirm.locator("[data-action=confirm]").tap()
    expect(kiosk.locator("[data-outcome=goodbye] h2")).to_have_text("Goodbye, Ada Lovelace")
    expect(host.locator("#group-left")).to_contain_text("Ada Lovelace", timeout=3000)

    # 张伟 leaves at an English kiosk: found by phone, thanked in Chinese (his check-in).
    kiosk.evaluate("window.lobbyKiosk.reset()")  # what the result timeout does
    expect(kiosk.locator("#kiosk-start")).to_be_visible()
    way(kiosk, "/kiosk/leave")
    type_into(kiosk, "#leave-surname", "张")
    type_into(kiosk, "#leave-phone_last4", "1234")
    kiosk.locator("[data-action=find]").tap()
    kiosk.locator("[data-screen=leave-confirm] [data-action=confirm]").tap()
    expect(kiosk.locator("[data-outcome=goodbye] h2")).to_have_text("再见，张伟")
    snap(kiosk, "kiosk-goodbye-by-name-zh")
    db.session.rollback()
    assert db.session.get(Visit, zhang.id).status == "checked_out"


def test_leave_form_in_chinese_portrait(app, touch_kiosk, staff):
    kiosk = touch_kiosk(PORTRAIT)
    to_chinese(kiosk)
    way(kiosk, "/kiosk/leave")
    form = kiosk.locator("[data-screen=leave]")
    expect(form.locator("h2")).to_have_text("要离开了吗？")
    type_into(kiosk, "#leave-surname", "钱")
    type_into(kiosk, "#leave-phone_last4", "0000")
    expect(form.locator("#leave-company")).to_have_count(0)  # leaving asks for the phone
    form.locator("[data-action=find]").tap()
    expect(form.locator(".not-found")).to_contain_text("未找到您的来访记录")
    snap(kiosk, "kiosk-leave-zh")
    for target in form.locator("button, input[type=text]").all():
        assert target.bounding_box()["height"] >= 64
