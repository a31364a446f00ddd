"""Import python-escpos without its side effects on the importing process.

On import, ``escpos.capabilities`` (3.1) calls ``logging.basicConfig()`` (a stderr
handler on the root logger, so every library's records start printing) and, unless
``ESCPOS_CAPABILITIES_PICKLE_DIR`` is set, makes a new ``mkdtemp()`` folder for its
capabilities pickle: one folder left in /tmp per process, never removed. It calls
``mkdtemp()`` even when that variable is set (it is the default argument of
``environ.get``), so ``load`` also stands in for ``tempfile.mkdtemp`` while escpos's
own module calls it (other callers get the real one), returning the chosen folder.

Contract:
- ``load(cache_dir=None)`` imports ``escpos.capabilities`` once per process with the
  pickle kept in one fixed folder: ``cache_dir`` if given, else the folder named by
  ``ESCPOS_CAPABILITIES_PICKLE_DIR`` (the server points it at its data dir before
  importing us), else ``$XDG_CACHE_HOME/lobby/escpos`` (``~/.cache``). The folder is
  created when missing. The root logger's handlers and level are as they were before.
- Calling it again, or after escpos was imported some other way, does nothing.

Every module of ``printers`` that imports escpos calls ``load()`` first.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"  # read by escpos.capabilities itself
_lock = threading.Lock()


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lobby" / "escpos"


def _usable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _choose(cache_dir: str | os.PathLike[str] | None) -> Path:
    for candidate in (cache_dir, os.environ.get(ENV), default_cache_dir()):
        if candidate and _usable(Path(candidate)):
            return Path(candidate)
    # Last resort, still one folder per user rather than one per process.
    fallback = Path(tempfile.gettempdir()) / f"lobby-escpos-{os.getuid()}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    return fallback


def load(cache_dir: str | os.PathLike[str] | None = None) -> None:
    """Import escpos's capabilities quietly (see the module docstring)."""
    if "escpos.capabilities" in sys.modules:
        return
    with _lock:
        if "escpos.capabilities" in sys.modules:
            return
        os.environ[ENV] = str(_choose(cache_dir))
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        real_mkdtemp = tempfile.mkdtemp

        def mkdtemp(*args: Any, **kwargs: Any) -> Any:

            if sys._getframe(1).f_globals.get("__name__") == "escpos.capabilities":
                return os.environ[ENV]
            return real_mkdtemp(*args, **kwargs)

        tempfile.mkdtemp = mkdtemp
        try:
            import escpos.capabilities  # noqa: F401
        finally:
            tempfile.mkdtemp = real_mkdtemp
            # basicConfig() only adds when the root had no handler: put back exactly
            # what the process had (possibly nothing), so its own set-up decides.
            root.handlers[:] = handlers
            root.setLevel(level)
