"""Test helper: a TCP "printer" on 127.0.0.1 that records raw bytes.

Each connection that prints something is one job; its bytes are appended to
``jobs`` once the peer closes (or after ``idle_timeout``). Connections that
only ask for status (or send nothing) are not jobs: they count in ``polls``.

Options (attributes may be flipped while it runs):
- ``answer_status=True`` answers ``DLE EOT n`` with the real status byte for
  the current ``paper_out`` / ``cover_open`` / ``paper_low``; without it the
  printer is silent, like one without status support.
- ``drop_after=N`` resets the connection (SO_LINGER 0 -> RST) once N bytes of
  it have arrived, like a printer losing power mid-job; those bytes go to
  ``dropped``, never to ``jobs``.
- ``port=N`` listens on a fixed port (e.g. a printer that comes back).
- ``job_answer_delay=S`` waits S seconds before answering the status asked after a
  job's data (a slow printer): the sender has the job in flight meanwhile.
- while ``paper_out`` a raster job is still taken (and status answered) but
  recorded in ``rejected``, like a real printer that prints nothing; with
  ``accept_when_paper_out=False`` such connections are reset at once instead.

    with LoopbackPrinter() as printer:
        send(printer.url, data)
        [raw] = printer.wait_for_jobs(1)
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
import time
from collections.abc import Callable

from PIL import Image

from printers.raster import decode_raster, iter_commands
from printers.status import status_byte

_REALTIME = (b"\x10\x04", b"\x10\x05", b"\x10\x14")  # DLE EOT / ENQ / DC4


def _status_only(data: bytes) -> bool:
    """True if ``data`` holds nothing but real-time commands (a status poll)."""
    return all(data[i : i + 2] in _REALTIME for i, _ in iter_commands(data, partial=True))


class LoopbackPrinter:
    def __init__(
        self,
        answer_status: bool = False,
        idle_timeout: float = 2.0,
        drop_after: int | None = None,
        accept_when_paper_out: bool = True,
        port: int = 0,
        job_answer_delay: float = 0.0,
    ) -> None:
        self.answer_status = answer_status
        self.job_answer_delay = job_answer_delay
        self.idle_timeout = idle_timeout
        self.drop_after = drop_after
        self.accept_when_paper_out = accept_when_paper_out
        self.paper_out = False
        self.cover_open = False
        self.paper_low = False
        self.jobs: list[bytes] = []
        self.dropped: list[bytes] = []
        self.rejected: list[bytes] = []
        self.polls = 0
        self._cond = threading.Condition()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port  # 0: any free port (a fixed one: a printer coming back)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> LoopbackPrinter:
        owner = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                owner._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True  # a printer back on its old port at once
            daemon_threads = True

        server = Server(("127.0.0.1", self.port), Handler)
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None  # started together with the server
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> LoopbackPrinter:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def status(self, n: int) -> int:
        return status_byte(n, self.paper_out, self.cover_open, self.paper_low)

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        """Close so the peer sees a reset, not an orderly end (power loss)."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(self.idle_timeout)
        buf, pos = bytearray(), 0
        saw_paper_out = False
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            saw_paper_out = saw_paper_out or self.paper_out
            if saw_paper_out and not self.accept_when_paper_out:
                self._reset(sock)
                self._record("dropped", bytes(buf + chunk))
                return
            room = None if self.drop_after is None else self.drop_after - len(buf)
            drop = room is not None and len(chunk) >= room
            if drop:
                chunk = chunk[:room]
            buf += chunk
            for i, j in iter_commands(buf, pos):
                if self.answer_status and buf[i : i + 2] == b"\x10\x04" and 1 <= buf[i + 2] <= 4:
                    if self.job_answer_delay and not _status_only(bytes(buf[:i])):
                        time.sleep(self.job_answer_delay)
                    try:
                        sock.sendall(bytes([self.status(buf[i + 2])]))
                    except OSError:
                        pass
                pos = j
            if drop:
                self._reset(sock)
                self._record("dropped", bytes(buf))
                return
        data = bytes(buf)
        if _status_only(data):
            self._record("polls", data)
        elif saw_paper_out and decode_raster(data):
            self._record("rejected", data)
        else:
            self._record("jobs", data)

    def _record(self, where: str, data: bytes) -> None:
        with self._cond:
            if where == "polls":
                self.polls += 1
            else:
                getattr(self, where).append(data)
            self._cond.notify_all()

    def wait_until(self, predicate: Callable[[LoopbackPrinter], bool], timeout: float = 5) -> bool:
        """Wait until ``predicate(self)`` holds (checked after each connection)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout=timeout)

    def wait_for_jobs(self, n: int, timeout: float = 5) -> list[bytes]:
        """Wait for ``n`` finished jobs; returns ``jobs`` (maybe fewer)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.jobs) >= n, timeout=timeout)
            return list(self.jobs)

    def images(self) -> list[Image.Image]:
        """Every image printed so far, decoded from all jobs in order."""
        with self._cond:
            jobs = list(self.jobs)
        return [img for raw in jobs for img in decode_raster(raw)]
