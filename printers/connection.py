"""Printer URLs and delivery of ESC/POS bytes.

URL forms (each may add ``?profile=<escpos profile>`` and ``?width=<dots>``):
``tcp://host[:9100]``, ``usb://VID:PID`` (hex), ``serial:///dev/ttyUSB0?baudrate=9600``,
``file:///dev/usb/lp0`` and ``emulator:///dir`` (saves PNGs instead of printing).

Every failure is a ``PrinterError`` whose ``.code`` is one of ``bad_url``,
``unreachable``, ``timeout``, ``io_error``, ``unsupported``, ``dropped`` (the
connection closed or reset mid-job: the badge may be lost) or ``offline``
(the printer took the job but says it cannot print: paper out, cover open);
callers can show ``.message`` and branch on ``.code`` without parsing text.

``send``/``print_badge`` fire and forget. ``send_job``/``print_job`` are for
real prints: over tcp they ask ``DLE EOT 1`` on the same connection after
the job and return ``"confirmed"`` (the printer answered online after taking
the whole job) or ``"unconfirmed"`` (the line stayed open but the printer
never answered: no status support); a connection dropped before the answer
raises ``dropped``, so a job is never reported done when it may be lost.
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from .raster import CAPABILITIES, decode_raster, encode_badge, profile_width

SCHEMES = ("tcp", "usb", "serial", "file", "emulator")
ERROR_CODES = ("bad_url", "unreachable", "timeout", "io_error", "unsupported", "dropped", "offline")
CONFIRMED, UNCONFIRMED = "confirmed", "unconfirmed"
_HEX_ID = re.compile(r"(?:0x)?[0-9a-fA-F]{1,4}")


class PrinterError(Exception):
    """A printing failure with a stable machine-readable ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[type[PrinterError], tuple[str, str]]:
        # comes back intact from the badge process (spool.py)
        return (PrinterError, (self.code, self.message))


@dataclass(frozen=True)
class PrinterURL:
    scheme: str
    host: str | None = None
    port: int | None = None
    path: str | None = None
    vid: int | None = None
    pid: int | None = None
    baudrate: int | None = None
    profile: str | None = None
    width: int | None = None


def _bad(url: str, why: str) -> PrinterError:
    return PrinterError("bad_url", f"{why} in printer URL {url!r}")


def _positive_int(url: str, name: str, value: str, top: int) -> int:
    if not value.isdigit() or not 0 < int(value) <= top:
        raise _bad(url, f"{name} must be a number from 1 to {top}")
    return int(value)


def parse_printer_url(url: str) -> PrinterURL:
    """Parse and validate ``url``; ``PrinterError("bad_url")`` if malformed."""
    if not isinstance(url, str) or "://" not in url:
        raise _bad(str(url), "missing scheme://")
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _bad(url, f"unknown scheme {scheme!r} (use one of {', '.join(SCHEMES)})")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    allowed = {"profile", "width"} | ({"baudrate"} if scheme == "serial" else set())
    if unknown := set(query) - allowed:
        raise _bad(url, f"unknown option {sorted(unknown)[0]!r}")
    profile = query.get("profile") or None
    if profile is not None and profile not in CAPABILITIES["profiles"]:
        raise _bad(url, f"unknown escpos profile {profile!r}")
    width = _positive_int(url, "width", query["width"], 4096) if "width" in query else None
    common: dict[str, Any] = dict(scheme=scheme, profile=profile, width=width)

    if scheme == "tcp":
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            raise _bad(url, "port must be a number from 1 to 65535") from None
        if not host or parts.path not in ("", "/"):
            raise _bad(url, "expected tcp://host[:port]")
        if port == 0:
            raise _bad(url, "port must be a number from 1 to 65535")
        return PrinterURL(host=host, port=port or 9100, **common)
    if scheme == "usb":
        ids = parts.netloc.split(":")
        if (
            len(ids) != 2
            or not all(_HEX_ID.fullmatch(x) for x in ids)
            or parts.path not in ("", "/")
        ):
            raise _bad(url, "expected usb://VID:PID in hex, e.g. usb://04b8:0202")
        return PrinterURL(vid=int(ids[0], 16), pid=int(ids[1], 16), **common)
    # serial, file, emulator: a local path; usb-style netlocs are typos for ///
    if parts.netloc not in ("", "localhost") or not parts.path.strip("/"):
        raise _bad(url, f"expected {scheme}:///absolute/path")
    baud = (
        _positive_int(url, "baudrate", query.get("baudrate", "9600"), 4_000_000)
        if scheme == "serial"
        else None
    )
    return PrinterURL(path=parts.path, baudrate=baud, **common)


def _as_url(url: str | PrinterURL) -> PrinterURL:
    return url if isinstance(url, PrinterURL) else parse_printer_url(url)


def paper_width(url: str | PrinterURL, default: int = 576) -> int:
    """Dots to render at: ``?width=``, else the profile's width, else ``default``."""
    u = _as_url(url)
    return u.width or profile_width(u.profile) or default


def print_badge(url: str | PrinterURL, img: Image.Image, timeout: float = 3.0) -> None:
    """Encode ``img`` for the URL's profile (scaled down to fit) and send it."""
    u = _as_url(url)
    send(u, encode_badge(img, profile=u.profile, max_width=u.width), timeout=timeout)


def print_job(url: str | PrinterURL, img: Image.Image, timeout: float = 3.0) -> str:
    """Encode ``img`` as ``print_badge`` does, then ``send_job`` it; returns
    ``"confirmed"`` or ``"unconfirmed"``, raises ``PrinterError``."""
    u = _as_url(url)
    return send_job(u, encode_badge(img, profile=u.profile, max_width=u.width), timeout=timeout)


def send_job(url: str | PrinterURL, data: bytes, timeout: float = 3.0) -> str:
    """Deliver one job and make sure it was not lost on the way.

    tcp: send ``data`` then ``DLE EOT 1`` and wait up to ``timeout`` for the
    status byte. Peer closed or reset before it came -> ``PrinterError
    ("dropped")``; a reply saying offline -> ``PrinterError("offline")``
    with the reason; a reply -> ``"confirmed"``; silence on an open line ->
    ``"unconfirmed"``. Other schemes: ``send`` then ``"unconfirmed"``
    (``"confirmed"`` for emulator://, which saves the PNG before returning).
    """
    u = _as_url(url)
    if u.scheme == "tcp":
        return _send_job_tcp(u, data, timeout)
    send(u, data, timeout=timeout)
    return CONFIRMED if u.scheme == "emulator" else UNCONFIRMED


def _send_job_tcp(u: PrinterURL, data: bytes, timeout: float) -> str:
    from .status import DLE_EOT, _valid, decode_status

    where = f"{u.host}:{u.port}"
    try:
        sock = socket.create_connection((u.host, u.port), timeout=timeout)
    except TimeoutError:
        raise PrinterError("timeout", f"no answer from {where} within {timeout:g}s") from None
    except OSError as exc:
        raise PrinterError("unreachable", f"{where}: {exc.strerror or exc}") from None

    def dropped(how: str) -> PrinterError:
        return PrinterError(
            "dropped", f"{where} {how} before confirming the job; the badge may not have printed"
        )

    def ask(n: int, wait: float) -> int | None:
        """Send DLE EOT n and return the status byte; None on silence."""
        sock.settimeout(wait)
        sock.sendall(DLE_EOT + bytes([n]))
        deadline = time.monotonic() + wait
        while True:
            try:
                reply = sock.recv(64)
            except TimeoutError:
                return None
            if not reply:
                raise ConnectionAbortedError("closed the connection")
            if found := [b for b in reply if _valid(b) is not None]:
                return found[-1]
            left = deadline - time.monotonic()  # noise (e.g. an echo): keep waiting
            if left <= 0:
                return None
            sock.settimeout(left)

    with sock:
        try:
            sock.sendall(data)
            b1 = ask(1, timeout)
            if b1 is None:
                result = UNCONFIRMED
            elif b1 & 0x08:  # offline: ask why on the same line, briefly
                b2 = ask(2, min(timeout, 1.0))
                b4 = ask(4, min(timeout, 1.0)) if b2 is not None else None
                status = decode_status(b1, b2, b4)
                raise PrinterError(
                    "offline",
                    f"{where} took the job but cannot print: {status.detail or status.state}",
                )
            else:
                result = CONFIRMED
        except ConnectionAbortedError:
            raise dropped("closed the connection") from None
        except (ConnectionResetError, BrokenPipeError):
            raise dropped("reset the connection") from None
        except TimeoutError:
            raise PrinterError(
                "timeout",
                f"{where} stopped taking data for {timeout:g}s; the badge may not have printed",
            ) from None
        except OSError as exc:
            raise PrinterError("io_error", f"{where}: {exc.strerror or exc}") from None
        # Close politely: half-close and give the printer a moment to close its
        # side, so nothing we leave unread turns our close into a reset.
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(min(timeout, 0.5))
            while sock.recv(4096):
                pass
        except OSError:
            pass
    return result


def send(url: str | PrinterURL, data: bytes, timeout: float = 3.0) -> None:
    """Deliver raw ESC/POS ``data``; fails within about ``timeout`` seconds."""
    u = _as_url(url)
    if u.scheme == "tcp":
        _send_tcp(u, data, timeout)
    elif u.scheme == "file":
        assert u.path is not None  # parse_printer_url gives file URLs a path
        try:
            with open(u.path, "ab") as fh:  # append: a device node or a spool file
                fh.write(data)
        except FileNotFoundError as exc:
            raise PrinterError("unreachable", f"{u.path}: {exc.strerror}") from exc
        except OSError as exc:
            raise PrinterError("io_error", f"{u.path}: {exc.strerror or exc}") from exc
    elif u.scheme == "emulator":
        assert u.path is not None  # and emulator URLs
        _save_pngs(Path(u.path), data)

    else:
        _send_escpos_device(u, data, timeout)


def _send_tcp(u: PrinterURL, data: bytes, timeout: float) -> None:
    where = f"{u.host}:{u.port}"
    try:
        sock = socket.create_connection((u.host, u.port), timeout=timeout)
    except TimeoutError:
        raise PrinterError("timeout", f"no answer from {where} within {timeout:g}s") from None
    except OSError as exc:  # refused, no route, DNS failure
        raise PrinterError("unreachable", f"{where}: {exc.strerror or exc}") from None
    with sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            # Wait briefly for the printer to close its side: closing with
            # unread status bytes pending would reset the connection and
            # may drop the tail of the job on the printer side.
            sock.settimeout(min(timeout, 1.0))
            while sock.recv(4096):
                pass
        except TimeoutError:
            pass  # the job is sent; a printer that keeps the line open is fine
        except OSError as exc:
            raise PrinterError("io_error", f"{where}: {exc.strerror or exc}") from None


_counter = itertools.count(1)
_counter_lock = threading.Lock()


def _save_pngs(directory: Path, data: bytes) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for img in decode_raster(data):
            with _counter_lock:
                n = next(_counter)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            img.save(directory / f"badge-{stamp}-{n:04d}.png")
    except OSError as exc:
        raise PrinterError("io_error", f"{directory}: {exc.strerror or exc}") from exc


def _send_escpos_device(u: PrinterURL, data: bytes, timeout: float) -> None:
    from escpos import exceptions, printer  # lazy: pulls in pyusb/pyserial checks

    cls = printer.Usb if u.scheme == "usb" else printer.Serial
    if not cls.is_usable():
        lib = "pyusb" if u.scheme == "usb" else "pyserial"
        raise PrinterError("unsupported", f"{u.scheme}:// printers need {lib} installed")
    try:
        if u.scheme == "usb":
            dev = cls(
                idVendor=u.vid, idProduct=u.pid, timeout=int(timeout * 1000), profile=u.profile
            )
        else:
            dev = cls(devfile=u.path, baudrate=u.baudrate, timeout=timeout, profile=u.profile)
        dev.open(raise_not_found=True)
    except exceptions.DeviceNotFoundError as exc:
        raise PrinterError("unreachable", str(exc)) from exc
    try:
        dev._raw(data)
    except Exception as exc:  # pyusb/pyserial raise their own types
        raise PrinterError("io_error", str(exc)) from exc
    finally:
        dev.close()
