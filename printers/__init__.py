"""Badge printing for Lobby: render, encode as ESC/POS, deliver, emulate.

Plain Python on Pillow, qrcode and python-escpos; imports nothing from the
web app, so it can be used and tested on its own.

    img = render_badge(Badge("张伟", company="Acme", code="V-1042"),
                       width=paper_width(url))
    print_badge(url, img)          # raises PrinterError(code, message)
    print_job(url, img)            # "confirmed" | "unconfirmed"; raises "dropped"...
    query_status(url)              # PrinterStatus("online" | "paper_out" | ...)
"""

from .badge import Badge, render_badge, visitor_type_for
from .connection import (
    PrinterError,
    PrinterURL,
    paper_width,
    parse_printer_url,
    print_badge,
    print_job,
    send,
    send_job,
)
from .emulator import EmulatorServer, control, status_byte
from .layout import Layout, default_layout
from .raster import decode_raster, encode_badge, profile_width
from .status import STATES, PrinterStatus, decode_status, query_status

__all__ = [
    "Badge",
    "EmulatorServer",
    "Layout",
    "PrinterError",
    "PrinterStatus",
    "PrinterURL",
    "STATES",
    "control",
    "decode_raster",
    "decode_status",
    "default_layout",
    "encode_badge",
    "paper_width",
    "parse_printer_url",
    "print_badge",
    "print_job",
    "profile_width",
    "query_status",
    "render_badge",
    "send",
    "send_job",
    "status_byte",
    "visitor_type_for",
]
