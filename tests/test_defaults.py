"""What a new site expects at the front desk (issue 16 item 6): a drinks menu that is
there from the start, editable, and on the API; a kiosk with no language set greets
visitors in their browser's language (Accept-Language)."""

import re

import pytest

from server.extensions import db
from server.models import Drink, Kiosk, Visit
from server.services import devices, tasks
from tests.conftest import auth, csrf_from, login
from tests.test_browser import browser  # noqa: F401  (the module's Chromium)

SEEDED = [
    ("Coffee", "咖啡", True),
    ("Green tea", "绿茶", True),
    ("Tea", "茶", True),
    ("Water", "矿泉水", True),
]

# --- the drinks menu ---------------------------------------------------------------


def test_api_lists_the_seeded_menu_to_any_staff_token(client, tokens):
    for role in ("admin", "reception", "host"):
        resp = client.get("/api/v1/drinks", headers=auth(tokens[role]))
        assert resp.status_code == 200
        body = resp.get_json()
        assert [(d["name"], d["name_zh"], d["active"]) for d in body] == SEEDED
        assert all(set(d) == {"id", "name", "name_zh", "active"} for d in body)


def test_api_drinks_needs_a_token(client):
    assert client.get("/api/v1/drinks").status_code == 401


def test_a_drink_taken_off_the_menu_is_listed_inactive_and_cannot_be_ordered(client, tokens):
    coffee = db.session.scalar(db.select(Drink).where(Drink.name == "Coffee"))
    tasks.update_drink(coffee.id, active=False)
    body = client.get("/api/v1/drinks", headers=auth(tokens["host"])).get_json()
    assert {d["name"]: d["active"] for d in body}["Coffee"] is False
    assert "Coffee" not in [d.name for d in tasks.menu()]


def test_drink_renamed_keeps_its_id_and_a_taken_name_is_refused(app):
    tea = db.session.scalar(db.select(Drink).where(Drink.name == "Tea"))
    renamed = tasks.update_drink(tea.id, name="Black tea", name_zh="红茶")
    assert (renamed.id, renamed.name, renamed.name_zh) == (tea.id, "Black tea", "红茶")
    with pytest.raises(Exception) as refused:
        tasks.update_drink(tea.id, name="Coffee")
    assert getattr(refused.value, "code", None) == "drink_exists"
    with pytest.raises(Exception) as blank:
        tasks.update_drink(tea.id, name="  ")
    assert getattr(blank.value, "code", None) == "invalid_drink"


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, pattern
    return match.group(1)


def drink_form_action(html: str, name: str) -> str:
    item = html.split(f'data-drink="{name}"', 1)[1]
    return found(r'action="(/admin/drinks/\d+)"', item)


def test_admin_edits_and_takes_a_drink_off_the_menu_on_the_admin_page(app, staff):
    admin = app.test_client()
    login(admin, "admin@example.com")
    water_id = db.session.scalar(db.select(Drink.id).where(Drink.name == "Water"))
    page = admin.get("/admin/").get_data(as_text=True)
    action, token = drink_form_action(page, "Water"), csrf_from(page)
    # no "active": the checkbox unchecked takes it off the menu
    resp = admin.post(
        action,
        data={"name": "Still water", "name_zh": "矿泉水", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Still water" in html and "off the menu" in html
    db.session.remove()
    water = db.session.get(Drink, water_id)
    assert (water.name, water.active) == ("Still water", False)

    resp = admin.post(
        action,
        data={"name": "Coffee", "name_zh": "", "active": "1", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert 'data-field="name"' in resp.get_data(as_text=True)  # taken: shown on the field
    db.session.remove()
    assert db.session.get(Drink, water_id).name == "Still water"
    # without CSRF: refused
    assert admin.post(action, data={"name": "X"}).status_code == 400


def test_host_cannot_edit_the_menu(app, staff):
    host = app.test_client()
    login(host, "grace@example.com")
    drink_id = db.session.scalar(db.select(Drink.id).where(Drink.name == "Tea"))
    page = host.get("/host/").get_data(as_text=True)
    data = {"name": "Gin", "csrf_token": csrf_from(page)}
    assert host.post(f"/admin/drinks/{drink_id}", data=data).status_code == 403
    db.session.remove()
    assert db.session.get(Drink, drink_id).name == "Tea"


# --- the kiosk's language from the browser -----------------------------------------


def kiosk_browser(app, name="Front door", language=None, accept=None):
    """A paired kiosk whose every request says ``Accept-Language: accept``, like a browser."""
    _, path = devices.add_kiosk(name, language=language)
    browser = app.test_client()
    if accept:
        browser.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    assert browser.get(path).status_code == 302
    return browser


def shell(html: str) -> tuple[str, str, str]:
    """(html lang, data-lang, data-default-lang) of the kiosk page."""
    return (
        found(r'<html lang="([^"]*)"', html),
        found(r'data-lang="([^"]*)"', html),
        found(r'data-default-lang="([^"]*)"', html),
    )


def test_new_kiosk_has_no_language_and_follows_the_browser(app):
    browser = kiosk_browser(app, accept="zh-CN,zh;q=0.9,en;q=0.8")
    assert db.session.scalar(db.select(Kiosk.language)) == ""
    html = browser.get("/kiosk/").get_data(as_text=True)
    assert shell(html) == ("zh-CN", "zh", "zh")
    assert "欢迎" in html


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en-US,en;q=0.9", "en"), ("zh-TW", "zh"), ("fr-FR,de;q=0.5", "en"), (None, "en")],
)
def test_kiosk_without_language_takes_the_browsers_best_match_else_english(app, accept, expected):
    html = kiosk_browser(app, accept=accept).get("/kiosk/").get_data(as_text=True)
    assert shell(html)[1:] == (expected, expected)


def test_kiosk_language_set_by_the_admin_wins_over_the_browser(app):
    html = kiosk_browser(app, language="en", accept="zh-CN").get("/kiosk/").get_data(as_text=True)
    assert shell(html)[1:] == ("en", "en")


def test_visitors_choice_wins_over_the_browser(app):
    browser = kiosk_browser(app, accept="zh-CN")
    html = browser.get("/kiosk/", query_string={"lang": "en"}).get_data(as_text=True)
    assert shell(html) == ("en", "en", "zh")  # chosen English; the kiosk's default stays zh


def test_browser_language_holds_through_the_steps_to_the_badge(app, make_visit):
    """Without JavaScript (no ``lang`` sent) every step answers in the browser's
    language, and the visitor is checked in in it (their badge and goodbye)."""
    visit_id, code = (visit := make_visit()).id, visit.code
    browser = kiosk_browser(app, accept="zh-CN")
    token = csrf_from(browser.get("/kiosk/").get_data(as_text=True))
    html = browser.post(
        "/kiosk/scan", data={"code": code, "csrf_token": token}, headers={"HX-Request": "1"}
    ).get_data(as_text=True)
    if 'data-screen="photo"' in html:
        ticket = re.search(r'name="ticket" value="([^"]+)"', html).group(1)
        html = browser.post(
            "/kiosk/photo",
            data={"ticket": ticket, "skip": "1", "csrf_token": token},
            headers={"HX-Request": "1"},
        ).get_data(as_text=True)
    assert 'data-outcome="welcome"' in html and "已通知" in html
    db.session.remove()
    assert db.session.get(Visit, visit_id).language == "zh"


def test_admin_may_set_a_kiosk_back_to_the_browsers_language(app, staff):
    kiosk_id = devices.add_kiosk("Front door", language="zh")[0].id
    devices.set_kiosk_language(kiosk_id, "")
    db.session.remove()
    assert db.session.get(Kiosk, kiosk_id).language == ""
    with pytest.raises(Exception) as bad:
        devices.set_kiosk_language(kiosk_id, "fr")
    assert getattr(bad.value, "code", None) == "invalid_language"


@pytest.mark.browser
def test_browser_kiosk_in_a_chinese_browser_greets_and_welcomes_in_chinese(
    browser, live_server, make_visit
):
    """Chromium with a zh-CN locale (its Accept-Language), a kiosk with no language:
    the start screen, the welcome after a scan, and the start again are Chinese."""
    from playwright.sync_api import expect

    from tests.test_browser import TIMEOUT, scan_like_a_wedge

    visit_id, code = (visit := make_visit()).id, visit.code
    _, path = devices.add_kiosk("Front door")
    context = browser.new_context(base_url=live_server.url, locale="zh-CN")
    context.set_default_timeout(TIMEOUT)
    try:
        page = context.new_page()
        page.goto(path)
        page.wait_for_url("**/kiosk/")
        assert page.get_attribute("html", "lang") == "zh-CN"
        page.wait_for_function(
            "() => document.activeElement && document.activeElement.name === 'code'"
        )
        scan_like_a_wedge(page, code)  # no camera: kiosk.js skips the photo step itself
        expect(page.locator("[data-outcome=welcome]")).to_contain_text("已通知")
        assert page.evaluate("window.lobbyKiosk.lang()") == "zh"
    finally:
        context.close()
    db.session.remove()
    assert db.session.get(Visit, visit_id).language == "zh"
