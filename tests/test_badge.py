"""Badge rendering: size, QR round trip through ESC/POS, CJK and Latin names."""

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw

from printers.badge import Badge, fit_text, render_badge
from printers.fonts import draw_text, has_cjk_glyph, text_width
from printers.raster import decode_raster, encode_badge

BAND = 76  # black band height at 576 dots
NAME_AREA = (0, BAND, 576, BAND + 130)  # the name sits right under the band


def ink(img: Image.Image, box=None) -> int:
    """Number of black dots in ``img`` (optionally in ``box``)."""
    region = img.crop(box) if box else img
    return region.convert("L").histogram()[0]


def decoded_qr(img: Image.Image):
    results = zxingcpp.read_barcodes(img.convert("L"))
    return [r for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("width", [576, 384])
def test_badge_width_and_qr_survive_escpos_round_trip(width):
    code = "V-20240601-0042"
    img = render_badge(Badge("张伟", "Acme", "Ada Lovelace", "1 Jun 2024", code), width=width)
    assert img.mode == "1" and img.width == width
    assert 1.0 * width <= img.height <= 1.35 * width

    [printed] = decode_raster(encode_badge(img))
    assert printed.size == img.size
    [qr] = decoded_qr(printed)
    assert qr.text == code


def test_qr_is_large_enough_to_scan_at_80mm():
    img = render_badge(Badge("Ada Lovelace", code="https://lobby.example/v/8d3f2a9c"))
    [qr] = decoded_qr(img)
    assert qr.position.top_right.x - qr.position.top_left.x >= 180


def test_badge_without_code_has_no_qr():
    assert decoded_qr(render_badge(Badge("Ada Lovelace"))) == []


def test_chinese_name_draws_real_glyphs_not_tofu():
    with_name = render_badge(Badge("张伟", code="X"))
    without = render_badge(Badge("", code="X"))
    assert ink(with_name, NAME_AREA) - ink(without, NAME_AREA) > 1500

    def glyph(text):
        im = Image.new("1", (120, 120), 1)
        draw_text(ImageDraw.Draw(im), (0, 0), text, 80)
        return im

    zhang, wei, tofu = glyph("张"), glyph("伟"), glyph("\u0378")
    assert ImageChops.difference(zhang, wei).getbbox() is not None
    assert ImageChops.difference(zhang, tofu).getbbox() is not None


@pytest.mark.parametrize(
    "name",
    [
        "Maximilian Alexander von Hohenzollern-Sigmaringen",
        "Wolfeschlegelsteinhausenbergerdorffvoralternwarengewissenhaftschaferswessen",
        "欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜欧阳娜娜",
    ],
)
@pytest.mark.parametrize("width", [576, 384])
def test_long_names_are_wrapped_inside_the_margins(name, width):
    img = render_badge(Badge(name, "Company", "Host", "Today", "CODE"), width=width)
    body = img.crop((0, round(BAND * width / 576), width, img.height))
    left, _, right, _ = ImageChops.invert(body.convert("L")).getbbox()
    assert left >= 8 and right <= width - 8

    # The layout keeps every character: the lines join back into the name.
    size, lines = fit_text(name, width - 56, 92, 48, two_line_max=68)
    assert "".join(lines).replace(" ", "") == name.replace(" ", "")
    assert all(text_width(line, size) <= width - 56 for line in lines)
    assert len(lines) >= 2


def test_name_shrinks_to_one_line_before_wrapping():
    assert fit_text("Ada", 520, 92, 48, two_line_max=68) == (92, ["Ada"])
    size, lines = fit_text("Ada Lovelace", 520, 92, 48, two_line_max=68)
    assert len(lines) == 1 and 48 <= size < 92


@pytest.mark.parametrize(
    "name, special, plain",
    [
        ("Łukasz Nowak", "Ł", "L"),
        ("José Müller", "é", "e"),
        ("José Müller", "ü", "u"),
        ("Nguyễn Thị Minh Khai", "ễ", "e"),
        ("Nguyễn Thị Minh Khai", "ị", "i"),
    ],
)
def test_accented_latin_letters_render_with_their_marks(name, special, plain):
    def name_area(text):
        return render_badge(Badge(text, code="X")).crop(NAME_AREA)

    accented = name_area(name)
    for other in (plain, "\u0378"):  # the bare letter, and a missing glyph (tofu)
        assert ImageChops.difference(accented, name_area(name.replace(special, other))).getbbox()
    assert ink(accented) > 500


def test_letters_missing_from_the_cjk_font_fall_back_to_noto_sans():
    assert not has_cjk_glyph("Ł")  # Noto Sans SC lacks it...
    tofu = Image.new("1", (120, 120), 1)
    draw_text(ImageDraw.Draw(tofu), (0, 0), "\u0378", 80)
    letter = Image.new("1", (120, 120), 1)
    draw_text(ImageDraw.Draw(letter), (0, 0), "Ł", 80)
    assert ink(letter) > 300  # ...but it is drawn, and not as the .notdef box
    assert ImageChops.difference(letter, tofu).getbbox() is not None


def test_visitor_type_is_white_on_a_black_band():
    plain = render_badge(Badge("Ada", visitor_type="VISITOR"))
    other = render_badge(Badge("Ada", visitor_type="CONTRACTOR"))
    band = (0, 0, 576, BAND)
    assert ink(plain, band) > 0.8 * 576 * BAND  # mostly black
    assert ImageChops.difference(plain.crop(band), other.crop(band)).getbbox() is not None
