"""An uploaded sheet kept between its preview and its import, and the import's
progress (the /admin/import pages, server/admin/visit_import.py).

``keep(data, filename, user)`` stores the upload under ``DATA_DIR/imports`` by a
random token (``secrets``): the confirmation names the token, never the data, so
what is imported is what was previewed and checked on the server. Only the user who
uploaded it may import it or watch it (``NotFound`` otherwise). ``start(token, user)``
runs the import in a background thread: the rows are checked again (a host may have
left since the preview), then written all or none (services/visit_import.py); its
progress goes to ``<token>.state.json`` (phase, rows done, total, the visits' first and
last day, or the error), which the page polls. Files, not memory: any server process
sharing the data dir answers the poll. Uploads older than a day are removed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from pathlib import Path

from flask import current_app

from server.extensions import db
from server.models import User
from server.services import clock, visit_import
from server.services.errors import NotFound, ServiceError

TOKEN = re.compile(r"^[A-Za-z0-9_-]{22}$")
KEEP_SECONDS = 24 * 3600


def _dir() -> Path:
    path = Path(current_app.config["DATA_DIR"]) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def sweep() -> None:
    """Remove uploads (and progress) older than a day: an upload holds visitors'
    personal data, kept only until it is imported or abandoned."""
    _sweep(_dir())


def _sweep(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def keep(data: bytes, filename: str, user: User) -> str:
    """Store an upload; returns its token."""
    folder = _dir()
    _sweep(folder)
    token = secrets.token_urlsafe(16)
    (folder / f"{token}.upload").write_bytes(data)
    _write_json(folder / f"{token}.json", {"filename": filename[:200], "user_id": user.id})
    return token


def _meta(token: str, user: User) -> dict:
    if not TOKEN.match(token or ""):
        raise NotFound("not_found", "no such upload")
    try:
        meta = json.loads((_dir() / f"{token}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise NotFound("not_found", "no such upload (it expired after a day)") from e
    if meta.get("user_id") != user.id:
        raise NotFound("not_found", "no such upload")
    return meta


def load(token: str, user: User) -> tuple[bytes, str]:
    """The upload's bytes and file name (``NotFound`` once imported or expired)."""
    meta = _meta(token, user)
    try:
        return (_dir() / f"{token}.upload").read_bytes(), meta["filename"]
    except OSError as e:
        raise NotFound("not_found", "no such upload (already imported?)") from e


def state(token: str, user: User) -> dict:
    """The import's progress: ``{"phase": "checking"|"writing"|"done"|"failed", ...}``;
    ``{"phase": "waiting"}`` before it started."""
    _meta(token, user)
    try:
        return json.loads((_dir() / f"{token}.state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"phase": "waiting"}


def start(token: str, user: User, invite: bool = True) -> threading.Thread:
    """Import the upload in a background thread; returns the thread (tests join it).
    A second start of the same upload is refused (``Conflict``)."""
    data, filename = load(token, user)
    folder = _dir()
    marker = folder / f"{token}.state.json"
    try:  # claim: only one import per upload, even from two clicks at once
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError as e:
        raise ServiceError("already_started", "this file is already being imported", 409) from e
    os.close(fd)
    _write_json(marker, {"phase": "checking", "done": 0, "total": 0})
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    thread = threading.Thread(
        target=_run,
        args=(app, token, user.id, data, filename, invite),
        name=f"import-{token[:6]}",
        daemon=True,
    )
    thread.start()
    return thread


def _run(app, token: str, user_id: int, data: bytes, filename: str, invite: bool) -> None:
    with app.app_context():
        marker = _dir() / f"{token}.state.json"
        try:
            user = db.session.get(User, user_id)

            def checking(done: int, of: int) -> None:
                _write_json(marker, {"phase": "checking", "done": done, "total": of})

            result = visit_import.preview(data, filename, user, progress=checking)
            if not result.ok:
                _write_json(
                    marker,
                    {
                        "phase": "failed",
                        "error": f"{result.invalid} rows have errors now; nothing was imported",
                    },
                )
                return
            total = len(result.rows)
            _write_json(marker, {"phase": "writing", "done": 0, "total": total})

            def progress(done: int, of: int) -> None:
                _write_json(marker, {"phase": "writing", "done": done, "total": of})

            ids = visit_import.run(result, user, invite=invite, progress=progress)
            days = [r.when for r in result.rows if r.when is not None]
            _write_json(
                marker,
                {
                    "phase": "done",
                    "done": total,
                    "total": total,
                    "visits": len(ids),
                    "invitations": sum(1 for r in result.rows if r.visitor.get("email"))
                    if invite
                    else 0,
                    "first_day": clock.to_local(min(days)).date().isoformat() if days else "",
                    "last_day": clock.to_local(max(days)).date().isoformat() if days else "",
                },
            )
            (_dir() / f"{token}.upload").unlink(missing_ok=True)
        except ServiceError as e:
            _write_json(marker, {"phase": "failed", "error": e.message})
        except Exception:  # the page must stop polling and say so; the log has the trace
            app.logger.exception("import %s failed", token[:6])
            _write_json(marker, {"phase": "failed", "error": "the import failed (see the log)"})
        finally:
            db.session.remove()
