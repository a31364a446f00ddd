"""Issue 14 item 9, in real browsers (Debian's Chromium via Playwright) against the real
app over HTTP + Socket.IO: a host files a hospitality request on the form (priced live),
the department head is told live and approves, marketing returns it, the host edits and
resubmits, each approver decides in turn, the last approval creates the visits, the host
files the arrangement sheet with a room, and one of the visitors checks in at the kiosk:
the host's alert says where to meet them."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.policy import rooms
from server.services import clock
from tests.conftest import soon_today
from tests.test_browser import (
    browser,  # noqa: F401 - pytest fixture (device needs it)
    device,  # noqa: F401 - pytest fixture
    kiosk_page,
    scan_like_a_wedge,
    staff_page,
)
from tests.test_policy_requests import office  # noqa: F401 - pytest fixture
from tests.warm_fonts import fonts_built  # noqa: F401 - pytest fixture


def local(minutes: float, today: bool = True) -> str:
    """The site's local time ``minutes`` from now (but today, unless told), as the form
    takes it."""
    when = soon_today(minutes) if today else clock.utcnow() + timedelta(minutes=minutes)
    return clock.to_local(when).strftime("%Y-%m-%dT%H:%M")


def decide(page, rid: int, decision: str, comment: str = "", **plan):
    page.goto(f"/requests/{rid}")
    form = page.locator("#decision-form")
    for name, value in plan.items():
        form.locator(f"[name={name}]").fill(value)
    if comment:
        form.locator("textarea[name=comment]").fill(comment)
    form.locator(f"button[value={decision}]").click()
    page.wait_for_url(re.compile(rf"/requests/{rid}$"))


@pytest.mark.browser
def test_a_request_from_the_form_to_the_kiosk(device, office):  # noqa: F811
    rooms.add_room("Room 3", 8, projector=True)
    rita = staff_page(device, "rita@example.com", "/host/")
    head = staff_page(device, "grace@example.com", "/host/")

    # The host files it on the form; the estimate comes from the 4-star standard.
    rita.goto("/requests/new")
    rita.fill("input[name=company]", "华为技术")
    rita.check("input[name=star_level][value='4']")
    rita.fill("textarea[name=purpose]", "Contract talks and a plant tour")
    rita.fill("input[name=arrives_at]", local(10))
    rita.fill("input[name=departs_at]", local(180, today=False))
    rita.fill("input[name=attendees]", "3")
    rita.fill("input[name=visitor-0-name]", "张伟")
    rita.fill("input[name=visitor-0-title]", "VP 副总裁")
    rita.fill("input[name=visitor-1-name]", "Ada Lovelace")
    rita.select_option("select[name=item-0-kind]", "meal")
    rita.fill("input[name=item-0-quantity]", "6")
    rita.locator("input[name=item-0-quantity]").dispatch_event("change")
    expect(rita.locator("#estimate-total")).to_have_text("¥912.00")
    rita.locator("#request-submit").click()
    rita.wait_for_url(re.compile(r"/requests/\d+$"))
    rid = int(rita.url.rsplit("/", 1)[1])
    expect(rita.locator("#request-status")).to_contain_text("Waiting 审批中")

    # The department head hears it live, with the count in the navigation.
    expect(head.locator("#banner")).to_contain_text("Approval needed 待您审批: 华为技术")
    expect(head.locator("#approvals-count")).to_have_text("1")
    decide(head, rid, "approve")

    mark = staff_page(device, "mark@example.com", "/requests")
    decide(mark, rid, "return", "Please add the dinner")
    expect(rita.locator("#banner")).to_contain_text("return")
    rita.goto(f"/requests/{rid}")
    expect(rita.locator("#request-status")).to_contain_text("Returned 已退回")
    rita.locator("#edit-request").click()
    rita.fill("input[name=item-1-amount]", "600")
    rita.select_option("select[name=item-1-kind]", "gift")
    rita.fill("input[name=item-1-quantity]", "2")
    rita.locator("#request-submit").click()
    rita.wait_for_url(re.compile(rf"/requests/{rid}$"))
    expect(rita.locator("#request-estimate")).to_contain_text("¥1512.00")

    decide(head, rid, "approve")
    decide(mark, rid, "approve", schedule="10:00 talks · 12:00 lunch", venue="Room 3")
    fay = staff_page(device, "fay@example.com", "/requests")
    decide(fay, rid, "approve")
    gus = staff_page(device, "gus@example.com", "/approvals")
    expect(gus.locator("#approvals")).to_contain_text("华为技术")
    decide(gus, rid, "approve", "Welcome them")
    expect(gus.locator("#request-status")).to_contain_text("Approved 已批准")
    expect(gus.locator("#request-history")).to_contain_text("Please add the dinner")

    # The host files the arrangement sheet: the room is booked, the GM told.
    rita.goto(f"/requests/{rid}")
    sheet = rita.locator("#arrangement-form")
    sheet.locator("input[name=receiving_staff]").fill("Rita Sales, 李娜")
    sheet.locator("textarea[name=background]").fill("华为技术: key account")
    sheet.locator("select[name=room]").select_option("Room 3")
    sheet.locator("input[name=welcome_banner]").fill("热烈欢迎华为技术莅临指导")
    sheet.locator("button[type=submit]").click()
    expect(rita.locator("#sheet-state")).to_contain_text("Complete 已完整")
    expect(gus.locator("#banner")).to_contain_text("Arrangement sheet filed")
    codes = rita.locator("#request-visits a")
    expect(codes).to_have_count(2)

    # 张伟 scans his invitation at the kiosk: the host's alert names the room.
    from server.extensions import db
    from server.models import Visit

    db.session.rollback()
    zhang = db.session.query(Visit).filter(Visit.request_id == rid).order_by(Visit.id).first()
    assert zhang is not None and zhang.visitor.name == "张伟" and zhang.stars == 4
    kiosk = kiosk_page(device)
    rita.goto("/host/")
    expect(rita.locator("#live-state")).to_have_attribute("data-state", "online")
    scan_like_a_wedge(kiosk, zhang.code)
    expect(rita.locator("#banner")).to_contain_text("张伟 from 华为技术 is here → Room 3")
    card = rita.locator(f"#visit-{zhang.id}")
    expect(card.locator(".request-facts")).to_contain_text("★★★★")
    expect(card.locator(".request-facts")).to_contain_text("10:00 talks")
