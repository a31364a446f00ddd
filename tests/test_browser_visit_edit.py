"""Editing and cancelling a visit in a real browser: an admin moves a visit's time and
room on the edit page, reception's board and tea queue show the room, and a host
cancels a visit with a reason (the dashboards refresh live)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from server.extensions import db
from server.models import Visit
from server.services import checkin, clock, hosting, tasks
from tests.conftest import on_menu
from tests.test_browser import browser, device, now_today, staff_page  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fonts_cut(app):
    """Cut the web font subsets before the browser starts: on a busy machine cutting
    them takes seconds, which must not count against the 5 s page waits."""
    web = app.test_client()
    css = web.get("/fonts/faces.css").get_data(as_text=True)
    for url in sorted(set(re.findall(r"/fonts/subset/[\w.-]+\.woff2", css))):
        assert web.get(url).status_code == 200


def test_admin_moves_a_visits_time_and_room_and_reception_sees_the_room(device, staff, make_visit):
    on_menu("Green tea", "绿茶")
    visit = make_visit(when=now_today())
    desk = staff_page(device, "desk@example.com", "/reception/")
    admin = staff_page(device, "admin@example.com", "/admin/")

    row = admin.locator("tr", has_text="Ada Lovelace")
    row.get_by_role("link", name="Edit 编辑").click()
    admin.wait_for_url(re.compile(rf"/admin/visits/{visit.id}/edit\?next="))
    form = admin.locator("#visit-edit")
    day = clock.to_local(visit.expected_at).date()
    new_time = "07:30" if clock.to_local(visit.expected_at).hour != 7 else "08:30"
    form.locator("input[name=expected_at]").fill(f"{day.isoformat()}T{new_time}")
    form.locator("input[name=meeting_room]").fill("Board room 董事会议室")
    form.get_by_role("button", name="Save 保存").click()

    admin.wait_for_url("**/admin/")
    expect(admin.locator(".flash")).to_contain_text("Saved Ada Lovelace's visit. 已保存来访信息。")
    expect(admin.locator("tr", has_text="Ada Lovelace")).to_contain_text(new_time)
    db.session.rollback()
    saved = db.session.get(Visit, visit.id)
    assert clock.to_local(saved.expected_at).strftime("%H:%M") == new_time
    assert saved.meeting_room == "Board room 董事会议室"

    # The visitor arrives and the host comes: the board shows where they are.
    checkin.check_in(saved.code)
    hosting.acknowledge(visit.id, staff["host"])
    with_host = desk.locator("[data-group=with_host] .row", has_text="Ada Lovelace")
    expect(with_host.locator(".where")).to_have_text("Board room 董事会议室")
    tasks.create(
        visit.id, {"kind": "tea", "items": [{"drink": "Green tea", "count": 2}]}, staff["host"]
    )
    tea = desk.locator("#tea-queue .tea-card", has_text="Ada Lovelace")
    expect(tea.locator(".tea-room")).to_contain_text("Board room 董事会议室")


def test_host_cancels_a_visit_with_a_reason_and_the_dashboard_shows_it(device, staff, make_visit):
    visit = make_visit(when=now_today() + timedelta(seconds=1))
    host = staff_page(device, "grace@example.com", "/host/")
    card = host.locator(".visit-card", has_text="Ada Lovelace")
    card.get_by_role("link", name="Edit 编辑").click()
    host.wait_for_url(re.compile(rf"/host/visits/{visit.id}/edit\?next="))
    expect(host.locator("select[name=host]")).to_have_count(0)  # a host keeps the visit

    cancel = host.locator("#visit-cancel")
    cancel.locator("textarea[name=reason]").fill("Client postponed 客户改期")
    cancel.locator("input[name=confirm]").check()
    cancel.get_by_role("button", name="Cancel visit 取消来访").click()

    host.wait_for_url("**/host/")
    expect(host.locator(".flash")).to_contain_text("Cancelled Ada Lovelace's visit")
    expect(host.locator(".visit-card", has_text="Ada Lovelace").locator(".status")).to_contain_text(
        "Cancelled 已取消"
    )
    db.session.rollback()
    saved = db.session.get(Visit, visit.id)
    assert (saved.status, saved.cancel_reason) == ("cancelled", "Client postponed 客户改期")
