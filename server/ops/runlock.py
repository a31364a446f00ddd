"""The run lock: how ``lobby restore`` knows a server is using a data dir.

Every serving process (``lobby run``, ``lobby worker``) calls ``hold(data_dir)`` once
at start: it opens ``DATA_DIR/lobby.run.lock`` and takes a *shared* ``flock`` on it,
kept until the process exits (the kernel drops it even on SIGKILL, so a crashed server
never leaves a stale lock). Several processes on one data dir share it happily.
``is_held(data_dir)`` and ``exclusive(data_dir)`` try an *exclusive* lock without
waiting: it is refused while any holder lives. A restore holds the exclusive lock
while it writes, so a server started meanwhile refuses to start instead of serving a
half-written database.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from server.services.errors import Conflict

LOCK_NAME = "lobby.run.lock"
_held: list[IO] = []  # open lock files of this process: closing one would release it


def lock_path(data_dir: str | os.PathLike) -> Path:
    return Path(data_dir) / LOCK_NAME


def _open(data_dir) -> IO:
    path = lock_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a+")


def hold(data_dir: str | os.PathLike) -> IO:
    """Mark this process as serving ``data_dir`` until it exits. Raises
    ``Conflict("restore_running")`` when a restore is writing the database."""
    handle = _open(data_dir)
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Conflict(
            "restore_running",
            f"a restore is writing the database in {data_dir}; start again after it",
        ) from None
    _held.append(handle)
    return handle


def release_all() -> None:
    """Drop this process's holds (tests; a server simply exits)."""
    while _held:
        _held.pop().close()


@contextlib.contextmanager
def exclusive(data_dir: str | os.PathLike) -> Iterator[bool]:
    """Try the exclusive lock without waiting; yields whether it was taken (and keeps
    it for the ``with`` block)."""
    handle = _open(data_dir)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        handle.close()


def is_held(data_dir: str | os.PathLike) -> bool:
    """Whether a server (run or worker) is running on ``data_dir`` right now."""
    if not lock_path(data_dir).exists():
        return False
    with exclusive(data_dir) as free:
        return not free
