"""The kiosk when the network fails (issue 5 item 10), against the real `lobby run`:

- the server goes away: the kiosk says so in both languages and keeps retrying; a scan
  made meanwhile goes through by itself when the server is back, without a reload;
- a response lost on the way back (the server did the work, the kiosk never heard):
  the kiosk sends the same attempt again and the visit is checked in once, with one
  alert and one badge.
"""

import os
import re
import sqlite3

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.conftest import free_port
from tests.kiosk_helpers import snap
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.test_browser_restart import lobby, serve


def counts(data_dir, visit_id: int) -> tuple[int, int, str]:
    """(visitor_arrived events, print jobs, status) of a visit, read from the file."""
    with sqlite3.connect(data_dir / "lobby.db") as conn:
        arrived = [
            row
            for row in conn.execute("SELECT payload FROM events WHERE kind = 'visitor_arrived'")
            if f'"visit_id": {visit_id},' in row[0]
        ]
        jobs = conn.execute(
            "SELECT count(*) FROM print_jobs WHERE visit_id = ?", (visit_id,)
        ).fetchone()[0]
        status = conn.execute("SELECT status FROM visits WHERE id = ?", (visit_id,)).fetchone()[0]
    return len(arrived), jobs, status


@pytest.fixture
def site(tmp_path):
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp_path),
        "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp_path / 'badges'}",
    }
    lobby(env, "user", "add", "grace@example.com", "--name", "Grace Hopper", "--role", "host")
    lobby(env, "user", "add", "desk@example.com", "--name", "Desk", "--role", "receptionist")
    token = lobby(env, "token", "create", "desk@example.com")
    pair_path = lobby(env, "kiosk", "add", "Front door")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(env, port)

    def invite(name):
        resp = requests.post(
            f"{base}/api/v1/visits",
            headers={"Authorization": f"Bearer {token}"},
            json={"visitor": {"name": name, "company": "Offline Ltd"}, "host": "grace@example.com"},
        )
        assert resp.status_code == 201, resp.text
        return resp.json()

    state = {"server": server}
    yield env, port, base, pair_path, invite, state
    state["server"].terminate()
    state["server"].wait(10)


@pytest.fixture
def kiosk_browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_kiosk(browser, base, pair_path):
    page = browser.new_context(viewport={"width": 1080, "height": 1920}).new_page()
    page.set_default_timeout(8000)
    # This server's first kiosk page cuts its web-font subsets (seconds when the machine
    # is busy): that first load may take longer than any later step.
    page.goto(base + pair_path, timeout=60_000)
    page.wait_for_url(f"{base}/kiosk/", timeout=60_000)
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'")
    page.evaluate("window.__marker = 1")
    return page


@pytest.mark.browser
def test_kiosk_says_offline_in_both_languages_and_recovers_by_itself(site, kiosk_browser, tmp_path):
    env, port, base, pair_path, invite, state = site
    visit = invite("张伟")
    page = open_kiosk(kiosk_browser, base, pair_path)
    page.click(".lang-switch .lang[data-lang=zh]")
    expect(page.locator("#kiosk-start h1")).to_have_text("欢迎光临")
    offline = page.locator("#kiosk-offline")
    expect(offline).to_be_hidden()

    state["server"].terminate()
    state["server"].wait(10)
    expect(offline).to_be_visible(timeout=10_000)
    expect(offline).to_contain_text("无法连接服务器")
    expect(offline).to_contain_text("Cannot reach the server")

    # The visitor scans while the server is down: nothing is lost, the kiosk retries.
    page.locator("#code").focus()
    page.keyboard.type(visit["code"])
    page.keyboard.press("Enter")
    page.wait_for_timeout(2500)  # at least one retry fails too
    expect(offline).to_be_visible()
    expect(page.locator("#kiosk-start")).to_be_visible()
    snap(page, "kiosk-offline-zh")
    assert counts(tmp_path, visit["id"])[2] == "expected"

    state["server"] = serve(env, port)
    welcome = page.locator("#kiosk-result [data-outcome=welcome]")
    expect(welcome).to_be_visible(timeout=15_000)
    expect(welcome.locator("h2")).to_contain_text("欢迎您")
    expect(welcome.locator(".visitor-name")).to_have_text("张伟")
    expect(offline).to_be_hidden(timeout=10_000)
    assert page.evaluate("window.__marker") == 1  # recovered without a reload
    assert counts(tmp_path, visit["id"]) == (1, 1, "checked_in")


@pytest.mark.browser
def test_a_check_in_whose_answer_was_lost_is_sent_again_and_counts_once(
    site, kiosk_browser, tmp_path
):
    _, _, base, pair_path, invite, _ = site
    visit = invite("Ada Lovelace")
    page = open_kiosk(kiosk_browser, base, pair_path)
    attempts = []

    def lose_first_answer(route):
        attempts.append(route.request.post_data or "")
        if len(attempts) == 1:
            route.fetch()  # the server checks the visitor in ...
            route.abort("connectionreset")  # ... and the kiosk never hears back
        else:
            route.continue_()

    # No camera here, so the kiosk skips the photo step by itself: that request is the
    # one that checks in.
    page.route("**/kiosk/photo", lose_first_answer)
    page.keyboard.type(visit["code"])
    page.keyboard.press("Enter")
    expect(page.locator("#kiosk-result [data-outcome=welcome]")).to_be_visible(timeout=15_000)
    assert len(attempts) == 2
    keys = [re.search(r'name="attempt"\r\n\r\n([^\r]+)', body).group(1) for body in attempts]
    assert keys[0] == keys[1]  # the same attempt, sent again
    assert counts(tmp_path, visit["id"]) == (1, 1, "checked_in")
    expect(page.locator("#kiosk-offline")).to_be_hidden()
