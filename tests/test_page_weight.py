"""The kiosk's start page, with everything it loads, weighs under 250 KB (issue 5, item
12): a paired kiosk opens /kiosk in a fresh (cold-cache) headless Chromium, portrait
1080x1920, in English and in Chinese, and once with a (fake) camera, which makes the page
fetch the qr-scanner worker too. Every response the page loaded counts with the bytes of
its body (document, CSS, JS, fonts, images; uncompressed: the server sends no gzip),
except the live Socket.IO traffic, which is data, not page. The breakdown is printed.

``weigh()`` is shared with ``bench/kiosk.py``."""

import time

import pytest

from server.services import devices
from tests.fake_camera import face_video, fake_camera_args
from tests.kiosk_helpers import snap
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT, browser  # noqa: F401

pytestmark = pytest.mark.browser

BUDGET = 250_000  # bytes
PORTRAIT = {"width": 1080, "height": 1920}
QUIET_MS = 400  # no request in flight for this long: the page has settled
SETTLE_TIMEOUT = 10.0  # seconds


def _counted(url: str) -> bool:
    return url.startswith(("http://", "https://")) and "/socket.io/" not in url


def weigh(page, url: str) -> list[tuple[str, str, int]]:
    """Open ``url`` in ``page`` (a fresh context: nothing cached) and return what it
    loaded once settled (fonts ready, nothing in flight): ``(path, resource type,
    body bytes)`` per response, in the order they finished."""
    pending, finished = set(), []
    last_change = [time.monotonic()]

    def started(req):
        if _counted(req.url):
            pending.add(req)
            last_change[0] = time.monotonic()

    def ended(req):
        pending.discard(req)
        last_change[0] = time.monotonic()
        if _counted(req.url):
            finished.append(req)

    def failed(req):
        pending.discard(req)
        last_change[0] = time.monotonic()

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", failed)
    page.goto(url)
    page.wait_for_function("() => document.fonts.status === 'loaded'")
    page.evaluate("document.fonts.ready.then(() => true)")
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        if not pending and time.monotonic() - last_change[0] > QUIET_MS / 1000:
            break
        page.wait_for_timeout(50)
    rows = []
    for req in finished:
        resp = req.response()
        if resp is None:
            continue
        size = 0 if 300 <= resp.status < 400 else len(resp.body())
        path = req.url.split("://", 1)[1]
        path = path[path.find("/") :]
        rows.append((path, req.resource_type, size))
    return rows


def breakdown(rows, title: str) -> str:
    total = sum(r[2] for r in rows)
    lines = [f"{title}: {total:,} bytes in {len(rows)} responses (budget {BUDGET:,})"]
    for path, kind, size in sorted(rows, key=lambda r: -r[2]):
        lines.append(f"  {size:>9,}  {kind:<10} {path[:90]}")
    return "\n".join(lines)


def paired_context(browser, base_url, language="en", viewport=PORTRAIT):  # noqa: F811
    """A fresh browser context holding a newly paired kiosk's cookie; nothing cached."""
    context = browser.new_context(base_url=base_url, viewport=viewport)
    context.set_default_timeout(TIMEOUT)
    _, path = devices.add_kiosk(f"Weighed {language} {time.monotonic_ns()}")
    resp = context.request.get(path, max_redirects=0)
    assert resp.status == 302, resp.status
    return context


def check(rows, title):
    report = breakdown(rows, title)
    print(report)
    total = sum(r[2] for r in rows)
    paths = [r[0] for r in rows]
    assert any(p.startswith("/kiosk") for p in paths), report
    assert any("/fonts/subset/" in p for p in paths), report  # the subsets are used
    whole = [p for p in paths if p.endswith((".otf", ".ttf"))]
    assert whole == [], f"a whole font was loaded: {whole}\n{report}"
    assert total < BUDGET, report
    return total


@pytest.mark.parametrize("language", ["en", "zh"])
def test_kiosk_start_page_weighs_under_250_kb(browser, live_server, language):  # noqa: F811
    context = paired_context(browser, live_server.url, language)
    try:
        page = context.new_page()
        rows = weigh(page, f"/kiosk/?lang={language}")
        assert page.locator("[data-screen=start]").is_visible()
        check(rows, f"kiosk start page ({language}, portrait, no camera)")
        snap(page, f"kiosk-start-weighed-{language}")
        # The start page's characters come from the subsets, not from the whole fonts.
        fonts = [r for r in rows if r[1] == "font"]
        assert all(
            "/fonts/subset/latin." in p or "/fonts/subset/sc-start." in p for p, _, _ in fonts
        ), fonts
    finally:
        context.close()


@pytest.fixture(scope="module")
def camera_browser(browser, tmp_path_factory):  # noqa: F811
    """A second Chromium whose camera films a face (the camera is a launch flag)."""
    video = face_video(tmp_path_factory.mktemp("cam") / "face.y4m", size=(640, 480))
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + fake_camera_args(video)
    )
    yield chromium
    chromium.close()


def test_with_a_camera_the_scanner_worker_counts_and_it_stays_under_250_kb(
    camera_browser, live_server
):
    context = paired_context(camera_browser, live_server.url, "zh")
    context.grant_permissions(["camera"])
    try:
        page = context.new_page()
        rows = weigh(page, "/kiosk/?lang=zh")
        paths = [r[0] for r in rows]
        assert any("qr-scanner-worker" in p for p in paths), breakdown(rows, "no worker")
        assert page.locator("#kiosk-camera").is_visible()
        check(rows, "kiosk start page (zh, portrait, camera: with the QR worker)")
    finally:
        context.close()
