"""Finding a booking without the QR code, and leaving by name (being built)."""
from kiosk import bp
from kiosk.flow import refused


@bp.get("/lookup")
def lookup():
    return refused("not_available")


@bp.get("/leave")
def leave():
    return refused("not_available")
