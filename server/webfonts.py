"""Web fonts that weigh little: WOFF2 subsets of the pinned Noto fonts.

The badges draw with the whole Noto Sans (2 MB, variable) and Noto Sans SC (8 MB);
the pages need only the characters they show. This module cuts the fonts into small
WOFF2 *slices*, each an ``@font-face`` with a ``unicode-range``, so a browser fetches a
slice only when the page shows one of its characters (as Google Fonts does):

- ``latin``      Noto Sans, Basic Latin + Latin-1 + general punctuation + currency,
                 variable between weights 400 and 700 (one file is smaller than two
                 instances), width pinned to 100;
- ``latin-ext``  the same for Latin Extended-A (Łukasz, Dvořák);
- ``sc-start``   Noto Sans SC, the characters of the kiosk's start screen: its
                 templates' translations, the language names, and the site's own
                 kiosk texts (company name, welcome messages) passed in as ``extra``;
- ``sc-kiosk``   the rest of the kiosk's characters (its templates, views and JS);
- ``sc-rules``   the current site rules' characters (``extra``), for the rules step;
- ``sc-staff``   every other character of the UI: all the catalog's translations,
                 the non-Latin characters of ``templates/**/*.html``, ``static/js/*.js``
                 and the Python views and forms.

A character belongs to the first slice that uses it, so the kiosk's start page loads
``latin`` and ``sc-start`` only. Characters in no slice (a visitor named 龘, or
Nguyễn) get a subset of their own, cut for the page that shows them
(``server/extrafonts.py``): no page ever loads a whole font, and what a page draws
does not depend on the fonts a machine happens to have.

Each slice's file name carries a hash of the source font, the build options and its
code points, so a new catalog or a new welcome message makes new URLs (served with a
year's cache) and old ones are never stale. Slices are built on first request and
kept on disk (``cache_dir``, the app's ``DATA_DIR/webfonts``) and in memory.

Nothing here uses Flask: ``server/views.py`` serves ``stylesheet()`` and ``load()``.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from printers import fonts

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "server" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
BUILD = "3"  # bump when the subsetting options change
WEIGHTS = (400, 700)  # the variable Latin slices span these weights
MEMORY_SLICES = 32  # built slices kept in memory per process
# OpenType features kept: kerning, ligatures, composition, marks, tabular figures (the
# kiosk's phone-digits field). Fractions, small caps etc. would pull in unused glyphs.
FEATURES = ("kern", "liga", "calt", "ccmp", "locl", "mark", "mkmk", "tnum")

LATIN_FAMILY = "Lobby Sans"
CJK_FAMILY = "Lobby Sans SC"

# Code points the Latin slices always carry (a visitor's name is typed, not known in
# advance), besides the UI's own characters that Noto Sans has:
# Basic Latin, Latin-1, the common general punctuation (dashes, quotes, bullet,
# ellipsis, per mille, primes, guillemets), the euro and trade mark signs.
LATIN = [
    *range(0x20, 0x7F),
    *range(0xA0, 0x100),
    *range(0x2010, 0x2028),
    *range(0x2030, 0x203B),
    0x20AC,
    0x2122,
]
LATIN_EXT = list(range(0x100, 0x180))

# Where each slice's characters come from, in order: a character goes to the first
# slice that uses it. Globs are relative to ROOT; a catalog message counts for a
# slice when one of its source locations matches.
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("sc-start", ("templates/kiosk/index.html", "templates/kiosk/_start.html", "server/i18n.py")),
    (
        "sc-kiosk",
        (
            "templates/kiosk/*.html",
            "templates/kiosk/**/*.html",
            "kiosk/*.py",
            "static/js/kiosk*.js",
        ),
    ),
    ("sc-rules", ()),
    ("sc-staff", ("templates/**/*.html", "static/js/*.js", "server/**/*.py")),
]
# Not UI: demo data, migrations and this module carry names and examples, not labels.
EXCLUDE = (
    "server/services/demo.py",
    "server/migrations/*",
    "server/migrations/**/*",
    "server/webfonts.py",
    "server/extrafonts.py",
)


@dataclass(frozen=True)
class Slice:
    """One WOFF2 file: ``codepoints`` of ``source`` (those the font has)."""

    name: str
    family: str
    source: Path
    codepoints: tuple[int, ...]
    variable: bool  # keep the weight axis between WEIGHTS (Latin)

    @cached_property
    def key(self) -> str:
        h = hashlib.sha256()
        h.update(f"{BUILD}|{self.name}|{self.variable}|{WEIGHTS}|".encode())
        h.update(_digest(self.source).encode())
        h.update(",".join(map(str, self.codepoints)).encode())
        return h.hexdigest()[:16]

    @property
    def filename(self) -> str:
        return f"{self.name}.{self.key}.woff2"

    @property
    def unicode_range(self) -> str:
        return css_ranges(self.codepoints)

    @property
    def weight(self) -> str:
        return f"{WEIGHTS[0]} {WEIGHTS[1]}" if self.variable else "400"


# ---------------------------------------------------------------- characters


def _is_ui_char(ch: str) -> bool:
    """A character a slice may carry: visible, not ASCII (the Latin slice has it)."""
    return (
        ord(ch) > 0x7E
        and not ch.isspace()
        and unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs", "Cn")
    )


def _files(patterns) -> list[Path]:
    seen, out = set(), []
    excluded = {p for pat in EXCLUDE for p in ROOT.glob(pat)}
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            if path.is_file() and path not in excluded and path not in seen:
                seen.add(path)
                out.append(path)
    return out


def _source_signature() -> tuple:
    """What the UI characters depend on: every source file's size and mtime."""
    paths = _files([p for _, pats in GROUPS for p in pats]) + [CATALOG]
    sig = []
    for p in paths:
        try:
            st = p.stat()
        except OSError:
            continue
        sig.append((str(p), st.st_size, st.st_mtime_ns))
    return tuple(sig)


def _catalog_strings() -> list[tuple[str, list[str]]]:
    """(msgstr, [source file, ...]) of every translated message of the catalog."""
    from babel.messages.pofile import read_po

    if not CATALOG.exists():
        return []
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    out = []
    for message in catalog:
        if not message.id:
            continue
        text = message.string
        if isinstance(text, (list, tuple)):
            text = "".join(text)
        if text:
            out.append((text, [loc[0] for loc in message.locations]))
    return out


@lru_cache(maxsize=4)
def _ui_groups(signature: tuple) -> tuple[tuple[str, frozenset[str]], ...]:
    del signature  # the cache key: recomputed when a source file changes
    texts: dict[str, list[str]] = {name: [] for name, _ in GROUPS}
    group_files = {
        name: {p.relative_to(ROOT).as_posix() for p in _files(pats)} for name, pats in GROUPS
    }
    for name, _ in GROUPS:
        for path in sorted(group_files[name]):
            texts[name].append((ROOT / path).read_text(encoding="utf-8", errors="replace"))
    for text, locations in _catalog_strings():
        for name, _ in GROUPS:
            if any(loc in group_files[name] for loc in locations):
                texts[name].append(text)
                break
        else:  # a message from elsewhere, or without location: still our UI
            texts["sc-staff"].append(text)
    return tuple(
        (name, frozenset(ch for ch in set("".join(t)) if _is_ui_char(ch)))
        for name, t in texts.items()
    )


def ui_text() -> dict[str, frozenset[str]]:
    """The UI's non-ASCII visible characters per slice group (``GROUPS`` order)."""
    return dict(_ui_groups(_source_signature()))


def ui_characters() -> set[str]:
    """Every non-ASCII visible character of the UI (all groups)."""
    return set().union(*ui_text().values())


# ---------------------------------------------------------------- fonts


@lru_cache(maxsize=8)
def _digest_of(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _digest(path: Path) -> str:
    st = path.stat()
    return _digest_of(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=4)
def _cmap_of(path: str, digest: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def cmap(path: Path) -> frozenset[int]:
    """The code points ``path`` has a glyph for."""
    return _cmap_of(str(path), _digest(path))


def plan(extra: dict[str, str] | None = None) -> list[Slice]:
    """The slices for the UI plus ``extra`` text per group (the site's kiosk texts in
    ``"sc-start"``, the rules in ``"sc-rules"``). Empty slices are left out."""
    groups = ui_text()
    added = []
    for name, text in sorted((extra or {}).items()):
        if name not in groups:
            raise ValueError(f"unknown slice group {name!r}")
        added.append((name, frozenset(ch for ch in set(text) if _is_ui_char(ch))))
    latin_src, cjk_src = fonts.font_path(cjk=False), fonts.font_path(cjk=True)
    return list(
        _plan(
            tuple(groups.items()),
            tuple(added),
            latin_src,
            _digest(latin_src),
            cjk_src,
            _digest(cjk_src),
        )
    )


@lru_cache(maxsize=16)
def _plan(
    groups: tuple, added: tuple, latin_src: Path, latin_digest: str, cjk_src: Path, cjk_digest: str
) -> tuple[Slice, ...]:
    chars = dict(groups)
    for name, more in added:
        chars[name] = chars[name] | more
    latin_has, cjk_has = cmap(latin_src), cmap(cjk_src)
    # The UI's own non-CJK characters that Noto Sans has (ℹ, ...) join the Latin slice.
    used = {ord(ch) for group in chars.values() for ch in group}
    latin_ext = sorted(cp for cp in LATIN_EXT if cp in latin_has)
    latin = sorted(
        cp for cp in (set(LATIN) | used) - set(latin_ext) if cp in latin_has and cp < 0x2E80
    )
    taken = set(latin) | set(latin_ext)
    slices = [
        Slice("latin", LATIN_FAMILY, latin_src, tuple(latin), True),
        Slice("latin-ext", LATIN_FAMILY, latin_src, tuple(latin_ext), True),
    ]
    for name, group in chars.items():
        mine = {ord(ch) for ch in group} - taken
        mine = {cp for cp in mine if cp in cjk_has}
        taken |= mine
        if mine:
            slices.append(Slice(name, CJK_FAMILY, cjk_src, tuple(sorted(mine)), False))
    return tuple(slices)


def subset(source: Path, codepoints, variable: bool = False) -> bytes:
    """WOFF2 bytes of ``source`` cut to ``codepoints``: no hinting, layout features
    kept (kerning, ligatures), names kept for the license; with ``variable`` the
    weight axis is limited to ``WEIGHTS`` and every other axis pinned to its default,
    else the font is instanced at its default (Regular)."""
    from fontTools import subset as ft_subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    options = ft_subset.Options()
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # with copyright and license (OFL)
    options.layout_features = list(FEATURES)
    font = TTFont(str(source), lazy=True)  # decodes only the layout it keeps: 3x faster
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=list(codepoints))
    subsetter.subset(font)  # before instancing: cheaper, and avoids a gvar lazy-load bug
    if "fvar" in font:
        limits = {}
        for axis in font["fvar"].axes:
            if variable and axis.axisTag == "wght":
                limits["wght"] = (max(WEIGHTS[0], axis.minValue), min(WEIGHTS[1], axis.maxValue))
            else:
                limits[axis.axisTag] = axis.defaultValue
        font = instancer.instantiateVariableFont(font, limits)
    font.flavor = "woff2"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- cache

_memory: OrderedDict[str, bytes] = OrderedDict()
_memory_lock = threading.Lock()
_build_lock = threading.Lock()


def load(s: Slice, cache_dir: Path | None, keep: int | None = None) -> bytes:
    """The WOFF2 bytes of ``s``: from memory, else from ``cache_dir``, else built now.
    Whatever ``cache_dir`` lacks is written there (atomically), so a restarted server
    finds it. One build at a time per process; cached slices never wait for a build.
    Writing drops the older builds of the slice's name, or with ``keep`` (a directory
    of many slices of one name: the rare characters') all but the ``keep`` newest."""
    key = s.filename
    path = Path(cache_dir) / key if cache_dir else None
    data = _memory.get(key)
    if data is None:
        with _build_lock:
            data = _memory.get(key)
            if data is None and path is not None and path.is_file():
                data = path.read_bytes() or None
            if data is None:
                data = subset(s.source, s.codepoints, s.variable)
    with _memory_lock:
        _memory[key] = data
        _memory.move_to_end(key)
        while len(_memory) > MEMORY_SLICES:
            _memory.popitem(last=False)
    if path is not None and not path.is_file():
        _store(path, data, s.name, keep)
    return data


def warm_up(cache_dir: Path | None, extra: dict[str, str] | None = None) -> subprocess.Popen | None:
    """Build the UI's slices ahead of the first page, in a separate low-priority process
    (``lobby run`` starts it once): cutting fonts takes seconds of CPU, which must not
    hold the GIL while the server checks visitors in. The server finds the slices in
    ``cache_dir``. ``extra`` is the site's own texts (as for ``plan``), so the slices
    built are the ones its pages will ask for."""
    if cache_dir is None:
        return None
    return subprocess.Popen(
        [sys.executable, "-m", "server.webfonts", str(cache_dir), json.dumps(extra or {})],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )


def _warm(cache_dir: Path | None, extra: dict[str, str] | None = None) -> None:
    try:
        for s in plan(extra):
            load(s, cache_dir)
    except Exception:  # logged; the pages build on request instead
        logging.getLogger(__name__).warning("building web font subsets failed", exc_info=True)


def _store(path: Path, data: bytes, name: str, keep: int | None = None) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        if keep is None:
            _prune(path.parent, name, keep=path.name)
        else:
            _keep_newest(path.parent, keep)
    except OSError:
        pass  # a read-only data dir: memory only


def _keep_newest(directory: Path, keep: int) -> None:
    """Bound a cache directory to its ``keep`` most recently written files."""
    files = list(directory.glob("*.woff2"))
    if len(files) <= keep:
        return

    def mtime(p: Path) -> int:
        try:
            return p.stat().st_mtime_ns
        except OSError:
            return 0

    for old in sorted(files, key=mtime)[: len(files) - keep]:
        try:
            old.unlink()
        except OSError:
            pass


def _prune(directory: Path, name: str, keep: str) -> None:
    """Drop older builds of slice ``name`` (a changed catalog made new ones)."""
    for old in directory.glob(f"{name}.*.woff2"):
        if old.name != keep and old.name.count(".") == 2:
            try:
                old.unlink()
            except OSError:
                pass


def find(slices: list[Slice], filename: str) -> Slice | None:
    return next((s for s in slices if s.filename == filename), None)


# ---------------------------------------------------------------- CSS


def css_ranges(codepoints, gap: int = 0) -> str:
    """``U+20-7E,U+A0-FF,...``: runs of code points (bridging holes up to ``gap``)."""
    runs: list[list[int]] = []
    for cp in sorted(set(codepoints)):
        if runs and cp - runs[-1][1] <= gap + 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return ",".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


def stylesheet(slices: list[Slice], url_for) -> str:
    """The ``@font-face`` rules, one per slice (``url_for(slice)``). kiosk.css and
    lobby.css import these and name the families first in their font stack. No rule
    names a whole font: a page's characters no slice carries get their own subset
    (``server/extrafonts.py``)."""
    lines = ["/* Noto Sans / Noto Sans SC subsets cut to the UI (server/webfonts.py) */"]
    for s in slices:
        lines.append(
            f'@font-face {{ font-family: "{s.family}"; src: url("{url_for(s)}") format("woff2"); '
            f"font-weight: {s.weight}; font-style: normal; font-display: swap; "
            f"unicode-range: {s.unicode_range}; }}"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # the warm-up process of warm_up(): python -m server.webfonts DIR
    os.nice(10)
    _warm(Path(sys.argv[1]), json.loads(sys.argv[2]) if len(sys.argv) > 2 else None)
