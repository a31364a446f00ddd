"""The virtual network printer: PNG per job, real-time status, paper out."""

import re
import socket
import threading

import pytest
import zxingcpp
from escpos.printer import Network
from PIL import Image, ImageChops

from printers.badge import Badge, render_badge
from printers.connection import send
from printers.emulator import EmulatorServer, main
from printers.raster import encode_badge


@pytest.fixture
def emulator(tmp_path):
    with EmulatorServer(port=0, out_dir=tmp_path / "out", idle_timeout=1.0) as emu:
        yield emu


@pytest.fixture(scope="module")
def badge_bytes():
    return encode_badge(render_badge(Badge("张伟", "Acme", "Ada", "Today", "V-100")))


def status(emu, *ns: int) -> bytes:
    """Open a connection, ask DLE EOT n for each n, return the replies."""
    with socket.create_connection(("127.0.0.1", emu.port), timeout=2) as s:
        replies = b""
        for n in ns:
            s.sendall(bytes([0x10, 0x04, n]))
            replies += s.recv(1)  # answered before we close: real-time
        return replies


def test_each_job_is_saved_as_a_numbered_png(emulator, badge_bytes):
    send(emulator.url, badge_bytes)
    send(emulator.url, badge_bytes)
    jobs = emulator.wait_for_jobs(2)
    assert [p.name for p in jobs] == ["job-0001.png", "job-0002.png"]
    png = Image.open(jobs[0])
    assert png.size == (576, render_badge(Badge("张伟", "Acme", "Ada", "Today", "V-100")).height)
    assert [r.text for r in zxingcpp.read_barcodes(png.convert("L"))] == ["V-100"]


def test_png_matches_the_rendered_badge_exactly(emulator):
    img = render_badge(Badge("Nguyễn Thị Minh Khai", code="V-9"))
    send(emulator.url, encode_badge(img))
    [path] = emulator.wait_for_jobs(1)
    diff = ImageChops.difference(Image.open(path).convert("L"), img.convert("L"))
    assert diff.getbbox() is None


def test_numbering_continues_after_existing_files(tmp_path, badge_bytes):
    (tmp_path / "job-0007.png").write_bytes(b"")
    with EmulatorServer(port=0, out_dir=tmp_path) as emu:
        send(emu.url, badge_bytes)
        assert [p.name for p in emu.wait_for_jobs(1)] == ["job-0008.png"]


def test_status_requests_are_answered_all_ok(emulator):
    assert status(emulator, 1, 2, 3, 4) == bytes([0x12, 0x12, 0x12, 0x12])
    assert emulator.jobs == []  # a status poll is not a print job


def test_python_escpos_sees_the_emulator_online_with_paper(emulator):
    printer = Network("127.0.0.1", emulator.port, timeout=2)
    try:
        assert printer.is_online() is True
        assert printer.paper_status() == 2
    finally:
        printer.close()


def test_paper_out_reports_status_and_saves_nothing(emulator, badge_bytes):
    emulator.paper_out = True
    assert status(emulator, 1, 2, 4) == bytes([0x1A, 0x32, 0x72])
    send(emulator.url, badge_bytes)
    with emulator.cond:
        assert emulator.cond.wait_for(lambda: emulator.rejected == 1, timeout=5)
    assert emulator.jobs == [] and list(emulator.out_dir.glob("*.png")) == []


def test_cover_open_is_reported_as_offline(emulator):
    emulator.cover_open = True
    assert status(emulator, 1, 2, 4) == bytes([0x1A, 0x16, 0x12])


def test_status_bytes_inside_bitmap_data_are_not_answered(emulator):
    # A 1-row raster whose data is DLE EOT 1: it is ink, not a query.
    raster = b"\x1b@\x1dv0\x00\x03\x00\x01\x00" + b"\x10\x04\x01" + b"\x1dV\x00"
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=2) as s:
        s.sendall(raster)
        s.settimeout(0.3)
        with pytest.raises(socket.timeout):
            s.recv(1)
    assert len(emulator.wait_for_jobs(1)) == 1


def test_main_logs_a_line_per_printed_badge(tmp_path, badge_bytes):
    lines: list[str] = []
    started = threading.Event()

    def log(line):
        lines.append(line)
        started.set()

    threading.Thread(target=main, args=("127.0.0.1", 0, tmp_path, log), daemon=True).start()
    assert started.wait(5)
    port = int(re.search(r":(\d+)", lines[0]).group(1))
    send(f"tcp://127.0.0.1:{port}", badge_bytes)
    for _ in range(50):
        if len(lines) > 1:
            break
        threading.Event().wait(0.1)
    assert "job-0001.png" in lines[1]
