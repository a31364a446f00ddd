"""Printer URLs, delivery over TCP/file/emulator, and the ESC/POS raster codec."""

import socket
import time

import pytest
import zxingcpp
from PIL import Image, ImageChops

from printers.badge import Badge, render_badge
from printers.connection import (
    PrinterError,
    PrinterURL,
    paper_width,
    parse_printer_url,
    print_badge,
    send,
)
from printers.raster import decode_raster, encode_badge, profile_width
from tests.loopback_printer import LoopbackPrinter


@pytest.fixture(scope="module")
def badge_img():
    return render_badge(Badge("José Müller", "Acme", "Ada Lovelace", "Today", "V-7"))


def same(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


@pytest.mark.parametrize(
    "url, expected",
    [
        ("tcp://192.168.1.50", PrinterURL("tcp", host="192.168.1.50", port=9100)),
        (
            "tcp://printer.local:9101?profile=TM-T88V",
            PrinterURL("tcp", host="printer.local", port=9101, profile="TM-T88V"),
        ),
        ("usb://04b8:0e15", PrinterURL("usb", vid=0x04B8, pid=0x0E15)),
        ("usb://0x0416:0x5011?width=384", PrinterURL("usb", vid=0x0416, pid=0x5011, width=384)),
        (
            "serial:///dev/ttyUSB0?baudrate=19200",
            PrinterURL("serial", path="/dev/ttyUSB0", baudrate=19200),
        ),
        ("serial:///dev/ttyS1", PrinterURL("serial", path="/dev/ttyS1", baudrate=9600)),
        ("file:///dev/usb/lp0", PrinterURL("file", path="/dev/usb/lp0")),
        ("emulator:///tmp/badges", PrinterURL("emulator", path="/tmp/badges")),
    ],
)
def test_valid_printer_urls_parse(url, expected):
    assert parse_printer_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "",
        "192.168.1.50",
        "http://printer",
        "lpt://1",
        "tcp://",
        "tcp://:9100",
        "tcp://host:port",
        "tcp://host:70000",
        "tcp://host:0",
        "tcp://host/queue",
        "usb://04b8",
        "usb://xyz:0202",
        "usb://04b8:12345",
        "usb://04b8:0202:1",
        "serial://",
        "serial:///dev/ttyUSB0?baudrate=fast",
        "file://",
        "file://lp0",
        "emulator://out",
        "tcp://host?profile=NoSuchPrinter",
        "tcp://host?width=0",
        "tcp://host?colour=red",
    ],
)
def test_malformed_printer_urls_are_rejected_as_bad_url(url):
    with pytest.raises(PrinterError) as err:
        parse_printer_url(url)
    assert err.value.code == "bad_url"


def test_paper_width_comes_from_width_option_then_profile_then_default():
    assert paper_width("tcp://p?width=384&profile=TM-T88V") == 384
    assert paper_width("tcp://p?profile=TM-T88V") == 512
    assert paper_width("tcp://p?profile=default") == 576  # profile width unknown
    assert paper_width("tcp://p", default=384) == 384


def test_send_over_tcp_delivers_bytes_that_decode_to_the_badge(badge_img):
    data = encode_badge(badge_img)
    with LoopbackPrinter() as printer:
        send(printer.url, data)
        [raw] = printer.wait_for_jobs(1)
        assert raw == data
        [printed] = printer.images()
    assert same(printed, badge_img)


def test_send_to_a_closed_port_fails_fast():
    with socket.socket() as s:  # grab a free port, then free it again
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(PrinterError) as err:
        send(f"tcp://127.0.0.1:{port}", b"\x1b@", timeout=3.0)
    assert time.monotonic() - start < 3.5
    assert err.value.code in ("unreachable", "timeout")


def test_send_returns_when_the_printer_keeps_the_connection_open():
    with socket.create_server(("127.0.0.1", 0)) as server:
        start = time.monotonic()
        send(f"tcp://127.0.0.1:{server.getsockname()[1]}", b"\x1b@", timeout=0.5)
        assert time.monotonic() - start < 2.0


def test_print_badge_scales_to_a_narrower_profile(badge_img):
    with LoopbackPrinter() as printer:
        print_badge(f"{printer.url}?profile=TM-T88V", badge_img)
        printer.wait_for_jobs(1)
        [printed] = printer.images()
    assert printed.width == profile_width("TM-T88V") == 512
    assert [r.text for r in zxingcpp.read_barcodes(printed.convert("L"))] == ["V-7"]


def test_file_url_appends_each_job(tmp_path, badge_img):
    target = tmp_path / "lp0"
    data = encode_badge(badge_img)
    send(f"file://{target}", data)
    send(f"file://{target}", data)
    assert target.read_bytes() == data + data
    assert len(decode_raster(target.read_bytes())) == 2


def test_file_url_to_a_missing_device_is_unreachable(tmp_path):
    with pytest.raises(PrinterError) as err:
        send(f"file://{tmp_path}/no/such/lp0", b"\x1b@")
    assert err.value.code == "unreachable"


def test_emulator_url_saves_a_png_per_badge(tmp_path, badge_img):
    out = tmp_path / "badges"
    send(f"emulator://{out}", encode_badge(badge_img) + encode_badge(badge_img))
    pngs = sorted(out.glob("badge-*-*.png"))
    assert len(pngs) == 2
    assert same(Image.open(pngs[0]), badge_img)


def test_usb_without_pyusb_is_unsupported():
    pytest.importorskip("escpos")
    try:
        import usb  # noqa: F401

        pytest.skip("pyusb is installed")
    except ImportError:
        pass
    with pytest.raises(PrinterError) as err:
        send("usb://04b8:0e15", b"\x1b@")
    assert err.value.code == "unsupported"


def test_encode_scales_an_image_wider_than_the_profile(badge_img):
    [printed] = decode_raster(encode_badge(badge_img, profile="TM-T88V"))
    assert printed.width == 512
    assert printed.height == round(badge_img.height * 512 / 576)


def test_tall_images_split_by_escpos_are_stacked_back_into_one(badge_img):
    tall = badge_img.resize((576, 2100))  # python-escpos cuts this into 960-dot fragments
    data = encode_badge(tall)
    assert data.count(b"\x1dv0") == 3
    [printed] = decode_raster(data)
    assert same(printed, tall)


def test_decoder_skips_other_commands_and_splits_jobs_on_cuts():
    # Bitmap bytes that look like commands (GS V, DLE EOT) must not confuse it.
    raster = b"\x1dv0\x00\x02\x00\x02\x00" + bytes([0x1D, 0x56, 0x10, 0x04])
    stream = (
        b"\x1b@"
        + b"\x1ba\x01"
        + b"hello\n"
        + b"\x10\x04\x01"
        + b"\x1b!\x08"
        + b"\x1d(k\x03\x001C\x08"
        + raster
        + b"\x1bd\x03"
        + b"\x1dVA\x03"
        + b"\x1b@"
        + raster
        + b"\x1dV\x00"
        + b"\x1d\x56"
    )  # trailing cut is truncated
    images = decode_raster(stream)
    assert len(images) == 2
    assert images[0].size == (16, 2)
    # First bitmap byte 0x1d = 0b00011101: dots 3, 4, 5 and 7 are ink.
    assert [images[0].getpixel((x, 0)) for x in range(8)] == [255, 255, 255, 0, 0, 0, 255, 0]
