"""/admin/kiosk-settings: the admin brands the kiosks (company name, logo, welcome
message per language), turns photos on or off, sets how long a rules signature lasts
and each kiosk's default language; the kiosks show it. Flask test client, real app."""

import io
import re

import pytest
from PIL import Image, ImageDraw

from server.extensions import db
from server.models import Kiosk
from server.services import devices, kiosk_settings
from tests.conftest import PASSWORD, csrf_from, login
from tests.kiosk_helpers import KioskClient
from tests.test_browser import browser, device  # noqa: F401

PAGE = "/admin/kiosk-settings"


def signed_in(app, email="admin@example.com"):
    web = app.test_client()
    login(web, email)
    return web


def image_bytes(fmt="PNG", size=(240, 80), colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def post_settings(web, logo=None, **fields):
    page = web.get(PAGE).get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(page),
        "company_name": "Analytical Engines Ltd.",
        "welcome_en": "Welcome to our plant",
        "welcome_zh": "欢迎参观我们的工厂",
        "photo_enabled": "1",
        "rules_valid_days": "180",
        **fields,
    }
    data = {k: v for k, v in data.items() if v is not None}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[1]), logo[0])
    return web.post(PAGE, data=data, content_type="multipart/form-data")


def field_errors(html: str) -> dict:
    return dict(re.findall(r'class="field-error" data-field="([a-z_]+)"[^>]*>([^<]+)<', html))


def test_kiosk_settings_are_for_admins_only(app, staff):
    assert app.test_client().get(PAGE).status_code == 302  # to the sign-in page
    for email in ("desk@example.com", "grace@example.com"):
        web = signed_in(app, email)
        assert web.get(PAGE).status_code == 403
        token = csrf_from(
            web.get("/host/" if "grace" in email else "/reception/").get_data(as_text=True)
        )
        assert (
            web.post(PAGE, data={"csrf_token": token, "company_name": "Hacked"}).status_code == 403
        )
    assert kiosk_settings.get().company_name == ""


def test_admin_saves_branding_and_kiosks_show_it_in_both_languages(app, staff):
    web = signed_in(app)
    resp = post_settings(web, logo=("logo.png", image_bytes()))
    assert resp.status_code == 303
    page = web.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Saved." in page and 'value="Analytical Engines Ltd."' in page
    assert "欢迎参观我们的工厂" in page and 'value="180"' in page
    settings = kiosk_settings.get()
    assert (
        settings.company_name,
        settings.welcome_en,
        settings.welcome_zh,
        settings.photo_enabled,
        settings.rules_valid_days,
    ) == ("Analytical Engines Ltd.", "Welcome to our plant", "欢迎参观我们的工厂", True, 180)
    assert Image.open(io.BytesIO(settings.logo_png)).format == "PNG"
    assert web.get("/admin/kiosk-settings/logo.png").data == settings.logo_png

    kiosk = KioskClient(app, language="en")
    start = kiosk.client.get("/kiosk/").get_data(as_text=True)
    assert 'src="/kiosk/logo?v=' in start and "Analytical Engines Ltd." in start
    assert "Welcome to our plant" in start and "欢迎参观我们的工厂" not in start
    zh = kiosk.client.get("/kiosk/", query_string={"lang": "zh"}).get_data(as_text=True)
    assert "欢迎参观我们的工厂" in zh and "Welcome to our plant" not in zh
    logo = kiosk.client.get("/kiosk/logo")
    assert logo.mimetype == "image/png" and logo.data == settings.logo_png


def test_a_jpeg_logo_is_kept_as_png_and_can_be_removed(app, staff):
    web = signed_in(app)
    assert (
        post_settings(web, logo=("logo.jpg", image_bytes("JPEG", (1600, 400)))).status_code == 303
    )
    logo = Image.open(io.BytesIO(kiosk_settings.get().logo_png))
    assert logo.format == "PNG" and max(logo.size) <= kiosk_settings.LOGO_MAX_SIDE
    assert post_settings(web, remove_logo="1").status_code == 303
    db.session.rollback()
    assert kiosk_settings.get().logo_png is None
    assert web.get("/admin/kiosk-settings/logo.png").status_code == 404
    assert 'src="/kiosk/logo' not in KioskClient(app).client.get("/kiosk/").get_data(as_text=True)


@pytest.mark.parametrize(
    "logo, message",
    [
        (("logo.gif", image_bytes("GIF")), "PNG or JPEG"),
        (("logo.png", b"not an image at all"), "not a PNG or JPEG image"),
        (("logo.png", b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10)), "at most 2 MB"),
    ],
)
def test_a_logo_that_is_not_a_png_or_jpeg_is_refused_on_the_form(app, staff, logo, message):
    web = signed_in(app)
    resp = post_settings(web, logo=logo, company_name="Changed")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in field_errors(html)["logo"]
    assert 'value="Changed"' in html  # what was typed stays on the form
    assert kiosk_settings.get().company_name == ""  # nothing saved


def test_every_bad_field_is_shown_at_once_and_nothing_is_saved(app, staff):
    web = signed_in(app)
    assert post_settings(web).status_code == 303
    resp = post_settings(
        web,
        company_name="X" * 201,
        welcome_zh="欢" * 501,
        rules_valid_days="forever",
        logo=("logo.txt", b"hello"),
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    errors = field_errors(html)
    assert set(errors) == {"company_name", "welcome_zh", "rules_valid_days", "logo"}
    assert "200" in errors["company_name"] and "500" in errors["welcome_zh"]
    assert "0 to 3650" in errors["rules_valid_days"]
    assert 'value="forever"' in html and "Traceback" not in html
    db.session.rollback()
    assert kiosk_settings.get().company_name == "Analytical Engines Ltd."
    assert kiosk_settings.get().rules_valid_days == 180
    for days in ("-1", "3651", "", "1.5"):
        resp = post_settings(web, rules_valid_days=days)
        assert resp.status_code == 422 and "rules_valid_days" in field_errors(
            resp.get_data(as_text=True)
        )


def test_photos_can_be_turned_off(app, staff):
    web = signed_in(app)
    assert kiosk_settings.get().photo_enabled is True
    assert post_settings(web, photo_enabled=None).status_code == 303  # box unticked
    db.session.rollback()
    assert kiosk_settings.get().photo_enabled is False
    page = web.get(PAGE).get_data(as_text=True)
    assert re.search(r'name="photo_enabled" value="1"\s*>', page)  # shown unticked


def test_saving_needs_the_csrf_token(app, staff):
    web = signed_in(app)
    resp = web.post(PAGE, data={"company_name": "Forged"})
    assert resp.status_code == 400
    assert kiosk_settings.get().company_name == ""


def test_admin_sets_each_kiosks_default_language(app, staff):
    front, _ = devices.add_kiosk("Front door")
    side, _ = devices.add_kiosk("Side door")
    kiosk = KioskClient(app, name="Lobby")
    web = signed_in(app)
    page = web.get(PAGE).get_data(as_text=True)
    assert all(name in page for name in ("Front door", "Side door", "Lobby"))
    lobby_id = db.session.scalar(db.select(Kiosk.id).where(Kiosk.name == "Lobby"))
    resp = web.post(
        f"{PAGE}/kiosks/{lobby_id}/language", data={"csrf_token": csrf_from(page), "language": "zh"}
    )
    assert resp.status_code == 303
    db.session.rollback()
    assert db.session.get(Kiosk, lobby_id).language == "zh"
    assert db.session.get(Kiosk, front.id).language == ""  # unset: follows the browser

    # The kiosk now greets in Chinese until the visitor switches.
    start = kiosk.client.get("/kiosk/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in start and 'data-default-lang="zh"' in start
    assert "欢迎" in start

    bad = web.post(
        f"{PAGE}/kiosks/{side.id}/language", data={"csrf_token": csrf_from(page), "language": "fr"}
    )
    assert bad.status_code == 422
    assert "zh or en" in field_errors(bad.get_data(as_text=True))["language"]
    assert (
        web.post(
            f"{PAGE}/kiosks/99999/language", data={"csrf_token": csrf_from(page), "language": "zh"}
        ).status_code
        == 404
    )
    db.session.rollback()
    assert db.session.get(Kiosk, side.id).language == ""  # unchanged (unset: the browser's)


def test_set_kiosk_language_service_refuses_unknown_values(app):
    from server.services.errors import NotFound, ValidationError

    kiosk, _ = devices.add_kiosk("Front door")
    with pytest.raises(ValidationError) as e:
        devices.set_kiosk_language(kiosk.id, "zh-TW")
    assert e.value.code == "invalid_language"
    with pytest.raises(NotFound):
        devices.set_kiosk_language(kiosk.id + 1, "zh")
    assert devices.set_kiosk_language(kiosk.id, "zh").language == "zh"


@pytest.mark.browser
def test_admin_page_brands_the_kiosks_in_both_languages_and_orientations(
    app,
    device,
    staff,  # noqa: F811
    tmp_path,
):
    """In Chromium: the admin saves the branding and one kiosk's language on the page;
    the kiosks' headers and start screens show it, portrait and landscape, zh and en."""
    from playwright.sync_api import expect

    from tests.kiosk_helpers import snap

    portrait_kiosk, portrait_path = devices.add_kiosk("Portrait door")
    _, landscape_path = devices.add_kiosk("Landscape door")
    logo = tmp_path / "logo.png"
    mark = Image.new("RGB", (360, 120), "white")  # a gear-ish mark and a bar: a logo
    draw = ImageDraw.Draw(mark)
    draw.ellipse((12, 12, 108, 108), fill=(21, 94, 239))
    draw.ellipse((40, 40, 80, 80), fill="white")
    draw.rectangle((128, 44, 340, 76), fill=(11, 27, 63))
    mark.save(logo)

    admin = device()
    admin.set_default_timeout(15000)  # the first page builds the web font subsets
    admin.goto("/login")
    admin.fill("input[name=email]", "admin@example.com")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("button[type=submit]")
    admin.wait_for_url(lambda url: "/login" not in url)
    admin.locator("#nav-setup summary").click()  # the admin's setup menu
    admin.get_by_role("link", name="Kiosk settings 终端设置").click()
    admin.wait_for_url("**/admin/kiosk-settings")
    # A wrong file and a wrong number first: both are marked, what was typed stays.
    gif = tmp_path / "logo.gif"
    gif.write_bytes(image_bytes("GIF"))
    admin.fill("input[name=company_name]", "Analytical Engines Ltd.")
    admin.set_input_files("input[name=logo]", str(gif))
    admin.fill("input[name=rules_valid_days]", "forever")
    admin.click("#kiosk-settings-form button[type=submit]")
    expect(admin.locator(".field-error[data-field=logo]")).to_contain_text("PNG or JPEG")
    expect(admin.locator(".field-error[data-field=rules_valid_days]")).to_be_visible()
    expect(admin.locator("input[name=company_name]")).to_have_value("Analytical Engines Ltd.")
    snap(admin, "admin-kiosk-settings-errors")
    admin.fill("input[name=rules_valid_days]", "365")
    admin.fill("textarea[name=welcome_en]", "Welcome to the Engine Works")
    admin.fill("textarea[name=welcome_zh]", "欢迎莅临分析机工厂")
    admin.set_input_files("input[name=logo]", str(logo))
    admin.click("#kiosk-settings-form button[type=submit]")
    expect(admin.locator(".ok")).to_contain_text("Saved.")
    row = admin.locator("li[data-kiosk='Portrait door']")
    row.locator("select[name=language]").select_option("zh")
    row.get_by_role("button", name="Save 保存").click()
    expect(admin.locator(".ok")).to_contain_text("Kiosk language saved.")
    expect(admin.locator("li[data-kiosk='Portrait door'] select")).to_have_value("zh")
    expect(admin.locator("img.logo-preview")).to_be_visible()
    snap(admin, "admin-kiosk-settings")
    db.session.rollback()
    assert db.session.get(Kiosk, portrait_kiosk.id).language == "zh"

    welcome = {"zh": "欢迎莅临分析机工厂", "en": "Welcome to the Engine Works"}
    for path, size, first in (
        (portrait_path, {"width": 1080, "height": 1920}, "zh"),
        (landscape_path, {"width": 1280, "height": 800}, "en"),
    ):
        page = device()
        page.set_viewport_size(size)
        page.goto(path)
        page.wait_for_url("**/kiosk/")
        orientation = "portrait" if size["height"] > size["width"] else "landscape"
        for lang in (first, "en" if first == "zh" else "zh"):
            if lang != first:
                page.locator(f".lang-switch .lang[data-lang={lang}]").click()
            expect(page.locator("html")).to_have_attribute(
                "lang", "zh-CN" if lang == "zh" else "en"
            )
            header = page.locator(".kiosk-header")
            expect(header.locator(".company-name")).to_have_text("Analytical Engines Ltd.")
            expect(page.locator("#kiosk-start .welcome-message")).to_have_text(welcome[lang])
            page.wait_for_function(
                "() => "
                "(() => { const i = document.querySelector('.kiosk-header img.logo');"
                " return i && i.complete && i.naturalWidth > 0; })()"
            )
            box = header.locator("img.logo").bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"] / 4
            snap(page, f"kiosk-branding-{lang}-{orientation}")
