"""The host's htmx forms as plain form fields -> the dicts ``services.tasks`` takes.

Only shape is handled here (strings, counts, today's date for a bare time); every
rule (drinks on the menu, a stop needs a place, reply methods ...) stays in the
service, whose ``ValidationError.fields`` the templates show next to each field.
Nothing here raises: bad input becomes a value the service refuses by field.
"""

from datetime import date

from werkzeug.datastructures import MultiDict

from server.services import clock


def _count(raw) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return 0
    try:
        return int(raw)
    except ValueError:
        return None  # the service says "count must be 1 to 50"


def tea(form: MultiDict, drinks) -> dict:
    """``count-<drink id>`` fields (0 or blank: not wanted) and a ``note``."""
    items = []
    for drink in drinks:
        count = _count(form.get(f"count-{drink.id}"))
        if count != 0:
            items.append({"drink": drink.name, "count": count if count is not None else -1})
    return {"kind": "tea", "items": items, "note": form.get("note", "")}


def _today_at(hhmm: str, day: date | None = None) -> str:
    """A bare ``HH:MM`` (the time inputs) as a site-local ISO time today; anything
    else is passed on for the service to accept (full ISO) or refuse by field."""
    hhmm = (hhmm or "").strip()
    if len(hhmm) in (4, 5) and ":" in hhmm and hhmm.isascii() and hhmm.replace(":", "").isdigit():
        day = day or clock.to_local(clock.utcnow()).date()
        h, m = hhmm.split(":")
        return f"{day.isoformat()}T{int(h):02d}:{int(m):02d}:00"
    return hhmm


def tour(form: MultiDict) -> dict:
    """Title, start time and parallel lists ``stop_place`` / ``stop_department`` /
    ``stop_time`` (one per row); fully blank rows are ignored."""
    places = form.getlist("stop_place")
    depts = form.getlist("stop_department")
    times = form.getlist("stop_time")
    stops = []
    for i in range(max(len(places), len(depts), len(times))):
        place = places[i] if i < len(places) else ""
        dept = depts[i] if i < len(depts) else ""
        when = times[i] if i < len(times) else ""
        if not (place.strip() or dept.strip() or when.strip()):
            continue
        stops.append({"place": place, "department": dept, "planned_at": _today_at(when) or None})
    return {
        "kind": "tour",
        "title": form.get("title", ""),
        "starts_at": _today_at(form.get("starts_at", "")) or None,
        "stops": stops,
    }


def stop_rows(form: MultiDict | None) -> list[dict]:
    """The stop rows to show again after an error (at least one, empty)."""
    if not form:
        return [{"place": "", "department": "", "time": ""}]
    places = form.getlist("stop_place")
    depts = form.getlist("stop_department")
    times = form.getlist("stop_time")
    rows = [
        {
            "place": places[i] if i < len(places) else "",
            "department": depts[i] if i < len(depts) else "",
            "time": times[i] if i < len(times) else "",
        }
        for i in range(max(len(places), len(depts), len(times)))
    ]
    return rows or [{"place": "", "department": "", "time": ""}]


def follow_up(form: MultiDict) -> dict:
    """Question, deadline (``datetime-local`` value, site-local) and reply method."""
    return {
        "kind": "follow_up",
        "question": form.get("question", ""),
        "deadline": (form.get("deadline") or "").strip() or None,
        "reply_method": form.get("reply_method") or None,
    }
