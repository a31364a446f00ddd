"""Per-kiosk budgets that slow a flood down without locking anyone out: token buckets.

A bucket holds ``burst`` tokens and gains ``rate`` tokens a second back up to ``burst``;
an attempt takes one token, and an attempt that finds the bucket empty is refused with
a stable code until a token comes back (seconds, never an hour).

- ``SCANS``: unknown codes scanned. Only failures take a token: the kiosk looks a code
  up first (one indexed read), so a code that exists is always processed at once, even
  in the middle of a flood of junk. ``KIOSK_FAILED_SCAN_BURST`` tokens, refilled so that
  at most ``KIOSK_FAILED_SCAN_LIMIT`` unknown codes an hour get an answer (OWASP ASVS
  2.2.1: no more than 100 failed attempts an hour).
- ``LOOKUPS``: "Find my booking" and "I'm leaving" searches, found or not (a found
  booking tells something too): ``KIOSK_LOOKUP_LIMIT`` per 10 minutes, with as many at once.

Where the counts live: with ``LOBBY_MESSAGE_QUEUE`` (the scale-out setup's Redis) every
server process shares one bucket per kiosk in Redis (one atomic script, Redis's own
clock). Without it, Lobby is one server process and the buckets live in that process.
If Redis stops answering, each process falls back to its own buckets (the limit is then
per process) rather than refuse visitors.
"""

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app

log = logging.getLogger(__name__)

# KEYS[1]: the bucket; ARGV: burst, rate (tokens a second), cost (0: only look), ttl.
_TAKE = """
local burst, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(v[1]) or burst, tonumber(v[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local ok = 0
if tokens >= 1 then
  ok = 1
  tokens = tokens - cost
end
if cost > 0 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
end
return {ok, tostring(tokens)}
"""


@dataclass(frozen=True)
class Answer:
    ok: bool
    retry_after: int  # seconds until a token is back (0 when ok)


class _Memory:
    """Buckets of this process: ``{key: (tokens, at)}``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, burst: float, rate: float, cost: int) -> tuple[bool, float]:
        with self.lock:
            now = time.monotonic()
            tokens, at = self.buckets.get(key, (burst, now))
            tokens = min(burst, tokens + max(0.0, now - at) * rate)
            ok = tokens >= 1
            if ok:
                tokens -= cost
            if cost:
                self.buckets[key] = (tokens, now)
            return ok, tokens


class _Redis:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.script = self.client.register_script(_TAKE)

    def take(self, key: str, burst: float, rate: float, cost: int) -> tuple[bool, float]:
        ttl = int(burst / rate) + 60
        ok, tokens = self.script(keys=[key], args=[burst, rate, cost, ttl])
        return bool(ok), float(tokens)


def _stores(app: Flask) -> dict:
    stores = app.extensions.get("lobby_kiosk_limits")
    if stores is None:
        url = app.config.get("MESSAGE_QUEUE") or ""
        stores = {"memory": _Memory(), "redis": _Redis(url) if url.startswith("redis") else None}
        stores = app.extensions.setdefault("lobby_kiosk_limits", stores)
    return stores


class Bucket:
    """A token bucket per kiosk named ``name``; ``settings(config)`` -> (burst, rate)."""

    def __init__(self, name: str, settings):
        self.name, self.settings = name, settings

    def _take(self, kiosk_id: int, cost: int) -> Answer:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        burst, rate = self.settings(app.config)
        stores = _stores(app)
        site = app.config.get("MESSAGE_QUEUE_CHANNEL") or "lobby"  # one Redis, several sites
        key = f"{site}:kiosk-limit:{self.name}:{kiosk_id}"
        try:
            ok, tokens = (stores["redis"] or stores["memory"]).take(key, burst, rate, cost)
        except Exception as e:  # Redis down: this process's own buckets, never a refusal
            log.warning("kiosk limits: Redis did not answer (%s); counting in this process", e)
            ok, tokens = stores["memory"].take(key, burst, rate, cost)
        return Answer(ok, 0 if ok else max(1, int((1 - tokens) / rate + 0.999)))

    def take(self, kiosk_id: int) -> Answer:
        """Take a token for an attempt; ``ok`` False: refuse it (nothing taken)."""
        return self._take(kiosk_id, 1)

    def available(self, kiosk_id: int) -> Answer:
        """Whether an attempt now would be let through (takes nothing)."""
        return self._take(kiosk_id, 0)


def _scan_settings(config) -> tuple[float, float]:
    per_hour = max(1, int(config["KIOSK_FAILED_SCAN_LIMIT"]))
    burst = max(1, min(int(config["KIOSK_FAILED_SCAN_BURST"]), per_hour))
    # The burst plus an hour's refill stays within the hourly limit.
    return burst, max(per_hour - burst, 1) / 3600


def _lookup_settings(config) -> tuple[float, float]:
    per_10_minutes = max(1, int(config["KIOSK_LOOKUP_LIMIT"]))
    return per_10_minutes, per_10_minutes / 600


SCANS = Bucket("scans", _scan_settings)
LOOKUPS = Bucket("lookups", _lookup_settings)
