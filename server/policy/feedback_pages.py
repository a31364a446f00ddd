"""``/feedback/<token>``: the visitor's short, bilingual rating page (no login; CSRF
on its form; one answer per visit). The rules are server/policy/feedback.py's."""

from flask import Blueprint, render_template, request

from server.policy import feedback
from server.services.errors import ServiceError

bp = Blueprint("feedback", __name__)

STATUS = {
    "used": 409,
    "expired": 410,
    "not_ended": 409,
    "unknown": 404,
}


def _language(visit) -> str:
    if visit is not None and visit.language in ("zh", "en"):
        return visit.language
    best = request.accept_languages.best_match(["zh", "en"])
    return best or "en"


@bp.get("/feedback/<token>")
def page(token: str):
    status, visit = feedback.state(token)
    return render_template(
        "policy/feedback.html",
        status=status,
        visit=visit,
        lang=_language(visit),
        errors={},
        values={},
        token=token,
    ), STATUS.get(status, 200)


@bp.post("/feedback/<token>")
def submit(token: str):
    _, visit = feedback.state(token)
    lang = _language(visit)
    values = {k: request.form.get(k, "") for k in (*feedback.SCORES, "comment")}
    try:
        feedback.submit(token, values, language=lang)
    except ServiceError as e:
        status, visit = feedback.state(token)
        code = e.status if e.status < 500 else 400
        return render_template(
            "policy/feedback.html",
            status=status if e.code != "invalid_feedback" else "open",
            visit=visit,
            lang=lang,
            errors=e.fields,
            values=values,
            token=token,
        ), code
    return render_template(
        "policy/feedback.html",
        status="thanks",
        visit=visit,
        lang=lang,
        errors={},
        values={},
        token=token,
    )
