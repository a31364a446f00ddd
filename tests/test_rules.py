"""Site rules / NDA: versions published by the admin, signed on the kiosk (once per
validity period and version), declined (reception is told), and the signature image
for staff, with its access rules."""

import base64
import io
import re
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from server.extensions import db
from server.models import DeskRequest, Event, Signature, SiteRules, Visit, utcnow
from server.services import checkin, kiosk_settings, rules
from server.services.errors import CheckInError, Conflict, ValidationError
from tests.conftest import csrf_from, login
from tests.kiosk_helpers import KioskClient, ticket_in

XSS = "<img src=x onerror=alert(1)>"
RULES_EN = "1. No photos on the shop floor.\n2. What you see here stays here."
RULES_ZH = "一、车间内禁止拍照。\n二、在此所见内容须保密。"


def signature_png(width=600, height=200, ink=True) -> bytes:
    """A canvas export: transparent, with a scribble when ``ink``."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line(
            [(40, 150), (120, 40), (200, 160), (320, 50), (480, 140)],
            fill=(16, 24, 40, 255),
            width=4,
        )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.fixture
def published(staff):
    return rules.publish(RULES_EN, RULES_ZH, staff["admin"])


@pytest.fixture
def kiosk(app):
    kiosk_settings.save(photo_enabled=False)  # the photo step is another part's
    return KioskClient(app)


def form_fields(html: str) -> dict:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields.pop("csrf_token", None)
    return fields


def sign_on(kiosk: KioskClient, html: str, png: bytes | None = None, **extra):
    """Accept the rules screen ``html`` with ``png`` (a good signature by default)."""
    data = {
        **form_fields(html),
        "signature": data_url(png or signature_png()),
        "accept": "1",
        **extra,
    }
    return kiosk.post("/kiosk/rules", data).get_data(as_text=True)


def signatures() -> list[Signature]:
    db.session.rollback()
    return list(db.session.scalars(select(Signature).order_by(Signature.id)))


# ---- publishing -------------------------------------------------------------------


def test_each_publication_is_the_next_version_by_its_publisher(staff):
    assert rules.current() is None
    first = rules.publish(RULES_EN, RULES_ZH, staff["admin"])
    second = rules.publish(
        RULES_EN + "\n3. Wear the badge.", RULES_ZH, staff["admin"], base_version=1
    )
    assert (first.version, second.version) == (1, 2)
    assert rules.current().id == second.id
    assert second.published_by_id == staff["admin"].id
    assert [v.version for v in rules.versions()] == [2, 1]
    assert db.session.get(SiteRules, first.id).text_en == RULES_EN  # old versions stay as they were


def test_publishing_needs_both_texts_within_the_length_limit(staff):
    with pytest.raises(ValidationError) as e:
        rules.publish("  ", RULES_ZH, staff["admin"])
    assert e.value.code == "invalid_rules" and set(e.value.fields) == {"text_en"}
    with pytest.raises(ValidationError) as e:
        rules.publish(RULES_EN, "x" * (rules.MAX_TEXT + 1), staff["admin"])
    assert set(e.value.fields) == {"text_zh"}
    assert rules.current() is None


def test_publishing_over_a_version_published_meanwhile_is_refused(staff, published):
    rules.publish(RULES_EN + " v2", RULES_ZH, staff["admin"], base_version=1)
    with pytest.raises(Conflict) as e:
        rules.publish(RULES_EN + " mine", RULES_ZH, staff["admin"], base_version=1)
    assert e.value.code == "rules_changed"
    assert rules.current().version == 2


def test_publishing_the_same_texts_again_is_refused(staff, published):
    with pytest.raises(ValidationError) as e:
        rules.publish(RULES_EN + "\r\n", RULES_ZH, staff["admin"])
    assert e.value.code == "unchanged"
    assert rules.current().version == 1


# ---- signing at the kiosk ------------------------------------------------------------


def test_without_published_rules_there_is_no_signing_step(kiosk, make_visit):
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    assert 'data-outcome="welcome"' in html
    assert 'data-screen="rules"' not in html


def test_visitor_reads_the_rules_in_their_language_and_signs(app, kiosk, published, make_visit):
    visit = make_visit(email="ada@example.com")
    html = kiosk.scan(visit.code).get_data(as_text=True)
    assert 'data-screen="rules"' in html and "What you see here stays here." in html
    assert 'class="signature-pad"' in html and f'name="rules_id" value="{published.id}"' in html
    kiosk.language = "zh"  # the switch re-renders the step from its data-refresh URL
    html = kiosk.get("/kiosk/step", ticket=ticket_in(html)).get_data(as_text=True)
    assert "在此所见内容须保密" in html and "What you see" not in html

    html = sign_on(kiosk, html)
    assert 'data-outcome="welcome"' in html
    [sig] = signatures()
    assert (sig.visit_id, sig.version, sig.rules_id, sig.language) == (
        visit.id,
        1,
        published.id,
        "zh",
    )
    assert sig.kiosk_id is not None and sig.visitor_key == "email:ada@example.com"
    stored = Image.open(io.BytesIO(sig.image_png))
    assert stored.format == "PNG" and stored.mode == "L"  # re-encoded: ink on white
    assert stored.getpixel((0, 0)) == 255 and stored.getextrema()[0] < 100
    db.session.rollback()
    assert db.session.get(Visit, visit.id).status == "checked_in"


def test_a_signature_is_asked_once_within_its_validity(kiosk, published, make_visit):
    first = make_visit(email="ada@example.com")
    sign_on(kiosk, kiosk.scan(first.code).get_data(as_text=True))
    again = make_visit(email="ADA@example.com", company="Another name for the company")
    html = kiosk.scan(again.code).get_data(as_text=True)
    assert 'data-outcome="welcome"' in html  # no rules screen: still valid
    other = make_visit("Charles Babbage", email="charles@example.com")
    assert 'data-screen="rules"' in kiosk.scan(other.code).get_data(as_text=True)
    assert len(signatures()) == 1


def test_a_new_version_asks_again(staff, kiosk, published, make_visit):
    sign_on(kiosk, kiosk.scan(make_visit(email="ada@example.com").code).get_data(as_text=True))
    rules.publish(RULES_EN + "\n3. Wear your badge.", RULES_ZH, staff["admin"])
    html = kiosk.scan(make_visit(email="ada@example.com").code).get_data(as_text=True)
    assert 'data-screen="rules"' in html and 'data-version="2"' in html
    assert "Wear your badge." in html


def test_a_signature_older_than_the_validity_asks_again(kiosk, published, make_visit):
    kiosk_settings.save(rules_valid_days=365)
    sign_on(kiosk, kiosk.scan(make_visit(phone="+86 138 0013 8000").code).get_data(as_text=True))
    [sig] = signatures()
    sig.signed_at = utcnow() - timedelta(days=400)
    db.session.commit()
    visit = make_visit(phone="+8613800138000")
    assert rules.needs_signature(visit) is not None
    assert 'data-screen="rules"' in kiosk.scan(visit.code).get_data(as_text=True)
    kiosk_settings.save(rules_valid_days=500)  # the setting is read at each check
    assert rules.needs_signature(visit) is None


@pytest.mark.parametrize(
    "signature, code",
    [
        ("", "blank_signature"),
        (data_url(signature_png(ink=False)), "blank_signature"),
        ("data:image/jpeg;base64,/9j/4AAQ", "invalid_signature"),
        ("data:image/png;base64,not base64!", "invalid_signature"),
        (data_url(b"\x89PNG\r\n\x1a\n" + b"\0" * 100), "invalid_signature"),
    ],
)
def test_a_blank_or_broken_signature_shows_the_rules_again(
    kiosk, published, make_visit, signature, code
):
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    again = kiosk.post(
        "/kiosk/rules", {**form_fields(html), "signature": signature, "accept": "1"}
    ).get_data(as_text=True)
    assert 'data-screen="rules"' in again and f'data-error="{code}"' in again
    assert "What you see here stays here." in again
    assert signatures() == []
    assert sign_on(kiosk, again).count('data-outcome="welcome"') == 1  # then signs properly


def test_the_error_is_in_the_visitors_language(app, published, make_visit):
    kiosk_settings.save(photo_enabled=False)
    kiosk = KioskClient(app, language="zh")
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    again = kiosk.post(
        "/kiosk/rules", {**form_fields(html), "signature": "", "accept": "1"}
    ).get_data(as_text=True)
    assert "请先在框内签名" in again and "二、在此所见内容须保密" in again


def test_a_speck_is_not_a_signature():
    speck = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    ImageDraw.Draw(speck).ellipse((300, 100, 304, 104), fill=(0, 0, 0, 255))
    out = io.BytesIO()
    speck.save(out, format="PNG")
    with pytest.raises(ValidationError) as e:
        rules.signature_png(out.getvalue())
    assert e.value.code == "blank_signature"
    huge = io.BytesIO()
    Image.new("L", (5000, 100), 0).save(huge, format="PNG")
    with pytest.raises(ValidationError) as e:
        rules.signature_png(huge.getvalue())
    assert e.value.code == "invalid_signature"
    assert (
        Image.open(io.BytesIO(rules.signature_png(signature_png(3000, 600)))).width
        == rules.KEEP_WIDTH
    )


def test_signing_an_old_version_is_refused_and_the_new_one_shown(
    staff, kiosk, published, make_visit
):
    visit = make_visit()
    html = kiosk.scan(visit.code).get_data(as_text=True)
    rules.publish(RULES_EN + "\n3. New rule.", RULES_ZH, staff["admin"])  # while they read
    again = sign_on(kiosk, html)
    assert 'data-error="rules_changed"' in again and 'data-version="2"' in again
    assert "3. New rule." in again
    assert signatures() == []
    with pytest.raises(Conflict) as e:
        rules.sign(visit, published.id, "en", signature_png())
    assert e.value.code == "rules_changed"
    assert 'data-outcome="welcome"' in sign_on(kiosk, again)
    assert [s.version for s in signatures()] == [2]


def test_a_retried_signing_is_one_signature(kiosk, published, make_visit):
    kiosk_settings.save(photo_enabled=True)  # not checked in yet when the retry comes
    visit = make_visit()
    html = kiosk.scan(visit.code).get_data(as_text=True)
    first = sign_on(kiosk, html)
    retry = sign_on(kiosk, html)  # the same form (same attempt) sent again
    assert 'data-screen="photo"' in first and 'data-screen="photo"' in retry
    assert len(signatures()) == 1
    # and straight at the service, with the same attempt key
    other = make_visit("Charles Babbage")
    a = rules.sign(other, published.id, "en", signature_png(), attempt_key="k1:same-attempt-key1")
    b = rules.sign(other, published.id, "en", signature_png(), attempt_key="k1:same-attempt-key1")
    assert a.id == b.id and len(signatures()) == 2


def test_a_cancelled_visit_cannot_sign(published, make_visit):
    visit = make_visit()
    visit.status = "cancelled"
    db.session.commit()
    with pytest.raises(CheckInError) as e:
        rules.sign(visit, published.id, "en", signature_png())
    assert e.value.code == "cancelled"


def test_declining_sends_the_visitor_to_reception_once(kiosk, published, make_visit):
    visit = make_visit()
    html = kiosk.scan(visit.code).get_data(as_text=True)
    fields = {**form_fields(html), "decline": "1"}
    first = kiosk.post("/kiosk/rules", fields).get_data(as_text=True)
    retry = kiosk.post("/kiosk/rules", fields).get_data(as_text=True)
    for answer in (first, retry):
        assert 'data-outcome="see_reception"' in answer and 'data-reason="rules_declined"' in answer
        assert "You did not accept the site rules." in answer
    db.session.rollback()
    [req] = db.session.scalars(select(DeskRequest)).all()
    assert (req.kind, req.visit_id, req.details) == (
        "rules_declined",
        visit.id,
        {"language": "en", "version": 1},
    )
    assert db.session.scalar(select(Event).where(Event.kind == "desk_request")) is not None
    assert signatures() == []
    assert db.session.get(Visit, visit.id).status == "expected"  # not checked in


def test_a_retried_decline_after_a_lost_button_still_declines(kiosk, published, make_visit):
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    answer = kiosk.post("/kiosk/rules", {**form_fields(html), "choice": "decline"}).get_data(
        as_text=True
    )
    assert 'data-reason="rules_declined"' in answer


@pytest.mark.parametrize("rules_id", ["9" * 30, "-1", "abc", ""])
def test_a_nonsense_rules_id_is_a_clear_answer_never_a_500(kiosk, published, make_visit, rules_id):
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    declined = kiosk.post(
        "/kiosk/rules", {**form_fields(html), "rules_id": rules_id, "decline": "1"}
    )
    assert declined.status_code == 200
    assert 'data-reason="rules_declined"' in declined.get_data(as_text=True)
    html = kiosk.scan(make_visit("Grace Second").code).get_data(as_text=True)
    signed = sign_on(kiosk, html, rules_id=rules_id)
    assert 'data-screen="rules"' in signed and signatures() == []  # shown again to sign


def test_a_forged_ticket_cannot_sign(kiosk, published, make_visit):
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    answer = sign_on(kiosk, html, ticket="forged.ticket.value")
    assert 'data-outcome="refused"' in answer and signatures() == []


def test_rules_text_is_escaped_on_kiosk_and_admin(app, staff, kiosk, make_visit):
    rules.publish(f"Rule {XSS}", f"规则 {XSS}", staff["admin"])
    html = kiosk.scan(make_visit(XSS).code).get_data(as_text=True)
    assert XSS not in html and "Rule &lt;img src=x onerror=alert(1)&gt;" in html
    admin = app.test_client()
    login(admin, "admin@example.com")
    page = admin.get("/admin/rules").get_data(as_text=True)
    assert XSS not in page and "规则 &lt;img" in page


# ---- staff: the admin page, the signature image ---------------------------------------


def test_admin_publishes_versions_through_the_page(app, staff):
    admin = app.test_client()
    login(admin, "admin@example.com")
    page = admin.get("/admin/rules").get_data(as_text=True)
    assert "Publish as version 1" in page and "No versions yet" in page
    token = csrf_from(page)
    bad = admin.post(
        "/admin/rules",
        data={"csrf_token": token, "text_en": RULES_EN, "text_zh": "", "base_version": "0"},
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'data-field="text_zh"' in text and "What you see here stays here." in text  # kept
    assert rules.current() is None
    ok = admin.post(
        "/admin/rules",
        data={"csrf_token": token, "text_en": RULES_EN, "text_zh": RULES_ZH, "base_version": "0"},
    )
    assert ok.status_code == 302 and ok.headers["Location"].endswith("/admin/rules?published=1")
    page = admin.get(ok.headers["Location"]).get_data(as_text=True)
    assert "Version 1 is published" in page and "Publish as version 2" in page
    assert "Alex Admin" in page and RULES_ZH.split("\n")[0] in page
    stale = admin.post(
        "/admin/rules",
        data={
            "csrf_token": token,
            "text_en": RULES_EN + "!",
            "text_zh": RULES_ZH,
            "base_version": "0",
        },
    )
    assert stale.status_code == 409 and "published meanwhile" in stale.get_data(as_text=True)
    assert rules.current().version == 1


def test_admin_rules_page_is_for_admins_with_csrf(app, staff):
    assert app.test_client().get("/admin/rules").status_code == 302  # to /login
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get("/admin/rules").status_code == 403
    assert desk.post("/admin/rules", data={"text_en": "a", "text_zh": "b"}).status_code in (
        400,
        403,
    )
    admin = app.test_client()
    login(admin, "admin@example.com")
    assert admin.post("/admin/rules", data={"text_en": "a", "text_zh": "b"}).status_code == 400
    assert rules.current() is None


def test_admin_sees_recent_signatures_with_their_image(app, staff, kiosk, published, make_visit):
    sign_on(kiosk, kiosk.scan(make_visit().code).get_data(as_text=True))
    [sig] = signatures()
    admin = app.test_client()
    login(admin, "admin@example.com")
    page = admin.get("/admin/rules").get_data(as_text=True)
    assert f"/admin/rules/signatures/{sig.id}.png" in page and "Ada Lovelace" in page
    image = admin.get(f"/admin/rules/signatures/{sig.id}.png")
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data == sig.image_png
    host = app.test_client()
    login(host, "grace@example.com")
    assert host.get(f"/admin/rules/signatures/{sig.id}.png").status_code == 403


def test_signature_image_is_for_reception_admin_and_the_visitors_own_host(
    app, staff, kiosk, published, make_visit
):
    signed = make_visit()
    sign_on(kiosk, kiosk.scan(signed.code).get_data(as_text=True))
    unsigned = make_visit("Charles Babbage", email="charles@example.com")
    url = f"/reception/visits/{signed.id}/signature.png"

    assert app.test_client().get(url).status_code == 302  # sign in first
    for email, status in [
        ("desk@example.com", 200),
        ("admin@example.com", 200),
        ("grace@example.com", 200),
        ("linus@example.com", 403),
    ]:
        client = app.test_client()
        login(client, email)
        resp = client.get(url)
        assert resp.status_code == status, email
        if status == 200:
            assert resp.mimetype == "image/png" and resp.data == signatures()[0].image_png
            assert client.get(f"/reception/visits/{unsigned.id}/signature.png").status_code == 404
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get("/reception/visits/999999/signature.png").status_code == 404


def test_reception_and_host_see_the_signed_line_on_the_visit(app, staff, published, make_visit):
    kiosk_settings.save(photo_enabled=False)
    kiosk = KioskClient(app, language="zh")
    visit = make_visit()
    sign_on(kiosk, kiosk.scan(visit.code).get_data(as_text=True))
    line = re.compile(r"Signed site rules v1 · 中文 · \d\d:\d\d")
    link = f'href="/reception/visits/{visit.id}/signature.png"'
    for email, path in [("desk@example.com", "/reception/"), ("grace@example.com", "/host/")]:
        client = app.test_client()
        login(client, email)
        page = client.get(path).get_data(as_text=True)
        assert line.search(page) and link in page, email
    other = app.test_client()
    login(other, "linus@example.com")
    assert link not in other.get("/host/").get_data(as_text=True)


def test_a_signature_from_an_earlier_visit_covers_the_next(
    app, staff, kiosk, published, make_visit
):
    first = make_visit(email="ada@example.com")
    sign_on(kiosk, kiosk.scan(first.code).get_data(as_text=True))
    second = make_visit(email="ada@example.com")
    checkin.check_in(second.code)
    db.session.rollback()
    info = rules.signature_for(db.session.get(Visit, second.id))
    assert info is not None and info.earlier and info.signature.visit_id == first.id
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get(f"/reception/visits/{second.id}/signature.png").status_code == 200
