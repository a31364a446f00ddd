"""No English left where Chinese is expected (issue 11 item 6).

The pages are rendered for real (the Flask test client, a day at the desk set up through
the services) and parsed with html.parser: every visible text node (not in script, style,
template, or an element marked ``hidden``) and every placeholder is checked.

- Staff pages are bilingual inline ("Check in 签到"): a text with Latin words must carry
  Chinese too.
- The kiosk in Chinese is all Chinese: no Latin words at all.

What is not a label is allowed, on principle rather than by listing texts: the data
(every value the test put in the database, and what the services derived from them),
times, dates, numbers, codes, emails, URLs, units, and the brand "Lobby". Data shown
by a template that the test does not know can be marked ``class="data"`` (or
``translate="no"``): its text is the visitor's or the site's, not ours.

Pages to check: ``STAFF_PAGES`` and ``KIOSK_SCREENS`` (module constants: extend them
when you add a page or a screen).
"""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from server.extensions import db
from server.models import utcnow
from server.services import checkin, devices, printing, rules, tasks
from server.services.clock import iso
from tests.conftest import login, on_menu
from tests.kiosk_helpers import KioskClient

# (signed-in as, path): the staff pages a desk uses every day.
STAFF_PAGES = [
    ("desk@example.com", "/reception/"),
    ("desk@example.com", "/reception/roster"),
    ("grace@example.com", "/host/"),
    ("admin@example.com", "/admin/"),
    ("admin@example.com", "/admin/badge"),
    ("admin@example.com", "/admin/rules"),
    ("admin@example.com", "/admin/kiosk-settings"),
    # the front desk's day after day (issue 11): the log, people and devices
    ("desk@example.com", "/reception/log"),
    ("grace@example.com", "/host/follow-ups"),
    ("admin@example.com", "/admin/log"),
    ("admin@example.com", "/admin/users"),
    ("admin@example.com", "/admin/printers"),
    ("admin@example.com", "/admin/kiosks"),
    ("admin@example.com", "/admin/retention"),
]
# The kiosk screens reached by GET with lang=zh (the scanned ones are added by the test).
KIOSK_SCREENS = [
    "/kiosk/",
    "/kiosk/start",
    "/kiosk/lookup",
    "/kiosk/walk-in",
    "/kiosk/leave",
    "/kiosk/see-reception?reason=route_walk_in",
    "/kiosk/refused?reason=unknown_code",
    "/kiosk/refused?reason=cancelled",
    "/kiosk/refused?reason=not_today",
]

# The test's own data: names, companies, places... (the allowed non-labels).
DATA = [
    "Ada Lovelace",
    "Analytical Engines",
    "张伟",
    "华为技术",
    "Charles Babbage",
    "Difference Engines",
    "Grace Hopper",
    "Linus T",
    "Rita Desk",
    "Alex Admin",
    "Engine review",
    "Green tea",
    "绿茶",
    "Plant tour",
    "Assembly hall",
    "Production",
    "Price for 40 units?",
    "Front desk",
    "Front door",
    "Lobby",
    "Wear your badge.",
    "Lovelace",
]  # the kiosk's lookup hint: "Ada Lovelace 请输入“Lovelace”"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
NOT_WORDS = [
    re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"),  # emails
    re.compile(r"\b(?:https?|tcp|usb|file|serial|emulator)://\S+"),  # URLs, printer URLs
    re.compile(r"\b\d+(?:\.\d+)?\s?(?:mm|px|KB|MB|dpi|dots|s|ms)\b"),  # numbers, units
    re.compile(r"\b[A-Za-z0-9_-]{20,}\b"),  # codes and tokens
]
SKIP = {"script", "style", "template", "noscript", "head", "code", "kbd", "samp"}
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class VisibleText(HTMLParser):
    """What a page shows, as units: each element's own text nodes with the whole text
    of the element (its label: "Waiting for you <small>等候中</small>" is one bilingual
    label in two nodes), and each placeholder. Left out: script, style, code, the head,
    and elements marked ``hidden``, ``class="data"``, ``translate="no"`` or in another
    ``lang`` (the language switch's "English")."""

    def __init__(self, lang: str):
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.stack: list[dict] = []  # open elements: tag, skipped?, own nodes, all text
        self.units: list[tuple[list[str], str]] = []

    def skipping(self) -> bool:
        return bool(self.stack) and self.stack[-1]["skip"]

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        # (the page's own lang on <html> is not a part marked as another language)
        other_lang = tag != "html" and a.get("lang") and not a["lang"].startswith(self.lang)
        skip = (
            self.skipping()
            or tag in SKIP
            or "hidden" in a
            or other_lang
            or a.get("translate") == "no"
            or "data" in (a.get("class") or "").split()
        )
        if not skip and a.get("placeholder"):
            self.units.append(([a["placeholder"]], a["placeholder"]))
        if tag not in VOID:
            self.stack.append({"tag": tag, "skip": skip, "own": [], "all": []})

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID or not any(e["tag"] == tag for e in self.stack):
            return
        while self.stack:  # close up to the matching tag (unclosed <p>s, <li>s)
            element = self.stack.pop()
            text = " ".join(" ".join(element["all"]).split())
            if element["own"]:
                self.units.append((element["own"], text))
            if self.stack and not element["skip"]:
                self.stack[-1]["all"].append(" " + text + " ")
            if element["tag"] == tag:
                break

    def handle_data(self, data):
        if self.stack and not self.skipping() and data.strip():
            self.stack[-1]["own"].append(" ".join(data.split()))
            self.stack[-1]["all"].append(data)


def visible_units(html: str, lang: str = "zh") -> list[tuple[list[str], str]]:
    parser = VisibleText(lang)
    parser.feed(html)
    parser.close()
    return parser.units


def without_data(text: str, data: list[str]) -> str:
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def words_left(text: str, data: list[str]) -> list[str]:
    """The Latin words of ``text`` that are not data, codes, emails, URLs or units."""
    text = without_data(text, data)
    for pattern in NOT_WORDS:
        text = pattern.sub(" ", text)
    return LATIN_WORD.findall(text)


def english_only(html: str, data: list[str]) -> list[str]:
    """Staff pages: labels with Latin words and no Chinese of their own (the label: the
    whole text of the element holding the words; 张伟 in it is data, not a translation),
    or a sentence of English behind a Chinese word ("Overdue 超时: ... has not answered
    for 7 min. Re-notify or ..."): more than three Latin words a Chinese character."""
    found = []
    for nodes, label in visible_units(html):
        if not any(words_left(n, data) for n in nodes):
            continue
        chinese = len(CJK.findall(without_data(label, data)))
        if len(words_left(label, data)) > 3 * chinese:
            found.append(label)
    return found


HALF_WIDTH_AFTER_CJK = re.compile(CJK.pattern + r"[?!,;:]")


def any_english(html: str, data: list[str]) -> list[str]:
    """The kiosk in Chinese: every text with a Latin word, or with ASCII punctuation
    after Chinese ("您要拜访谁?" where "？" belongs)."""
    return [
        n
        for nodes, _ in visible_units(html)
        for n in nodes
        if words_left(n, data) or HALF_WIDTH_AFTER_CJK.search(without_data(n, data))
    ]


@pytest.fixture
def a_day_at_the_desk(app, staff, make_visit, printer):
    """Visitors in every state, with tea, a tour and a promised answer; a printer with a
    badge done; a kiosk; site rules."""
    devices.add_printer("Front desk", printer.url)
    on_menu("Green tea", "绿茶")
    rules.publish("Wear your badge.", "请佩戴访客证。", staff["admin"])
    waiting = make_visit()
    with_host = make_visit("张伟", "华为技术", phone="13800001234")
    make_visit("Charles Babbage", "Difference Engines", when=utcnow() + timedelta(hours=2))
    for v in (waiting, with_host):
        checkin.check_in(v.code, printer="Front desk")
    db.session.commit()
    printing.drain()
    tasks.create(
        with_host.id, {"kind": "tea", "items": [{"drink": "Green tea", "count": 2}]}, staff["host"]
    )
    tasks.create(
        with_host.id,
        {
            "kind": "tour",
            "title": "Plant tour",
            "starts_at": iso(utcnow() + timedelta(minutes=30)),
            "stops": [{"place": "Assembly hall", "department": "Production"}],
        },
        staff["host"],
    )
    tasks.create(
        with_host.id,
        {
            "kind": "follow_up",
            "question": "Price for 40 units?",
            "deadline": iso(utcnow() + timedelta(days=1)),
            "reply_method": "wechat",
        },
        staff["host"],
    )
    from server.services import hosting

    hosting.acknowledge(with_host.id, staff["host"])
    waiting.checked_in_at = utcnow() - timedelta(minutes=20)  # the host is overdue
    db.session.commit()
    return {"waiting": waiting, "with_host": with_host}


def data_of(app, day) -> list[str]:
    """The test's data and what the app derived from it (codes, the kiosk's pairing, the
    drinks menu a fresh install seeds: data, shown by each drink's Chinese name)."""
    return DATA + [v.code for v in day.values()] + [d.name for d in tasks.menu(False)]


@pytest.mark.parametrize("email,path", STAFF_PAGES)
def test_staff_pages_have_no_english_only_label(app, a_day_at_the_desk, email, path):
    web = app.test_client()
    login(web, email)
    resp = web.get(path)
    assert resp.status_code == 200
    left = english_only(resp.get_data(as_text=True), data_of(app, a_day_at_the_desk))
    assert left == [], f"English-only on {path}:\n" + "\n".join(left)


def test_the_kiosk_in_chinese_shows_no_english(app, a_day_at_the_desk, make_visit):
    kiosk = KioskClient(app, "Front door", language="zh")
    data = data_of(app, a_day_at_the_desk)
    found = {}
    for path in KIOSK_SCREENS:
        base, _, query = path.partition("?")
        resp = kiosk.get(base, **dict(p.split("=", 1) for p in query.split("&") if p))
        assert resp.status_code in (200, 429), path
        found[path] = any_english(resp.get_data(as_text=True), data)
    # The scanned screens: the rules, the photo step, the welcome, the goodbye.
    visit = make_visit("Charles Babbage", "Difference Engines")
    html = kiosk.scan(visit.code).get_data(as_text=True)
    found["scan"] = any_english(html, data + [visit.code])
    left = [f"{k}: {t}" for k, texts in found.items() for t in texts]
    assert left == [], "English on the Chinese kiosk:\n" + "\n".join(left)


def test_the_check_flags_english_left_in_chinese(app):
    """The checks themselves: what they flag and what they let through."""
    page = (
        '<p>Status</p><p>签到 Check in</p><p hidden>Secret</p><script>var x="a"</script>'
        '<span class="data">Some Company</span><p>Ada Lovelace 16:05</p>'
        '<input placeholder="Search">'
    )
    assert sorted(english_only(page, ["Ada Lovelace"])) == ["Search", "Status"]
    assert sorted(any_english(page, ["Ada Lovelace"])) == ["Search", "Status", "签到 Check in"]
    label = "<h2>Waiting for you <small>等候中</small></h2><p><span>live</span> 实时</p>"
    assert english_only(label, []) == ["live"]  # its element says only "live"
    assert english_only("<p>for 张伟 · host Grace</p>", ["张伟", "Grace"]) == [
        "for 张伟 · host Grace"
    ]
    sentence = "<p>Overdue 超时: Grace has not answered for 7 min. Re-notify or alert someone.</p>"
    assert english_only(sentence, ["Grace"]) != []
    assert any_english("<label>您要拜访谁?</label><p>您要拜访谁？</p>", []) == ["您要拜访谁?"]
    assert english_only("<p>ada@example.com · tcp://10.0.0.5:9100</p>", []) == []


# Scripts of the staff pages: their own words, written straight into the page.
STAFF_SCRIPTS = ["static/js/host.js", "static/js/live.js"]


def test_staff_scripts_write_no_english_only_text():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    written = re.compile(r"""\.(?:textContent|title)\s*=\s*(["'])(.*?)\1""")
    left = [
        f"{name}: {text}"
        for name in STAFF_SCRIPTS
        for _, text in written.findall((root / name).read_text(encoding="utf-8"))
        if LATIN_WORD.search(text) and not CJK.search(text)
    ]
    assert left == []
