"""Rare characters (server/extrafonts.py): a page or fragment that shows a character no
UI subset carries (a visitor named 龘) carries an @font-face for a WOFF2 subset of
exactly those characters; the subset's URL is its content (one canonical URL per set,
cut once, cached on disk, a year in browsers); requests are bounded; a name that
arrives live (live.js) asks /fonts/extra.css for its glyphs."""

import io
import re
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from playwright.sync_api import expect

from server import extrafonts, webfonts
from server.services import checkin
from tests.conftest import login
from tests.kiosk_helpers import KioskClient
from tests.test_browser import browser, device, staff_page  # noqa: F401  (fixtures)

RARE = "龘鱻"  # U+9F98, U+9C7B: in Noto Sans SC, in no UI string
EXTRA_URL = re.compile(r'url\("(/fonts/extra/(latin|sc)\.[0-9a-f]{8}\.([0-9a-f-]+)\.woff2)"\)')
YEAR = 365 * 24 * 3600


def extra_urls(text: str) -> dict[str, tuple[str, list[int]]]:
    """font -> (URL, code points) of the rare-character faces in ``text``."""
    return {
        m.group(2): (m.group(1), [int(h, 16) for h in m.group(3).split("-")])
        for m in EXTRA_URL.finditer(text)
    }


def cmap_of(data: bytes) -> set[int]:
    return set(TTFont(io.BytesIO(data)).getBestCmap())


def host_page(app) -> str:
    web = app.test_client()
    login(web, "grace@example.com")
    return web.get("/host/").get_data(as_text=True)


def test_a_page_showing_a_rare_name_carries_a_subset_of_exactly_its_rare_characters(
    app, make_visit
):
    make_visit(f"{RARE} Nguyễn", company="Łódź Łabs")
    html = host_page(app)
    head = html[: html.index("</head>")]
    assert "<style data-extra-fonts>" in head
    urls = extra_urls(head)
    assert urls["sc"][1] == [0x9C7B, 0x9F98]  # 鱻 龘, nothing the subsets have
    assert urls["latin"][1] == [0x1EC5]  # ễ: past Latin Extended-A
    assert 'font-family: "Lobby Sans SC"' in head and "unicode-range: U+9C7B,U+9F98" in head
    client = app.test_client()
    for font, (url, cps) in urls.items():
        resp = client.get(url)
        assert resp.status_code == 200 and resp.mimetype == "font/woff2"
        assert resp.data[:4] == b"wOF2" and len(resp.data) < 5_000, (font, len(resp.data))
        assert set(cps) <= cmap_of(resp.data) and len(cmap_of(resp.data)) <= len(cps) + 2


def test_a_page_without_rare_characters_is_left_as_rendered(app, make_visit):
    make_visit("Ada Lovelace")
    html = host_page(app)
    assert "data-extra-fonts" not in html and "/fonts/extra" not in html


def test_a_kiosk_fragment_with_a_rare_name_carries_its_faces_too(app, make_visit):
    kiosk = KioskClient(app, language="zh")
    visit = make_visit(RARE)
    html = kiosk.skip_photo(kiosk.scan(visit.code).get_data(as_text=True))
    assert RARE in html
    # Inside the fragment's first element: the swap that replaces it replaces its rules.
    assert re.match(r"\s*<[a-z]+(?:\s[^>]*)?><style data-extra-fonts>@font-face", html), html[:300]
    assert extra_urls(html)["sc"][1] == [0x9C7B, 0x9F98]


def test_rules_go_where_a_swap_replaces_them_and_never_into_a_tag_or_a_select():
    rules = "@font-face {}"
    style = f"<style data-extra-fonts>{rules}</style>"
    page = "<!doctype html><html><head><title>x</title></head><body>龘</body></html>"
    assert extrafonts.inject(page, rules) == page.replace("</head>", style + "</head>")
    card = '<!-- <p> --><div class="card" hx-on::after-request="if (a > b) go()">龘</div>'
    assert extrafonts.inject(card, rules) == card.replace('go()">', 'go()">' + style)
    row = "<tr><td>龘</td></tr>"
    assert extrafonts.inject(row, rules) == "<tr>" + style + "<td>龘</td></tr>"
    assert extrafonts.inject("<input value='龘'><p>x</p>", rules).startswith(style)
    assert extrafonts.inject("<option>龘</option>", rules) == "<option>龘</option>"


def test_the_same_characters_make_the_same_url_cut_once_and_kept_on_disk(app):
    first = extra_urls(extrafonts.faces("龘 and 鱻", lambda f: f"/fonts/extra/{f}"))["sc"][0]
    again = extra_urls(extrafonts.faces("鱻鱻, 龘!", lambda f: f"/fonts/extra/{f}"))["sc"][0]
    assert first == again
    client = app.test_client()
    resp = client.get(first)
    assert resp.cache_control.max_age == YEAR and resp.cache_control.public
    assert "immutable" in resp.headers["Cache-Control"]
    assert client.get(first, headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304
    cached = list((Path(app.config["DATA_DIR"]) / "webfonts" / "extra").glob("*.woff2"))
    assert [p.read_bytes() for p in cached] == [resp.data]
    stamp = cached[0].stat().st_mtime_ns
    webfonts._memory.clear()  # a restarted server: read back from disk, not cut again
    assert client.get(first).data == resp.data
    assert cached[0].stat().st_mtime_ns == stamp


def test_only_the_canonical_url_of_a_set_of_characters_is_served(app):
    client = app.test_client()
    v = extrafonts.version("sc")
    assert client.get(f"/fonts/extra/sc.{v}.9c7b-9f98.woff2").status_code == 200
    for bad in (
        f"sc.{v}.9f98-9c7b.woff2",  # not sorted
        f"sc.{v}.9c7b-9c7b.woff2",  # twice
        f"sc.{v}.9C7B.woff2",  # upper case
        f"sc.{v}.09c7b.woff2",  # leading zero
        f"sc.{v}.7b7e.woff2",  # 签: a UI subset has it
        f"sc.{v}.1f600.woff2",  # 😀: the font has none
        f"latin.{extrafonts.version('latin')}.9f98.woff2",  # the wrong font
        "sc.0123abcd.9f98.woff2",  # another build
        f"sc.{v}.9f98.ttf",
        f"sc.{v}..woff2",
        "..%2F..%2Fsecret_key",
    ):
        assert client.get(f"/fonts/extra/{bad}").status_code == 404, bad


def test_rare_characters_are_bounded_per_file_and_per_page(app):
    many = "".join(chr(cp) for cp in range(0x9E00, 0x9FA0))  # 416 CJK, mostly rare
    rules = extrafonts.faces(many * 3, lambda f: f"/fonts/extra/{f}")
    faces = [cps for _, _, cps in (m.groups() for m in EXTRA_URL.finditer(rules))]
    assert faces and all(len(f.split("-")) <= extrafonts.PER_FACE for f in faces)
    hundreds = "".join(chr(cp) for cp in range(0x4E00, 0x9FA0))  # 20,000 characters
    rules = extrafonts.faces(hundreds, lambda f: f"/fonts/extra/{f}")
    total = sum(len(m.group(3).split("-")) for m in EXTRA_URL.finditer(rules))
    assert total == extrafonts.PER_PAGE
    v = extrafonts.version("sc")
    too_many = "-".join(f"{cp:x}" for cp in extrafonts.rare(many)["sc"][: extrafonts.PER_FACE + 1])
    assert app.test_client().get(f"/fonts/extra/sc.{v}.{too_many}.woff2").status_code == 404


def test_extra_css_answers_rules_for_rare_characters_only(app):
    client = app.test_client()
    ui = client.get("/fonts/extra.css", query_string={"c": "签到 Ada"})
    assert ui.status_code == 200 and ui.mimetype == "text/css"
    assert "@font-face" not in ui.get_data(as_text=True)
    rare = client.get("/fonts/extra.css", query_string={"c": f"{RARE} 已到达"}).get_data(
        as_text=True
    )
    assert extra_urls(rare)["sc"][1] == [0x9C7B, 0x9F98]
    long = client.get("/fonts/extra.css", query_string={"c": "a" * 100_000 + "龘"})
    assert long.status_code == 200 and "@font-face" not in long.get_data(as_text=True)


@pytest.mark.browser
def test_a_name_arriving_live_gets_its_glyphs_from_a_subset(device, staff, make_visit):
    host = staff_page(device, "grace@example.com", "/host/")
    requested = []
    host.on("request", lambda req: requested.append(req.url))
    visit = make_visit(f"{RARE} Lee")  # not on the page when it was rendered
    checkin.check_in(visit.code)
    banner = host.locator("#banner .banner-text")
    expect(banner).to_contain_text(f"{RARE} Lee", timeout=3000)
    host.wait_for_function(
        "() => "
        "document.fonts.check('16px \"Lobby Sans SC\"', '\u9f98') && "
        "document.fonts.status === 'loaded'",
        timeout=30_000,
    )
    asked = [u for u in requested if "/fonts/extra.css?c=" in u]
    assert asked and "%E9%BE%98" in asked[0], requested  # 龘, from live.js
    assert any(
        re.search(r"/fonts/extra/sc\.[0-9a-f]{8}\.9c7b-9f98\.woff2$", u) for u in requested
    ), requested
    assert not [u for u in requested if u.endswith((".otf", ".ttf"))], requested
    # A live refresh of the page may have just replaced the rules with new, not yet
    # used FontFaces (status "unloaded"): wait until the one drawing the name is loaded.
    faces = """Array.from(document.fonts).filter(f => f.unicodeRange
        .replace(/\\s/g, "").toUpperCase() === "U+9C7B,U+9F98").map(f => f.status)"""
    host.wait_for_function(f"() => ({faces}).includes('loaded')", timeout=10_000)
