"""The visitor's signature on the site rules, for staff: the PNG of the signature that
covers a visit, and the "Signed site rules v3 · 中文 · 10:42" line the reception board
and the host's visit card show (``rules_signature(visit)`` in templates).

Reception and admins see any visit's signature; a host only their own visitor's (403
otherwise); 404 when the visit has none, or when the signature covering it was made on
a visit the host may not see (only "signed on an earlier visit" is shown then).
"""

from flask import Response, abort
from flask_login import current_user

from server.auth import page_roles
from server.reception import bp
from server.services import rules, visits


@bp.get("/visits/<int:visit_id>/signature.png")
@page_roles("receptionist", "admin", "host")
def signature_png(visit_id: int):
    visit = visits.visible_visit(current_user, visit_id)  # 404 / 403
    info = rules.signature_for(visit, current_user)
    # none, signed on paper, or signed on a visit this user may not see
    if info is None or info.private or info.signature.image_png is None:
        abort(404, "no signature image for this visit")
    resp = Response(info.signature.image_png, mimetype="image/png")
    resp.headers["Cache-Control"] = "private, max-age=3600"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.app_template_global("rules_signature")
def rules_signature(visit):
    """The signature covering ``visit`` as the signed-in user may see it (see
    ``rules.signature_for``), or None."""
    if not current_user.is_authenticated:  # staff pages only; nobody else sees one
        return None
    return rules.signature_for(visit, current_user)
