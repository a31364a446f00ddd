"""Badges are drawn and sent by a child process (printers/spool.py): the server's own
threads never spend their GIL on fonts and QR codes, and a child that dies or hangs
fails one badge, never the next one."""

import os
import pickle
import signal
import threading
import time

import pytest
import zxingcpp

from printers import spool
from printers.badge import Badge
from printers.connection import PrinterError
from printers.spool import Spooler, SpoolError
from tests.loopback_printer import LoopbackPrinter


def badge(name="张伟", code="spool-test-code-0001"):
    return Badge(
        visitor_name=name,
        company="华为",
        host_name="Grace Hopper",
        date_text="2026-11-27",
        code=code,
    )


@pytest.fixture
def spooler():
    s = Spooler()
    yield s
    s.close()


def test_a_printer_error_comes_back_whole():
    e = pickle.loads(pickle.dumps(PrinterError("offline", "paper out")))
    assert isinstance(e, PrinterError) and (e.code, e.message) == ("offline", "paper out")


def test_the_badge_is_drawn_in_another_process_and_prints(spooler, printer):
    assert spooler.print_badge(printer.url, badge(), 576, None, timeout=3) == "confirmed"
    assert spooler.pid is not None and spooler.pid != os.getpid()
    [image] = printer.images()
    assert image.width == 576
    assert [d.text for d in zxingcpp.read_barcodes(image.convert("L"))] == [badge().code]


def test_warming_up_starts_the_child_that_then_prints_the_first_badge(spooler, printer):
    """`lobby run`'s print worker warms the spooler at start: the child exists and has
    drawn once before any visitor arrives, and the first badge goes to that child."""
    assert spooler.pid is None
    future = spooler.warm_up()
    assert future.result(timeout=60) is True
    child = spooler.pid
    assert child is not None and child != os.getpid()
    assert printer.images() == []  # warming up prints nothing
    assert spooler.print_badge(printer.url, badge(), 576, None, timeout=3) == "confirmed"
    assert spooler.pid == child and len(printer.images()) == 1


def test_a_printer_failure_is_the_printers_error(spooler):
    with pytest.raises(PrinterError) as e:
        spooler.print_badge("tcp://127.0.0.1:1", badge(), 576, None, timeout=1)
    assert e.value.code == "unreachable"


def test_a_badge_that_cannot_be_drawn_is_a_spool_error(spooler, printer):
    with pytest.raises(SpoolError, match="TypeError"):
        spooler.print_badge(printer.url, badge(name=b"\xff"), 576, None, timeout=1)
    assert printer.jobs == []
    spooler.print_badge(printer.url, badge(), 576, None, timeout=3)  # the next one prints
    assert len(printer.wait_for_jobs(1)) == 1


def test_a_child_that_dies_mid_badge_fails_that_badge_only(spooler, printer):
    with LoopbackPrinter(answer_status=False) as silent:  # takes the job, never answers
        outcome = []

        def send():
            try:
                outcome.append(spooler.print_badge(silent.url, badge(), 576, None, timeout=20))
            except SpoolError as e:
                outcome.append(e)

        t = threading.Thread(target=send)
        t.start()
        silent.wait_for_jobs(1)  # the child is now waiting for the printer's answer
        first = spooler.pid
        os.kill(first, signal.SIGKILL)
        t.join(20)
    assert len(outcome) == 1 and isinstance(outcome[0], SpoolError)
    assert "died" in str(outcome[0])
    assert spooler.print_badge(printer.url, badge(), 576, None, timeout=3) == "confirmed"
    assert spooler.pid not in (None, first)


def test_a_child_killed_while_idle_is_replaced_without_losing_the_badge(spooler, printer):
    spooler.print_badge(printer.url, badge(), 576, None, timeout=3)
    first = spooler.pid
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while (
        spooler._pool is not None and not spooler._pool._broken and time.monotonic() < deadline
    ):  # until the pool has noticed
        time.sleep(0.05)
    assert spooler.print_badge(printer.url, badge(), 576, None, timeout=3) == "confirmed"
    assert len(printer.wait_for_jobs(2)) == 2
    assert spooler.pid not in (None, first)


def test_a_child_that_hangs_is_stopped_and_its_badge_never_comes_later(
    spooler, printer, monkeypatch
):
    monkeypatch.setattr(spool, "DRAW_SECONDS", -1.0)  # we give up 1 s before the child
    with LoopbackPrinter(answer_status=False) as silent:
        spooler.print_badge(printer.url, badge(), 576, None, timeout=3)  # child warm
        first = spooler.pid
        started = time.monotonic()
        with pytest.raises(SpoolError, match="did not answer"):
            # the child waits the full 2 s for a status reply; we stop after 1 s
            spooler.print_badge(silent.url, badge(), 576, None, timeout=2)
        assert time.monotonic() - started < 5
        deadline = time.monotonic() + 5
        while _alive(first) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(first)
    assert spooler.print_badge(printer.url, badge(), 576, None, timeout=3) == "confirmed"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: reap it if it is ours
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def test_the_child_ends_when_its_server_is_killed(tmp_path):
    """A server stopped by a signal never shuts its pool down: its badge process must
    not live on (the benchmark found four orphans holding 100 MB each)."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys, time\n"
        "from printers.spool import Spooler\n"
        "from tests.test_spool import badge\n"
        "s = Spooler()\n"
        f"s.print_badge('emulator://{tmp_path}', badge(), 576, None, timeout=3)\n"
        "print(s.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        child = int(server.stdout.readline())
        assert _alive(child) and list(tmp_path.glob("*.png"))  # it printed, it runs
    finally:
        server.kill()
        server.wait(10)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_ctrl_c_or_a_stop_signal_to_the_badge_process_does_not_kill_it(spooler, printer):
    """Ctrl-C reaches the whole process group (and systemd's stop the whole cgroup):
    the badge in flight must still come out; the parent decides when to stop."""
    spooler.warm_up().result(timeout=60)
    child = spooler.pid
    os.kill(child, signal.SIGINT)
    os.kill(child, signal.SIGTERM)
    time.sleep(0.3)
    assert spooler.print_badge(printer.url, badge(), 576, None, timeout=3) == "confirmed"
    assert spooler.pid == child and len(printer.images()) == 1
