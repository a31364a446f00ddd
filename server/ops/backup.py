"""Backup and restore of the embedded SQLite database.

Contract:
- ``backup(config, path, force=False)`` copies the live database to ``path`` (a file,
  or a folder to get ``lobby-<UTC time>.db`` in it) with SQLite's online backup API
  (``sqlite3.Connection.backup``): consistent, while servers keep reading and writing.
  The copy is written beside the target and renamed into place, so ``path`` is either
  the old file or a whole backup, never half of one. Returns a ``Result``.
- ``restore(config, path)`` replaces the live database with the backup at ``path``:
  refused (``Conflict("server_running")``) while a server holds the run lock on the data
  dir, and (``ValidationError("not_a_lobby_database")``) for a file that is not a Lobby
  database (no ``alembic_version``, a revision our migrations do not know, or missing
  tables). The replaced database is kept as ``lobby.db.before-restore-<time>``.
- On PostgreSQL both refuse with ``ServiceError("use_pg_dump")``: pg_dump/pg_restore
  are the tools (README, "Operations").
``config`` is a loaded settings mapping (``server.config.load()``).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from server.ops import runlock
from server.services.errors import Conflict, ServiceError, ValidationError

# Tables every Lobby database has had since the first migration.
REQUIRED_TABLES = frozenset(
    {"users", "visitors", "visits", "events", "printers", "print_jobs", "kiosks", "api_tokens"}
)
PG_HINT = (
    "the database is PostgreSQL: back it up with pg_dump -Fc and restore with "
    "pg_restore (README, Operations)"
)


@dataclass
class Result:
    path: Path
    size: int
    revision: str


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def database_file(config) -> Path:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        raise ServiceError("use_pg_dump", PG_HINT)
    if not url.database or url.database == ":memory:":
        raise ServiceError("no_database_file", "the database is in memory: nothing to back up")
    return Path(url.database).resolve()


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from server import MIGRATIONS

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}


def check_lobby_database(path: Path) -> str:
    """The alembic revision of the Lobby database at ``path``; ``ValidationError``
    if it is no such thing. Opens it read-only (it is never changed)."""

    def refuse(why: str) -> ValidationError:
        return ValidationError("not_a_lobby_database", f"{path} is not a Lobby database: {why}")

    if not path.is_file():
        raise ValidationError("no_such_file", f"{path}: no such file")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "alembic_version" not in tables:
            raise refuse("no alembic_version table")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as exc:
        raise refuse(str(exc)) from exc
    finally:
        conn.close()
    if row is None or row[0] not in known_revisions():
        raise refuse(f"unknown schema revision {row[0] if row else None!r}")
    missing = REQUIRED_TABLES - tables
    if missing:
        raise refuse("missing tables " + ", ".join(sorted(missing)))
    return row[0]


def _copy(source: Path, target: Path) -> None:
    """SQLite's backup API, page by page, into ``target`` (made or overwritten)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=15)
    dst = sqlite3.connect(target)
    try:
        # pages=-1: one step, under one read transaction of the source, so the copy is
        # one moment of the database however busy the writers are.
        src.backup(dst, pages=-1)
        dst.commit()
    finally:
        dst.close()
        src.close()


def backup(config, path: str | os.PathLike, force: bool = False) -> Result:
    source = database_file(config)
    if not source.is_file():
        raise ServiceError("no_database_file", f"{source}: no database yet (run lobby db upgrade)")
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        target = target / f"lobby-{_stamp()}.db"
    if target == source:
        raise ValidationError("same_file", "the backup cannot be the live database itself")
    if target.exists() and not force:
        raise Conflict("exists", f"{target} exists (--force to replace it)")
    if not target.parent.is_dir():
        raise ValidationError("no_such_folder", f"{target.parent}: no such folder")
    part = target.with_name(target.name + ".part")
    try:
        _copy(source, part)
        revision = check_lobby_database(part)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return Result(target, target.stat().st_size, revision)


def restore(config, path: str | os.PathLike) -> Result:
    live = database_file(config)
    source = Path(path).expanduser().resolve()
    revision = check_lobby_database(source)
    if source == live:
        raise ValidationError("same_file", "that is the live database itself")
    data_dir = config["DATA_DIR"]
    with runlock.exclusive(data_dir) as free:
        if not free:
            raise Conflict(
                "server_running",
                f"a Lobby server or worker is running on {data_dir}: stop it first",
            )
        if live.exists():
            keep = live.with_name(f"{live.name}.before-restore-{_stamp()}")
            _copy(live, keep)
        # Through the backup API into the live file: SQLite rewrites it (and its WAL)
        # under its own locks, so no stale -wal/-shm can mix old pages with new ones.
        _copy(source, live)
    return Result(live, live.stat().st_size, revision)
