"""The star-level standards (REQUIREMENTS.md C.3), as configuration.

Two schemes are seeded by the migration: ``policy`` (the policy's table: 3★ meals 81
CNY per person per meal, 4★ 152, 5★ actual cost; lodging, vehicle and extras by level)
and ``alternative`` (the business-reception caps: meals 150 per person, lodging 400 a
night, transport 500 a trip). ``PolicySettings.standard_scheme`` says which is in force.

Standards are versioned: ``update`` never changes a row, it adds the level's next
version, so a request that recorded the id of the standard it was approved under keeps
it (``by_id``). ``current()`` is the newest version of each level of a scheme.

Contract of ``update(changes, by)``: ``changes`` is ``{"scheme"?: str, "levels": [{"level":
3|4|5, "scheme"?: str, <field>: value, ...}]}``; every problem is reported at once as
``ValidationError("invalid_standard", fields={"levels[0].meal_cap": "...", ...})`` and
nothing is written unless all is valid. A cap of ``None`` means actual cost.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from server.extensions import db
from server.models import PolicySettings, Standard, User
from server.models.policy import EXTRAS, LEVELS, LODGING, SCHEMES, VEHICLES
from server.services import audit
from server.services.errors import NotFound, ValidationError
from server.services.tx import write

TEXT_FIELDS = {
    "qualifies_en": 1000,
    "qualifies_zh": 1000,
    "accompanied_en": 1000,
    "accompanied_zh": 1000,
    "hotel_class": 120,
    "extras_note": 200,
}
CHOICE_FIELDS = {"lodging": LODGING, "vehicle": VEHICLES, "extras": EXTRAS}
MONEY_FIELDS = ("meal_cap", "lodging_cap", "transport_cap")
MAX_MONEY = Decimal("1000000")
MAX_LEVELS = 20

LABELS = {
    "client_pays": ("Client pays", "客户自付"),
    "company_room": ("Company pays the room", "公司承担房费"),
    "company_all": ("Company pays all", "公司承担全部费用"),
    "none": ("None", "无"),
    "business_van": ("Business van", "商务车"),
    "van_or_premium_car": ("Business van or rented premium car", "商务车或租用高档轿车"),
    "local_tour_or_gift": ("Local tour or gift", "本地游览或礼品"),
}


def scheme_in_force() -> str:
    row = db.session.scalar(select(PolicySettings).order_by(PolicySettings.id).limit(1))
    return row.standard_scheme if row is not None else "policy"


def current(scheme: str | None = None) -> list[Standard]:
    """The newest version of each level of ``scheme`` (the one in force by default)."""
    scheme = scheme or scheme_in_force()
    newest = (
        select(Standard.level, func.max(Standard.version).label("version"))
        .where(Standard.scheme == scheme)
        .group_by(Standard.level)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(Standard)
            .join(
                newest,
                (Standard.level == newest.c.level) & (Standard.version == newest.c.version),
            )
            .where(Standard.scheme == scheme)
            .order_by(Standard.level)
        )
    )


def for_level(level: int, scheme: str | None = None) -> Standard:
    for standard in current(scheme):
        if standard.level == level:
            return standard
    raise NotFound("unknown_level", f"no standard for {level} stars")


def by_id(standard_id: int) -> Standard:
    found = db.session.get(Standard, standard_id)
    if found is None:
        raise NotFound("unknown_standard", f"no standard {standard_id}")
    return found


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def as_dict(standard: Standard) -> dict:
    return {
        "id": standard.id,
        "scheme": standard.scheme,
        "level": standard.level,
        "version": standard.version,
        "qualifies": {"en": standard.qualifies_en, "zh": standard.qualifies_zh},
        "accompanied_by": {"en": standard.accompanied_en, "zh": standard.accompanied_zh},
        "meal_cap": _money(standard.meal_cap),
        "lodging": standard.lodging,
        "hotel_class": standard.hotel_class,
        "lodging_cap": _money(standard.lodging_cap),
        "vehicle": standard.vehicle,
        "transport_cap": _money(standard.transport_cap),
        "extras": standard.extras,
        "extras_note": standard.extras_note,
        "created_at": standard.created_at.isoformat() + "Z",
    }


def overview() -> dict:
    """What ``GET /api/v1/standards`` answers: the scheme in force and both schemes'
    current standards."""
    return {
        "scheme": scheme_in_force(),
        "schemes": {scheme: [as_dict(s) for s in current(scheme)] for scheme in SCHEMES},
    }


def _parse_money(value, where: str, errors: dict) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        errors[where] = "a number of CNY, or null for actual cost"
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        errors[where] = "a number of CNY, or null for actual cost"
        return None
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        errors[where] = f"between 0 and {MAX_MONEY} CNY"
        return None
    return amount.quantize(Decimal("0.01"))


def _validate(changes) -> tuple[str | None, list[tuple[str, int, dict]]]:
    errors: dict[str, str] = {}
    if not isinstance(changes, dict):
        raise ValidationError("invalid_json", "the body must be a JSON object")
    scheme = changes.get("scheme")
    if scheme is not None and scheme not in SCHEMES:
        errors["scheme"] = "one of " + ", ".join(SCHEMES)
    levels = changes.get("levels", [])
    if not isinstance(levels, list):
        errors["levels"] = "a list of levels"
        levels = []
    elif len(levels) > MAX_LEVELS:
        errors["levels"] = f"at most {MAX_LEVELS} entries"
        levels = []
    parsed: list[tuple[str, int, dict]] = []
    for i, entry in enumerate(levels):
        at = f"levels[{i}]"
        if not isinstance(entry, dict):
            errors[at] = "an object with level and the fields to change"
            continue
        level = entry.get("level")
        if isinstance(level, bool) or level not in LEVELS:
            errors[f"{at}.level"] = "3, 4 or 5"
            continue
        target = entry.get("scheme") or (scheme if scheme in SCHEMES else scheme_in_force())
        if target not in SCHEMES:
            errors[f"{at}.scheme"] = "one of " + ", ".join(SCHEMES)
            continue
        values: dict = {}
        for key, value in entry.items():
            where = f"{at}.{key}"
            if key in ("level", "scheme"):
                continue
            if key in TEXT_FIELDS:
                if not isinstance(value, str):
                    errors[where] = "text"
                elif len(value) > TEXT_FIELDS[key]:
                    errors[where] = f"at most {TEXT_FIELDS[key]} characters"
                else:
                    values[key] = value.strip()
            elif key in CHOICE_FIELDS:
                if value not in CHOICE_FIELDS[key]:
                    errors[where] = "one of " + ", ".join(CHOICE_FIELDS[key])
                else:
                    values[key] = value
            elif key in MONEY_FIELDS:
                values[key] = _parse_money(value, where, errors)
            else:
                errors[where] = "not a field of a standard"
        parsed.append((target, level, values))
    if errors:
        raise ValidationError(
            "invalid_standard", "some standards are not valid; see fields", fields=errors
        )
    return scheme, parsed


_COPIED = (*TEXT_FIELDS, *CHOICE_FIELDS, *MONEY_FIELDS)


def update(changes, by: User | None = None) -> dict:
    """Apply ``changes`` (see the module docstring); returns ``overview()``."""
    scheme, parsed = _validate(changes)
    with write() as session:
        if scheme is not None:
            settings = session.scalar(select(PolicySettings).order_by(PolicySettings.id).limit(1))
            if settings is None:
                settings = PolicySettings(standard_scheme=scheme)
                session.add(settings)
            before_scheme = settings.standard_scheme
            settings.standard_scheme = scheme
            if before_scheme != scheme:
                audit.record(
                    session,
                    "standards.scheme",
                    actor=by,
                    actor_label="cli" if by is None else "",
                    target_type="standards",
                    before={"scheme": before_scheme},
                    after={"scheme": scheme},
                )
        for target, level, values in parsed:
            latest = session.scalar(
                select(Standard)
                .where(Standard.scheme == target, Standard.level == level)
                .order_by(Standard.version.desc())
                .limit(1)
            )
            old = {k: getattr(latest, k) for k in _COPIED} if latest is not None else {}
            new = {**old, **values}
            if latest is not None and new == old:
                continue  # nothing changed: no new version
            row = Standard(
                scheme=target,
                level=level,
                version=(latest.version + 1) if latest is not None else 1,
                created_by_id=by.id if by is not None else None,
                **new,
            )
            session.add(row)
            session.flush()
            audit.record(
                session,
                "standard.update",
                actor=by,
                actor_label="cli" if by is None else "",
                target_type="standard",
                target_id=row.id,
                before={k: _jsonable(v) for k, v in old.items()},
                after={k: _jsonable(v) for k, v in new.items()},
                note=f"{target} {level}★ v{row.version}",
            )
    return overview()


def _jsonable(value):
    return float(value) if isinstance(value, Decimal) else value
