"""The invitation email as a visitor receives it: sent by the outbox's worker pass
through a real SMTP server on loopback (aiosmtpd), read back and taken apart."""

import base64
import email
import io
import threading
from datetime import timedelta
from email import policy

import icalendar
import pytest
import zxingcpp
from aiosmtpd.controller import Controller
from PIL import Image

from server.extensions import db
from server.models import Visit, utcnow
from server.models.notify import OutboxMessage
from server.notify import outbox
from server.services import clock, visit_changes
from tests.conftest import auth, free_port
from tests.test_browser import browser  # noqa: F401  (headless Chromium)
from tests.test_policy_requests import office  # noqa: F401  (approvers)


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.got = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.got.set()
        return "250 OK"


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["MAIL_FROM"] = "Reception <reception@example.com>"
    app.config["SITE_ADDRESS"] = "1 Engine Street, Shanghai"
    app.config["SITE_DIRECTIONS"] = "Metro line 2, exit 3; reception is on the left."
    app.config["TIMEZONE"] = "Asia/Shanghai"
    try:
        yield inbox
    finally:
        controller.stop()


def received(inbox: Inbox, n: int = -1) -> email.message.EmailMessage:
    return email.message_from_bytes(inbox.messages[n][2], policy=policy.default)


def parts(message):
    """(text, html, png bytes, ics bytes) of a received invitation."""
    text = message.get_body(("plain",)).get_content()
    html_part = message.get_body(("html",))
    html = html_part.get_content()
    png = ics = None
    for part in message.walk():
        if part.get_content_type() == "image/png":
            png = (part.get_payload(decode=True), part["Content-ID"])
        if part.get_content_type() == "text/calendar":
            ics = part.get_payload(decode=True)
    return text, html, png, ics


def book(client, tokens, **visitor):
    when = clock.to_utc_naive(
        (clock.to_local(utcnow()) + timedelta(days=1)).replace(hour=14, minute=30, second=0)
    )
    resp = client.post(
        "/api/v1/visits",
        headers=auth(tokens["reception"]),
        json={
            "visitor": {"name": "Ada Lovelace", "company": "Analytical Engines", **visitor},
            "host": "grace@example.com",
            "expected_at": when.isoformat() + "+00:00",
            "purpose": "Engine review",
        },
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_pre_registration_emails_an_invitation_with_qr_and_calendar(smtp, client, tokens):
    visit = book(client, tokens, email="ada@example.org")
    assert not smtp.messages  # nothing leaves in the request
    assert outbox.send_due() == 1
    assert smtp.messages[0][1] == ["ada@example.org"]
    message = received(smtp)
    assert message["To"] == "ada@example.org"
    assert "reception@example.com" in message["From"]
    assert message["Subject"].startswith("Invitation")
    text, html, png, ics = parts(message)
    assert "Grace Hopper" in text and visit["code"] in text
    assert "14:30" in text and "1 Engine Street" in text and "Metro line 2" in text
    assert "Grace Hopper" in html and "14:30" in html
    # the QR is inline (cid:), not remote, and holds the visit's code
    data, cid = png
    assert f'src="cid:{cid.strip("<>")}"' in html
    assert "http" not in html.split("cid:")[0].split("<img")[-1]
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert [d.text for d in decoded] == [visit["code"]]
    cal = icalendar.Calendar.from_ical(ics)
    assert str(cal["METHOD"]) == "REQUEST"
    event = cal.walk("VEVENT")[0]
    assert str(event["UID"]) == f"visit-{visit['id']}@lobby.local"
    assert int(event["SEQUENCE"]) == 0
    start = event.decoded("DTSTART")
    assert str(start.tzinfo) == "Asia/Shanghai" and (start.hour, start.minute) == (14, 30)
    assert db.session.get(OutboxMessage, 1).status == "sent"


def test_chinese_invitation_for_a_visitor_who_reads_chinese(smtp, client, tokens):
    visit = book(client, tokens, email="li@example.cn", language="zh")
    outbox.send_due()
    text, html, _, ics = parts(received(smtp))
    assert received(smtp)["Subject"].startswith("邀请函")
    assert "接待人" in text and "Grace Hopper" in text and visit["code"] in text
    assert "请在自助机扫描此二维码" in html and 'lang="zh-CN"' in html
    assert icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["SUMMARY"].startswith("邀请函")


def test_invite_false_or_no_email_sends_nothing(smtp, client, tokens):
    book(client, tokens)  # no email
    resp = client.post(
        "/api/v1/visits",
        headers=auth(tokens["reception"]),
        json={
            "visitor": {"name": "Quiet", "email": "quiet@example.org"},
            "host": "grace@example.com",
            "invite": False,
        },
    )
    assert resp.status_code == 201
    assert outbox.send_due() == 0
    assert not smtp.messages
    bad = client.post(
        "/api/v1/visits",
        headers=auth(tokens["reception"]),
        json={"visitor": {"name": "X"}, "host": "grace@example.com", "invite": "no"},
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_field"


def test_a_changed_visit_sends_the_same_uid_with_a_higher_sequence(smtp, client, tokens, staff):
    visit = book(client, tokens, email="ada@example.org")
    outbox.send_due()
    later = clock.to_local(db.session.get(Visit, visit["id"]).expected_at) + timedelta(hours=1)
    visit_changes.update(visit["id"], {"expected_at": later.isoformat()}, staff["reception"])
    visit_changes.update(visit["id"], {"purpose": "Tea only"}, staff["reception"])  # no new mail
    visit_changes.cancel(visit["id"], "Client postponed", staff["reception"])
    assert outbox.send_due() == 2
    update, cancel = (received(smtp, 1), received(smtp, 2))
    uid = f"visit-{visit['id']}@lobby.local"
    ev = icalendar.Calendar.from_ical(parts(update)[3]).walk("VEVENT")[0]
    assert (str(ev["UID"]), int(ev["SEQUENCE"])) == (uid, 1)
    assert ev.decoded("DTSTART").hour == 15
    assert update["Subject"].startswith("Updated invitation")
    cal = icalendar.Calendar.from_ical(parts(cancel)[3])
    ev = cal.walk("VEVENT")[0]
    assert str(cal["METHOD"]) == "CANCEL" and str(ev["STATUS"]) == "CANCELLED"
    assert (str(ev["UID"]), int(ev["SEQUENCE"])) == (uid, 2)
    assert cancel["Subject"].startswith("Cancelled")


def test_visitor_text_is_escaped_in_the_html_part(smtp, client, tokens):
    book(client, tokens, email="ada@example.org", name="<b>Ada</b>")
    outbox.send_due()
    _, html, _, _ = parts(received(smtp))
    assert "<b>Ada</b>" not in html and "&lt;b&gt;Ada&lt;/b&gt;" in html


def as_a_mail_client_shows_it(message) -> str:
    """The HTML part with its cid: image put in place (what a mail client does)."""
    _, html, (data, cid), _ = parts(message)
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    return html.replace(f"cid:{cid.strip('<>')}", uri)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_received_invitation_in_chromium(smtp, client, tokens, browser, lang):  # noqa: F811
    from server.services import kiosk_settings

    kiosk_settings.save(company_name="Analytical Engines Ltd")
    name = "Ada Lovelace" if lang == "en" else "张伟"
    visit = book(client, tokens, email="v@example.org", language=lang, name=name)
    outbox.send_due()
    page = browser.new_page(viewport={"width": 720, "height": 900})
    try:
        page.set_content(as_a_mail_client_shows_it(received(smtp)))
        img = page.locator("img").first
        assert page.evaluate("(img) => img.naturalWidth", img.element_handle()) > 0
        assert name in page.inner_text("body")
        assert (
            "Scan this QR code" if lang == "en" else "请在自助机扫描此二维码"
        ) in page.inner_text("body")
        # The test looks at the picture; docs/screenshots/invitation-email-*.png were
        # made the same way and committed (a test run does not rewrite tracked files).
        shot = page.screenshot(full_page=True)
        # the QR as drawn on screen still scans to the visit's code
        decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        assert visit["code"] in [d.text for d in decoded]
    finally:
        page.close()


def test_an_approved_request_invites_its_visitors_with_an_email(smtp, client, office):  # noqa: F811
    from tests.test_policy_expenses import approved

    approved(client, office)
    assert outbox.send_due() == 1  # 张伟 has an email; Ada has none
    message = received(smtp)
    assert message["To"] == "zhang@example.cn"
    text, _, _, ics = parts(message)
    assert "Rita Sales" in text
    assert icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["SEQUENCE"] == 0


def test_the_admin_form_chooses_the_language_and_whether_to_email(smtp, client, staff):  # noqa: F811
    from tests.conftest import login
    from tests.test_pages import form_data

    login(client, "admin@example.com")
    page = client.get("/admin/").get_data(as_text=True)
    assert 'name="invite"' in page and 'name="language"' in page
    data = form_data(page, email="li@example.cn", language="zh", invite="y")
    resp = client.post("/admin/visits", data=data, headers={"HX-Request": "true"})
    assert "Invitation emailed" in resp.get_data(as_text=True)
    unchecked = form_data(page, email="quiet@example.org", name="Quiet")  # box unticked
    client.post("/admin/visits", data=unchecked, headers={"HX-Request": "true"})
    assert outbox.send_due() == 1
    assert [m[1] for m in smtp.messages] == [["li@example.cn"]]
    assert received(smtp)["Subject"].startswith("邀请函")
