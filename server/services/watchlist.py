"""The watchlist: people who may not enter without reception's word (issue 13, item 4).

Admins keep the list (``/admin/watchlist``, ``/api/v1/watchlist``, ``lobby watchlist``):
a name, optionally a company, a phone and an e-mail address, and the reason. Adding
and removing (soft: ``active=False``, ``removed_at``) are audited.

A check-in (kiosk, API, desk) or a walk-in that **matches** checks nobody in: no badge,
no alert to the host. A ``watchlist_match`` desk request is opened (one open request
per visit) with who and why in its details, and the ``watchlist_match`` event goes to
the ``reception`` room (receptionists and admins), never to the host or the kiosk. The
visitor and the API see only the refusal ``see_reception`` (409, "please see
reception"): nothing a visitor can read says "watchlist". Reception lets the visitor
in with a reason (``hosting.check_in_at_desk``), audited as ``watchlist.admit``.

Matching (``find``): an active entry matches when

- its **name** matches and, if the entry names a company, the company matches too
  (one contains the other, ignoring case, spaces and punctuation); or
- its **e-mail address** is the visitor's (case ignored); or
- its **phone** ends in the same 8 digits as the visitor's (digits only; an entry or a
  visitor with fewer than 8 digits is not matched by phone).

Names are compared "as given", after ``name_key``: NFKC (full-width ``ＺＨＡＮＧ`` is
``zhang``), accents dropped, case folded, punctuation and runs of spaces made one
space, spaces between Chinese characters dropped (``张 伟`` is ``张伟``), and the words
sorted, so the order of a name's words does not matter: "Zhang Wei" matches "zhang
wei", "ＺＨＡＮＧ ＷＥＩ" and also "Wei Zhang" (pinyin is written either way round;
a missed match costs more than a visitor sent to the desk). There is no
transliteration between scripts: 张伟 does not match "Zhang Wei"; list both if needed.

The check-in hot path pays nothing while the list is empty: whether any entry is
active is cached per process (per app) and refreshed every ``CACHE_SECONDS`` or at
once when this process adds or removes an entry (another process's change is seen
within ``CACHE_SECONDS``). With entries, a check-in costs one query on the three
indexed keys.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import bindparam, or_, select

from server.extensions import db
from server.models import DeskRequest, Kiosk, User, Visit, WatchlistEntry, utcnow
from server.services import audit, clock, desk
from server.services.errors import CheckInError, Conflict, NotFound, ValidationError
from server.services.lookup import fold
from server.services.people import EMAIL_RE
from server.services.tx import write

CACHE_SECONDS = 2.0
PHONE_DIGITS = 8
LIMITS = {"name": 200, "company": 200, "phone": 50, "email": 254, "reason": 1000}
_CJK = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_APOSTROPHES = re.compile(r"['’`]")
_NOT_WORD = re.compile(r"[\W_]+")


# --- keys -----------------------------------------------------------------------------


def name_key(name) -> str:
    """A name as it is compared (see the module docstring): "ＺＨＡＮＧ  Wei" and "Wei
    Zhang" are both "wei zhang"; "张 伟" is "张伟"."""
    text = _APOSTROPHES.sub("", fold(name if isinstance(name, str) else ""))
    text = " ".join(_NOT_WORD.sub(" ", text).split())
    text = _CJK_GAP.sub("", text)
    return " ".join(sorted(text.split()))[: LIMITS["name"]]


def phone_key(phone) -> str:
    """The last 8 digits of a phone number ("" with fewer than 8)."""
    text = unicodedata.normalize("NFKC", phone if isinstance(phone, str) else "")
    digits = "".join(c for c in text if c.isascii() and c.isdigit())
    return digits[-PHONE_DIGITS:] if len(digits) >= PHONE_DIGITS else ""


def email_key(email) -> str:
    text = unicodedata.normalize("NFKC", email if isinstance(email, str) else "")
    return text.strip().casefold()


def _company_key(company) -> str:
    return _NOT_WORD.sub("", fold(company if isinstance(company, str) else ""))


def company_matches(listed: str, given: str) -> bool:
    """The entry's company and the visitor's: one contains the other ("Acme" and "ACME
    Ltd."), ignoring case, spaces and punctuation."""
    a, b = _company_key(listed), _company_key(given)
    return bool(a and b) and (a in b or b in a)


# --- the per-process "is the list empty?" cache ------------------------------------------


@dataclass
class _Cache:
    any_active: bool | None = None
    checked_at: float = 0.0


def _cache() -> _Cache:
    return current_app.extensions.setdefault("lobby_watchlist", _Cache())


def _forget() -> None:
    """This process changed the list: the next check-in asks the database again."""
    _cache().any_active = None


def any_active() -> bool:
    """Whether any entry is active (cached: see the module docstring)."""
    cache = _cache()
    now = time.monotonic()
    if cache.any_active is None or now - cache.checked_at > CACHE_SECONDS:
        found = db.session.scalar(
            select(WatchlistEntry.id).where(WatchlistEntry.active.is_(True)).limit(1)
        )
        cache.any_active, cache.checked_at = found is not None, now
    return cache.any_active


# --- matching --------------------------------------------------------------------------


_NEVER = " "  # no key is a lone space (keys are stripped); not NUL: PostgreSQL refuses it
# Built once (SQLAlchemy caches its compiled form): SQLite answers it with one index
# search per key (MULTI-INDEX OR), PostgreSQL with a bitmap OR of the three indexes.
_FIND = (
    select(WatchlistEntry)
    .where(
        WatchlistEntry.active.is_(True),
        or_(
            WatchlistEntry.name_key == bindparam("name"),
            WatchlistEntry.phone_key == bindparam("phone"),
            WatchlistEntry.email == bindparam("email"),
        ),
    )
    .order_by(WatchlistEntry.id)
)


@dataclass
class Match:
    entry: WatchlistEntry
    on: list[str] = field(default_factory=list)  # "name", "email", "phone"


def find(name="", company="", phone="", email="") -> Match | None:
    """The first active entry matching this person (oldest first), or None."""
    if not any_active():
        return None
    keys = {"name": name_key(name), "phone": phone_key(phone), "email": email_key(email)}
    if not any(keys.values()):
        return None
    # A blank key is bound as _NEVER (no stored key is), so one statement serves all.
    params = {k: v or _NEVER for k, v in keys.items()}
    for entry in db.session.scalars(_FIND, params):
        on = []
        same_name = bool(keys["name"]) and entry.name_key == keys["name"]
        if same_name and (not entry.company or company_matches(entry.company, company)):
            on.append("name")
        if keys["email"] and entry.email == keys["email"]:
            on.append("email")
        if keys["phone"] and entry.phone_key == keys["phone"]:
            on.append("phone")
        if on:
            return Match(entry, on)
    return None


def match_visit(visit: Visit) -> Match | None:
    person = visit.visitor
    return find(person.name, person.company, person.phone, person.email)


def _details(person: dict, match: Match) -> dict:
    """What the desk request keeps and reception sees: who, and why."""
    entry = match.entry
    return {
        **person,
        "entry_id": entry.id,
        "listed_name": entry.name,
        "listed_company": entry.company,
        "why": entry.reason,
        "matched_on": list(match.on),
    }


def refusal() -> CheckInError:
    """What the visitor and the API are told: nothing about the list."""
    return CheckInError("see_reception", "please see reception", status=409)


def refuse(visit: Visit, match: Match, kiosk: Kiosk | None = None, staff: bool = False) -> None:
    """Tell reception (one open request per visit) and raise ``see_reception``; with
    ``staff`` (the desk's own pages) its message says why."""
    person = visit.visitor
    details = _details(
        {
            "name": person.name,
            "company": person.company,
            "phone": person.phone,
            "email": person.email,
        },
        match,
    )
    desk.watchlist_match(details, visit=visit, kiosk=kiosk)
    if staff:
        raise CheckInError(
            "see_reception",
            f"{details['name']} is on the watchlist 命中观察名单: see “At the kiosk” to let "
            "them in with a reason 请在自助机请求中填写原因后准许进入",
            status=409,
        )
    raise refusal()


def screen(visit: Visit, kiosk: Kiosk | None = None) -> None:
    """Before a check-in: return quietly, or (a match) refuse as ``refuse`` does. Free
    while the list is empty."""
    if not any_active():
        return
    match = match_visit(visit)
    if match is not None:
        refuse(visit, match, kiosk)


def screen_walk_in(
    details: dict, kiosk: Kiosk | None = None, attempt_key: str | None = None
) -> None:
    """A walk-in with no host yet (``details``: name, company, phone, ...): on a match,
    reception gets a ``watchlist_match`` request instead of ``route_walk_in``."""
    if not any_active():
        return
    match = find(details.get("name", ""), details.get("company", ""), details.get("phone", ""))
    if match is not None:
        desk.watchlist_match(_details(details, match), kiosk=kiosk, attempt_key=attempt_key)
        raise refusal()


def reception_told(visit: Visit) -> bool:
    """Whether reception has had a ``watchlist_match`` request for this visit."""
    return (
        db.session.scalar(
            select(DeskRequest.id)
            .where(DeskRequest.kind == "watchlist_match", DeskRequest.visit_id == visit.id)
            .limit(1)
        )
        is not None
    )


def admitted(visit_id: int, match: Match, user: User, reason: str) -> None:
    """Reception let a matching visitor in with ``reason``: audit it (``watchlist.admit``)
    and close the visit's open ``watchlist_match`` requests."""
    with write() as session:
        audit.record(
            session,
            "watchlist.admit",
            actor=user,
            target_type="visit",
            target_id=visit_id,
            after={"entry_id": match.entry.id, "matched_on": match.on, "reason": reason},
            note=reason,
        )
    desk.close_watchlist_matches(visit_id, user)


# --- the list ---------------------------------------------------------------------------


def entry_dict(entry: WatchlistEntry) -> dict:
    return {
        "id": entry.id,
        "name": entry.name,
        "company": entry.company,
        "phone": entry.phone,
        "email": entry.email,
        "reason": entry.reason,
        "active": entry.active,
        "created_at": clock.iso(entry.created_at),
        "created_by": entry.created_by_id,
        "removed_at": clock.iso(entry.removed_at),
    }


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("invalid_entry", f"{key} must be text", fields={key: "must be text"})
    return " ".join(unicodedata.normalize("NFKC", value).split()) if key != "reason" else value


def parse(data) -> dict:
    """The entry's fields from a form or JSON object; ValidationError (``invalid_entry``,
    every field's problem in ``fields``) otherwise."""
    if not isinstance(data, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    values = {key: _text(data, key).strip() for key in LIMITS}
    errors = {}
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            errors[key] = f"at most {limit} characters"
    if not name_key(values["name"]) and "name" not in errors:
        errors["name"] = "required"
    if not values["reason"] and "reason" not in errors:
        errors["reason"] = "required"
    if values["phone"] and "phone" not in errors and not phone_key(values["phone"]):
        errors["phone"] = f"at least {PHONE_DIGITS} digits"
    if values["email"] and "email" not in errors and not EMAIL_RE.match(values["email"]):
        errors["email"] = "not an email address"
    if errors:
        raise ValidationError(
            "invalid_entry", "; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors
        )
    values["email"] = email_key(values["email"])
    return values


def add(data, by: User | None = None, actor_label: str = "") -> WatchlistEntry:
    """Add an entry (audited ``watchlist.add``). ``by``: the admin; ``actor_label``
    names a system actor instead ("cli")."""
    values = parse(data)
    with write() as session:
        entry = WatchlistEntry(
            **values,
            name_key=name_key(values["name"]),
            phone_key=phone_key(values["phone"]),
            created_by_id=by.id if by is not None else None,
        )
        session.add(entry)
        session.flush()
        audit.record(
            session,
            "watchlist.add",
            actor=by,
            actor_label=actor_label,
            target_type="watchlist_entry",
            target_id=entry.id,
            after=entry_dict(entry),
        )
    _forget()
    return entry


def remove(entry_id, by: User | None = None, actor_label: str = "") -> WatchlistEntry:
    """Take an entry off the list (kept, inactive; audited ``watchlist.remove``)."""
    if isinstance(entry_id, bool) or not isinstance(entry_id, int) or not 0 < entry_id < 2**63:
        raise NotFound("not_found", f"no watchlist entry {entry_id}")  # (no 64-bit row id)
    with write() as session:
        entry = session.get(WatchlistEntry, entry_id)
        if entry is None:
            raise NotFound("not_found", f"no watchlist entry {entry_id}")
        if not entry.active:
            raise Conflict("already_removed", "this entry was already removed")
        before = entry_dict(entry)
        entry.active, entry.removed_at = False, utcnow()
        session.flush()
        audit.record(
            session,
            "watchlist.remove",
            actor=by,
            actor_label=actor_label,
            target_type="watchlist_entry",
            target_id=entry.id,
            before=before,
            after=entry_dict(entry),
        )
    _forget()
    return entry


def entries(include_removed: bool = False) -> list[WatchlistEntry]:
    """The list, newest first (active ones only unless ``include_removed``)."""
    stmt = select(WatchlistEntry).order_by(WatchlistEntry.id.desc())
    if not include_removed:
        stmt = stmt.where(WatchlistEntry.active.is_(True))
    return list(db.session.scalars(stmt))
