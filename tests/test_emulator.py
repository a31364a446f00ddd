"""The virtual network printer: PNG per job, real-time status, paper out."""

import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import zxingcpp
from escpos.printer import Network
from PIL import Image, ImageChops

from printers.badge import Badge, render_badge
from printers.connection import send
from printers.emulator import EmulatorServer, control, main
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


# --- trouble switched while running ----------------------------------------------


def test_control_commands_switch_the_status_bytes(emulator):
    assert control(emulator, "status") == "printer status: online"
    assert status(emulator, 1, 2, 4) == bytes([0x12, 0x12, 0x12])
    assert "paper_low" in control(emulator, "paper-low")
    assert status(emulator, 1, 2, 4) == bytes([0x12, 0x12, 0x1E])
    assert "paper_out" in control(emulator, "paper-out")
    assert status(emulator, 1, 2, 4) == bytes([0x1A, 0x32, 0x7E])
    assert control(emulator, "paper-ok") == "printer status: online"  # a new roll
    assert status(emulator, 1, 2, 4) == bytes([0x12, 0x12, 0x12])
    assert "cover_open" in control(emulator, "cover-open")
    assert status(emulator, 1, 2) == bytes([0x1A, 0x16])
    assert control(emulator, "  COVER-CLOSED\n") == "printer status: online"
    assert status(emulator, 1, 2) == bytes([0x12, 0x12])


def test_unknown_control_command_changes_nothing(emulator):
    reply = control(emulator, "paper-jam")
    assert reply.startswith("unknown command") and "paper-out" in reply
    assert status(emulator, 1) == bytes([0x12])


def test_query_status_sees_emulator_trouble(emulator):
    from printers.status import query_status

    assert query_status(emulator.url).state == "online"
    control(emulator, "cover-open")
    assert query_status(emulator.url).state == "cover_open"


def test_cover_open_prints_nothing(emulator, badge_bytes):
    emulator.cover_open = True
    send(emulator.url, badge_bytes)
    with emulator.cond:
        assert emulator.cond.wait_for(lambda: emulator.rejected == 1, timeout=5)
    assert emulator.jobs == []


def run_main_in_thread(tmp_path, **kw):
    lines: list[str] = []
    started = threading.Event()

    def log(line):
        lines.append(line)
        started.set()

    threading.Thread(
        target=main, args=("127.0.0.1", 0, tmp_path, log), kwargs=kw, daemon=True
    ).start()
    assert started.wait(5)
    return int(re.search(r":(\d+)", lines[0]).group(1)), lines


def test_main_can_start_with_paper_out(tmp_path, badge_bytes):
    port, lines = run_main_in_thread(tmp_path, paper_out=True, stdin=False)
    assert "paper_out" in lines[0]
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"\x10\x04\x04")
        assert s.recv(1) == bytes([0x72])


def test_main_reads_commands_from_a_stream(tmp_path):
    import io

    port, lines = run_main_in_thread(tmp_path, stdin=io.StringIO("cover-open\n\nstatus\n"))
    for _ in range(50):
        if len(lines) >= 3:
            break
        threading.Event().wait(0.05)
    assert lines[1:] == ["printer status: cover_open (cover_open)"] * 2
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"\x10\x04\x02")
        assert s.recv(1) == bytes([0x16])


@pytest.mark.skipif(not hasattr(signal, "SIGUSR1"), reason="no POSIX signals")
def test_emulator_process_switches_on_stdin_lines_and_signals(tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from printers.emulator import main; "
            "main('127.0.0.1', 0, sys.argv[1], log=lambda l: print(l, flush=True))",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        port = int(re.search(r":(\d+)", proc.stdout.readline()).group(1))

        def ask(n):
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(bytes([0x10, 0x04, n]))
                return s.recv(1)[0]

        proc.stdin.write("paper-out\n")
        proc.stdin.flush()
        assert "paper_out" in proc.stdout.readline()
        assert ask(4) == 0x72
        proc.send_signal(signal.SIGUSR1)  # toggles paper out: back in
        assert proc.stdout.readline().strip() == "printer status: online"
        assert ask(4) == 0x12
        proc.send_signal(signal.SIGUSR2)  # toggles the cover
        assert "cover_open" in proc.stdout.readline()
        assert ask(2) == 0x16
    finally:
        proc.terminate()
        proc.wait(10)
