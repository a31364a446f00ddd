"""static/js/kiosk-camera.js in headless Debian Chromium with a fake camera: a .y4m file
made by tests/fake_camera.py plays as the webcam. The page is a bare HTML file served by
http.server from a temporary copy of /static (http://127.0.0.1 is a secure context, so
getUserMedia works). One Chromium per fake video: the video is a launch flag."""

import base64
import functools
import http.server
import io
import shutil
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from tests.fake_camera import FACE_BACKGROUND, FACE_SKIN, face_video, fake_camera_args, qr_video
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parent.parent / "static"
SCANNER = "vendor/qr-scanner-1.4.2.umd.min.js"
WORKER = "vendor/qr-scanner-worker-1.4.2.min.js"
CODE = "V7q-2Xk_9mPzR4tLwB8nYc3JdHs6FgQa"  # shaped like a visit code (token_urlsafe(24))

PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>camera</title></head>
<body><video id="v" width="320" height="240"></video>
<script src="/static/{SCANNER}"></script>
<script src="/static/js/kiosk-camera.js"></script>
</body></html>"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The test page and a copy of the files it needs, served on 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    for name in (SCANNER, WORKER, "js/kiosk-camera.js"):
        (root / "static" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STATIC / name, root / "static" / name)
    (root / "camera.html").write_text(PAGE, encoding="utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def playwright():
    with sync_playwright() as p:
        yield p


def camera_browser(playwright, video):
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + fake_camera_args(video)
    )


@pytest.fixture(scope="module")
def qr_browser(playwright, tmp_path_factory):
    browser = camera_browser(playwright, qr_video(tmp_path_factory.mktemp("cam") / "qr.y4m", CODE))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def face_browser(playwright, tmp_path_factory):
    browser = camera_browser(playwright, face_video(tmp_path_factory.mktemp("cam") / "face.y4m"))
    yield browser
    browser.close()


def open_page(browser, site):
    """A fresh context on the test page; ``page.requests`` lists every URL it fetched."""
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(site + "/camera.html")
    page.wait_for_function("() => !!(window.lobbyCamera && window.QrScanner)")
    return page


@pytest.fixture
def qr_page(qr_browser, site):
    page = open_page(qr_browser, site)
    yield page
    page.context.close()


@pytest.fixture
def face_page(face_browser, site):
    page = open_page(face_browser, site)
    yield page
    page.context.close()


def start_scanning(page):
    """Start scanning, recording what onCode gets and every raw decode by the library."""
    page.evaluate("""() => {
        window.codes = []; window.raw = 0;
        const scanImage = QrScanner.scanImage;  // the library calls it once per frame
        QrScanner.scanImage = function () {
            return scanImage.apply(this, arguments).then(r => { window.raw += 1; return r; });
        };
        return lobbyCamera.startScanning(document.getElementById('v'),
                                         text => window.codes.push(text));
    }""")


def test_available_with_the_fake_camera(qr_page):
    assert qr_page.evaluate("lobbyCamera.available()") is True


def test_scanning_reads_the_code_once_and_fetches_the_worker_only_then(qr_page, site):
    assert qr_page.evaluate("lobbyCamera.available()") is True
    assert not any(WORKER in url for url in qr_page.requests)  # lazy: not on page load
    start_scanning(qr_page)
    qr_page.wait_for_function("() => window.codes.length > 0", timeout=10000)
    time.sleep(3)  # the code stays in front of the camera, frame after frame
    codes, raw = qr_page.evaluate("[window.codes, window.raw]")
    assert codes == [CODE]
    assert raw >= 10  # it was decoded again and again, and counted once
    assert any(url.endswith("/static/" + WORKER) for url in qr_page.requests)
    web = [url for url in qr_page.requests if url.startswith("http")]
    assert all(url.startswith(site + "/") for url in web), web  # nothing off the LAN


def test_same_code_counts_again_once_five_seconds_have_passed(qr_page):
    start_scanning(qr_page)
    qr_page.wait_for_function("() => window.codes.length === 1", timeout=10000)
    time.sleep(0.5)
    assert qr_page.evaluate("window.codes.length") == 1
    # Jump the clock past the 5 s window instead of waiting for it.
    qr_page.evaluate("() => { const now = Date.now; Date.now = () => now() + 6000; }")
    qr_page.wait_for_function("() => window.codes.length === 2", timeout=5000)
    assert qr_page.evaluate("window.codes") == [CODE, CODE]


def test_stop_releases_the_camera(qr_page):
    start_scanning(qr_page)
    tracks = qr_page.evaluate("""() => {
        window.tracks = document.getElementById('v').srcObject.getVideoTracks();
        return window.tracks.map(t => t.readyState);
    }""")
    assert tracks == ["live"]
    qr_page.evaluate("lobbyCamera.stop()")
    state = qr_page.evaluate("""() => ({
        tracks: window.tracks.map(t => t.readyState),
        srcObject: document.getElementById('v').srcObject,
    })""")
    assert state == {"tracks": ["ended"], "srcObject": None}
    seen = qr_page.evaluate("window.codes.length")
    time.sleep(0.5)
    assert qr_page.evaluate("window.codes.length") == seen  # no more decoding either


def test_no_media_devices_means_no_camera(qr_page):
    qr_page.evaluate("Object.defineProperty(navigator, 'mediaDevices', {value: undefined})")
    assert qr_page.evaluate("lobbyCamera.available()") is False
    error = qr_page.evaluate("""() => lobbyCamera.startScanning(document.getElementById('v'),
                                                            () => {}).then(() => 'started',
                                                                           e => e.message)""")
    assert error == "no camera"


def test_denied_camera_rejects_startScanning(qr_page):
    qr_page.evaluate("""() => { navigator.mediaDevices.getUserMedia =
        () => Promise.reject(new DOMException('denied', 'NotAllowedError')); }""")
    outcome = qr_page.evaluate("""() => lobbyCamera.startScanning(document.getElementById('v'),
                                                              () => {}).then(() => 'started',
                                                                             e => 'rejected')""")
    assert outcome == "rejected"


def close_to(pixel, colour, tolerance=45):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


def test_photo_is_a_small_jpeg_of_the_camera_picture(face_page):
    face_page.evaluate("lobbyCamera.startPreview(document.getElementById('v'))")
    photo = face_page.evaluate("""async () => {
        const blob = await lobbyCamera.takePhoto(document.getElementById('v'));
        const bytes = new Uint8Array(await blob.arrayBuffer());
        let s = ''; bytes.forEach(b => s += String.fromCharCode(b));
        return {type: blob.type, data: btoa(s)};
    }""")
    assert photo["type"] == "image/jpeg"
    image = Image.open(io.BytesIO(base64.b64decode(photo["data"])))
    assert image.format == "JPEG"
    assert image.size == (640, 360)  # the 1280x720 camera, long side down to 640
    image = image.convert("RGB")
    assert close_to(image.getpixel((20, 20)), FACE_BACKGROUND)  # corner: background
    assert close_to(image.getpixel((320, 260)), FACE_SKIN)  # lower face: yellow
    data = image.tobytes()
    pixels = [data[i : i + 3] for i in range(0, len(data), 3)]
    blue = sum(close_to(p, FACE_BACKGROUND) for p in pixels) / len(pixels)
    yellow = sum(close_to(p, FACE_SKIN) for p in pixels) / len(pixels)
    assert blue > 0.6 and 0.12 < yellow < 0.3, (blue, yellow)  # the picture's proportions
    # No worker for photos: the preview does not decode.
    assert not any(WORKER in url for url in face_page.requests)


def test_stop_releases_the_preview_camera(face_page):
    face_page.evaluate("lobbyCamera.startPreview(document.getElementById('v'))")
    face_page.evaluate("window.tracks = document.getElementById('v').srcObject.getTracks()")
    face_page.evaluate("lobbyCamera.stop()")
    assert face_page.evaluate("window.tracks.map(t => t.readyState)") == ["ended"]
    assert face_page.evaluate("document.getElementById('v').srcObject") is None
    error = face_page.evaluate("""() => lobbyCamera.takePhoto(document.getElementById('v'))
                                        .then(() => 'photo', e => e.message)""")
    assert error == "no video frame"
