"""Client feedback (REQUIREMENTS.md C.5): how the visitor rates the reception.

Contract:
- ``token_for(visit_id)``: ``<visit id>.<MAC>``, the MAC an HMAC-SHA256 of the visit id
  under the app's secret key (132 bits kept): unguessable, nothing stored until used.
  ``url_for_visit(visit)`` is the page's absolute URL once the visit has ended
  (farewell or check-out), else None; it is ``feedback_url`` on the visit in the API.
- ``state(token)``: ``("open", visit)`` while it may be answered; ``("used", visit)``
  after its one answer; ``("expired", visit)`` 30 days after the visit ended;
  ``("not_ended", visit)`` before; ``("unknown", None)`` for a token that is not ours.
- ``submit(token, values)``: ``welcome``, ``hospitality``, ``meeting`` each 1–5 and a
  ``comment``; refused with ``invalid_feedback`` (422, fields), ``feedback_used`` (409),
  ``feedback_expired`` (410), ``unknown_feedback`` (404).
- ``rollup(start, end)``: count and average scores per host and per department, over
  the answers submitted in ``[start, end)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.extensions import db
from server.models import Feedback, User, Visit, utcnow
from server.services.errors import Conflict, NotFound, ServiceError, ValidationError
from server.services.tx import write

VALID = timedelta(days=30)
SCORES = ("welcome", "hospitality", "meeting")
MAX_COMMENT = 2000


def _mac(visit_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"lobby-feedback:{visit_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:22]


def token_for(visit_id: int) -> str:
    return f"{visit_id}.{_mac(visit_id)}"


def visit_of(token) -> Visit | None:
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 60:
        return None
    raw_id, mac = token.split(".")
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
        return None
    if not hmac.compare_digest(mac, _mac(int(raw_id))):
        return None
    return db.session.get(Visit, int(raw_id))


def ended_at(visit: Visit) -> datetime | None:
    return visit.checked_out_at if visit.status == "checked_out" else None


def url_for_visit(visit: Visit) -> str | None:
    if ended_at(visit) is None:
        return None
    return url_for("feedback.page", token=token_for(visit.id), _external=True)


def state(token) -> tuple[str, Visit | None]:
    visit = visit_of(token)
    if visit is None:
        return "unknown", None
    end = ended_at(visit)
    if end is None:
        return "not_ended", visit
    if db.session.scalar(select(Feedback.id).where(Feedback.visit_id == visit.id)):
        return "used", visit
    if utcnow() > end + VALID:
        return "expired", visit
    return "open", visit


def _score(value, key: str, errors: dict) -> int | None:
    text = str(value).strip() if value is not None else ""
    if text not in ("1", "2", "3", "4", "5"):
        errors[key] = "1 to 5"
        return None
    return int(text)


def submit(token, values: dict, language: str = "") -> Feedback:
    status, visit = state(token)
    if status == "unknown" or visit is None:
        raise NotFound("unknown_feedback", "this feedback link is not valid")
    if status == "used":
        raise Conflict("feedback_used", "this visit's feedback was already given")
    if status == "expired":
        raise ServiceError("feedback_expired", "this feedback link has expired", status=410)
    if status == "not_ended":
        raise Conflict("visit_not_ended", "the visit has not ended yet")
    errors: dict[str, str] = {}
    scores = {key: _score(values.get(key), key, errors) for key in SCORES}
    comment = values.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        errors["comment"] = f"at most {MAX_COMMENT} characters"
    elif any(0xD800 <= ord(ch) <= 0xDFFF for ch in comment):
        errors["comment"] = "not valid text"
    if errors:
        raise ValidationError(
            "invalid_feedback", "please rate each part from 1 to 5", fields=errors
        )
    end = ended_at(visit)
    assert end is not None
    try:
        with write() as session:
            answer = Feedback(
                visit_id=visit.id,
                token=token,
                expires_at=end + VALID,
                submitted_at=utcnow(),
                comment=comment.strip(),
                language=language[:10],
                **scores,
            )
            session.add(answer)
    except IntegrityError as e:  # the same link sent twice at once: one answer
        db.session.rollback()
        raise Conflict("feedback_used", "this visit's feedback was already given") from e
    return answer


def _averages(rows) -> list[dict]:
    out = []
    for key, name, count, w, h, m in rows:
        overall = (w + h + m) / 3 if count else None
        out.append(
            {
                "id": key,
                "name": name,
                "count": count,
                "welcome": round(w, 2),
                "hospitality": round(h, 2),
                "meeting": round(m, 2),
                "overall": round(overall, 2) if overall is not None else None,
            }
        )
    return out


def rollup(start: datetime, end: datetime) -> dict:
    base = (
        select(
            func.count(Feedback.id),
            func.avg(Feedback.welcome),
            func.avg(Feedback.hospitality),
            func.avg(Feedback.meeting),
        )
        .select_from(Feedback)
        .join(Visit, Visit.id == Feedback.visit_id)
        .join(User, User.id == Visit.host_id)
        .where(Feedback.submitted_at >= start, Feedback.submitted_at < end)
    )
    per_host = db.session.execute(
        base.add_columns(User.id, User.name).group_by(User.id, User.name).order_by(User.name)
    ).all()
    per_dept = db.session.execute(
        base.add_columns(User.department).group_by(User.department).order_by(User.department)
    ).all()
    return {
        "hosts": _averages(
            (r[4], r[5], r[0], float(r[1]), float(r[2]), float(r[3])) for r in per_host
        ),
        "departments": _averages(
            (r[4] or "", r[4] or "", r[0], float(r[1]), float(r[2]), float(r[3])) for r in per_dept
        ),
    }


def host_score(user: User) -> dict | None:
    """The host's own average over every answer about their visits (their page)."""
    row = db.session.execute(
        select(
            func.count(Feedback.id),
            func.avg(Feedback.welcome),
            func.avg(Feedback.hospitality),
            func.avg(Feedback.meeting),
        )
        .join(Visit, Visit.id == Feedback.visit_id)
        .where(Visit.host_id == user.id)
    ).one()
    if not row[0]:
        return None
    return {
        "count": row[0],
        "overall": round((float(row[1]) + float(row[2]) + float(row[3])) / 3, 1),
    }
