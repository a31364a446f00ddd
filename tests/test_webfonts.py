"""Web font subsets (server/webfonts.py, served by server/views.py): every character of
the UI is in a subset, the subsets are small WOFF2 files with long-lived versioned URLs,
built once and cached under DATA_DIR; kiosk responses carry Server-Timing. In Chromium:
a machine without any CJK system font still draws the UI from the subsets, and a rare
visitor name draws from a subset cut for it (server/extrafonts.py) whatever fonts the
machine has; no page fetches a whole font."""

import io
import re
import uuid
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from printers import fonts
from server import extrafonts, webfonts
from server.services import kiosk_settings
from tests.kiosk_helpers import KioskClient, snap
from tests.test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT,
    browser,  # noqa: F401  (fixture)
    now_today,
    scan_like_a_wedge,
)

ROOT = Path(__file__).resolve().parent.parent
YEAR = 365 * 24 * 3600
# A subset is cut on its first request (a second or two on a busy 2-core machine), and
# a screen may need several, one after the other.
FONT_BUILD_MS = 30_000


def faces(client) -> str:
    resp = client.get("/fonts/faces.css")
    assert resp.status_code == 200 and resp.mimetype == "text/css"
    return resp.get_data(as_text=True)


def subset_urls(css: str) -> dict[str, str]:
    """slice name -> URL, from the stylesheet."""
    return {
        m.group(2): m.group(1)
        for m in re.finditer(r'url\("(/fonts/subset/([a-z-]+)\.[0-9a-f]{16}\.woff2)"\)', css)
    }


def cmap_of(woff2: bytes) -> set[int]:
    return set(TTFont(io.BytesIO(woff2)).getBestCmap())


def catalog_characters() -> set[str]:
    from babel.messages.pofile import read_po

    with webfonts.CATALOG.open("rb") as f:
        catalog = read_po(f)
    return {
        ch
        for m in catalog
        if m.id and m.string
        for ch in m.string
        if ord(ch) > 0x7E and not ch.isspace()
    }


def source_characters() -> set[str]:
    chars = set()
    for pattern in ("templates/**/*.html", "static/js/*.js"):
        for path in ROOT.glob(pattern):
            chars |= {
                ch for ch in path.read_text(encoding="utf-8") if ord(ch) > 0x7E and not ch.isspace()
            }
    return chars


def test_every_ui_character_is_in_a_served_subset(app):
    client = app.test_client()
    served = set()
    for url in subset_urls(faces(client)).values():
        resp = client.get(url)
        assert resp.status_code == 200
        served |= cmap_of(resp.data)
    latin, cjk = webfonts.cmap(fonts.font_path(False)), webfonts.cmap(fonts.font_path(True))
    wanted = catalog_characters() | source_characters()
    assert "签" in wanted and "到" in wanted  # the catalog was read
    drawable = {ch for ch in wanted if ord(ch) in latin or ord(ch) in cjk}
    missing = sorted(ch for ch in drawable if ord(ch) not in served)
    assert missing == [], f"not in any subset: {''.join(missing)}"
    assert {ord(c) for c in "AZaz09éÜß€—…"} <= served  # and what visitors type


def test_subsets_are_small_woff2_files(app):
    client = app.test_client()
    urls = subset_urls(faces(client))
    assert {"latin", "latin-ext", "sc-start", "sc-kiosk"} <= urls.keys()
    sizes = {}
    for name, url in urls.items():
        data = client.get(url).data
        assert data[:4] == b"wOF2", name
        font = TTFont(io.BytesIO(data))
        assert font.flavor == "woff2"
        if name.startswith("latin"):  # one variable file for regular to bold
            axes = {a.axisTag: (a.minValue, a.maxValue) for a in font["fvar"].axes}
            assert axes == {"wght": (400, 700)}, axes
        sizes[name] = len(data)
    print(sizes)
    assert sizes["latin"] < 25_000 and sizes["latin-ext"] < 15_000
    assert sizes["sc-start"] < 15_000  # what the kiosk's start page needs
    assert sum(v for k, v in sizes.items() if k.startswith("sc-")) < 120_000
    assert sum(sizes.values()) < fonts.font_path(True).stat().st_size / 40  # vs 8 MB


def test_the_start_slice_holds_the_start_screen_and_the_language_names(app):
    start = next(s for s in webfonts.plan() if s.name == "sc-start")
    for ch in "中文欢迎签到":  # the language switch, "Welcome", "Check in"
        assert ord(ch) in start.codepoints, ch


def test_fonts_are_served_with_long_cache_and_versioned_urls(app):
    client = app.test_client()
    css_resp = client.get("/fonts/faces.css")
    assert css_resp.cache_control.no_cache and css_resp.headers.get("ETag")
    again = client.get("/fonts/faces.css", headers={"If-None-Match": css_resp.headers["ETag"]})
    assert again.status_code == 304
    url = subset_urls(css_resp.get_data(as_text=True))["latin"]
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype == "font/woff2"
    assert resp.cache_control.max_age == YEAR and resp.cache_control.public
    assert "immutable" in resp.headers["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304
    stale = re.sub(r"\.[0-9a-f]{16}\.", ".0123456789abcdef.", url)
    for bad in (
        stale,
        "/fonts/subset/..%2Fsecret_key",
        "/fonts/subset/latin.woff2",
        "/fonts/nope.ttf",
    ):
        assert client.get(bad).status_code == 404, bad
    # The pages use them: both stylesheets import the faces and name the families.
    for css in ("kiosk.css", "lobby.css"):
        text = (ROOT / "static" / "css" / css).read_text(encoding="utf-8")
        assert text.lstrip().startswith("/*") and '@import url("/fonts/faces.css");' in text
        assert text.index("@import") < text.index("{"), css  # @import must come first
        assert '"Lobby Sans", "Lobby Sans SC"' in text and "Noto Sans CJK SC" in text


def test_subsets_are_built_once_and_kept_under_the_data_dir(app):
    client = app.test_client()
    url = subset_urls(faces(client))["sc-start"]
    first = client.get(url).data
    cached = Path(app.config["DATA_DIR"]) / "webfonts" / url.rsplit("/", 1)[1]
    assert cached.read_bytes() == first
    stamp = cached.stat().st_mtime_ns
    webfonts._memory.clear()  # a restarted server: memory empty, disk kept
    assert client.get(url).data == first
    assert cached.stat().st_mtime_ns == stamp  # read back, not built again


def test_warming_up_builds_every_ui_slice_into_the_cache_dir(app, tmp_path):
    texts = {"sc-start": "分析机械 Welcome", "sc-rules": "禁止拍照"}
    proc = webfonts.warm_up(tmp_path / "warm", texts)  # what `lobby run` starts
    assert proc.wait(timeout=120) == 0
    names = sorted(p.name for p in (tmp_path / "warm").iterdir())
    assert names == sorted(s.filename for s in webfonts.plan(texts))  # the site's, too


def test_new_site_text_makes_new_subset_urls_and_old_ones_go(app, staff):
    client = app.test_client()
    before = subset_urls(faces(client))
    assert "\u9f98" not in faces(client)  # 龘 is in no UI string
    kiosk_settings.save(welcome_zh="龘龘欢迎")
    css = faces(client)
    after = subset_urls(css)
    assert after["sc-start"] != before["sc-start"]
    assert after["latin"] == before["latin"]  # other slices keep their cached URLs
    assert "U+9F98" in css
    assert 0x9F98 in cmap_of(client.get(after["sc-start"]).data)
    assert client.get(before["sc-start"]).status_code == 404


def test_kiosk_responses_carry_server_timing(app):
    kiosk = KioskClient(app)
    for resp in (kiosk.get("/kiosk/"), kiosk.get("/kiosk/start"), kiosk.scan("no-such-code")):
        timing = resp.headers.get("Server-Timing", "")
        assert re.fullmatch(r"app;dur=\d+\.\d", timing), timing
        assert float(timing.split("=")[1]) < 5000
    assert "Server-Timing" not in app.test_client().get("/healthz").headers


# ---------------------------------------------------------------- in Chromium


def platform_fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium really drew ``selector``'s text with (DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    assert node, selector
    return cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


@pytest.fixture(scope="module")
def bare_browser(browser, tmp_path_factory):  # noqa: F811
    """Chromium on a machine with no CJK font at all (as Debian's chromium package alone
    installs): fontconfig sees only DejaVu, if even that."""
    conf_dir = tmp_path_factory.mktemp("fontconfig")
    conf = conf_dir / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{conf_dir}/cache</cachedir>
</fontconfig>""")
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        env={"FONTCONFIG_FILE": str(conf), "PATH": "/usr/bin:/bin", "HOME": str(conf_dir)},
    )
    yield chromium
    chromium.close()


def open_kiosk(chromium, live_server, requested):
    from server.services import devices

    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1080, "height": 1920}
    )
    context.set_default_timeout(TIMEOUT)
    _, path = devices.add_kiosk(f"Fonts {uuid.uuid4().hex[:8]}")
    page = context.new_page()
    page.on("request", lambda req: requested.append(req.url))
    page.goto(path)
    page.goto("/kiosk/?lang=zh")
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'code'")
    page.evaluate("document.fonts.ready.then(() => true)")
    return context, page


def rare_name_faces(page, codepoint: int) -> list[dict]:
    """The page's FontFaces whose unicode-range holds ``codepoint``, with their status."""
    return page.evaluate(
        """cp => Array.from(document.fonts).filter(f => f.unicodeRange
        .split(",").some(r => { const [a, b] = r.trim().slice(2).split("-");
                                const lo = parseInt(a, 16), hi = b ? parseInt(b, 16) : lo;
                                return cp >= lo && cp <= hi; }))
        .map(f => ({family: f.family, status: f.status, range: f.unicodeRange}))""",
        codepoint,
    )


def test_without_cjk_system_fonts_the_ui_draws_from_subsets_and_a_rare_name_still_shows(
    bare_browser, live_server, make_visit
):
    requested = []
    context, page = open_kiosk(bare_browser, live_server, requested)
    try:
        used = platform_fonts(page, "[data-screen=start] h1")  # 欢迎
        assert used and all(
            f["isCustomFont"] and f["familyName"] == "Noto Sans SC" for f in used
        ), used
        assert not [u for u in requested if u.endswith((".otf", ".ttf"))], requested
        snap(page, "kiosk-fonts-no-system-cjk-zh")

        visit = make_visit("龘 Łukasz Nguyễn", when=now_today())
        scan_like_a_wedge(page, visit.code)
        name = page.locator("[data-outcome=welcome] .visitor-name")
        name.wait_for()
        page.wait_for_function("() => document.fonts.status === 'loaded'", timeout=FONT_BUILD_MS)
        page.evaluate("document.fonts.ready.then(() => true)")
        used = {
            f["familyName"]: f for f in platform_fonts(page, "[data-outcome=welcome] .visitor-name")
        }
        # 龘 and ễ from subsets cut for this screen, Łukasz from latin-ext: never a
        # whole font.
        assert not [u for u in requested if u.endswith((".otf", ".ttf"))], requested
        assert any("/fonts/extra/sc." in u for u in requested), requested
        assert any("/fonts/extra/latin." in u for u in requested), requested
        assert any("/fonts/subset/latin-ext." in u for u in requested), requested
        assert set(used) == {"Noto Sans SC", "Noto Sans"}, used
        assert all(f["isCustomFont"] for f in used.values()), used
        snap(page, "kiosk-fonts-rare-name-no-system-cjk-zh")
    finally:
        context.close()


@pytest.mark.parametrize("machine", ["bare", "this machine's"])
def test_a_rare_name_draws_from_its_own_subset_and_the_whole_font_is_not_fetched(
    machine, browser, bare_browser, live_server, make_visit
):  # noqa: F811
    """Whatever CJK fonts the machine has (none, Droid Sans Fallback, Noto Sans CJK),
    a name with a character outside the UI's subsets (龘, U+9F98) draws with the web
    font: a subset cut for it, loaded as a FontFace; the 8 MB font is never fetched."""
    requested = []
    chromium = bare_browser if machine == "bare" else browser
    context, page = open_kiosk(chromium, live_server, requested)
    try:
        assert rare_name_faces(page, 0x9F98) == []  # the start page has no such face
        visit = make_visit("龘", when=now_today())
        scan_like_a_wedge(page, visit.code)
        page.locator("[data-outcome=welcome] .visitor-name").wait_for()
        page.wait_for_function("() => document.fonts.status === 'loaded'", timeout=FONT_BUILD_MS)
        page.evaluate("document.fonts.ready.then(() => true)")
        faces = rare_name_faces(page, 0x9F98)
        assert faces == [{"family": "Lobby Sans SC", "status": "loaded", "range": "U+9F98"}], faces
        used = platform_fonts(page, "[data-outcome=welcome] .visitor-name")
        assert [(f["familyName"], f["isCustomFont"]) for f in used] == [("Noto Sans SC", True)], (
            used
        )
        extra = [u for u in requested if "/fonts/extra/" in u]
        assert len(extra) == 1 and extra[0].endswith(
            f"/fonts/extra/sc.{extrafonts.version('sc')}.9f98.woff2"
        )
        assert not [u for u in requested if u.endswith((".otf", ".ttf"))], requested
    finally:
        context.close()
