"""Languages: Simplified Chinese (``zh``) and English (``en``, the source language).

Messages are marked with ``_()`` in Python and templates; their Chinese lives in
``server/translations/zh/LC_MESSAGES/messages.po`` and is compiled to ``.mo`` when the
package is installed (``setup.py``'s build step; ``pip install -e`` compiles in place).
A kiosk request carries the visitor's choice as ``lang``; without one the kiosk's own
default applies. Staff pages stay bilingual.

Maintainers keep the catalog with ``python -m server.catalog`` (see there).
"""

from pathlib import Path

from flask import g, has_request_context, request

LANGUAGES = ("zh", "en")
DEFAULT = "en"
HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"
CATALOG = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def language(value) -> str | None:
    """``value`` if it names a supported language ("zh-CN" and "zh_Hans" are zh)."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGUAGES else None


def select_locale() -> str:
    """The language of this request: ``g.language`` when a view set it (the kiosk),
    then an explicit ``lang``, then the browser's preference, then English."""
    if not has_request_context():
        return DEFAULT
    chosen = getattr(g, "language", None) or language(request.values.get("lang"))
    if chosen:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT
