"""The badge follows the visitor's language: labels and the visitor-type band, checked
on what the printer prints (render -> ESC/POS -> decoded raster), and end to end from a
kiosk check-in in Chinese to the loopback printer."""

import io

import pytest
from PIL import Image, ImageChops, ImageDraw

from printers.badge import Badge, fit_text, render_badge, visitor_type_for
from printers.fonts import draw_text, text_width
from printers.raster import decode_raster, encode_badge
from server.extensions import db
from server.models import Visit
from server.services import badges, checkin, photos, printing
from tests.kiosk_helpers import KioskClient, ticket_in

WIDTH, INNER, BAND = 576, 576 - 2 * 28, 76


def printed(badge: Badge) -> Image.Image:
    [img] = decode_raster(encode_badge(render_badge(badge, width=WIDTH)))
    return img


def ink(img: Image.Image) -> int:
    return img.convert("L").histogram()[0]


def ink_lines(img: Image.Image) -> list[Image.Image]:
    """Each run of inked rows, cropped to its ink (a text line, the QR ...)."""
    grey = img.convert("L")
    w, h = grey.size
    data = grey.tobytes()
    inked = [b"\x00" in data[y * w : (y + 1) * w] for y in range(h)]
    lines, top = [], None
    for y, on in enumerate(inked + [False]):
        if on and top is None:
            top = y
        elif not on and top is not None:
            strip = grey.crop((0, top, w, y))
            box = ImageChops.invert(strip).getbbox()
            assert box is not None  # the strip's rows are inked
            left, _, right, _ = box
            lines.append(strip.crop((left, 0, right, y - top)).convert("1"))
            top = None
    return lines


def glyphs(text: str, size: int) -> Image.Image:
    """``text`` drawn on its own at ``size``, cropped to its ink."""
    im = Image.new("1", (text_width(text, size) + 40, size * 2), 1)
    draw_text(ImageDraw.Draw(im), (10, 10), text, size)
    return im.crop(ImageChops.invert(im.convert("L")).getbbox())


def shows(img: Image.Image, text: str, size: int) -> bool:
    """True if a line of ``img`` is ``text`` at ``size``: same box (±2 dots) and at
    most 15% of its ink different at the best of a few one-dot shifts."""
    want = glyphs(text, size)
    for line in ink_lines(img):
        if abs(line.width - want.width) > 2 or abs(line.height - want.height) > 2:
            continue
        best = min(
            ink(
                ImageChops.invert(
                    ImageChops.logical_xor(
                        line.crop((dx, dy, dx + want.width, dy + want.height)), want
                    )
                )
            )
            for dx in range(-1, 2)
            for dy in range(-1, 2)
        )
        if best <= 0.15 * ink(want):
            return True
    return False


def detail_size(text: str) -> int:
    return fit_text(text, INNER, 30, 22, two_line_max=26)[0]


def full_badge(language: str) -> Badge:
    return Badge(
        "Ada Lovelace",
        "Analytical Engines",
        "Grace Hopper",
        "2024-06-01 09:30",
        "V-20240601-0042",
        visitor_type=visitor_type_for("visitor", None, language),
        meeting_room="Room 3",
        valid_until="2024-06-01 23:59",
        language=language,
    )


def band_of(img: Image.Image) -> Image.Image:
    """The band's white letters as black on white."""
    return ImageChops.invert(img.convert("L").crop((0, 0, WIDTH, BAND))).convert("1")


LABELS = {
    "zh": ["接待人：Grace Hopper", "会议室：Room 3", "有效期至 2024-06-01 23:59"],
    "en": ["Host: Grace Hopper", "Room: Room 3", "Valid until 2024-06-01 23:59"],
}


def test_visitor_type_band_puts_the_visitors_language_first():
    assert visitor_type_for("visitor") == "VISITOR 访客"
    assert visitor_type_for("visitor", None, "zh") == "访客 VISITOR"
    assert visitor_type_for("contractor", 2, "zh") == "承包商 CONTRACTOR"
    assert visitor_type_for("visitor", 5, "zh") == "贵宾 VIP"
    assert visitor_type_for("vip", None, "en") == "VIP 贵宾"
    # A band text read back keeps its kind, in either order.
    assert visitor_type_for("访客 VISITOR", None, "en") == "VISITOR 访客"
    assert visitor_type_for("媒体", None, "en") == "MEDIA 媒体"


@pytest.mark.parametrize("language, other", [("zh", "en"), ("en", "zh")])
def test_labels_print_in_the_visitors_language(language, other):
    img = printed(full_badge(language))
    for text in LABELS[language]:
        assert shows(img, text, detail_size(text)), f"{text!r} not printed"
    for text in LABELS[other]:
        assert not shows(img, text, detail_size(text)), f"{text!r} printed on a {language} badge"


def test_chinese_and_english_badges_differ_in_the_label_area_only_below_the_name():
    zh, en = printed(full_badge("zh")), printed(full_badge("en"))
    assert zh.size == en.size
    diff = ImageChops.difference(zh.convert("L"), en.convert("L")).getbbox()
    assert diff is not None
    # The name and company lines are the same; the band and the labels are not.
    name_area = (0, BAND + 10, WIDTH, BAND + 150)
    assert (
        ImageChops.difference(
            zh.crop(name_area).convert("L"), en.crop(name_area).convert("L")
        ).getbbox()
        is None
    )


def test_band_reads_chinese_first_on_a_chinese_badge():
    zh, en = printed(full_badge("zh")), printed(full_badge("en"))
    size = fit_text("访客 VISITOR", INNER, 44, 20)[0]
    assert shows(band_of(zh), "访客 VISITOR", size)
    assert shows(band_of(en), "VISITOR 访客", size)
    assert not shows(band_of(zh), "VISITOR 访客", size)
    # A VIP band too (its white frame is part of the band: compare the text only).
    vip_zh = Badge("Ada", visitor_type="VIP 贵宾", stars=5, language="zh")
    assert shows(
        band_of(printed(vip_zh)).crop((30, 14, WIDTH - 30, BAND - 14)),
        "贵宾 VIP",
        fit_text("贵宾 VIP", WIDTH - 2 * 21, 44, 20)[0],
    )


def test_unknown_language_prints_english_labels():
    badge = full_badge("en")
    badge.language = "fr"
    assert shows(printed(badge), "Host: Grace Hopper", detail_size("Host: Grace Hopper"))


def test_badge_for_follows_the_visit_language_and_photo(app, make_visit):
    visit = make_visit()
    checkin.check_in(visit.code, language="zh")
    assert badges.badge_for(visit).language == "zh"
    assert badges.badge_for(visit).visitor_type == "访客 VISITOR"
    assert badges.badge_for(visit).photo is None
    photos.save(visit.id, jpeg_of((200, 40, 40)))
    assert badges.badge_for(visit).photo is not None
    badges.save_layout({"show_photo": False})
    assert badges.badge_for(visit).photo is None
    assert badges.badge_for(visit, with_photo=True).photo is not None

    english = make_visit("José Müller")
    checkin.check_in(english.code)  # no kiosk language: the badge is English
    assert badges.badge_for(english).language == "en"
    assert badges.badge_for(english).visitor_type == "VISITOR 访客"


def jpeg_of(colour, size=(480, 640)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def test_visitor_checked_in_on_the_kiosk_in_chinese_gets_a_chinese_badge(app, make_visit, printer):
    visit = make_visit()
    kiosk = KioskClient(app, language="zh")
    html = kiosk.skip_photo(kiosk.scan(visit.code).get_data(as_text=True))
    assert 'data-outcome="welcome"' in html
    db.session.rollback()
    assert db.session.get(Visit, visit.id).language == "zh"

    assert printing.drain() == 1
    printer.wait_for_jobs(1)
    [badge] = printer.images()
    for text in LABELS["zh"][:1]:
        assert shows(badge, text, detail_size(text))
    assert not shows(badge, "Host: Grace Hopper", detail_size("Host: Grace Hopper"))
    assert shows(band_of(badge), "访客 VISITOR", fit_text("访客 VISITOR", INNER, 44, 20)[0])


def test_visitor_checked_in_in_english_gets_an_english_badge_with_the_kiosk_photo(
    app, make_visit, printer
):
    plain, pictured = make_visit("Ada Lovelace"), make_visit("Ada Lovelace")
    kiosk = KioskClient(app, language="en")
    kiosk.skip_photo(kiosk.scan(plain.code).get_data(as_text=True))
    html = kiosk.scan(pictured.code).get_data(as_text=True)
    assert 'data-screen="photo"' in html
    done = kiosk.post(
        "/kiosk/photo",
        {
            "ticket": ticket_in(html),
            "attempt": "a" * 20,
            "photo": (io.BytesIO(jpeg_of((40, 40, 40))), "p.jpg"),
        },
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'data-outcome="welcome"' in done

    assert printing.drain() == 2
    printer.wait_for_jobs(2)
    without, with_photo = printer.images()
    assert shows(with_photo, "Host: Grace Hopper", detail_size("Host: Grace Hopper"))
    # The photo sits left of the name (80 mm) in a black frame just inside the margin,
    # where a badge without a photo is blank; inside the frame it is dark dither.
    frame = (25, BAND + 40, 28, BAND + 220)
    assert ink(with_photo.crop(frame)) == 3 * 180 and ink(without.crop(frame)) == 0
    inside = (40, BAND + 60, 180, BAND + 200)
    assert ink(with_photo.crop(inside)) > 0.5 * 140 * 140
