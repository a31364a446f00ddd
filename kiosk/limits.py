"""Per-kiosk limits on wrong tries: unknown codes scanned, bookings not found.

A kiosk past its limit refuses to look anything up until its oldest failures leave
the window. Counts live in the process (``app.extensions``): with several server
processes each keeps its own, which loosens the bar by that factor but never blocks
a kiosk that is behaving. Only failures count: a visitor who is found, or a form sent
back for a missing field, costs nothing.
"""

import threading
import time
from collections import defaultdict, deque

from flask import current_app


class FailureLimit:
    """At most ``app.config[config_key]`` failures per kiosk within ``window`` seconds."""

    def __init__(self, key: str, window: float, config_key: str):
        self.key, self.window, self.config_key = key, window, config_key
        self._lock = threading.Lock()

    def _recent(self, kiosk_id: int) -> deque:
        per_kiosk = current_app.extensions.setdefault(self.key, defaultdict(deque))
        recent = per_kiosk[kiosk_id]
        while recent and time.monotonic() - recent[0] > self.window:
            recent.popleft()
        return recent

    def exceeded(self, kiosk_id: int) -> bool:
        with self._lock:
            return len(self._recent(kiosk_id)) >= current_app.config[self.config_key]

    def count(self, kiosk_id: int) -> None:
        with self._lock:
            self._recent(kiosk_id).append(time.monotonic())


# Unknown codes scanned, per hour (OWASP ASVS: at most 100 failed attempts an hour).
SCANS = FailureLimit("lobby_kiosk_failures", 3600, "KIOSK_FAILED_SCAN_LIMIT")
# "Find my booking" and "I'm leaving" tries that found nobody (or several), per 10 minutes.
LOOKUPS = FailureLimit("lobby_kiosk_lookup_failures", 600, "KIOSK_LOOKUP_LIMIT")
