"""/admin/printers and /admin/kiosks through the Flask test client and the real services,
with a loopback ESC/POS printer: add a printer (URL checked), test print (the sample
badge, decoded), check now; add a kiosk and pair it from the QR on the page, re-pair
(the old tablet is locked out), revoke, change printer, fallback and language. And a
browser test: the admin adds a kiosk, the tablet pairs from the QR on the screen."""

import base64
import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from server.extensions import db
from server.models import Kiosk, Printer
from server.services import badges, checkin, devices, printing
from tests.conftest import csrf_from, free_port, login
from tests.test_browser import browser, device, staff_page  # noqa: F401

PRINTERS, KIOSKS = "/admin/printers", "/admin/kiosks"


class Admin:
    def __init__(self, app, email="admin@example.com"):
        self.web = app.test_client()
        login(self.web, email)
        self.token = csrf_from(self.web.get(KIOSKS).get_data(as_text=True))

    def html(self, url):
        return self.web.get(url).get_data(as_text=True)

    def post(self, path, **data):
        return self.web.post(path, data={"csrf_token": self.token, **data})


def field_errors(html: str) -> dict:
    return dict(re.findall(r'class="field-error" data-field="([a-z0-9_-]+)"[^>]*>([^<]+)<', html))


def notice(html: str) -> tuple[str, str]:
    m = re.search(r'id="printer-notice" data-outcome="([^"]+)"[^>]*>(.*?)</p>', html, re.S)
    assert m, "no notice on the page"
    return m.group(1), " ".join(m.group(2).split())


def pairing_of(html: str) -> tuple[str, str]:
    """The pairing link as text and as the QR image's content."""
    link_m = re.search(r'id="pairing-link">([^<]+)<', html)
    data_m = re.search(r'src="data:image/png;base64,([^"]+)" alt="Pairing QR', html)
    assert link_m and data_m, "no pairing link or QR on the page"
    link, data = link_m.group(1), data_m.group(1)
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("L")
    [code] = zxingcpp.read_barcodes(image)
    return link, code.text


def kiosk_row(html: str, name: str) -> str:
    m = re.search(rf'<tr class="kiosk-row" data-kiosk="{name}".*?</tr>', html, re.S)
    assert m, f"no kiosk row for {name}"
    return m.group(0)


def test_device_pages_are_for_admins_only(app, staff):
    pages = [PRINTERS, KIOSKS]
    assert [app.test_client().get(p).status_code for p in pages] == [302, 302]
    devices.add_printer("Desk", "tcp://127.0.0.1:9100")
    kiosk, _ = devices.add_kiosk("Front")
    for email in ("desk@example.com", "grace@example.com"):
        web = app.test_client()
        login(web, email)
        token = csrf_from(web.get("/login", follow_redirects=True).get_data(as_text=True))
        assert [web.get(p).status_code for p in pages] == [403, 403]
        for url in [
            PRINTERS,
            KIOSKS,
            f"{KIOSKS}/{kiosk.id}/pair",
            f"{KIOSKS}/{kiosk.id}/revoke",
            f"{PRINTERS}/1/test",
            f"{PRINTERS}/1/check",
        ]:
            assert (
                web.post(url, data={"csrf_token": token, "name": "X", "url": "tcp://x"}).status_code
                == 403
            )
    db.session.rollback()
    assert db.session.get(Kiosk, kiosk.id).revoked_at is None


def test_printer_list_shows_url_status_queue_and_last_job(app, staff, make_visit, printer):
    devices.add_printer("Desk", printer.url)
    checkin.check_in(make_visit().code, printer="Desk")
    html = Admin(app).html(PRINTERS)
    row = re.search(r'<tr data-printer="Desk">.*?</tr>', html, re.S).group(0)
    assert printer.url in row and "Unknown 未知" in row
    assert re.search(r"<td>1</td>", row)  # one badge queued (no print worker here)
    assert re.search(r"#\d+ queued 排队", row)
    for label in ("Test print 测试打印", "Check now 检查状态", "Add a printer"):
        assert label in html


def test_add_printer_and_bad_url_is_an_error_next_to_the_field(app, staff):
    admin = Admin(app)
    resp = admin.post(PRINTERS, name="Desk", url="gopher://printer")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "printer URL" in field_errors(html)["url"]
    assert 'value="gopher://printer"' in html  # the form keeps what was typed
    resp = admin.post(PRINTERS, name="Desk", url="tcp://127.0.0.1:9100")
    assert resp.status_code == 303
    assert "Added printer Desk" in admin.html(resp.headers["Location"])
    resp = admin.post(PRINTERS, name="Desk", url="tcp://127.0.0.1:9101")
    assert resp.status_code == 409 and "exists" in field_errors(resp.get_data(as_text=True))["name"]
    resp = admin.post(PRINTERS, name="", url="")
    assert resp.status_code == 422 and {"name", "url"} <= set(
        field_errors(resp.get_data(as_text=True))
    )
    assert [p.name for p in db.session.scalars(db.select(Printer))] == ["Desk"]


def test_test_print_sends_the_sample_badge_now(app, staff, printer):
    devices.add_printer("Desk", printer.url)
    pid = devices.printer_by_name("Desk").id
    resp = Admin(app).post(f"{PRINTERS}/{pid}/test")
    outcome, text = notice(resp.get_data(as_text=True))
    assert (
        resp.status_code == 200 and outcome == "confirmed" and "Sample badge sent to Desk" in text
    )
    printer.wait_for_jobs(1)
    [image] = printer.images()
    assert [r.text for r in zxingcpp.read_barcodes(image.convert("L"))] == [
        badges.sample_badge().code
    ]


def test_test_print_on_a_dead_printer_says_why(app, staff):
    devices.add_printer("Dead", f"tcp://127.0.0.1:{free_port()}")
    resp = Admin(app).post(f"{PRINTERS}/{devices.printer_by_name('Dead').id}/test")
    html = resp.get_data(as_text=True)
    outcome, text = notice(html)
    assert resp.status_code == 200 and outcome == "unreachable" and "printer Dead" in text
    assert 'role="alert"' in html


def test_check_now_stores_and_shows_the_printer_status(app, staff, printer):
    devices.add_printer("Desk", printer.url)
    pid = devices.printer_by_name("Desk").id
    admin = Admin(app)
    outcome, text = notice(admin.post(f"{PRINTERS}/{pid}/check").get_data(as_text=True))
    assert outcome == "online" and "Online 在线" in text
    printer.paper_out = True
    html = admin.post(f"{PRINTERS}/{pid}/check").get_data(as_text=True)
    assert notice(html)[0] == "paper_out" and 'role="alert"' in html
    assert 'data-state="paper_out"' in html and "Paper out 缺纸" in html
    db.session.rollback()
    assert db.session.get(Printer, pid).status == "paper_out"
    assert printing.printer_dict(db.session.get(Printer, pid))["status"] == "paper_out"


def test_added_kiosk_shows_a_pairing_qr_that_pairs_the_tablet(app, staff, printer):
    devices.add_printer("Desk", printer.url)
    devices.add_printer("Spare", "tcp://127.0.0.1:9100")
    admin = Admin(app)
    resp = admin.post(KIOSKS, name="Front door", printer="Desk", fallback="Spare", language="zh")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 201
    link, in_qr = pairing_of(html)
    assert link == in_qr and re.fullmatch(r"http://localhost/kiosk/pair/[\w-]{40,}", link)
    kiosk = db.session.scalar(db.select(Kiosk).where(Kiosk.name == "Front door"))
    assert (kiosk.printer.name, kiosk.fallback_printer.name, kiosk.language) == (
        "Desk",
        "Spare",
        "zh",
    )
    assert "Waiting for pairing 待配对" in kiosk_row(html, "Front door")

    tablet = app.test_client()
    assert tablet.get(link.removeprefix("http://localhost")).status_code == 302
    assert tablet.get("/kiosk/").status_code == 200
    assert "Paired 已配对" in kiosk_row(admin.html(KIOSKS), "Front door")
    assert link not in admin.html(KIOSKS)  # shown once


def test_add_kiosk_errors_are_next_to_their_fields(app, staff):
    devices.add_printer("Desk", "tcp://127.0.0.1:9100")
    devices.add_kiosk("Front door")
    admin = Admin(app)
    cases = [
        ({"name": ""}, "name"),
        ({"name": "Front door"}, "name"),
        ({"printer": "Desk", "fallback": "Desk"}, "fallback"),
        ({"printer": "Nope"}, "printer"),
        ({"language": "fr"}, "language"),
    ]
    for fields, field in cases:
        resp = admin.post(
            KIOSKS,
            **{"name": "Side door", "printer": "", "fallback": "", "language": "en", **fields},
        )
        html = resp.get_data(as_text=True)
        assert resp.status_code in (409, 422) and field in field_errors(html), (fields, html)
        assert 'id="pairing"' not in html
    assert [k.name for k in devices.kiosks()] == ["Front door"]


def test_re_pair_locks_the_old_tablet_out_and_the_new_link_works(app, staff):
    admin = Admin(app)
    link, _ = pairing_of(
        admin.post(KIOSKS, name="Front door", printer="", fallback="", language="en").get_data(
            as_text=True
        )
    )
    old = app.test_client()
    old.get(link.removeprefix("http://localhost"))
    assert old.get("/kiosk/").status_code == 200
    kiosk_id = devices.kiosks()[0].id
    resp = admin.post(f"{KIOSKS}/{kiosk_id}/pair")
    html = resp.get_data(as_text=True)
    new_link, in_qr = pairing_of(html)
    assert resp.status_code == 200 and new_link == in_qr and new_link != link
    assert "Re-pair Front door" in html and "no longer works" in html
    assert old.get("/kiosk/").status_code == 403
    assert app.test_client().get(link.removeprefix("http://localhost")).status_code == 403
    tablet = app.test_client()
    assert tablet.get(new_link.removeprefix("http://localhost")).status_code == 302
    assert tablet.get("/kiosk/").status_code == 200


def test_revoke_locks_the_kiosk_out(app, staff):
    kiosk, path = devices.add_kiosk("Front door")
    tablet = app.test_client()
    tablet.get(path)
    admin = Admin(app)
    resp = admin.post(f"{KIOSKS}/{kiosk.id}/revoke")
    assert resp.status_code == 303 and resp.headers["Location"].startswith(KIOSKS)
    assert tablet.get("/kiosk/").status_code == 403
    row = kiosk_row(admin.html(KIOSKS), "Front door")
    assert "Revoked 已停用" in row and "Revoke 停用" not in row and "Re-pair" in row


def test_kiosk_printer_fallback_and_language_can_be_changed(app, staff):
    devices.add_printer("Desk", "tcp://127.0.0.1:9100")
    devices.add_printer("Spare", "tcp://127.0.0.1:9101")
    kiosk, _ = devices.add_kiosk("Front door")
    admin, p = Admin(app), f"k{kiosk.id}-"
    resp = admin.post(
        f"{KIOSKS}/{kiosk.id}",
        **{
            p + "printer": "Spare",
            p + "fallback": "Desk",
            p + "language": "zh",
            p + "csrf_token": admin.token,
        },
    )
    assert resp.status_code == 303
    db.session.rollback()
    kiosk = db.session.get(Kiosk, kiosk.id)
    assert (kiosk.printer.name, kiosk.fallback_printer.name, kiosk.language) == (
        "Spare",
        "Desk",
        "zh",
    )
    resp = admin.post(
        f"{KIOSKS}/{kiosk.id}",
        **{
            p + "printer": "Desk",
            p + "fallback": "Desk",
            p + "language": "en",
            p + "csrf_token": admin.token,
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "another printer" in field_errors(html)[p + "fallback"]
    db.session.rollback()
    assert db.session.get(Kiosk, kiosk.id).language == "zh"  # nothing saved
    # Back to the default printer, no fallback.
    admin.post(
        f"{KIOSKS}/{kiosk.id}",
        **{
            p + "printer": "",
            p + "fallback": "",
            p + "language": "en",
            p + "csrf_token": admin.token,
        },
    )
    db.session.rollback()
    kiosk = db.session.get(Kiosk, kiosk.id)
    assert (kiosk.printer_id, kiosk.fallback_printer_id, kiosk.language) == (None, None, "en")


def test_admin_index_and_nav_link_to_the_device_and_staff_pages(app, staff):
    html = Admin(app).html("/admin/")
    for url in ("/admin/users", PRINTERS, KIOSKS):
        assert f'href="{url}"' in html
    assert "lobby kiosk add NAME" not in html


@pytest.mark.browser
def test_admin_adds_a_kiosk_and_the_tablet_pairs_from_the_qr_on_screen(device, staff):
    admin = staff_page(device, "admin@example.com", "/admin/")
    admin.locator("#nav-setup summary").click()  # the admin's setup menu
    admin.get_by_role("link", name="Kiosks 自助终端").first.click()
    admin.fill("input[name=name]", "Lobby tablet")
    admin.select_option("select[name=language]", "zh")
    admin.get_by_role("button", name="Add kiosk 添加").click()
    qr = admin.locator("#pairing-qr")
    expect(qr).to_be_visible()
    shot = Image.open(io.BytesIO(qr.screenshot())).convert("L")
    [decoded] = zxingcpp.read_barcodes(shot)
    assert decoded.text == admin.locator("#pairing-link").inner_text()
    assert decoded.text.startswith(admin.url.split("/admin")[0] + "/kiosk/pair/")

    tablet = device(decoded.text)
    tablet.wait_for_url("**/kiosk/")
    expect(tablet.locator("input[name=code]")).to_be_focused()
    admin.goto(KIOSKS)
    expect(admin.locator('tr[data-kiosk="Lobby tablet"]')).to_contain_text("Paired 已配对")
