"""Staff pages: pre-registration form, invitation QR, host and reception lists."""

import io

import zxingcpp
from PIL import Image

from server.extensions import db
from server.models import Visit
from server.services import checkin
from tests.conftest import csrf_from, login


def signed_in(app, email):
    web = app.test_client()
    login(web, email)
    return web


def form_data(page_html, **fields):
    data = {
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "host": "grace@example.com",
        "expected_at": "2031-05-06T10:30",
        "purpose": "Review",
        "csrf_token": csrf_from(page_html),
    }
    data.update(fields)
    return data


def test_admin_pre_registers_a_visit_through_the_htmx_form(app, staff):
    web = signed_in(app, "admin@example.com")
    page = web.get("/admin/").get_data(as_text=True)
    resp = web.post("/admin/visits", data=form_data(page), headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "lobby:refresh"
    # No invitation was sent (there is no mail yet): the visit is registered, not "Invited".
    assert "Registered 已登记" in html and "Invited" not in html
    visit = db.session.query(Visit).one()
    assert visit.visitor.name == "Ada Lovelace" and visit.host.email == "grace@example.com"
    assert f"/visits/{visit.id}/invitation.png" in html
    listing = web.get("/admin/?part=visits", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Ada Lovelace" in listing


def test_form_errors_are_shown_and_nothing_is_saved(app, staff):
    web = signed_in(app, "admin@example.com")
    page = web.get("/admin/").get_data(as_text=True)
    html = web.post(
        "/admin/visits",
        data=form_data(page, name="", email="nope", expected_at="someday"),
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    for field in ("name", "email", "expected_at"):
        assert f'data-field="{field}"' in html
    assert db.session.query(Visit).count() == 0
    # without htmx the whole page comes back with the errors, as a 422
    resp = web.post("/admin/visits", data=form_data(page, name=""))
    assert resp.status_code == 422 and 'data-field="name"' in resp.get_data(as_text=True)


def test_invitation_qr_png_decodes_to_the_code(app, staff, make_visit):
    visit = make_visit()
    web = signed_in(app, "desk@example.com")
    resp = web.get(f"/visits/{visit.id}/invitation.png")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    image = Image.open(io.BytesIO(resp.data))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [visit.code]


def test_invitation_qr_is_for_staff_who_may_see_the_visit(app, staff, make_visit):
    visit = make_visit(host="linus@example.com")
    assert app.test_client().get(f"/visits/{visit.id}/invitation.png").status_code == 302
    assert (
        signed_in(app, "grace@example.com").get(f"/visits/{visit.id}/invitation.png").status_code
        == 403
    )
    assert (
        signed_in(app, "linus@example.com").get(f"/visits/{visit.id}/invitation.png").status_code
        == 200
    )


def test_host_page_lists_only_own_visitors_of_today(app, staff, make_visit):
    make_visit("Ada Lovelace")
    make_visit("Someone Else", host="linus@example.com")
    html = signed_in(app, "grace@example.com").get("/host/").get_data(as_text=True)
    assert "Ada Lovelace" in html and "Someone Else" not in html


def test_host_fragment_is_served_to_htmx(app, staff, make_visit):
    make_visit()
    html = (
        signed_in(app, "grace@example.com")
        .get("/host/", headers={"HX-Request": "true"})
        .get_data(as_text=True)
    )
    assert "<html" not in html and "Ada Lovelace" in html


def test_reception_board_moves_a_visitor_from_expected_to_on_site(app, staff, make_visit):
    visit = make_visit()
    web = signed_in(app, "desk@example.com")
    before = web.get("/reception/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert before.index("Ada Lovelace") < before.index("On site 在访</h2>")
    checkin.check_in(visit.code)
    after = web.get("/reception/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert after.index("On site 在访</h2>") < after.index("Ada Lovelace")


def test_visitor_text_is_escaped_on_staff_pages(app, staff, make_visit):
    make_visit("<script>alert(1)</script>", company="<img src=x onerror=alert(2)>")
    for email, url in [
        ("grace@example.com", "/host/"),
        ("desk@example.com", "/reception/"),
        ("admin@example.com", "/admin/"),
    ]:
        html = signed_in(app, email).get(url).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
        assert "<img src=x" not in html


def test_unknown_page_is_a_friendly_404_without_traceback(client):
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and "Traceback" not in resp.get_data(as_text=True)


def test_static_assets_are_vendored_not_from_a_cdn(app, staff):
    html = signed_in(app, "grace@example.com").get("/host/").get_data(as_text=True)
    assert (
        "/static/vendor/htmx-2.0.11.min.js" in html
        and "/static/vendor/socket.io-4.8.4.min.js" in html
    )
    assert "https://" not in html and "http://" not in html.replace("http://localhost", "")
    for asset in [
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/socket.io-4.8.4.min.js",
        "/fonts/NotoSansSC.otf",
        "/fonts/NotoSans.ttf",
    ]:
        assert app.test_client().get(asset).status_code == 200


def test_reception_sees_printer_state_and_last_job_and_can_reprint(app, staff, make_visit):
    from server.models import PrintJob
    from server.services import devices, printing
    from tests.loopback_printer import LoopbackPrinter

    with LoopbackPrinter(answer_status=True) as desk:
        devices.add_printer("Desk", desk.url)
        desk.paper_out = True
        visit = make_visit()
        checkin.check_in(visit.code, printer="Desk")
        printing.drain()
        web = signed_in(app, "desk@example.com")
        html = web.get("/reception/").get_data(as_text=True)
        assert 'data-printer="Desk" data-state="paper_out"' in html
        assert "Paper out" in html and "1 waiting" in html
        desk.paper_out = False
        db.session.query(PrintJob).update({"next_attempt_at": None})
        db.session.commit()
        printing.drain()
        html = web.get("/reception/").get_data(as_text=True)
        assert 'data-state="online"' in html and ": done" in html
        resp = web.post(
            f"/reception/visits/{visit.id}/badge",
            data={"reason": "badge lost"},
            headers={"HX-Request": "true", "X-CSRFToken": csrf_from(html)},
        )
        assert "queued for printer" in resp.get_data(as_text=True)
        resp = web.post(
            f"/reception/visits/{visit.id}/badge",
            data={"reason": ""},
            headers={"HX-Request": "true", "X-CSRFToken": csrf_from(html)},
        )
        assert "say why" in resp.get_data(as_text=True)
        jobs = db.session.query(PrintJob).order_by(PrintJob.id).all()
        assert [(j.reason, j.requested_by_id) for j in jobs] == [
            ("check-in", None),
            ("badge lost", staff["reception"].id),
        ]
