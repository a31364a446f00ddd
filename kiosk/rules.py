"""Signing the site rules at the kiosk.

``POST /kiosk/rules`` with the step ``ticket``, the ``rules_id`` the visitor read, the
``signature`` drawn on the screen (a ``data:image/png;base64,...`` URL), the form's
``attempt`` key, and ``accept=1`` or ``decline=1`` (the button pressed; kiosk-sign.js
also keeps it in ``choice``, which a retried request still carries). Accepting
records the signature (once per attempt, so a retried request is one signature) and
goes on to the next step; a blank or unreadable signature, or rules that changed
while the visitor read them, show the rules again with the reason in the visitor's
language. Declining ends at "please see reception", and the desk is told.
"""

import base64
import binascii

from flask import g, request

from kiosk import bp
from kiosk.flow import attempt_key, proceed, read_ticket, screen
from server.limits import upload_limit
from server.services import rules
from server.services.errors import Conflict, ValidationError

DATA_URL = "data:image/png;base64,"
MAX_DATA_URL = 4 * rules.MAX_PNG_BYTES // 3 + 1024


def _png_from(value) -> bytes | None:
    """The PNG bytes of a data URL, b"" for nothing drawn, None for something else."""
    if not isinstance(value, str) or not value.strip():
        return b""
    if not value.startswith(DATA_URL) or len(value) > MAX_DATA_URL:
        return None
    try:
        return base64.b64decode(value[len(DATA_URL) :], validate=True)
    except (binascii.Error, ValueError):
        return None


def _rules_id(value) -> int | None:
    """The id the form sent, if it can be a row id at all (a database integer)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 0 < n < 2**63 else None


def rules_screen(visit, ticket: str, error: str | None = None):
    """The rules to sign (the current version) again, with ``error`` shown."""
    return screen(
        "kiosk/_rules.html",
        visit=visit,
        rules=rules.current(),
        ticket=ticket,
        language=g.language,
        error=error,
    )


@bp.post("/rules")
@upload_limit(MAX_DATA_URL + 64 * 1024)  # the signature, as a data URL
def sign_rules():
    ticket = request.form.get("ticket")
    visit, steps = read_ticket(ticket)
    if visit.status == "checked_in":  # a retry after the check-in went through
        return proceed(visit, steps)
    rules_id = _rules_id(request.form.get("rules_id"))
    key = attempt_key(request.form)
    if request.form.get("decline") or request.form.get("choice") == "decline":
        rules.decline(visit, rules_id, g.language, kiosk=g.kiosk, attempt_key=key)
        return screen("kiosk/_see_reception.html", reason="rules_declined")
    png = _png_from(request.form.get("signature"))
    if png is None:
        return rules_screen(visit, ticket, "invalid_signature")
    try:
        rules.sign(visit, rules_id, g.language, png, kiosk=g.kiosk, attempt_key=key)
    except ValidationError as e:
        return rules_screen(visit, ticket, e.code)
    except Conflict as e:
        if e.code != "rules_changed":
            raise
        if rules.current() is None:  # cannot happen (versions are never withdrawn)
            return proceed(visit, steps)
        return rules_screen(visit, ticket, "rules_changed")
    return proceed(visit, {**steps, "signed": True})
