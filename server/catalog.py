"""The message catalog (``server/translations/zh/LC_MESSAGES/messages.po``), for
maintainers: ``python -m server.catalog``

- ``update``   extract every marked message and merge it into the catalog
- ``set MSGID MSGSTR``   translate one message
- ``missing``  list messages without a translation (exit 1 if any)
- ``compile``  write the ``.mo`` next to the ``.po`` (installs do this themselves)

Each command holds a lock on the catalog, so several people can run them at once.
"""

import fcntl
import sys
from contextlib import contextmanager
from pathlib import Path

from server.i18n import CATALOG, TRANSLATIONS

ROOT = Path(__file__).resolve().parent.parent


def compile_catalogs(root: Path = TRANSLATIONS) -> list[Path]:
    """Compile every ``.po`` under ``root`` to a ``.mo`` beside it (used by the build)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


@contextmanager
def _locked_catalog():
    with (CATALOG.parent / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read():
    from babel.messages.pofile import read_po

    if not CATALOG.exists():
        from babel.messages.catalog import Catalog

        return Catalog(locale="zh", project="Lobby")
    with CATALOG.open("rb") as f:
        return read_po(f, locale="zh")


def _write(catalog) -> None:
    from babel.messages.pofile import write_po

    CATALOG.parent.mkdir(parents=True, exist_ok=True)
    with CATALOG.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True, omit_header=False)


def _extract():
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    template = Catalog(project="Lobby")
    method_map = [
        ("**/static/**", "ignore"),
        ("**/tests/**", "ignore"),
        ("**/bench/**", "ignore"),
        ("**/.venv/**", "ignore"),
        ("server/**.py", "python"),
        ("kiosk/**.py", "python"),
        ("templates/**.html", "jinja2"),
    ]
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map={"templates/**.html": {}}
    ):
        if filename.startswith(("server", "kiosk", "templates")):
            template.add(
                message, None, [(filename, lineno)], auto_comments=comments, context=context
            )
    return template


def update() -> int:
    with _locked_catalog():
        catalog = _read()
        catalog.update(_extract(), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        _write(catalog)
    return len(catalog)


def set_translation(msgid: str, msgstr: str) -> None:
    with _locked_catalog():
        catalog = _read()
        if msgid not in catalog:
            catalog.add(msgid, msgstr)
        else:
            catalog[msgid].string = msgstr
            catalog[msgid].flags.discard("fuzzy")
        _write(catalog)


def missing() -> list[str]:
    catalog = _read()
    return [m.id for m in catalog if m.id and not m.string]


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("update", "set", "missing", "compile"):
        print(
            "usage: python -m server.catalog update | set MSGID MSGSTR | missing | compile",
            file=sys.stderr,
        )
        return 2
    if argv[0] == "update":
        print(f"{update()} messages in {CATALOG.relative_to(ROOT)}")
    elif argv[0] == "set":
        if len(argv) != 3:
            print("usage: python -m server.catalog set MSGID MSGSTR", file=sys.stderr)
            return 2
        set_translation(argv[1], argv[2])
    elif argv[0] == "missing":
        gaps = missing()
        for msgid in gaps:
            print(msgid)
        return 1 if gaps else 0
    else:
        for mo in compile_catalogs():
            print(mo.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
