"""Helpers for kiosk tests: a paired kiosk on the Flask test client, and screenshots.

Browser tests reuse ``browser``/``device``/``kiosk_page``/``scan_like_a_wedge`` from
``tests.test_browser``. Screenshots go to ``build/screenshots/`` (or
``$LOBBY_SCREENSHOT_DIR``): look at them; ``tests/screenshots.py`` picks the README's.
"""

import os
import re
from pathlib import Path

from server.services import devices
from tests.conftest import csrf_from

SCREENSHOTS = Path(
    os.environ.get("LOBBY_SCREENSHOT_DIR")
    or Path(__file__).resolve().parent.parent / "build" / "screenshots"
)


def snap(page, name: str) -> Path:
    """Save a screenshot of ``page`` as ``<name>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class KioskClient:
    """A paired kiosk speaking htmx to the app, like the kiosk page does."""

    def __init__(self, app, name="Front door", language="en"):
        _, path = devices.add_kiosk(name)
        self.client = app.test_client()
        assert self.client.get(path).status_code == 302
        self.language = language
        self.token = csrf_from(self.client.get("/kiosk/").get_data(as_text=True))

    def get(self, path, **params):
        params.setdefault("lang", self.language)
        return self.client.get(path, query_string=params, headers={"HX-Request": "true"})

    def post(self, path, data=None, **kwargs):
        data = {"lang": self.language, **(data or {}), "csrf_token": self.token}
        return self.client.post(path, data=data, headers={"HX-Request": "true"}, **kwargs)

    def scan(self, code):
        return self.post("/kiosk/scan", {"code": code})

    def skip_photo(self, html: str):
        """On the photo step, skip it; otherwise return ``html`` unchanged."""
        if 'data-screen="photo"' not in html:
            return html
        return self.post("/kiosk/photo", {"ticket": ticket_in(html), "skip": "1"}).get_data(
            as_text=True
        )


def ticket_in(html: str) -> str:
    """The step ticket a kiosk screen carries (form field or refresh URL)."""
    m = re.search(r'name="ticket" value="([^"]+)"', html) or re.search(
        r"ticket=([A-Za-z0-9_.\-]+)", html
    )
    assert m, "no ticket on this screen"
    return m.group(1)
