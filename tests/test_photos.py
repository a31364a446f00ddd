"""Visitor photos: taken at the kiosk (optional, the admin may turn it off), shown to
staff allowed to see the visit (the host's alert and card), and gone with the visit."""

import io

from PIL import Image
from sqlalchemy import delete, select, text

from server.extensions import db
from server.models import Visit, VisitPhoto
from server.services import checkin, kiosk_settings, photos
from tests.conftest import csrf_from, login, staff_socket
from tests.kiosk_helpers import KioskClient, ticket_in


def jpeg(colour=(250, 200, 40), size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def signed_in(app, email):
    web = app.test_client()
    login(web, email)
    return web


def url(visit) -> str:
    return f"/host/visits/{visit.id}/photo.jpg"


def test_host_sees_only_their_own_visitors_photo_reception_and_admin_all(app, staff, make_visit):
    visit = make_visit()
    photos.save(visit.id, jpeg())
    for email in ("grace@example.com", "desk@example.com", "admin@example.com"):
        resp = signed_in(app, email).get(url(visit))
        assert resp.status_code == 200, email
        assert resp.mimetype == "image/jpeg"
        assert resp.headers["Cache-Control"].startswith("private")
        shown = Image.open(io.BytesIO(resp.data))
        assert shown.format == "JPEG" and max(shown.size) <= photos.MAX_SIDE
    assert signed_in(app, "linus@example.com").get(url(visit)).status_code == 403
    anonymous = app.test_client().get(url(visit))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_no_photo_or_no_visit_is_a_404(app, staff, make_visit):
    visit = make_visit()
    grace = signed_in(app, "grace@example.com")
    assert grace.get(url(visit)).status_code == 404
    assert grace.get("/host/visits/999999/photo.jpg").status_code == 404
    assert grace.get("/host/visits/99999999999999999999999/photo.jpg").status_code == 404


def test_arrival_alert_says_whether_there_is_a_photo(app, staff, make_visit):
    pictured, plain = make_visit("Ada Lovelace"), make_visit("José Müller")
    photos.save(pictured.id, jpeg())
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    checkin.check_in(pictured.code)
    checkin.check_in(plain.code)
    arrived = {
        m["args"][0]["visitor"]["name"]: m["args"][0]
        for m in grace.get_received()
        if m["name"] == "visitor_arrived"
    }
    assert arrived["Ada Lovelace"]["photo"] is True
    assert arrived["José Müller"]["photo"] is False


def test_host_card_shows_the_photo_of_a_visitor_who_has_one(app, staff, make_visit):
    pictured, plain = make_visit("Ada Lovelace"), make_visit("José Müller")
    photos.save(pictured.id, jpeg())
    page = signed_in(app, "grace@example.com").get("/host/").get_data(as_text=True)
    assert f'src="{url(pictured)}"' in page
    assert url(plain) not in page


def test_deleting_a_visit_deletes_its_photo(app, staff, make_visit):
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    visit, other = make_visit("Ada Lovelace"), make_visit("José Müller")
    photos.save(visit.id, jpeg())
    photos.save(other.id, jpeg((10, 10, 10)))
    db.session.execute(delete(Visit).where(Visit.id == visit.id))
    db.session.commit()
    assert db.session.scalars(select(VisitPhoto.visit_id)).all() == [other.id]


def photo_setting(app, on: bool):
    """Turn kiosk photos on or off through the admin page, as an admin does."""
    web = signed_in(app, "admin@example.com")
    page = web.get("/admin/kiosk-settings").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "rules_valid_days": "365"}
    if on:
        data["photo_enabled"] = "1"
    assert web.post("/admin/kiosk-settings", data=data).status_code == 303
    db.session.rollback()
    assert kiosk_settings.get().photo_enabled is on


def test_with_photos_turned_off_the_kiosk_skips_the_photo_step(app, staff, make_visit):
    first, second = make_visit("Ada Lovelace"), make_visit("张伟")
    kiosk = KioskClient(app, language="zh")
    html = kiosk.scan(first.code).get_data(as_text=True)
    assert 'data-screen="photo"' in html and "拍照" in html  # on by default, in Chinese

    photo_setting(app, on=False)
    html = kiosk.scan(second.code).get_data(as_text=True)
    assert 'data-screen="photo"' not in html and 'data-outcome="welcome"' in html
    db.session.rollback()
    assert db.session.get(Visit, second.id).status == "checked_in"
    assert photos.get(second.id) is None


def test_photo_taken_at_the_kiosk_is_kept_as_a_small_jpeg(app, staff, make_visit):
    visit = make_visit()
    kiosk = KioskClient(app)
    html = kiosk.scan(visit.code).get_data(as_text=True)
    big = jpeg((30, 90, 200), size=(1280, 720))
    done = kiosk.post(
        "/kiosk/photo",
        {"ticket": ticket_in(html), "attempt": "b" * 20, "photo": (io.BytesIO(big), "photo.jpg")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'data-outcome="welcome"' in done
    kept = Image.open(io.BytesIO(photos.get(visit.id)))
    assert kept.format == "JPEG" and kept.size == (640, 360)
    r, _, b = kept.convert("RGB").getpixel((320, 180))
    assert b > 150 and r < 80  # the blue it was


def test_skipping_the_photo_keeps_no_photo(app, staff, make_visit):
    visit = make_visit()
    kiosk = KioskClient(app, language="zh")
    html = kiosk.skip_photo(kiosk.scan(visit.code).get_data(as_text=True))
    assert 'data-outcome="welcome"' in html
    assert photos.get(visit.id) is None
    assert signed_in(app, "grace@example.com").get(url(visit)).status_code == 404
