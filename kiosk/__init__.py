"""The visitor-facing kiosk: pairing, scanning, finding a booking, walk-ins, the site
rules, the photo, welcome and goodbye. ``kiosk.flow`` holds the steps; each module
here is one part of the visitor's way."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from kiosk import (  # noqa: E402,F401
    lookup,
    routes,
    rules,
    timing,  # noqa: E402,F401  (Server-Timing on kiosk responses)
    walkin,
)
