"""The visitor-facing kiosk: pairing, scanning, welcome and goodbye."""
from flask import Blueprint

bp = Blueprint("kiosk", __name__)

from kiosk import routes  # noqa: E402,F401
