"""The visitor's invitation email, queued in the transaction that books, changes or
cancels the visit (services/visits.py, services/visit_changes.py, policy/requests.py).

One message in the visitor's language (the visit's, else the visitor's, else
``LOBBY_SITE_LANGUAGE``): a plain-text part and an HTML part (the wording of the
printable invitation, server/admin/invitation.py), the QR of the visit's code as an
inline image (``cid:``, never a remote one) and the code in text, and an ``.ics``
(icalendar: one VEVENT, UID ``visit-<id>@<LOBBY_SITE_HOST>``, times in the site's
zone, SEQUENCE = ``visit.invite_sequence``; METHOD REQUEST, or CANCEL with STATUS
CANCELLED). A change bumps the sequence, so calendars replace the event in place.

The row holds what to build (``{"invitation": {"visit_id", "kind", "sequence"}}``: no
copy of the visitor's data); the worker builds the message when it sends it (~50 ms,
half of it the QR: kept out of the booking's request), from the visit as it is then,
with the SEQUENCE of its version. Each change queues its own version (dedupe key
``invitation:<visit>:<sequence>``).
"""

from datetime import UTC, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import icalendar
from flask import current_app, render_template

from server.extensions import db
from server.models import Visit, utcnow
from server.notify import mail, outbox
from server.services import clock, kiosk_settings, qr

WEEKDAYS_ZH = "一二三四五六日"
DURATION = timedelta(hours=1)  # a visit's calendar slot when it names no end
# What changes an invitation: a new time, place, host or validity.
RELEVANT = {"expected_at", "host_id", "meeting_room", "valid_until", "email"}

TEXTS = {
    "en": {
        "subject": "Invitation: your visit to {company} on {date}",
        "subject_update": "Updated invitation: your visit to {company} on {date}",
        "subject_cancel": "Cancelled: your visit to {company} on {date}",
        "title": "Invitation",
        "cancelled": "This visit was cancelled: the code below no longer checks in.",
        "hello": "Dear {name},",
        "intro": "you are expected at {company}.",
        "date": "Date",
        "time": "Time",
        "until": "Valid until",
        "host": "Host",
        "room": "Room",
        "purpose": "Purpose",
        "where": "Where",
        "reception": "Please come to Reception{at}.",
        "directions": "How to find us",
        "bring": "Please bring",
        "bring_default": "a photo ID",
        "scan": "Scan this QR code at the kiosk",
        "type": "No camera? Type this code",
        "type_hint": "Type it without spaces; capitals matter.",
        "foot": "Your visitor badge prints at the kiosk; your host is told when you arrive.",
        "calendar": "The attached calendar file adds the visit to your calendar.",
        "company": "our office",
    },
    "zh": {
        "subject": "邀请函：{date} 到访{company}",
        "subject_update": "邀请函已更新：{date} 到访{company}",
        "subject_cancel": "已取消：{date} 到访{company}",
        "title": "邀请函",
        "cancelled": "此访问已取消，下面的访问码已失效。",
        "hello": "{name}，您好：",
        "intro": "诚邀您到访{company}。",
        "date": "日期",
        "time": "时间",
        "until": "有效期至",
        "host": "接待人",
        "room": "会议室",
        "purpose": "事由",
        "where": "地点",
        "reception": "请到{at}前台。",
        "directions": "交通指引",
        "bring": "请携带",
        "bring_default": "带照片的身份证件",
        "scan": "请在自助机扫描此二维码",
        "type": "或在自助机输入此访问码",
        "type_hint": "输入时不含空格，区分大小写。",
        "foot": "签到后自助机将打印访客证，并通知接待人。",
        "calendar": "附件中的日历文件可将此次访问加入您的日历。",
        "company": "我司",
    },
}


def code_groups(code: str, size: int = 4) -> list[str]:
    """``code`` in groups of four, for reading it out (as the printable invitation)."""
    return [code[i : i + size] for i in range(0, len(code), size)]


def when(visit: Visit) -> dict:
    """The visit's local date and time in both languages ({} when it has none); the
    printable invitation's wording (server/admin/invitation.py; a blueprint this
    package must not import)."""
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


def language_of(visit: Visit) -> str:
    for lang in (visit.language, visit.visitor.language, current_app.config["SITE_LANGUAGE"]):
        if lang in TEXTS:
            return lang
    return "en"


def wanted(visit: Visit) -> bool:
    """Whether this visit's visitor gets invitations at all."""
    return bool(visit.invite and not visit.walk_in and visit.visitor and visit.visitor.email)


def calendar(
    visit: Visit, cancel: bool, sequence: int, summary: str, location: str, description: str
) -> bytes:
    """The visit as an iCalendar file (METHOD REQUEST, or CANCEL)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Lobby//visitor invitation//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancel else "REQUEST")
    event = icalendar.Event()
    event.add("uid", f"visit-{visit.id}@{current_app.config['SITE_HOST']}")
    event.add("dtstamp", utcnow().replace(tzinfo=UTC))
    start = clock.to_local(visit.expected_at or utcnow())
    event.add("dtstart", start)
    event.add("dtend", start + DURATION)
    event.add("sequence", sequence)
    event.add("summary", summary)
    if location:
        event.add("location", location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    sender = current_app.config.get("MAIL_FROM")
    if sender:
        event.add("organizer", f"mailto:{sender}")
    event.add("attendee", f"mailto:{visit.visitor.email}", parameters={"RSVP": "FALSE"})
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def subject_of(visit: Visit, kind: str) -> str:
    lang = language_of(visit)
    t = TEXTS[lang]
    company = kiosk_settings.get().company_name
    w = when(visit)
    date_text = w.get(lang, "") if w else ""
    subject_key = {"new": "subject", "update": "subject_update", "cancel": "subject_cancel"}[kind]
    return t[subject_key].format(company=company or t["company"], date=date_text).strip()


def build(visit: Visit, kind: str = "new", sequence: int | None = None) -> EmailMessage:
    """The invitation of ``visit`` (``kind``: ``new``, ``update`` or ``cancel``) with
    calendar SEQUENCE ``sequence`` (the visit's current one unless given)."""
    lang = language_of(visit)
    t = TEXTS[lang]
    cfg = current_app.config
    company = kiosk_settings.get().company_name
    w = when(visit)
    date_text = w.get(lang, "") if w else ""
    subject = subject_of(visit, kind)
    cancel = kind == "cancel"
    groups = code_groups(visit.code)
    cid = make_msgid(domain=cfg["SITE_HOST"])
    ctx = {
        "t": t,
        "lang": lang,
        "visit": visit,
        "company": company,
        "when": w,
        "date_text": date_text,
        "groups": groups,
        "cancel": cancel,
        "address": cfg["SITE_ADDRESS"],
        "directions": cfg["SITE_DIRECTIONS"],
        "bring": cfg["INVITE_BRING"] or t["bring_default"],
        "reception": t["reception"].format(
            at=(f" at {company}" if lang == "en" and company else company)
        ),
        "qr_cid": cid[1:-1],
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["To"] = visit.visitor.email
    if cfg.get("MAIL_FROM"):
        message["From"] = cfg["MAIL_FROM"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=cfg["SITE_HOST"])
    message["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    message.set_content(render_template("email/invitation.txt", **ctx))
    message.add_alternative(render_template("email/invitation.html", **ctx), subtype="html")
    html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(qr.png(visit.code, box_size=6), "image", "png", cid=cid)
    location = ", ".join(x for x in (company, cfg["SITE_ADDRESS"], visit.meeting_room) if x)
    ics = calendar(
        visit,
        cancel,
        visit.invite_sequence if sequence is None else sequence,
        summary=subject,
        location=location,
        description=f"{t['host']}: {visit.host.name}\n{t['type']}: {visit.code}",
    )
    message.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="invitation.ics",
        params={"method": "CANCEL" if cancel else "REQUEST"},
    )
    return message


def queue(session, visit: Visit, kind: str = "new") -> None:
    """Queue ``visit``'s invitation (``new``), its new version (``update``: the
    sequence goes up) or its cancellation (``cancel``), in ``session``'s transaction.
    Nothing for a visit without an email, a walk-in or one booked with ``invite`` off."""
    if not wanted(visit):
        return
    if kind != "new":
        visit.invite_sequence = (visit.invite_sequence or 0) + 1
    session.flush()
    outbox.queue(
        session,
        "email",
        visit.visitor.email,
        subject_of(visit, kind),
        {"invitation": {"visit_id": visit.id, "kind": kind, "sequence": visit.invite_sequence}},
        purpose="invitation",
        visit_id=visit.id,
        dedupe_key=f"invitation:{visit.id}:{visit.invite_sequence}",
    )


def render(spec: dict) -> str:
    """The message an outbox row's ``{"invitation": spec}`` stands for, built now (by
    the worker, not in the booking's request); SendError when its visit is gone."""
    visit = db.session.get(Visit, spec.get("visit_id"))
    if visit is None or not visit.visitor or not visit.visitor.email:
        raise outbox.SendError("the visit is gone or has no email address")
    message = build(visit, spec.get("kind", "new"), spec.get("sequence"))
    return message.as_string(policy=mail.WIRE)


def changed(visit_fields, person_fields) -> bool:
    """Whether an edit touched what an invitation says."""
    return bool(RELEVANT & (set(visit_fields) | set(person_fields)))
