"""The invitation page an admin prints or forwards until email invitations arrive:
``/admin/visits/<id>/invitation``, in English and Chinese, with the visit's date and
time (local), host, where to go, the typed code (grouped for reading) and its QR.

Admins and reception see every visit's invitation; a host only their own
(``visits.visible_visit``: 403 otherwise). The QR holds the bare code, as the kiosk
expects (docs: "The invitation QR holds the code"); it is drawn inline as a PNG data
URI, so a printed or saved page needs nothing else from the server.
"""

from flask import render_template
from flask_login import current_user

from server.admin import bp
from server.auth import page_roles
from server.notify import outbox
from server.services import clock, kiosk_settings, qr, visits

GROUP = 4  # characters per group of the typed code
WEEKDAYS_ZH = "一二三四五六日"


def code_groups(code: str, size: int = GROUP) -> list[str]:
    """``code`` in groups of ``size`` characters, for reading it out or typing it."""
    return [code[i : i + size] for i in range(0, len(code), size)]


def when(visit) -> dict:
    """The visit's local date and time in both languages ({} when it has none)."""
    local = clock.to_local(visit.expected_at)
    if local is None:
        return {}
    out = {
        "en": local.strftime("%A %d %B %Y"),
        "zh": f"{local.year}年{local.month}月{local.day}日 星期{WEEKDAYS_ZH[local.weekday()]}",
        "time": local.strftime("%H:%M"),
        "zone": local.tzname() or "",
    }
    if visit.valid_until and visit.valid_until > local.date():
        until = visit.valid_until
        out["until_en"] = until.strftime("%A %d %B %Y")
        out["until_zh"] = f"{until.year}年{until.month}月{until.day}日"
    return out


@bp.get("/visits/<int:visit_id>/invitation")
@page_roles("admin", "receptionist", "host")
def invitation(visit_id: int):
    """The printable invitation of one visit (hosts: their own visits only)."""
    visit = visits.visible_visit(current_user, visit_id)
    return render_template(
        "admin/invitation.html",
        visit=visit,
        company=kiosk_settings.get().company_name,
        when=when(visit),
        groups=code_groups(visit.code),
        qr=qr.data_uri(visit.code),
        emails=outbox.listing(visit.id),  # the invitation emails sent or waiting
    )
