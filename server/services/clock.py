"""Local time for "today". Timestamps are stored as naive UTC; the front desk
thinks in the site's time zone (LOBBY_TIMEZONE)."""

from datetime import UTC, datetime, time, timedelta
from typing import overload
from zoneinfo import ZoneInfo

from flask import current_app

from server.models import utcnow  # noqa: F401  (re-exported for templates)


def site_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


@overload
def to_local(ts: datetime) -> datetime: ...
@overload
def to_local(ts: None) -> None: ...
@overload
def to_local(ts: datetime | None) -> datetime | None: ...
def to_local(ts: datetime | None) -> datetime | None:
    """A stored naive-UTC timestamp as an aware local time."""
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC).astimezone(site_zone())


def to_utc_naive(ts: datetime) -> datetime:
    """An aware time, or a naive one meant as local time, as naive UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=site_zone())
    return ts.astimezone(UTC).replace(tzinfo=None)


def today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """[start, end) of the local day containing ``now``, as naive UTC."""
    local = to_local(now or utcnow())
    start = datetime.combine(local.date(), time.min, tzinfo=site_zone())
    return to_utc_naive(start), to_utc_naive(start + timedelta(days=1))


def iso(ts: datetime | None) -> str | None:
    """ISO 8601 with offset, in UTC, for the API."""
    return ts.replace(tzinfo=UTC).isoformat() if ts else None
