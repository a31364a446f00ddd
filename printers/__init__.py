"""Badge printing for Lobby: render, encode as ESC/POS, deliver, emulate.

Plain Python on Pillow, qrcode and python-escpos; imports nothing from the
web app, so it can be used and tested on its own.

    img = render_badge(Badge("张伟", company="Acme", code="V-1042"),
                       width=paper_width(url))
    print_badge(url, img)          # raises PrinterError(code, message)
"""

from .badge import Badge, render_badge
from .connection import (
    PrinterError,
    PrinterURL,
    paper_width,
    parse_printer_url,
    print_badge,
    send,
)
from .emulator import EmulatorServer, status_byte
from .raster import decode_raster, encode_badge, profile_width

__all__ = [
    "Badge",
    "EmulatorServer",
    "PrinterError",
    "PrinterURL",
    "decode_raster",
    "encode_badge",
    "paper_width",
    "parse_printer_url",
    "print_badge",
    "profile_width",
    "render_badge",
    "send",
    "status_byte",
]
