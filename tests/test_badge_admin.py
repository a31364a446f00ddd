"""/admin/badge: the layout is data, edited with a live PNG preview; badges follow it."""

import io

import zxingcpp
from PIL import Image

from server.extensions import db
from server.models import BadgeLayout
from server.services import badges, checkin, printing
from tests.conftest import csrf_from, login


def admin(app):
    web = app.test_client()
    login(web, "admin@example.com")
    return web


def logo_png() -> bytes:
    img = Image.new("RGB", (200, 80), "white")
    for x in range(200):
        for y in range(80):
            img.putpixel((x, y), (x, x, 255 - x))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def form(page, **extra):
    data = {
        "csrf_token": csrf_from(page),
        "width": "576",
        "field_name": "1",
        "field_host": "1",
        "band": "1",
        "qr": "1",
    }
    data.update(extra)
    return data


def test_preview_png_follows_the_unsaved_settings(app, staff):
    web = admin(app)
    resp = web.get("/admin/badge/preview.png?width=384&field_name=1&qr=1&band=1")
    image = Image.open(io.BytesIO(resp.data))
    assert resp.status_code == 200 and image.width == 384
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [badges.sample_badge().code]
    fragment = web.get(
        "/admin/badge/preview?width=384&field_name=1", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "preview.png?width=384" in fragment


def test_saving_a_layout_with_a_logo_changes_printed_badges(app, staff, make_visit, printer):
    web = admin(app)
    page = web.get("/admin/badge").get_data(as_text=True)
    resp = web.post(
        "/admin/badge",
        data={**form(page), "logo": (io.BytesIO(logo_png()), "logo.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302 and "saved=1" in resp.headers["Location"]
    row = db.session.query(BadgeLayout).one()
    assert row.config["fields"] == ["name", "host"] and row.logo_png
    layout = badges.current_layout()
    assert layout.logo is not None and layout.fields == ("name", "host")
    checkin.check_in(make_visit().code)
    printing.drain()
    [image] = printer.images()
    top = image.convert("L").crop((0, 0, image.width, 120))
    histogram = top.histogram()
    assert sum(histogram[:128]) > 500 and sum(histogram[128:]) > 500  # dithered logo: both inks


def test_a_file_that_is_not_an_image_is_refused_and_nothing_changes(app, staff):
    web = admin(app)
    page = web.get("/admin/badge").get_data(as_text=True)
    resp = web.post(
        "/admin/badge",
        data={**form(page), "logo": (io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "not an image" in resp.get_data(as_text=True)
    assert db.session.query(BadgeLayout).count() == 0


def test_bad_width_is_a_clear_error(app, staff):
    web = admin(app)
    page = web.get("/admin/badge").get_data(as_text=True)
    resp = web.post("/admin/badge", data=form(page, width="wide"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "576 (80 mm) or 384" in html and 'id="badge-form"' in html
    frag = web.get("/admin/badge/preview?width=100", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "multiple of 8" in frag


def test_badge_layout_is_for_admins_only(app, staff):
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get("/admin/badge").status_code == 403
    assert desk.get("/admin/badge/preview.png").status_code == 403
