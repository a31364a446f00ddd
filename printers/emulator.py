"""A virtual network ESC/POS printer that saves what it prints as PNG files.

Contract: every TCP connection is one job. The emulator reads until the peer
closes (or ``idle_timeout`` seconds pass without data), decodes the raster
images with ``decode_raster`` and saves each as ``job-0001.png``, ... in
``out_dir`` (numbering continues after files already there). ``DLE EOT n``
(n = 1..4) is answered at once with one status byte, so status polls work
mid-connection. With ``paper_out`` or ``cover_open`` set the job is
accepted but nothing is saved (``rejected`` counts such jobs), as a real
printer prints nothing then; ``paper_low`` only changes status. Connections
that print nothing (status polls) are not jobs.

Trouble can be switched while it runs: ``control(emulator, command)`` takes
``paper-out``, ``paper-ok``, ``paper-low``, ``cover-open``, ``cover-closed``
or ``status`` and returns a one-line report. ``main`` feeds it the lines of
stdin (when stdin is a terminal or a pipe) and SIGUSR1 (toggle paper out) /
SIGUSR2 (toggle cover open), logging one line per change.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import socketserver
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TextIO

from .raster import decode_raster, iter_commands
from .status import PrinterStatus, decode_status, status_byte

__all__ = ["COMMANDS", "EmulatorServer", "control", "main", "status_byte"]


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        emu = self.server.emulator
        sock: socket.socket = self.request
        sock.settimeout(emu.idle_timeout)
        buf, pos = bytearray(), 0
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, OSError):
                break
            if not chunk:
                break
            buf += chunk
            # Walk whole commands only, so bytes inside bitmap data are never
            # taken for DLE EOT; an incomplete command waits for more bytes.
            for i, j in iter_commands(buf, pos):
                if buf[i] == 0x10 and buf[i + 1] == 0x04 and 1 <= buf[i + 2] <= 4:
                    try:
                        sock.sendall(bytes([emu.status_byte(buf[i + 2])]))
                    except OSError:
                        pass
                pos = j
        emu._finish_job(bytes(buf))


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    emulator: EmulatorServer


class EmulatorServer:
    """Virtual ESC/POS network printer (see module doc)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9100,
        out_dir: Path | str = Path("badges"),
        idle_timeout: float = 2.0,
        on_job: Callable[[Path], None] | None = None,
    ) -> None:
        self.host, self.out_dir, self.idle_timeout = host, Path(out_dir), idle_timeout
        self.on_job = on_job
        self.paper_out = False
        self.cover_open = False
        self.paper_low = False
        self.jobs: list[Path] = []
        self.rejected = 0
        self.cond = threading.Condition()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        taken = [
            int(m.group(1))
            for p in self.out_dir.glob("job-*.png")
            if (m := re.fullmatch(r"job-(\d+)\.png", p.name))
        ]
        self._next = max(taken, default=0) + 1
        self._server = _TCPServer((host, port), _Handler)  # binds now: port errors surface here
        self._server.emulator = self
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def status_byte(self, n: int) -> int:
        """This emulator's current reply to ``DLE EOT n``."""
        return status_byte(n, self.paper_out, self.cover_open, self.paper_low)

    def status(self) -> PrinterStatus:
        """Current state as a ``PrinterStatus`` (what ``query_status`` sees)."""
        return decode_status(self.status_byte(1), self.status_byte(2), self.status_byte(4))

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread; returns self."""
        # Short poll interval: stop() (shutdown) waits up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.1,),
            name=f"escpos-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_jobs(self, n: int, timeout: float = 5.0) -> list[Path]:
        """Wait until ``n`` PNGs are saved (or ``timeout``); returns a copy of
        ``jobs``, which is shorter than ``n`` on timeout."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.jobs) >= n, timeout=timeout)
            return list(self.jobs)

    def _finish_job(self, data: bytes) -> None:
        images = decode_raster(data)
        if not images:
            return  # a status poll or an empty connection, not a job
        saved = []
        with self.cond:
            if self.paper_out or self.cover_open:
                self.rejected += 1
                self.cond.notify_all()
                return
            for img in images:
                path = self.out_dir / f"job-{self._next:04d}.png"
                self._next += 1
                img.save(path)
                self.jobs.append(path)
                saved.append(path)
            self.cond.notify_all()
        for path in saved:
            if self.on_job:
                self.on_job(path)


COMMANDS = {
    "paper-out": ("paper_out", True),
    "paper-ok": ("paper_out", False),  # also clears paper-low: a new roll
    "paper-low": ("paper_low", True),
    "cover-open": ("cover_open", True),
    "cover-closed": ("cover_open", False),
    "status": (None, None),
}


def _describe(emu: EmulatorServer) -> str:
    st = emu.status()
    flags = [name for name in ("paper_out", "paper_low", "cover_open") if getattr(emu, name)]
    return f"printer status: {st.state}" + (f" ({', '.join(flags)})" if flags else "")


def control(emulator: EmulatorServer, command: str) -> str:
    """Apply one trouble command (see ``COMMANDS``); returns a one-line report.

    Unknown commands change nothing and say which ones exist.
    """
    cmd = command.strip().lower().replace("_", "-")
    if cmd not in COMMANDS:
        return f"unknown command {command.strip()!r}; use one of: {', '.join(COMMANDS)}"
    attr, value = COMMANDS[cmd]
    if attr is not None:
        with emulator.cond:
            setattr(emulator, attr, value)
            if cmd == "paper-ok":
                emulator.paper_low = False
    return _describe(emulator)


def _readable_stdin(stdin: TextIO | None) -> TextIO | None:
    """``stdin`` if it is a terminal or a pipe (not /dev/null, not pytest's)."""
    if stdin is None:
        return None
    try:
        fd = stdin.fileno()
        if os.isatty(fd) or stat.S_ISFIFO(os.fstat(fd).st_mode):
            return stdin
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _read_commands(emu: EmulatorServer, stdin: TextIO, log: Callable[[str], None]) -> None:
    for line in stdin:  # EOF ends the reader, never the emulator
        if line.strip():
            log(control(emu, line))


def main(
    host: str = "127.0.0.1",
    port: int = 9100,
    out_dir: Path | str = "badges",
    log: Callable[[str], None] = print,
    paper_out: bool = False,
    cover_open: bool = False,
    paper_low: bool = False,
    stdin: TextIO | None | bool = True,
) -> None:
    """Run the emulator until interrupted, logging one line per saved badge
    and per status change.

    ``paper_out``/``cover_open``/``paper_low`` set the starting trouble.
    ``stdin=True`` reads commands from ``sys.stdin`` when it is a terminal or
    a pipe; pass a file object to read from it instead, ``False`` for none.
    SIGUSR1/SIGUSR2 toggle paper out / cover open when run in the main thread.
    """
    server = EmulatorServer(host, port, out_dir, on_job=lambda p: log(f"printed {p}"))
    server.paper_out, server.cover_open, server.paper_low = paper_out, cover_open, paper_low
    trouble = "" if server.status().state == "online" else f" [{_describe(server)}]"
    log(f"ESC/POS emulator listening on {server.url}, saving PNGs to {server.out_dir}/{trouble}")

    source = _readable_stdin(sys.stdin) if stdin is True else (stdin or None)
    if source is not None:
        threading.Thread(
            target=_read_commands,
            args=(server, source, log),
            name="escpos-emulator-stdin",
            daemon=True,
        ).start()

    previous = {}
    toggles = {
        getattr(signal, "SIGUSR1", None): "paper_out",
        getattr(signal, "SIGUSR2", None): "cover_open",
    }
    for signum, attr in toggles.items():
        if signum is None:
            continue

        def toggle(_signum: int, _frame: FrameType | None, attr: str = attr) -> None:
            cmd = {
                "paper_out": ("paper-ok", "paper-out"),
                "cover_open": ("cover-closed", "cover-open"),
            }[attr][not getattr(server, attr)]
            log(control(server, cmd))

        try:
            previous[signum] = signal.signal(signum, toggle)
        except ValueError:  # not the main thread: no signal handling
            break
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.stop()
