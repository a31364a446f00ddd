"""Glyphs for the characters no UI subset carries: a visitor named 龘, 鱻 or Nguyễn.

The UI's subsets (``server/webfonts.py``) hold the characters of the templates, the
catalog and the site's texts; names come from the database and may hold any
character. Rather than fall through to the whole 8.3 MB Noto Sans SC (or to whatever
system font a machine happens to have), every HTML response that shows such
characters carries an extra ``@font-face`` for exactly them:

- ``inject(html)`` (an after-request step, full pages and htmx fragments alike) adds
  ``<style data-extra-fonts>`` with the rules; a response without rare characters is
  left byte for byte as it was;
- ``/fonts/extra.css?c=<text>`` answers the same rules for text that arrives later
  (live.js asks for the names in its banners);
- ``/fonts/extra/<font>.<version>.<code points>.woff2`` is the subset itself. The URL
  is its content: the same characters make the same URL, so a browser caches it for a
  year and the server cuts it once (memory, then ``DATA_DIR/webfonts/extra``).

The families are the UI's own ("Lobby Sans", "Lobby Sans SC"), ahead of any system
font in the CSS stack, so a rare name draws with Noto on every machine.

Bounds: ``PER_FACE`` code points a file, ``PER_PAGE`` a response (the rest falls to
system fonts), ``QUERY_CHARS`` characters read from a query; a URL that is not in its
one canonical form (sorted, distinct, lower-case hex, only characters the font has
and no subset carries) is a 404, so each set of characters is one URL and one build.
The disk cache keeps the ``DISK_FILES`` newest files.
"""

from __future__ import annotations

import hashlib
import re
import time
from functools import lru_cache
from pathlib import Path

from flask import Response, abort, current_app, request, url_for

from printers import fonts
from server import webfonts

PER_FACE = 64
PER_PAGE = 512
QUERY_CHARS = 256
DISK_FILES = 2000
UI_RECHECK_SECONDS = 1.0  # how stale the UI's character set may be (a dev edits a template)
FONTS = {"latin": False, "sc": True}  # URL name -> the CJK font?
_FILENAME = re.compile(r"(latin|sc)\.([0-9a-f]{8})\.([0-9a-f]{1,6}(?:-[0-9a-f]{1,6})*)\.woff2")
_ui_cache: tuple[float, frozenset[int]] | None = None
# An element's opening tag (quoted attribute values may hold ">"), or a comment to skip.
_TAG_OR_COMMENT = re.compile(
    r"<!--.*?-->|<([a-zA-Z][a-zA-Z0-9-]*)(?:\"[^\"]*\"|'[^']*'|[^'\">])*>", re.S
)
# Elements a <style> child would break: void ones, raw text, and select's options.
_NO_STYLE_INSIDE = {
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
    "option",
    "optgroup",
    "select",
    "textarea",
    "script",
    "style",
    "template",
    "title",
    "svg",
    "math",
    "iframe",
}


# ---------------------------------------------------------------- which characters


def _ui_covered() -> frozenset[int]:
    """Code points some UI subset carries (the Latin ranges and the UI's characters);
    rechecked against the source files at most every ``UI_RECHECK_SECONDS``."""
    global _ui_cache
    now = time.monotonic()
    if _ui_cache is None or now - _ui_cache[0] > UI_RECHECK_SECONDS:
        ui = {ord(c) for c in webfonts.ui_characters()}
        _ui_cache = (now, frozenset(webfonts.LATIN) | frozenset(webfonts.LATIN_EXT) | ui)
    return _ui_cache[1]


def _font_for(cp: int, latin: frozenset[int], cjk: frozenset[int]) -> str | None:
    """Which font draws ``cp``: Noto Sans for scripts before CJK, else Noto Sans SC."""
    if cp < 0x2E80 and cp in latin:
        return "latin"
    if cp in cjk:
        return "sc"
    return None


def rare(text: str, limit: int = PER_PAGE) -> dict[str, list[int]]:
    """The code points of ``text`` no UI subset carries, by the font that has them
    (sorted; at most ``limit`` in all). Characters neither font has are left out."""
    candidates = {ord(c) for c in set(text) if ord(c) > 0x7E} - _ui_covered()
    if not candidates:
        return {}
    latin = webfonts.cmap(fonts.font_path(cjk=False))
    cjk = webfonts.cmap(fonts.font_path(cjk=True))
    out: dict[str, list[int]] = {}
    for cp in sorted(candidates):
        if limit <= 0:
            break
        name = _font_for(cp, latin, cjk)
        if name is not None and webfonts._is_ui_char(chr(cp)):
            out.setdefault(name, []).append(cp)
            limit -= 1
    return out


# ---------------------------------------------------------------- files and rules


@lru_cache(maxsize=4)
def _version(name: str, digest: str) -> str:
    return hashlib.sha256(f"{webfonts.BUILD}|{name}|{digest}".encode()).hexdigest()[:8]


def version(name: str) -> str:
    """Changes with the subsetting options and the font file: old URLs then 404."""
    return _version(name, webfonts._digest(fonts.font_path(cjk=FONTS[name])))


def filename(name: str, codepoints) -> str:
    return f"{name}.{version(name)}.{'-'.join(f'{cp:x}' for cp in codepoints)}.woff2"


def parse(name_in_url: str) -> webfonts.Slice | None:
    """The subset a URL names, or None unless the URL is that subset's canonical one."""
    m = _FILENAME.fullmatch(name_in_url)
    if not m or m.group(2) != version(m.group(1)):
        return None
    cps = [int(h, 16) for h in m.group(3).split("-")]
    if len(cps) > PER_FACE or filename(m.group(1), cps) != name_in_url:
        return None
    if cps != sorted(set(cps)) or rare("".join(map(chr, cps)), PER_FACE).get(m.group(1)) != cps:
        return None
    cjk = FONTS[m.group(1)]
    return webfonts.Slice(
        f"extra-{m.group(1)}",
        webfonts.CJK_FAMILY if cjk else webfonts.LATIN_FAMILY,
        fonts.font_path(cjk=cjk),
        tuple(cps),
        variable=not cjk,
    )


def faces(text: str, url_for_file) -> str:
    """``@font-face`` rules for ``text``'s rare characters ("" when it has none)."""
    rules = []
    for name, cps in rare(text).items():
        for i in range(0, len(cps), PER_FACE):
            chunk = cps[i : i + PER_FACE]
            family = webfonts.LATIN_FAMILY if name == "latin" else webfonts.CJK_FAMILY
            weight = f"{webfonts.WEIGHTS[0]} {webfonts.WEIGHTS[1]}" if name == "latin" else "400"
            rules.append(
                f'@font-face {{ font-family: "{family}"; '
                f'src: url("{url_for_file(filename(name, chunk))}") format("woff2"); '
                f"font-weight: {weight}; font-style: normal; font-display: swap; "
                f"unicode-range: {webfonts.css_ranges(chunk)}; }}"
            )
    return "\n".join(rules)


def inject(html: str, rules: str) -> str:
    """``html`` with a ``<style>`` of ``rules``: in the head of a full page; in an htmx
    fragment, inside its first element, so the swap that replaces the element (an
    outerHTML refresh) replaces its rules too rather than piling them up; before the
    fragment when its first element cannot hold a ``<style>``; not at all in options
    for a select (their rare characters fall to the system's fonts)."""
    style = f"<style data-extra-fonts>{rules}</style>"
    head_end = html.find("</head>")
    if head_end >= 0:
        return html[:head_end] + style + html[head_end:]
    first = next((m for m in _TAG_OR_COMMENT.finditer(html) if m.group(1)), None)
    name = first.group(1).lower() if first else ""
    if name in ("option", "optgroup"):
        return html  # options swapped into a select: a <style> there would show as text
    if first and name not in _NO_STYLE_INSIDE:
        return html[: first.end()] + style + html[first.end() :]
    return style + html


# ---------------------------------------------------------------- Flask


def _file_url(name: str) -> str:
    return url_for("extra_font", filename=name)


def register(app) -> None:
    @app.get("/fonts/extra/<filename>")
    def extra_font(filename: str):
        """A subset for rare characters: its URL is its content, so it never changes."""
        found = parse(filename)
        if found is None:
            abort(404)
        data = webfonts.load(
            found, Path(current_app.config["DATA_DIR"]) / "webfonts" / "extra", keep=DISK_FILES
        )
        resp = Response(data, mimetype="font/woff2")
        resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        resp.set_etag(found.key)
        return resp.make_conditional(request)

    @app.get("/fonts/extra.css")
    def extra_faces():
        """The rules for ``?c=<text>`` (its first ``QUERY_CHARS`` characters)."""
        text = request.args.get("c", "")[:QUERY_CHARS]
        resp = Response(faces(text, _file_url) + "\n", mimetype="text/css")
        # The answer changes only with a release (new UI characters, a new font build);
        # an hour-old answer then names URLs that 404 and the text falls to system fonts.
        resp.headers["Cache-Control"] = "public, max-age=3600"
        return resp

    @app.after_request
    def extra_fonts_for_the_page(resp):
        if (
            resp.mimetype != "text/html"
            or resp.direct_passthrough
            or resp.is_streamed
            or request.path.startswith("/fonts/")
        ):
            return resp
        html = resp.get_data(as_text=True)
        rules = faces(html, _file_url)
        if rules:
            resp.set_data(inject(html, rules))
        return resp
