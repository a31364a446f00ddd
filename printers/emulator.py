"""A virtual network ESC/POS printer that saves what it prints as PNG files.

Contract: every TCP connection is one job. The emulator reads until the peer
closes (or ``idle_timeout`` seconds pass without data), decodes the raster
images with ``decode_raster`` and saves each as ``job-0001.png``, ... in
``out_dir`` (numbering continues after files already there). ``DLE EOT n``
(n = 1..4) is answered at once with one status byte, so status polls work
mid-connection. With ``paper_out`` set the job is accepted but nothing is
saved (``rejected`` counts such jobs); ``cover_open`` only changes status.
Connections that print nothing (status polls) are not jobs.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
from pathlib import Path
from typing import Callable

from .raster import decode_raster, iter_commands


def status_byte(n: int, paper_out: bool = False, cover_open: bool = False) -> int:
    """Reply to ``DLE EOT n``; bits 1 and 4 (0x12) are fixed to 1 in ESC/POS."""
    byte = 0x12
    if n == 1 and (paper_out or cover_open):
        byte |= 0x08  # bit 3: offline
    elif n == 2:
        byte |= (0x04 if cover_open else 0) | (0x20 if paper_out else 0)
    elif n == 4 and paper_out:
        byte |= 0x60  # bits 5, 6: roll paper end detected
    return byte


class _Handler(socketserver.BaseRequestHandler):
    server: "_TCPServer"

    def handle(self) -> None:
        emu = self.server.emulator
        sock: socket.socket = self.request
        sock.settimeout(emu.idle_timeout)
        buf, pos = bytearray(), 0
        while True:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, OSError):
                break
            if not chunk:
                break
            buf += chunk
            # Walk whole commands only, so bytes inside bitmap data are never
            # taken for DLE EOT; an incomplete command waits for more bytes.
            for i, j in iter_commands(buf, pos):
                if buf[i] == 0x10 and buf[i + 1] == 0x04 and 1 <= buf[i + 2] <= 4:
                    try:
                        sock.sendall(bytes([status_byte(buf[i + 2], emu.paper_out, emu.cover_open)]))
                    except OSError:
                        pass
                pos = j
        emu._finish_job(bytes(buf))


class _TCPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    emulator: "EmulatorServer"


class EmulatorServer:
    """Virtual ESC/POS network printer (see module doc)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 9100,
                 out_dir: Path | str = Path("badges"), idle_timeout: float = 2.0,
                 on_job: Callable[[Path], None] | None = None) -> None:
        self.host, self.out_dir, self.idle_timeout = host, Path(out_dir), idle_timeout
        self.on_job = on_job
        self.paper_out = False
        self.cover_open = False
        self.jobs: list[Path] = []
        self.rejected = 0
        self.cond = threading.Condition()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        taken = [int(m.group(1)) for p in self.out_dir.glob("job-*.png")
                 if (m := re.fullmatch(r"job-(\d+)\.png", p.name))]
        self._next = max(taken, default=0) + 1
        self._server = _TCPServer((host, port), _Handler)  # binds now: port errors surface here
        self._server.emulator = self
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def start(self) -> "EmulatorServer":
        """Serve in a daemon thread; returns self."""
        # Short poll interval: stop() (shutdown) waits up to one interval.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,),
                                        name=f"escpos-emulator-{self.port}", daemon=True)
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

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc) -> None:
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
            if self.paper_out:
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


def main(host: str = "127.0.0.1", port: int = 9100, out_dir: Path | str = "badges",
         log: Callable[[str], None] = print) -> None:
    """Run the emulator until interrupted, logging one line per saved badge."""
    server = EmulatorServer(host, port, out_dir,
                            on_job=lambda p: log(f"printed {p}"))
    log(f"ESC/POS emulator listening on {server.url}, saving PNGs to {server.out_dir}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
