"""Printer health: ask an ESC/POS printer how it is, and decode the answer.

Contract:
- ``query_status(url, timeout=2.0) -> PrinterStatus`` never raises for a
  printer problem; it returns one of ``STATES``:

  ``online``       answered, nothing wrong
  ``paper_low``    answered, the paper near-end sensor is on
  ``paper_out``    answered, no paper (printing stopped)
  ``cover_open``   answered, the cover is open
  ``error``        answered, an error or offline without a known cause
  ``unreachable``  cannot connect / open the device
  ``unknown``      connected but got no (valid) answer: never "online"

  (python-escpos' ``paper_status()`` says "paper OK" when the printer gives
  no answer; here silence is ``unknown``.)
- tcp: connect (connect timeout = ``timeout``), send ``DLE EOT 1, 2, 4`` one
  at a time and read one byte each; the whole query takes about ``timeout``
  at most. usb/serial: the same through python-escpos' ``_raw``/``_read``.
  file:// -> ``unknown`` (a file cannot answer), emulator:// -> ``online``.
- ``decode_status(b1, b2, b4)`` is the pure decoder (``None`` = no answer);
  precedence cover_open > paper_out > error > paper_low > online.
- ``status_byte(n, paper_out, cover_open, paper_low)`` builds the reply a
  printer in that state gives to ``DLE EOT n`` (used by the emulator and the
  loopback test printer).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

STATES = ("online", "paper_low", "paper_out", "cover_open", "error", "unreachable", "unknown")

DLE_EOT = b"\x10\x04"
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12  # bits 0 and 7 are 0, bits 1 and 4 are 1


@dataclass
class PrinterStatus:
    state: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise ValueError(f"unknown printer state {self.state!r}")

    @property
    def ok(self) -> bool:
        """True when a badge printed now would come out (online or paper low)."""
        return self.state in ("online", "paper_low")


def status_byte(
    n: int, paper_out: bool = False, cover_open: bool = False, paper_low: bool = False
) -> int:
    """The byte a printer in this state answers to ``DLE EOT n`` (n = 1..4)."""
    byte = _FIXED_BITS
    if n == 1 and (paper_out or cover_open):
        byte |= 0x08  # bit 3: offline
    elif n == 2:
        byte |= (0x04 if cover_open else 0) | (0x20 if paper_out else 0)
    elif n == 4:
        byte |= (0x0C if paper_low else 0) | (0x60 if paper_out else 0)
    return byte


def _valid(b: int | None) -> int | None:
    """A status byte, or None when absent or not shaped like one (echo, noise)."""
    if b is None or not 0 <= b <= 255 or b & _FIXED_MASK != _FIXED_BITS:
        return None
    return b


def decode_status(b1: int | None, b2: int | None = None, b4: int | None = None) -> PrinterStatus:
    """Decode replies to ``DLE EOT 1``, ``2`` and ``4`` (``None``: no answer).

    n=1 bit 3 offline; n=2 bit 2 cover open, bit 5 paper-end stop, bit 6
    error; n=4 bits 2+3 paper near end, bits 5+6 paper end. Bytes that do not
    carry the fixed ESC/POS status bits count as no answer.
    """
    b1, b2, b4 = _valid(b1), _valid(b2), _valid(b4)
    if b1 is None and b2 is None and b4 is None:
        return PrinterStatus("unknown", "no answer to status requests")
    offline = b1 is not None and bool(b1 & 0x08)
    if b2 is not None and b2 & 0x04:
        return PrinterStatus("cover_open", "cover is open")
    if (b2 is not None and b2 & 0x20) or (b4 is not None and b4 & 0x60):
        return PrinterStatus("paper_out", "out of paper")
    if b2 is not None and b2 & 0x40:
        return PrinterStatus("error", "printer reports an error")
    if offline:
        why = "offline" if b2 is not None else "offline (no error status to say why)"
        return PrinterStatus("error", why)
    if b4 is not None and b4 & 0x0C:
        return PrinterStatus("paper_low", "paper near end")
    missing = [str(n) for n, b in ((1, b1), (2, b2), (4, b4)) if b is None]
    return PrinterStatus("online", f"no answer to DLE EOT {', '.join(missing)}" if missing else "")


def query_status(url: Any, timeout: float = 2.0, *, device: Any = None) -> PrinterStatus:
    """Ask the printer at ``url`` for its status (see module doc).

    ``device`` (for usb/serial) is an already opened python-escpos-like object
    with ``_raw(bytes)`` and ``_read() -> bytes``; it is used instead of
    opening the URL's device, and is not closed.
    """
    from .connection import PrinterError, _as_url  # connection imports this module

    try:
        u = _as_url(url)
    except PrinterError as exc:
        return PrinterStatus("unreachable", exc.message)
    if device is not None:
        return _query_device(device)
    if u.scheme == "tcp":
        assert u.host is not None and u.port is not None  # parse_printer_url fills both for tcp
        return _query_tcp(u.host, u.port, timeout)
    if u.scheme == "emulator":
        return PrinterStatus("online", "emulator")
    if u.scheme == "file":
        return PrinterStatus("unknown", "a file cannot report printer status")
    return _query_escpos_device(u, timeout)


def _query_tcp(host: str, port: int, timeout: float) -> PrinterStatus:
    where = f"{host}:{port}"
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        return PrinterStatus("unreachable", f"no connection to {where} within {timeout:g}s")
    except OSError as exc:
        return PrinterStatus("unreachable", f"{where}: {exc.strerror or exc}")
    replies: dict[int, int | None] = {1: None, 2: None, 4: None}
    with sock:
        try:
            for n in replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(max(left, 0.05))
                sock.sendall(DLE_EOT + bytes([n]))
                reply = sock.recv(1)
                if not reply:
                    return _partial(replies, f"{where} closed the connection")
                replies[n] = reply[0]
        except TimeoutError:
            pass  # no (further) answer: decode what came back
        except OSError as exc:
            return _partial(replies, f"{where}: {exc.strerror or exc}")
    status = decode_status(replies[1], replies[2], replies[4])
    if status.state == "unknown":
        status.detail = f"{where} accepted the connection but did not answer within {timeout:g}s"
    return status


def _partial(replies: dict[int, int | None], why: str) -> PrinterStatus:
    status = decode_status(replies[1], replies[2], replies[4])
    if status.state == "unknown":
        return PrinterStatus("unknown", why)
    return status


def _query_device(dev: Any) -> PrinterStatus:
    replies: dict[int, int | None] = {1: None, 2: None, 4: None}
    for n in replies:
        try:
            dev._raw(DLE_EOT + bytes([n]))
            data = bytes(dev._read() or b"")
        except Exception as exc:  # pyusb/pyserial raise their own types, timeouts too
            if all(v is None for v in replies.values()):
                return PrinterStatus("unknown", f"no answer: {exc}")
            break
        # Take the last byte shaped like a status byte (skip stale noise).
        found = [b for b in data if _valid(b) is not None]
        if not found:
            break
        replies[n] = found[-1]
    return decode_status(replies[1], replies[2], replies[4])


def _query_escpos_device(u: Any, timeout: float) -> PrinterStatus:
    kind = "usb" if u.scheme == "usb" else "serial"
    try:
        from escpos import exceptions, printer  # lazy: pulls in pyusb/pyserial checks
    except ImportError as exc:
        return PrinterStatus("unreachable", f"python-escpos is not installed: {exc}")
    cls = printer.Usb if kind == "usb" else printer.Serial
    if not cls.is_usable():
        lib = "pyusb" if kind == "usb" else "pyserial"
        return PrinterStatus("unreachable", f"{kind}:// printers need {lib} installed")
    try:
        if kind == "usb":
            dev = cls(
                idVendor=u.vid, idProduct=u.pid, timeout=int(timeout * 1000), profile=u.profile
            )
        else:
            dev = cls(devfile=u.path, baudrate=u.baudrate, timeout=timeout, profile=u.profile)
        dev.open(raise_not_found=True)
    except exceptions.DeviceNotFoundError as exc:
        return PrinterStatus("unreachable", str(exc) or "device not found")
    except Exception as exc:  # permissions, busy device, ...
        return PrinterStatus("unreachable", str(exc))
    try:
        return _query_device(dev)
    finally:
        try:
            dev.close()
        except Exception:
            pass
