"""Walk-ins at the kiosk (REQUIREMENTS A.8, 无预定到访): a visitor without a booking
gives their name, company, phone, the purpose of the visit and, if they know them,
their host.

With a host, a visit is created at once (expected now, ``walk_in``) and goes on like
any booking: rules, photo, check-in (the host is alerted and the badge prints). With
no host, reception is asked to route the visitor (a ``route_walk_in`` desk request).
A kiosk retrying the same attempt gets the same visit or request back, never a second.
A walk-in on the watchlist is refused with ``see_reception`` (services/watchlist.py).

The host search shows the kiosk only names and departments, never e-mail addresses,
and does not match on them either: a visitor cannot probe the staff directory.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from server.extensions import db
from server.models import DeskRequest, Kiosk, User, Visit, utcnow
from server.services import clock, desk, visits, watchlist
from server.services.errors import ServiceError, ValidationError


def N_(text: str) -> str:
    """Marks a message for the catalog; it is translated where it is shown."""
    return text


# The purposes of a visit in the reception policy (客户来访的一般目的), plus "other".
# Keys are stable; the English label is what staff pages and the visit record show.
PURPOSES = (
    ("operations", N_("Learn how our company operates")),  # 了解我公司基本运作情况
    ("production", N_("Learn about our production")),  # 了解我公司生产体系
    ("quality", N_("Learn about our quality control")),  # 了解我公司质量控制体系
    ("rnd", N_("Learn about our R&D")),  # 了解我公司研发体系
    ("negotiation", N_("Business negotiation")),  # 进行有关的商务洽谈
    ("other", N_("Other")),
)
PURPOSE_LABELS = dict(PURPOSES)
LIMITS = {"name": 200, "company": 200, "phone": 50, "purpose_other": 200}
HOST_RESULTS = 8
_PHONE = re.compile(r"^[0-9+\-(). ]*$")


@dataclass(frozen=True)
class WalkIn:
    name: str
    company: str
    phone: str
    purpose: str  # a key of PURPOSES, or ""
    purpose_text: str  # what the visit records: the English label, "Other: ..."
    host: User | None


def _text(data: dict, key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        return ""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def active_host(host_id) -> User | None:
    """The active host with this id (an int or digits), else None."""
    raw = str(host_id or "").strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit() is True
        return None
    user = db.session.get(User, int(raw))
    return user if user is not None and user.active and user.has_role("host") else None


def parse(data: dict) -> WalkIn:
    """The form as a WalkIn; ValidationError with ``fields`` (codes: ``required``,
    ``too_long``, ``invalid``) naming every problem at once."""
    errors: dict[str, str] = {}
    values = {key: _text(data, key) for key in LIMITS}
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = "too_long"
    if not values["name"]:
        errors["name"] = "required"
    if values["phone"] and "phone" not in errors and not _PHONE.match(values["phone"]):
        errors["phone"] = "invalid"
    purpose = _text(data, "purpose")
    if not purpose and values["purpose_other"]:
        purpose = "other"  # they wrote a reason without ticking "Other"
    if purpose and purpose not in PURPOSE_LABELS:
        errors["purpose"] = "invalid"
    elif purpose == "other" and not values["purpose_other"] and "purpose_other" not in errors:
        errors["purpose_other"] = "required"
    host = None
    if str(data.get("host_id") or "").strip():
        host = active_host(data.get("host_id"))
        if host is None:
            errors["host_id"] = "invalid"
    if errors:
        raise ValidationError(
            "invalid_walk_in", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    if purpose == "other":
        text = f"Other: {values['purpose_other']}"
    else:
        text = PURPOSE_LABELS.get(purpose, "")
    return WalkIn(values["name"], values["company"], values["phone"], purpose, text, host)


def register(
    data: dict, kiosk: Kiosk | None = None, language: str = "", attempt_key: str | None = None
) -> Visit | DeskRequest:
    """A walk-in from the kiosk form: the new visit (with a host) or the request for
    reception to route them (no host). Nothing is written when the form is invalid,
    nor past the kiosk's walk-in limit (``too_many_walk_ins``, 429)."""
    walk_in = parse(data)
    if kiosk is not None:
        refuse_if_kiosk_busy(kiosk, attempt_key)
    if walk_in.host is None:
        details = {
            "name": walk_in.name,
            "company": walk_in.company,
            "phone": walk_in.phone,
            "purpose": walk_in.purpose_text,
            "language": language or "",
        }
        # On the watchlist: reception is told who and why instead (see_reception).
        watchlist.screen_walk_in(details, kiosk=kiosk, attempt_key=attempt_key)
        return desk.open_request(
            "route_walk_in", kiosk=kiosk, attempt_key=attempt_key, details=details
        )
    visit = visits.pre_register(
        {"name": walk_in.name, "company": walk_in.company, "phone": walk_in.phone},
        walk_in.host.email,
        clock.iso(utcnow()),
        walk_in.purpose_text,
        walk_in=True,
        attempt_key=attempt_key,
    )
    # On the watchlist: refused before the rules and the photo (the visit stays
    # expected, so reception can let them in with a reason).
    watchlist.screen(visit, kiosk)
    return visit


def refuse_if_kiosk_busy(kiosk: Kiosk, attempt_key: str | None) -> None:
    """At most ``KIOSK_WALK_IN_LIMIT`` walk-ins (visits and requests to route one) from
    one kiosk within ``KIOSK_WALK_IN_WINDOW_MINUTES``; reception's walk-ins are not
    counted. Counted in the database, so every server process sees the same number
    (two submits at the same instant may both pass at the limit: one kiosk, one over).
    A retry of an attempt already registered is let through: it creates nothing."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["KIOSK_WALK_IN_WINDOW_MINUTES"])
    if attempt_key and (
        db.session.scalar(select(Visit.id).where(Visit.attempt_key == attempt_key))
        or db.session.scalar(select(DeskRequest.id).where(DeskRequest.attempt_key == attempt_key))
    ):
        return
    # Kiosk walk-in visits carry the kiosk's attempt key "k<id>:..." (kiosk.flow) and
    # are expected from the moment they are made (the indexed column narrows the scan).
    visits_made = db.session.scalar(
        select(func.count(Visit.id)).where(
            Visit.expected_at >= since,
            Visit.created_at >= since,
            Visit.walk_in.is_(True),
            Visit.attempt_key.startswith(f"k{kiosk.id}:", autoescape=True),
        )
    )
    requests_made = db.session.scalar(
        select(func.count(DeskRequest.id)).where(
            DeskRequest.kiosk_id == kiosk.id,
            DeskRequest.kind == "route_walk_in",
            DeskRequest.created_at >= since,
        )
    )
    if (visits_made or 0) + (requests_made or 0) >= config["KIOSK_WALK_IN_LIMIT"]:
        raise ServiceError(
            "too_many_walk_ins", "this kiosk has registered many walk-ins just now", status=429
        )


def search_hosts(query, limit: int = HOST_RESULTS) -> list[User]:
    """Active hosts whose name or department contains ``query`` (at least two
    letters, or one Chinese character). Never matches e-mail addresses."""
    q = " ".join(unicodedata.normalize("NFKC", query if isinstance(query, str) else "").split())
    q = q[:100]
    if len(q) < 2 and not (q and ord(q[0]) > 0x2E7F):
        return []
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (
        select(User)
        .where(
            User.active.is_(True),
            User.roles.contains("host"),
            User.name.ilike(like, escape="\\") | User.department.ilike(like, escape="\\"),
        )
        .order_by(User.name)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
