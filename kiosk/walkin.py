"""Walk-ins at the kiosk (being built)."""
from kiosk import bp
from kiosk.flow import refused


@bp.get("/walk-in")
def walk_in():
    return refused("not_available")
