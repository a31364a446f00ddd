"""After a server restart the dashboards recover by themselves: the page shows it is
offline, reconnects when the server is back, replays what it missed and applies each
event once — without a reload. The server is the real `lobby run`, stopped and started
again on the same port and data directory."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import expect, sync_playwright

from tests.conftest import free_port
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

LOBBY = str(Path(sys.executable).with_name("lobby"))
PASSWORD = "restart-pass-123"


def lobby(env, *args) -> str:
    proc = subprocess.run([LOBBY, *args], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def serve(env, port):
    proc = subprocess.Popen(
        [LOBBY, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("lobby run did not start")


@pytest.mark.browser
def test_host_page_survives_a_server_restart_and_misses_nothing(tmp_path):
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp_path),
        "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp_path / 'badges'}",
    }
    lobby(
        env,
        "user",
        "add",
        "grace@example.com",
        "--name",
        "Grace Hopper",
        "--role",
        "host",
        "--password",
        PASSWORD,
    )
    lobby(env, "user", "add", "desk@example.com", "--name", "Desk", "--role", "receptionist")
    token = lobby(env, "token", "create", "desk@example.com")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = {"Authorization": f"Bearer {token}"}

    def arrive(name):
        visit = requests.post(
            f"{base}/api/v1/visits",
            headers=api,
            json={"visitor": {"name": name, "company": "Restart Ltd"}, "host": "grace@example.com"},
        ).json()
        assert (
            requests.post(
                f"{base}/api/v1/checkins", headers=api, json={"code": visit["code"]}
            ).status_code
            == 201
        )

    server = serve(env, port)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=email]", "grace@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/host/")
            state = page.locator("#live-state")
            expect(state).to_have_attribute("data-state", "online")
            arrive("Before Restart")
            expect(page.locator(".visit-card", has_text="Before Restart")).to_have_count(1)
            page.evaluate("window.__marker = 1")

            server.terminate()
            server.wait(10)
            expect(state).to_have_attribute("data-state", "offline", timeout=10_000)

            server = serve(env, port)
            names = [f"After Restart {n}" for n in range(5)]
            for name in names:  # most land before the page is back: they must be replayed
                arrive(name)
            expect(state).to_have_attribute("data-state", "online", timeout=15_000)
            for name in names + ["Before Restart"]:
                expect(page.locator(".visit-card", has_text=name)).to_have_count(1)
            applied = page.evaluate("lobbyLive.applied()")
            assert len(applied) == len(set(applied))  # each event applied once
            assert page.evaluate("window.__marker") == 1  # no reload
        finally:
            browser.close()
            server.terminate()
            server.wait(10)
