"""Kiosk pairing (one use), device cookie, revocation, and scanning."""

import re
from datetime import timedelta

from server.extensions import db
from server.models import Visit, utcnow
from server.services import devices
from tests.conftest import csrf_from


def paired_kiosk(app, name="Front door", printer=None):
    _, path = devices.add_kiosk(name, printer=printer)
    browser = app.test_client()
    resp = browser.get(path)
    assert resp.status_code == 302 and resp.headers["Location"] == "/kiosk/"
    return browser, path


def scan(browser, code, htmx=True):
    """Scan ``code``; on the photo step, skip the photo (as a kiosk without camera does)."""
    page = browser.get("/kiosk/").get_data(as_text=True)
    headers = {"HX-Request": "true"} if htmx else {}
    token = csrf_from(page)
    resp = browser.post("/kiosk/scan", data={"code": code, "csrf_token": token}, headers=headers)
    html = resp.get_data(as_text=True)
    if 'data-screen="photo"' in html:
        ticket = re.search(r'name="ticket" value="([^"]+)"', html).group(1)
        resp = browser.post(
            "/kiosk/photo",
            data={"ticket": ticket, "skip": "1", "csrf_token": token},
            headers=headers,
        )
    return resp


def test_kiosk_page_needs_a_paired_device(client):
    resp = client.get("/kiosk/")
    assert resp.status_code == 403
    assert "not paired" in resp.get_data(as_text=True)


def test_pairing_link_works_once(app):
    browser, path = paired_kiosk(app)
    page = browser.get("/kiosk").get_data(as_text=True)
    assert 'name="code"' in page and "autofocus" in page
    second = app.test_client().get(path)
    assert second.status_code == 403
    assert "already been used" in second.get_data(as_text=True)


def test_device_cookie_is_httponly_and_not_the_raw_token(app):
    _, path = devices.add_kiosk("Side door")
    resp = app.test_client().get(path)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert path.rsplit("/", 1)[-1] not in cookie


def test_revoked_kiosk_is_locked_out_on_its_next_request(app):
    browser, _ = paired_kiosk(app)
    page = browser.get("/kiosk/")
    assert page.status_code == 200
    devices.revoke_kiosk("Front door")
    assert browser.get("/kiosk/").status_code == 403
    token = csrf_from(page.get_data(as_text=True))
    assert (
        browser.post("/kiosk/scan", data={"code": "x" * 20, "csrf_token": token}).status_code == 403
    )


def test_scan_shows_welcome_with_visitor_and_host(app, make_visit):
    visit = make_visit()
    browser, _ = paired_kiosk(app)
    html = scan(browser, visit.code).get_data(as_text=True)
    assert 'data-outcome="welcome"' in html
    assert "Ada Lovelace" in html and "Grace Hopper" in html and "has been told" in html
    assert db.session.get(Visit, visit.id).kiosk_id is not None


def test_scanner_typing_a_url_ending_in_the_code_works(app, make_visit):
    visit = make_visit()
    browser, _ = paired_kiosk(app)
    html = scan(browser, f"https://lobby.example.com/invite/{visit.code}").get_data(as_text=True)
    assert 'data-outcome="welcome"' in html


def test_refusals_are_clear(app, make_visit):
    browser, _ = paired_kiosk(app)
    cancelled = make_visit("Cancelled Guest")
    db.session.get(Visit, cancelled.id).status = "cancelled"
    tomorrow = make_visit("Tomorrow Guest", when=utcnow() + timedelta(days=1))
    gone = make_visit("Gone Guest")
    db.session.get(Visit, gone.id).status = "checked_out"
    db.session.commit()
    for code, reason, text in [
        ("nope-nope-nope", "unknown_code", "recognise"),
        (cancelled.code, "cancelled", "cancelled"),
        (tomorrow.code, "not_today", "another day"),
        (gone.code, "already_checked_out", "already ended"),
    ]:
        html = scan(browser, code).get_data(as_text=True)
        assert f'data-reason="{reason}"' in html and text in html


def test_badge_scan_later_says_goodbye(app, make_visit):
    visit = make_visit()
    browser, _ = paired_kiosk(app)
    scan(browser, visit.code)
    db.session.get(Visit, visit.id).checked_in_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    html = scan(browser, visit.code).get_data(as_text=True)
    assert 'data-outcome="goodbye"' in html
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "checked_out"


def test_scan_without_javascript_renders_the_whole_page(app, make_visit):
    visit = make_visit()
    browser, _ = paired_kiosk(app)
    resp = scan(browser, visit.code, htmx=False)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in html and 'data-outcome="welcome"' in html


def test_scan_without_csrf_is_refused(app, make_visit):
    visit = make_visit()
    browser, _ = paired_kiosk(app)
    assert browser.post("/kiosk/scan", data={"code": visit.code}).status_code == 400
    assert db.session.get(Visit, visit.id).status == "expected"


def test_visitor_text_is_escaped_on_the_kiosk(app, make_visit):
    visit = make_visit("<img src=x onerror=alert(1)>", company="<b>Evil</b>")
    browser, _ = paired_kiosk(app)
    html = scan(browser, visit.code).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_guessing_codes_is_throttled(app, monkeypatch):
    monkeypatch.setitem(app.config, "KIOSK_FAILED_SCAN_LIMIT", 3)
    browser, _ = paired_kiosk(app, name="Guessing kiosk")
    reasons = [scan(browser, f"guess-{i:08d}").get_data(as_text=True) for i in range(4)]
    assert 'data-reason="too_many_attempts"' in reasons[-1]
    assert all('data-reason="unknown_code"' in r for r in reasons[:3])


def test_a_forged_device_cookie_is_not_paired_never_a_500(app):
    browser = app.test_client()
    for forged in ("9" * 30 + ".secret", "1.wrong-secret", "x.y", "", "."):
        browser.set_cookie("lobby_kiosk", forged)
        resp = browser.get("/kiosk/")
        assert resp.status_code == 403 and "not paired" in resp.get_data(as_text=True)
