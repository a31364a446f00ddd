"""Badge layouts as data, checked on what the printer would actually print
(render -> ESC/POS bytes -> decoded raster)."""

from itertools import pairwise
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw

from printers.badge import Badge, render_badge, visitor_type_for
from printers.layout import FIELDS, Layout, default_layout
from printers.raster import decode_raster, encode_badge

CODE = "V-20240601-0042"
NAMES = [
    "张伟",
    "Łukasz Nowak",
    "José Müller",
    "Nguyễn Thị Minh Khai",
    "Maximiliane Alexandra von Hohenzollern-Sigmaringen",
]


def printed(badge: Badge, width: int = 576, layout: Layout | None = None) -> Image.Image:
    """What the printer prints: the badge through encode_badge -> decode_raster."""
    [img] = decode_raster(encode_badge(render_badge(badge, width=width, layout=layout)))
    return img


def ink(img: Image.Image, box=None) -> int:
    region = img.crop(box) if box else img
    return region.convert("L").histogram()[0]


def whites(img: Image.Image, box=None) -> int:
    region = img.crop(box) if box else img
    return region.convert("L").histogram()[255]


def differs(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size != b.size
        or ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is not None
    )


def qr_texts(img: Image.Image) -> list[str]:
    return [
        r.text
        for r in zxingcpp.read_barcodes(img.convert("L"))
        if r.format == zxingcpp.BarcodeFormat.QRCode
    ]


def gradient_logo(w: int = 400, h: int = 120) -> Image.Image:
    """A grey ramp with a solid mark: only dithering keeps both ends visible."""
    logo = Image.linear_gradient("L").rotate(90).resize((w, h)).convert("RGB")
    ImageDraw.Draw(logo).ellipse((10, 10, h - 10, h - 10), fill=(255, 255, 255))
    return logo


def portrait() -> Image.Image:
    img = Image.linear_gradient("L").resize((300, 400)).convert("RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((80, 60, 220, 240), fill=(220, 180, 150))
    draw.ellipse((30, 260, 270, 520), fill=(40, 50, 80))
    return img


def full_badge(name: str = "Ada Lovelace", **kw: Any) -> Badge:
    fields: dict[str, Any] = dict(
        company="Acme Robotics 有限公司",
        host_name="Grace Hopper",
        date_text="2024-06-01 09:30",
        code=CODE,
        meeting_room="3F Everest",
        valid_until="18:00",
    )
    fields.update(kw)
    return Badge(name, **fields)


@pytest.mark.parametrize("width", [576, 384])
def test_layout_badge_is_paper_wide_and_its_qr_decodes(width):
    img = printed(full_badge(photo=portrait()), width, Layout(width=width, logo=gradient_logo()))
    assert img.width == width
    assert qr_texts(img) == [CODE]


def test_width_comes_from_the_layout_unless_given():
    assert render_badge(Badge("Ada"), layout=default_layout(384)).width == 384
    assert render_badge(Badge("Ada"), width=576, layout=default_layout(384)).width == 576
    assert render_badge(Badge("Ada")).width == 576


def test_default_layout_is_the_classic_badge():
    badge = Badge("张伟", "Acme", "Ada", "1 Jun", CODE)
    assert not differs(
        render_badge(badge, width=576), render_badge(badge, width=576, layout=default_layout(576))
    )


def edge_ink(img: Image.Image, margin: int) -> int:
    """Black dots in the outer ``margin`` columns, outside the full-width band."""
    px = img.convert("L").load()
    assert px is not None  # a fresh in-memory image always loads
    w, h = img.size
    band_rows = {y for y in range(h) if px[0, y] == 0 and px[w - 1, y] == 0}
    return sum(
        1
        for y in range(h)
        if y not in band_rows
        for x in (*range(margin), *range(w - margin, w))
        if px[x, y] == 0
    )


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("width", [576, 384])
@pytest.mark.parametrize("photo", [False, True])
def test_names_print_inside_the_paper(name, width, photo):
    margin = 8
    badge = full_badge(name, photo=portrait() if photo else None)
    layout = Layout(width=width, logo=gradient_logo())
    with_name = printed(badge, width, layout)
    without = printed(full_badge(" ", photo=badge.photo), width, layout)
    # Only the band reaches the paper edge; everything else keeps off 8 columns.
    assert edge_ink(with_name, margin) == 0
    # The name produced ink, and where it did is inside the margins too.
    assert differs(with_name, without)
    assert abs(ink(with_name) - ink(without)) > 300 * (width / 576) ** 2
    if with_name.size == without.size:
        left, _, right, _ = ImageChops.difference(
            with_name.convert("L"), without.convert("L")
        ).getbbox()
        assert left >= margin and right <= width - margin
    assert qr_texts(with_name) == [CODE]


def test_a_name_at_the_paper_edge_would_be_caught():
    # The check above can fail: ink in the outer columns is counted.
    img = render_badge(full_badge(), width=384)
    ImageDraw.Draw(img).line((2, 300, 2, 320), fill=0)
    assert edge_ink(img, 8) > 0


def test_long_name_wraps_onto_more_lines_rather_than_clipping():
    short = printed(full_badge("Ada Lovelace"))
    long = printed(full_badge("Maximiliane Alexandra von Hohenzollern-Sigmaringen"))
    assert long.height > short.height or ink(long) > ink(short)


def test_stars_4_prints_a_vip_band():
    assert visitor_type_for("visitor", 4) == visitor_type_for("contractor", 5) == "VIP 贵宾"
    band = (0, 0, 576, 76)
    plain = printed(full_badge(visitor_type=visitor_type_for("visitor", 3), stars=3))
    vip = printed(full_badge(visitor_type=visitor_type_for("visitor", 4), stars=4))
    vip_by_stars = printed(full_badge(stars=4))  # the band follows the stars
    assert ink(vip, band) > 0.6 * 576 * 76  # still a black band
    assert differs(plain.crop(band), vip.crop(band))
    assert not differs(vip.crop(band), vip_by_stars.crop(band))
    # The VIP band has a white frame: white dots near the band's left edge.
    assert whites(vip, (8, 8, 14, 68)) > 0 and whites(plain, (8, 8, 14, 68)) == 0


@pytest.mark.parametrize(
    "kind, stars, label",
    [
        ("visitor", None, "VISITOR 访客"),
        ("VISITOR", 3, "VISITOR 访客"),
        ("contractor", None, "CONTRACTOR 承包商"),
        ("interview", 1, "INTERVIEW 面试"),
        ("delivery", None, "DELIVERY 送货"),
        ("media", None, "MEDIA 媒体"),
        ("government", 2, "GOVERNMENT 政府"),
        ("alien", None, "VISITOR 访客"),
        ("", None, "VISITOR 访客"),
        ("visitor", 5, "VIP 贵宾"),
        ("vip", None, "VIP 贵宾"),
    ],
)
def test_visitor_type_labels_are_bilingual(kind, stars, label):
    assert visitor_type_for(kind, stars) == label


def test_logo_prints_dithered_at_the_top():
    logo = gradient_logo()
    with_logo = printed(full_badge(), layout=Layout(logo=logo))
    without = printed(full_badge(), layout=Layout())
    assert with_logo.height > without.height  # room was made above the band
    area = (28, 0, 548, 110)
    # A grey ramp on 1-bit paper: both black and white dots, mixed, not solid.
    assert ink(with_logo, area) > 2000 and whites(with_logo, area) > 2000
    row = [with_logo.getpixel((x, 60)) for x in range(100, 480)]
    assert sum(a != b for a, b in pairwise(row)) > 40  # dither pattern, many flips
    assert ink(without, (0, 0, 576, 76)) > 0.8 * 576 * 76  # no logo: band at the top


def test_photo_prints_when_given_and_not_when_switched_off():
    photo = portrait()
    base = printed(full_badge())
    with_photo = printed(full_badge(photo=photo))
    hidden = printed(full_badge(photo=photo), layout=Layout(show_photo=False))
    assert differs(base, with_photo)
    assert not differs(base, hidden)
    # Left third beside the name holds the dithered photo: mixed dots.
    area = (40, 100, 190, 300)
    assert ink(with_photo, area) > 3000 and whites(with_photo, area) > 3000


def test_photo_goes_above_the_name_on_58mm():
    photo = printed(full_badge(photo=portrait()), 384, default_layout(384))
    plain = printed(full_badge(), 384, default_layout(384))
    assert photo.height > plain.height + 100
    # Centred: ink in the middle of the row below the band, none at the sides.
    row = photo.crop((0, 80, 384, 200))
    left, _, right, _ = ImageChops.invert(row.convert("L")).getbbox()
    assert left > 100 and right < 284


@pytest.mark.parametrize(
    "field, value",
    [
        ("company", {"company": "Acme"}),
        ("host", {"host_name": "Grace"}),
        ("meeting_room", {"meeting_room": "3F"}),
        ("valid_until", {"valid_until": "18:00"}),
        ("date", {"date_text": "Mon"}),
    ],
)
def test_fields_left_out_do_not_print(field, value):
    fields = tuple(f for f in FIELDS if f != field)
    empty = {k: "" for k in value}
    base = dict(company="", host_name="", date_text="", meeting_room="", valid_until="")

    def show(layout, **kw):
        return printed(Badge("Ada", code=CODE, **{**base, **kw}), layout=layout)

    # With the field set, leaving it out of the layout changes the badge...
    assert differs(show(Layout(), **value), show(Layout(fields=fields), **value))
    # ...and the badge without the field equals one where the value is empty.
    assert not differs(show(Layout(fields=fields), **value), show(Layout(), **empty))


def test_field_order_follows_the_layout():
    badge = Badge("Ada", host_name="Grace Hopper", date_text="2024-06-01", code=CODE)
    a = printed(badge, layout=Layout(fields=("name", "host", "date")))
    b = printed(badge, layout=Layout(fields=("name", "date", "host")))
    assert differs(a, b) and abs(ink(a) - ink(b)) < 50  # same ink, other places


def test_no_band_and_no_qr():
    img = printed(full_badge(), layout=Layout(band=False, qr=False))
    assert ink(img, (0, 0, 576, 76)) < 0.3 * 576 * 76
    assert qr_texts(img) == []


def test_layout_round_trips_through_a_dict():
    logo = gradient_logo()
    layout = Layout(
        width=384, fields=("name", "host"), band=False, logo=logo, show_photo=False, qr=True
    )
    d = layout.to_dict()
    assert d == {
        "width": 384,
        "fields": ["name", "host"],
        "band": False,
        "show_photo": False,
        "qr": True,
    }
    import json

    back = Layout.from_dict(json.loads(json.dumps(d)), logo=logo)
    assert back == layout and back.logo is logo and back.fields == ("name", "host")
    assert Layout.from_dict({}) == default_layout(576)
    assert default_layout(384).width == 384 and default_layout(384).fields == FIELDS


@pytest.mark.parametrize(
    "bad",
    [
        {"colour": "red"},  # unknown setting
        {"fields": ["name", "shoe_size"]},  # unknown field
        {"fields": ["name", "name"]},  # repeated
        {"fields": "name"},  # not a list
        {"width": 0},
        {"width": 100},
        {"width": 577},
        {"width": 99999},
        {"width": "576"},
        {"width": True},
        {"width": 576.0},
        {"band": "yes"},
        {"qr": 1},
        {"show_photo": None},
        [],
        "layout",
        None,
    ],
)
def test_bad_layout_dicts_are_rejected(bad):
    with pytest.raises(ValueError):
        Layout.from_dict(bad)
