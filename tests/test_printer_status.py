"""Printer health (DLE EOT status) and jobs that are never silently lost."""

import socket
import threading
import time

import pytest

from printers.badge import Badge, render_badge
from printers.connection import PrinterError, print_job, send_job
from printers.raster import decode_raster, encode_badge
from printers.status import STATES, PrinterStatus, decode_status, query_status, status_byte
from tests.loopback_printer import LoopbackPrinter

OK = 0x12  # fixed bits 1 and 4: a healthy printer's answer to any DLE EOT n


@pytest.fixture(scope="module")
def job_bytes():
    return encode_badge(render_badge(Badge("张伟", "Acme", "Ada", "Today", "V-1")))


@pytest.fixture
def answering():
    with LoopbackPrinter(answer_status=True) as p:
        yield p


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- query_status against a live (loopback) printer ---------------------------------


def test_healthy_printer_is_online(answering):
    assert query_status(answering.url) == PrinterStatus("online", "")


@pytest.mark.parametrize(
    "attr, state",
    [("paper_out", "paper_out"), ("cover_open", "cover_open"), ("paper_low", "paper_low")],
)
def test_printer_trouble_is_reported(answering, attr, state):
    setattr(answering, attr, True)
    assert query_status(answering.url).state == state
    setattr(answering, attr, False)  # flipped while it runs: back to normal
    assert query_status(answering.url).state == "online"


def test_status_polls_are_not_print_jobs(answering):
    query_status(answering.url)
    assert answering.wait_until(lambda p: p.polls == 1)
    assert answering.jobs == []


def test_printer_that_never_answers_is_unknown_not_online():
    with LoopbackPrinter(answer_status=False, idle_timeout=5) as silent:
        start = time.monotonic()
        status = query_status(silent.url, timeout=0.5)
        elapsed = time.monotonic() - start
    assert status.state == "unknown"
    assert "did not answer" in status.detail
    assert elapsed < 1.5  # about the timeout, not three timeouts


def test_closed_port_is_unreachable_fast():
    start = time.monotonic()
    status = query_status(f"tcp://127.0.0.1:{closed_port()}", timeout=2.0)
    assert status.state == "unreachable"
    assert time.monotonic() - start < 1.0


def test_printer_that_hangs_up_without_answering_is_unknown():
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def accept_and_close():
            conn, _ = server.accept()
            conn.close()

        threading.Thread(target=accept_and_close, daemon=True).start()
        assert query_status(f"tcp://127.0.0.1:{port}", timeout=2).state == "unknown"


@pytest.mark.parametrize(
    "url, state",
    [
        ("file:///dev/usb/lp0", "unknown"),  # a file cannot answer
        ("emulator:///tmp/badges", "online"),
        ("not a url", "unreachable"),
    ],
)
def test_status_of_other_schemes(url, state):
    assert query_status(url).state == state


class FakeDevice:
    """A python-escpos-like device: _raw() records, _read() replays answers."""

    def __init__(self, answers):
        self.answers, self.sent = dict(answers), []

    def _raw(self, data):
        self.sent.append(bytes(data))

    def _read(self):
        n = self.sent[-1][2]
        answer = self.answers.get(n, b"")
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_usb_or_serial_device_status_is_read_after_each_request():
    dev = FakeDevice({1: bytes([OK]), 2: bytes([OK | 0x20]), 4: bytes([OK | 0x60])})
    assert query_status("usb://04b8:0e15", device=dev).state == "paper_out"
    assert dev.sent == [b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x04"]


def test_device_with_empty_reads_is_unknown_unlike_python_escpos():
    # python-escpos' paper_status() says "paper OK" (2) on an empty read.
    assert query_status("usb://04b8:0e15", device=FakeDevice({})).state == "unknown"
    timeout = FakeDevice({1: TimeoutError("read timed out")})
    assert query_status("serial:///dev/ttyUSB0", device=timeout).state == "unknown"


# --- decode_status: pure table --------------------------------------------------------


@pytest.mark.parametrize(
    "b1, b2, b4, state",
    [
        (OK, OK, OK, "online"),
        (0x16, OK, OK, "online"),  # drawer pin (bit 2 of n=1) is not trouble
        (OK, OK, OK | 0x0C, "paper_low"),
        (OK, OK, OK | 0x04, "paper_low"),  # either near-end bit
        (OK | 0x08, OK | 0x20, OK | 0x60, "paper_out"),
        (OK, OK, OK | 0x60, "paper_out"),  # paper end sensor alone
        (OK | 0x08, OK | 0x20, OK, "paper_out"),  # paper-end stop alone
        (OK | 0x08, OK | 0x04, OK, "cover_open"),
        (OK | 0x08, OK | 0x24, OK | 0x6C, "cover_open"),  # cover open beats paper out
        (OK | 0x08, OK | 0x60, OK, "paper_out"),  # paper out beats error
        (OK | 0x08, OK | 0x40, OK | 0x0C, "error"),  # error beats paper low
        (OK | 0x08, OK, OK, "error"),  # offline, no known cause
        (OK | 0x08, None, None, "error"),
        (None, None, None, "unknown"),  # silence is never "online"
        (0x00, 0xFF, 0x41, "unknown"),  # bytes without the fixed bits: noise
        (OK, None, None, "online"),
    ],
)
def test_decode_status(b1, b2, b4, state):
    assert decode_status(b1, b2, b4).state == state


def test_status_bytes_round_trip_through_the_decoder():
    for paper_out in (False, True):
        for cover_open in (False, True):
            for paper_low in (False, True):
                got = decode_status(
                    *(status_byte(n, paper_out, cover_open, paper_low) for n in (1, 2, 4))
                ).state
                want = (
                    "cover_open"
                    if cover_open
                    else "paper_out"
                    if paper_out
                    else "paper_low"
                    if paper_low
                    else "online"
                )
                assert got == want


def test_states_are_exported_and_checked():
    assert set(STATES) == {
        "online",
        "paper_low",
        "paper_out",
        "cover_open",
        "error",
        "unreachable",
        "unknown",
    }
    with pytest.raises(ValueError):
        PrinterStatus("fine")


# --- send_job: a job is never reported done when it may be lost -------------------


def test_job_to_an_answering_printer_is_confirmed(answering, job_bytes):
    assert send_job(answering.url, job_bytes) == "confirmed"
    [raw] = answering.wait_for_jobs(1)
    assert raw == job_bytes + b"\x10\x04\x01"
    assert len(decode_raster(raw)) == 1


def test_job_to_a_silent_printer_is_unconfirmed(job_bytes):
    with LoopbackPrinter(answer_status=False, idle_timeout=5) as silent:
        start = time.monotonic()
        assert send_job(silent.url, job_bytes, timeout=0.5) == "unconfirmed"
        assert time.monotonic() - start < 2.0
        assert len(silent.wait_for_jobs(1)) == 1


@pytest.mark.parametrize("answer_status", [True, False])
def test_printer_losing_power_mid_job_raises_dropped(job_bytes, answer_status):
    with LoopbackPrinter(answer_status=answer_status, drop_after=len(job_bytes) // 2) as p:
        with pytest.raises(PrinterError) as err:
            send_job(p.url, job_bytes, timeout=2.0)
        assert err.value.code == "dropped"
        assert p.wait_until(lambda p: len(p.dropped) == 1)
        assert len(p.dropped[0]) == len(job_bytes) // 2
        assert p.jobs == []


def test_printer_closing_before_the_status_reply_raises_dropped(job_bytes):
    # Takes the whole job, then hangs up without answering (EOF, not a reset).
    with (
        LoopbackPrinter(answer_status=False, idle_timeout=0.3) as p,
        pytest.raises(PrinterError) as err,
    ):
        send_job(p.url, job_bytes, timeout=3.0)
    assert err.value.code == "dropped"


def test_job_to_a_printer_out_of_paper_is_an_error_not_a_success(answering, job_bytes):
    answering.paper_out = True
    with pytest.raises(PrinterError) as err:
        send_job(answering.url, job_bytes)
    assert err.value.code == "offline" and "paper" in err.value.message
    assert answering.wait_until(lambda p: len(p.rejected) == 1)
    assert answering.jobs == []


def test_job_to_a_closed_port_is_unreachable(job_bytes):
    with pytest.raises(PrinterError) as err:
        send_job(f"tcp://127.0.0.1:{closed_port()}", job_bytes)
    assert err.value.code == "unreachable"


def test_print_job_encodes_for_the_profile_and_confirms(answering):
    img = render_badge(Badge("José Müller", code="V-9"))
    assert print_job(f"{answering.url}?profile=TM-T88V", img) == "confirmed"
    answering.wait_for_jobs(1)
    assert answering.images()[0].width == 512


def test_other_schemes_are_unconfirmed_except_the_emulator(tmp_path, job_bytes):
    assert send_job(f"file://{tmp_path / 'lp0'}", job_bytes) == "unconfirmed"
    assert send_job(f"emulator://{tmp_path / 'out'}", job_bytes) == "confirmed"
    assert len(list((tmp_path / "out").glob("*.png"))) == 1
