"""The invitation page (server/admin/invitation.py): the visit's date and time (local),
host, where to go, the typed code and a QR that decodes to the code, in English and
Chinese; admins and reception see every visit's, a host only their own; linked from
the admin's visit list and shown after pre-registering; one A4 page when printed."""

import base64
import io
import re
from datetime import date, datetime

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from server.extensions import db
from server.models import Visit
from server.services import kiosk_settings
from tests.conftest import csrf_from, login
from tests.kiosk_helpers import snap
from tests.test_browser import browser, device, staff_page  # noqa: F401  (fixtures)


def signed_in(app, email):
    web = app.test_client()
    login(web, email)
    return web


def invitation_url(visit) -> str:
    return f"/admin/visits/{visit.id}/invitation"


def qr_codes_in(html: str) -> list[str]:
    """What the page's inline QR image decodes to."""
    match = re.search(r'<img class="qr" src="data:image/png;base64,([^"]+)"', html)
    assert match, "no inline QR on the page"
    image = Image.open(io.BytesIO(base64.b64decode(match.group(1))))
    return [r.text for r in zxingcpp.read_barcodes(image)]


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_invitation_shows_the_visit_in_both_languages_and_its_qr_decodes_to_the_code(
    app, staff, make_visit
):
    app.config["TIMEZONE"] = "Asia/Shanghai"
    kiosk_settings.save(company_name="分析机械 Analytical Engines")
    visit = make_visit("张伟", company="华为技术", when=datetime(2031, 5, 6, 2, 30))  # UTC
    html = signed_in(app, "admin@example.com").get(invitation_url(visit)).get_data(as_text=True)
    text = visible_text(html)
    for expected in (
        "张伟",
        "华为技术",
        "分析机械 Analytical Engines",
        "Grace Hopper",
        "Invitation 邀请函",
        "Tuesday 06 May 2031",
        "2031年5月6日 星期二",
        "10:30",  # 02:30 UTC in Shanghai
        "Host 接待人",
        "Date 日期",
        "Time 时间",
        "Where 地点",
        "Please come to Reception at 分析机械 Analytical Engines",
        "Scan this at the kiosk",
        "请在自助机扫描此码",
        "Engine review",
    ):
        assert expected in text, expected
    groups = re.findall(r'<span class="code-group">([^<]+)</span>', html)
    assert "".join(groups) == visit.code and all(len(g) <= 4 for g in groups)
    assert len(groups) >= 8  # a 32-character code, read in groups of four
    assert qr_codes_in(html) == [visit.code]
    assert "invitation-cancelled" not in html


def test_visitor_text_on_the_invitation_is_escaped(app, staff, make_visit):
    visit = make_visit("<script>alert(1)</script>", company="<b>Evil</b>")
    html = signed_in(app, "desk@example.com").get(invitation_url(visit)).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>Evil</b>" not in html


def test_reception_sees_every_invitation_and_a_host_only_their_own(app, staff, make_visit):
    visit = make_visit(host="linus@example.com")
    url = invitation_url(visit)
    assert app.test_client().get(url).status_code == 302  # to the sign-in page
    assert signed_in(app, "grace@example.com").get(url).status_code == 403
    for email in ("linus@example.com", "desk@example.com", "admin@example.com"):
        resp = signed_in(app, email).get(url)
        assert resp.status_code == 200 and qr_codes_in(resp.get_data(as_text=True)) == [
            visit.code
        ], email
    assert (
        signed_in(app, "admin@example.com").get("/admin/visits/999999/invitation").status_code
        == 404
    )


def test_a_multi_day_visit_says_until_when_and_a_cancelled_one_says_it_is_void(
    app, staff, make_visit
):
    visit = make_visit("Ada Lovelace", when=datetime(2031, 5, 6, 9, 0))
    visit.valid_until = date(2031, 5, 8)
    db.session.commit()
    web = signed_in(app, "admin@example.com")
    text = visible_text(web.get(invitation_url(visit)).get_data(as_text=True))
    assert "Valid until 有效期至" in text and "Thursday 08 May 2031" in text
    assert "2031年5月8日" in text
    visit.status = "cancelled"
    db.session.commit()
    html = web.get(invitation_url(visit)).get_data(as_text=True)
    assert 'class="invitation-cancelled"' in html and "此访问已取消" in html


def test_the_admin_list_and_the_pre_registration_link_to_the_invitation(app, staff, make_visit):
    web = signed_in(app, "admin@example.com")
    visit = make_visit("Ada Lovelace")
    listing = web.get("/admin/?part=visits", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f'href="{invitation_url(visit)}"' in listing and "Invitation 邀请函" in listing
    page = web.get("/admin/").get_data(as_text=True)
    resp = web.post(
        "/admin/visits",
        headers={"HX-Request": "true"},
        data={
            "name": "José Müller",
            "company": "Acme",
            "email": "",
            "phone": "",
            "host": "grace@example.com",
            "expected_at": "2031-05-06T10:30",
            "purpose": "",
            "csrf_token": csrf_from(page),
        },
    )
    created = db.session.query(Visit).order_by(Visit.id.desc()).first()
    assert created.visitor.name == "José Müller"
    assert f'href="{invitation_url(created)}"' in resp.get_data(as_text=True)


@pytest.mark.browser
def test_the_printed_invitation_is_one_a4_page_without_navigation_and_its_qr_scans(
    device, staff, make_visit
):
    visit = make_visit("张伟", company="华为技术")
    page = staff_page(device, "admin@example.com", "/admin/")
    page.goto(invitation_url(visit))
    expect(page.locator(".visitor-name")).to_have_text("张伟")
    expect(page.locator(".topbar")).to_be_visible()
    page.wait_for_function("() => document.fonts.status === 'loaded'", timeout=30_000)
    snap(page, "invitation-screen")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.emulate_media(media="print")
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.locator(".invitation-tools")).to_be_hidden()
    snap(page, "invitation-print")
    # 15 mm margins: the content fits the 267 mm (1009 px) an A4 page leaves.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 1123, height
    assert page.locator(".invitation").bounding_box()["height"] <= 1009
    shot = Image.open(io.BytesIO(page.locator(".pass .qr").screenshot()))
    assert [r.text for r in zxingcpp.read_barcodes(shot)] == [visit.code]
    # 张伟 is drawn with the page's own web font on every machine (a subset, not the
    # system's CJK font, not the whole 8 MB font).
    faces = page.evaluate("""Array.from(document.fonts).filter(f => f.status === 'loaded'
        && f.family === 'Lobby Sans SC').length""")
    assert faces >= 1
    pdf = page.pdf(prefer_css_page_size=True)  # @page: A4
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # one sheet
