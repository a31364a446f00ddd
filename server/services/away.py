"""A host who is away, and the delegate who meets their visitors meanwhile.

A host is *away* while ``User.away_until`` is in the future; nothing clears it when
the time passes (every reader compares with now, so no timer is needed). While away,
a host's arrivals also alert their delegate (``User.delegate_id``: the delegate's
``host:<id>`` room, next to the host's own), the arrival says so (``delegate`` and
``for_host`` in the event and the API answer), and the kiosk tells the visitor who is
coming instead ("Grace Hopper is away; Li Na is coming to meet you").

Rules, the same from the API (``PATCH /api/v1/me``), the CLI (``lobby user update
--away-until/--delegate/--back``) and the host's settings page:

- ``away_until``: ISO 8601 or ``YYYY-MM-DD HH:MM`` (no offset: the site's time zone),
  in the future; None or "" clears it (the host is back).
- ``delegate``: another active user with the host role (alerts reach them on the host
  page, their ``host:<id>`` room), by email or id; None or "" clears it. A delegate
  is kept when the host comes back (it only acts while they are away).
- One hop only: a delegate who is away themselves is still the one alerted (their own
  delegate is not); the kiosk names them all the same.
- A delegate disabled since being chosen is nobody: the arrival goes to the host alone.

While a host is away, their delegate also sees that host's visits of the day on the
host page and may act on them (on my way, tea, farewell): the delegate acts for the
host (``covered_host_ids``, used by ``visits.today`` and ``visits.visible_visit``).
That ends when the host is back.
"""

from datetime import datetime

from sqlalchemy import select

from server.extensions import db
from server.models import User, utcnow
from server.services import clock, people
from server.services.errors import NotFound, ValidationError
from server.services.tx import write

UNSET = object()  # "leave as is", where None means "clear"


def is_away(user: User, now: datetime | None = None) -> bool:
    """Whether ``user`` is away now (``away_until`` still ahead)."""
    return user.away_until is not None and user.away_until > (now or utcnow())


def acting_delegate(host: User, now: datetime | None = None) -> User | None:
    """Who meets ``host``'s visitors now: their active delegate while they are away,
    else None."""
    if not is_away(host, now) or not host.delegate_id:
        return None
    delegate = db.session.get(User, host.delegate_id)
    return delegate if delegate is not None and delegate.active else None


def delegate_dict(delegate) -> dict | None:
    """The ``delegate`` of an arrival or a visit's API shape: ``{"id", "name"}``."""
    return {"id": delegate.id, "name": delegate.name} if delegate is not None else None


def covered_host_ids(user: User, now: datetime | None = None) -> list[int]:
    """The hosts away now who name ``user`` as their delegate (one hop)."""
    return list(
        db.session.scalars(
            select(User.id).where(
                User.delegate_id == user.id,
                User.away_until > (now or utcnow()),
                User.active.is_(True),
            )
        )
    )


def parse_away_until(value) -> datetime | None:
    """``away_until`` as naive UTC (None for None or ""); ValidationError when it is not
    a date-time or not in the future."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    problem = "must be a date-time (ISO 8601 or YYYY-MM-DD HH:MM) in the future"
    if not isinstance(value, str):
        raise ValidationError("invalid_away_until", problem, fields={"away_until": problem})
    try:
        when = clock.to_utc_naive(datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError) as e:
        raise ValidationError("invalid_away_until", problem, fields={"away_until": problem}) from e
    if when <= utcnow():
        raise ValidationError(
            "away_until_past",
            "away_until must be in the future",
            fields={"away_until": "must be in the future"},
        )
    return when


def resolve_delegate(session, delegate, user_id: int) -> int | None:
    """The id of the delegate named by ``delegate`` (an email or a user id; None or ""
    for none): another active user with the host role."""
    if delegate in (None, ""):
        return None
    if isinstance(delegate, bool) or not isinstance(delegate, (int, str)):
        raise ValidationError(
            "invalid_delegate",
            "delegate must be an email or a user id",
            fields={"delegate": "an email or a user id"},
        )
    return people.stand_in(session, delegate, user_id, "delegate", "delegate")


def set_away(user_id: int, away_until=UNSET, delegate=UNSET) -> User:
    """Set or clear (None or "") a user's ``away_until`` and ``delegate``; UNSET leaves
    one as it is. Everything is checked before anything is saved."""
    when = parse_away_until(away_until) if away_until is not UNSET else UNSET
    with write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("unknown_user", f"no user {user_id}")
        if delegate is not UNSET:
            user.delegate_id = resolve_delegate(session, delegate, user.id)
        if when is not UNSET:
            user.away_until = when
    return user


def as_dict(user: User) -> dict:
    """A user's away settings: ``{"away", "away_until", "delegate": {"id", "name",
    "email"} | None}``."""
    delegate = db.session.get(User, user.delegate_id) if user.delegate_id else None
    return {
        "away": is_away(user),
        "away_until": clock.iso(user.away_until),
        "delegate": {"id": delegate.id, "name": delegate.name, "email": delegate.email}
        if delegate is not None
        else None,
    }
