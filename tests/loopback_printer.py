"""Test helper: a TCP "printer" on 127.0.0.1 that records raw bytes.

Each connection is one job; its bytes are appended to ``jobs`` once the
peer closes (or after ``idle_timeout``). With ``answer_status=True`` it
answers ``DLE EOT n`` with the all-OK status byte, like a healthy printer.

    with LoopbackPrinter() as printer:
        send(printer.url, data)
        [raw] = printer.wait_for_jobs(1)
"""

from __future__ import annotations

import socket
import socketserver
import threading

from PIL import Image

from printers.emulator import status_byte
from printers.raster import decode_raster, iter_commands


class LoopbackPrinter:
    def __init__(self, answer_status: bool = False, idle_timeout: float = 2.0) -> None:
        self.answer_status = answer_status
        self.idle_timeout = idle_timeout
        self.jobs: list[bytes] = []
        self._cond = threading.Condition()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> "LoopbackPrinter":
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._handle(self.request)

        server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> "LoopbackPrinter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(self.idle_timeout)
        buf, pos = bytearray(), 0
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            for i, j in iter_commands(buf, pos):
                if self.answer_status and buf[i:i + 2] == b"\x10\x04" and 1 <= buf[i + 2] <= 4:
                    sock.sendall(bytes([status_byte(buf[i + 2])]))
                pos = j
        with self._cond:
            self.jobs.append(bytes(buf))
            self._cond.notify_all()

    def wait_for_jobs(self, n: int, timeout: float = 5) -> list[bytes]:
        """Wait for ``n`` finished connections; returns ``jobs`` (maybe fewer)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.jobs) >= n, timeout=timeout)
            return list(self.jobs)

    def images(self) -> list[Image.Image]:
        """Every image printed so far, decoded from all jobs in order."""
        with self._cond:
            jobs = list(self.jobs)
        return [img for raw in jobs for img in decode_raster(raw)]
