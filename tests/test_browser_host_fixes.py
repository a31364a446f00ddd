"""What broke on the host's page in ordinary use (issue 11 item 6), in Chromium: the
arrival banner after "On my way", a tour left "In progress" after the visitor left, the
farewell card's wording and line breaks, and the tour form in a narrow card."""

import pytest
from playwright.sync_api import expect

from server.models import utcnow
from server.services import checkin, tasks
from server.services.clock import iso
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    now_today,  # noqa: F401
    staff_page,
)
from tests.warm_fonts import fonts_built  # noqa: F401

pytestmark = pytest.mark.browser


def card(page, name):
    return page.locator(".visit-card", has_text=name)


def test_on_my_way_takes_the_arrival_banner_off_the_cards(app, device, staff, make_visit):
    host = staff_page(device, "grace@example.com", "/host/")
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    banner = host.locator("#banner")
    expect(banner).to_contain_text("Ada Lovelace from Analytical Engines is here")
    card(host, "Ada Lovelace").get_by_role("button", name="On my way 我这就来").click()
    expect(host.locator("#group-with_host")).to_contain_text("Ada Lovelace")
    expect(banner).to_be_hidden()


def test_a_tour_in_progress_ends_on_the_page_when_the_visitor_leaves(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    tour = tasks.create(
        visit.id,
        {
            "kind": "tour",
            "title": "Plant tour",
            "starts_at": iso(utcnow()),
            "stops": [{"place": "Assembly hall"}],
        },
        staff["host"],
    )
    tasks.update(tour.id, {"status": "in_progress"}, staff["host"])
    host = staff_page(device, "grace@example.com", "/host/")
    status = card(host, "Ada Lovelace").locator(".task.tour .task-status")
    expect(status).to_have_text("In progress 进行中")
    checkin.check_out(visit.code)  # the badge scanned at the kiosk
    expect(host.locator("#group-left")).to_contain_text("Ada Lovelace")
    expect(status).to_have_text("Done 已结束")


def test_the_farewell_card_names_the_reply_method_and_keeps_not_yet_on_one_line(
    device, staff, make_visit
):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    tasks.create(
        visit.id,
        {
            "kind": "follow_up",
            "question": "Price for 40 units?",
            "deadline": "2031-05-02T17:00",
            "reply_method": "wechat",
        },
        staff["host"],
    )
    host = staff_page(device, "grace@example.com", "/host/")
    host.set_viewport_size({"width": 420, "height": 900})
    expect(card(host, "Ada Lovelace").locator(".task.follow-up .due")).to_contain_text(
        "WeChat 微信"
    )
    card(host, "Ada Lovelace").get_by_text("See off 送客").click()
    confirm = host.locator(".farewell-confirm")
    expect(confirm.locator(".open-follow-up")).to_contain_text("WeChat 微信")
    expect(confirm).not_to_contain_text("wechat")
    not_yet = confirm.get_by_text("Not yet 暂不")
    expect(not_yet).to_be_visible()
    # The lines its text takes: the distinct tops of the text's boxes. Right after a
    # live refresh swapped the card in, the text may not be laid out yet (no boxes, as
    # CI once saw): measure again until it is.
    lines = 0
    for _ in range(20):
        lines = not_yet.evaluate("""el => {
            const r = document.createRange(); r.selectNodeContents(el);
            return new Set(Array.from(r.getClientRects()).filter(b => b.width > 0)
                           .map(b => Math.round(b.top))).size; }""")
        if lines:
            break
        host.wait_for_timeout(100)
    assert lines == 1


def test_the_tour_form_fits_a_narrow_card(device, staff, make_visit):
    visit = make_visit(when=now_today())
    checkin.check_in(visit.code)
    host = staff_page(device, "grace@example.com", "/host/")  # 1280 wide: cards in columns
    ada = card(host, "Ada Lovelace")
    ada.locator("summary", has_text="Tour").click()
    form = ada.locator("form.tour-form")
    expect(form).to_be_visible()
    # Every field shows its whole placeholder and stays inside the form.
    host.evaluate("document.fonts.ready.then(() => true)")
    cut = form.evaluate("""form => {
        const box = form.getBoundingClientRect();
        const ctx = document.createElement('canvas').getContext('2d');
        return Array.from(form.querySelectorAll('input:not([type=hidden])')).filter(el => {
          const r = el.getBoundingClientRect(), css = getComputedStyle(el);
          ctx.font = css.font;
          const room = el.clientWidth - parseFloat(css.paddingLeft) - parseFloat(css.paddingRight);
          return r.left < box.left - 0.5 || r.right > box.right + 0.5 ||
                 (el.placeholder && ctx.measureText(el.placeholder).width > room);
        }).map(el => el.name); }""")
    assert cut == []
