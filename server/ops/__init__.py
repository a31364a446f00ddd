"""Operations: what an operator of a running Lobby needs besides the pages.

Owns backups and restores of the embedded SQLite database (``backup.py``), the run lock
that tells a restore a server is running (``runlock.py``), readiness and Prometheus
metrics (``health.py`` routes, ``metrics.py`` collectors), and the process's log set-up:
JSON lines and the redaction of secrets (``logs.py``). ``init_app`` wires them into an
app; nothing here changes domain data except a restore.
"""

from __future__ import annotations

import os
from pathlib import Path


def init_app(app) -> None:
    """Called by ``create_app`` before the blueprints are imported."""
    # python-escpos keeps its capabilities pickle where this names (printers/
    # escpos_import.py): the data dir, not a new /tmp folder per process.
    os.environ.setdefault(
        "ESCPOS_CAPABILITIES_PICKLE_DIR", str(Path(app.config["DATA_DIR"]) / "cache" / "escpos")
    )
    from server.ops import health, logs, metrics

    logs.configure(app)
    metrics.init_app(app)
    app.register_blueprint(health.bp)
