"""The visitor log and the promised answers in a real browser (Debian's Chromium via
Playwright, the real app over HTTP + Socket.IO): an htmx search that pushes a
shareable URL without reloading the page, and a host reminded of a promised answer
who answers it from the "Promised answers" section."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import Task, utcnow
from server.services import follow_ups, tasks
from server.services.clock import iso
from tests.test_browser import browser, device, staff_page  # noqa: F401
from tests.test_visit_log import _bulk_visits

pytestmark = pytest.mark.browser


def test_desk_searches_the_log_and_the_url_follows_without_a_reload(device, staff, make_visit):
    _bulk_visits([staff["host"].id], 60, utcnow() - timedelta(days=3))
    make_visit(name="张伟", company="华为", when=utcnow() - timedelta(days=40))
    desk = staff_page(device, "desk@example.com", "/reception/")
    desk.get_by_role("link", name="Visitor log 访客记录").click()
    desk.wait_for_url("**/reception/log")
    expect(desk.locator(".log-total")).to_have_text("61")
    desk.evaluate("window.__marker = 1")
    desk.fill("input[name=q]", "张")
    desk.keyboard.press("Enter")
    expect(desk.locator(".log-row")).to_have_count(1)
    expect(desk.locator(".log-row")).to_contain_text("华为")
    assert desk.url.endswith("/reception/log?q=%E5%BC%A0")  # no empty fields
    desk.select_option("select[name=status]", "cancelled")  # a change searches at once
    expect(desk.locator("#log-results")).to_contain_text("No visits match")
    assert desk.url.endswith("/reception/log?q=%E5%BC%A0&status=cancelled")
    assert desk.evaluate("window.__marker") == 1  # htmx swapped the results only
    shared = desk.url
    desk.go_back()
    expect(desk.locator(".log-row")).to_contain_text("张伟")
    fresh = desk.context.new_page()  # the pushed URL opens the same search in a new tab
    fresh.goto(shared)
    expect(fresh.locator("#log-results")).to_contain_text("No visits match")
    expect(fresh.locator("select[name=status]")).to_have_value("cancelled")


def test_host_is_reminded_and_answers_a_promise_from_another_day(app, device, staff, make_visit):
    old = make_visit(when=utcnow() - timedelta(days=5))
    task = tasks.create(
        old.id,
        {
            "kind": "follow_up",
            "question": "Price for 500 units?",
            "reply_method": "wechat",
            "deadline": iso(utcnow() + timedelta(minutes=30)),
        },
        staff["host"],
    )
    host = staff_page(device, "grace@example.com", "/host/")
    section = host.locator("#follow-ups")
    expect(section).to_contain_text("Price for 500 units?")
    expect(section).to_contain_text("Due soon 即将到期")
    assert follow_ups.send_follow_up_reminders(now=utcnow() + timedelta(hours=1)) == 1
    expect(host.locator("#banner")).to_contain_text("Promised answer overdue")
    item = section.locator(".follow-up-item", has_text="Price for 500 units?")
    item.locator("summary").click()
    item.locator("textarea[name=answer]").fill("USD 12 each, sent by WeChat")
    host.evaluate("document.body.dispatchEvent(new CustomEvent('lobby:refresh'))")
    host.wait_for_timeout(400)  # a live refresh keeps the open form and what was typed
    expect(item.locator("textarea[name=answer]")).to_have_value("USD 12 each, sent by WeChat")
    item.get_by_role("button", name="Mark answered 标记已答复").click()
    expect(section).to_contain_text("No open promised answers")
    assert host.evaluate("window.__marker") == 1
    db.session.rollback()
    assert db.session.get(Task, task.id).details["answer"] == "USD 12 each, sent by WeChat"
