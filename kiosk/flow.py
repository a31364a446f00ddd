"""The kiosk's way from "who are you?" to "welcome", shared by every kiosk view.

A visitor is identified (QR scan, booking lookup, or a walk-in form), then walks
through the steps this site asks for, in order: sign the site rules (when they have
no valid signature on the current version), take a photo (when the site takes
photos), then check in. Between steps the kiosk page holds a **ticket**: the visit id,
this kiosk and the steps done, signed with the app's secret and valid for 15 minutes,
so no step can be skipped by editing the page and no visit can be reached from
another kiosk.

Every screen is a fragment for ``#kiosk-result`` (or the whole page for a browser
without JavaScript). Every fragment names the URL that renders it again
(``data-refresh``): the language switch re-renders the current screen with it.
"""

import secrets

import flask_babel
from flask import current_app, g, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from server.extensions import db
from server.models import LANGUAGES, Visit
from server.services import checkin, kiosk_settings, rules
from server.services.errors import ServiceError

TICKET_SECONDS = 15 * 60
SALT = "lobby-kiosk-ticket"


class TicketError(ServiceError):
    """A ticket that is forged, from another kiosk, or older than TICKET_SECONDS."""

    status = 400


def _serializer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    assert key is not None  # create_app always sets SECRET_KEY (server/config.py)
    return URLSafeTimedSerializer(key, salt=SALT)


def ticket_for(visit: Visit, **steps) -> str:
    """A ticket for ``visit`` at this kiosk; ``steps`` records what is done
    (``signed=True``, ``photo=True``)."""
    return _serializer().dumps({"v": visit.id, "k": g.kiosk.id, **steps})


def read_ticket(token) -> tuple[Visit, dict]:
    """The visit and the steps done, from a ticket this kiosk was given."""
    if not isinstance(token, str) or not token:
        raise TicketError("ticket_missing", "start again")
    try:
        data = _serializer().loads(token, max_age=TICKET_SECONDS)
    except SignatureExpired as e:
        raise TicketError("ticket_expired", "this step took too long; start again") from e
    except BadSignature as e:
        raise TicketError("ticket_invalid", "start again") from e
    if not isinstance(data, dict) or data.get("k") != g.kiosk.id:
        raise TicketError("ticket_invalid", "start again")
    visit = db.session.get(Visit, data.get("v"))
    if visit is None:
        raise TicketError("ticket_invalid", "start again")
    return visit, {k: v for k, v in data.items() if k not in ("v", "k")}


def new_attempt() -> str:
    """A key for one attempt at a step: a retry of the same attempt sends it again,
    and the server does the step once."""
    return secrets.token_urlsafe(16)


def attempt_key(form) -> str | None:
    """The attempt key a form carried, scoped to this kiosk (or None)."""
    key = form.get("attempt")
    if not isinstance(key, str) or not 16 <= len(key) <= 40:
        return None
    return f"k{g.kiosk.id}:{key}"


def screen(template: str, status: int = 200, **context):
    """Render a kiosk screen: the fragment for htmx, the whole page otherwise."""
    context.setdefault("attempt", new_attempt())
    if request.headers.get("HX-Request"):
        # htmx 2 does not swap error responses: a refusal is content, so 200.
        return render_template(template, **context), 200
    from kiosk.routes import page_context

    return render_template(
        "kiosk/index.html", result_template=template, **page_context(), **context
    ), status


def refused(reason: str, status: int = 200):
    return screen("kiosk/_refused.html", reason=reason, status=status)


def proceed(visit: Visit, steps: dict | None = None):
    """The next screen for an identified visitor: rules, photo, or (all done) check in
    and welcome. A visitor already checked in (a double scan) is simply welcomed."""
    steps = steps or {}
    if visit.status == "checked_in":
        return welcome(visit)
    checkin.refuse_if_not_admissible(visit)
    if not steps.get("signed"):
        needed = rules.needs_signature(visit)
        if needed is not None:
            return screen(
                "kiosk/_rules.html", visit=visit, rules=needed, ticket=ticket_for(visit, **steps)
            )
    if not steps.get("photo") and kiosk_settings.get().photo_enabled:
        return screen("kiosk/_photo.html", visit=visit, ticket=ticket_for(visit, **steps))
    return finish(visit)


def finish(visit: Visit):
    """Check the visitor in (in the language they chose) and welcome them."""
    result = checkin.check_in(visit.code, kiosk=g.kiosk, language=g.language)
    return welcome(result.visit)


def welcome(visit: Visit):
    from server.services import away, printing

    return screen(
        "kiosk/_welcome.html",
        visit=visit,
        ticket=ticket_for(visit, done=True),
        badge=printing.badge_state(visit.id),
        # The host is away: who comes instead ("Grace Hopper is away; Li Na is coming").
        delegate=away.acting_delegate(visit.host),
    )


def goodbye(visit: Visit):
    """Thanks, in the language the visitor checked in with (unless they just chose)."""
    if visit.language in LANGUAGES and not request.values.get("lang_chosen"):
        g.language = visit.language
        flask_babel.refresh()
    from server.policy import feedback
    from server.services import qr

    link = feedback.url_for_visit(visit)
    return screen(
        "kiosk/_goodbye.html",
        visit=visit,
        ticket=ticket_for(visit, done=True),
        language=g.language,
        # How was the reception? The visitor scans it with their phone (no login).
        feedback_qr=qr.data_uri(link, box_size=5) if link else None,
    )
