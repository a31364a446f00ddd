"""Drawing and sending badges in a process of their own.

Drawing a badge (fonts, the QR code, dithering a logo) costs tens of milliseconds
of CPU, most of it holding Python's GIL. Done in the server process, every
check-in arriving meanwhile waits for it. ``Spooler.print_badge`` runs
``render_badge`` and ``print_job`` in one long-lived child process instead (started
with ``spawn``: none of the server's threads, locks or database connections are
copied into it) and waits for the answer without holding the GIL. The child runs
at a lower priority than the server, so under a burst check-ins come first and
badges follow; it ends within a second of its server, however that one ended.

Contract, the same as calling ``render_badge`` then ``print_job`` here:
- returns ``"confirmed"`` or ``"unconfirmed"``; a printer failure raises the same
  ``PrinterError`` (code and message) the child saw;
- anything else raises ``SpoolError``: the badge could not be drawn (a bad
  image, a bug), the child died (it is replaced for the next badge), or it did
  not answer within ``timeout`` plus ``DRAW_SECONDS`` (it is stopped: a badge
  never comes out later, after its job was reported failed).

Where no child process can be started, ``print_badge`` does the work in the
calling thread, so printing never depends on it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool

from .badge import Badge, render_badge
from .connection import PrinterError, print_job
from .layout import Layout

log = logging.getLogger(__name__)
DRAW_SECONDS = 60.0  # beyond the printer's own timeout: a badge is never this slow
NICENESS = 5  # the child yields the CPU to the server under load
PARENT_CHECK_SECONDS = 1.0


class SpoolError(RuntimeError):
    """The badge was not printed for a reason other than the printer's."""


def _report_warm_up(future: Future[bool]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("the badge process could not warm up: %s", future.exception())


def _child_init(parent: int) -> None:
    # Ctrl-C reaches the whole process group and a service manager's stop the whole
    # cgroup: the child would die mid-badge. Its parent decides when to stop; the
    # child leaves once the parent is gone (_exit_with).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # not on this platform: same priority then
        pass
    threading.Thread(
        target=_exit_with, args=(parent,), name="spool-parent-watch", daemon=True
    ).start()


def _exit_with(parent: int) -> None:
    """A server stopped by a signal never shuts its pool down, and the child's queue
    never sees an end of file: the child leaves by itself once its parent is gone."""
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            os._exit(0)


def _draw_and_send(
    url: str, badge: Badge, width: int, layout: Layout | None, timeout: float
) -> str:
    """In the child: one badge, start to finish. Exceptions other than a printer's
    come back as text (their classes may not survive the trip)."""
    try:
        return print_job(url, render_badge(badge, width=width, layout=layout), timeout=timeout)
    except PrinterError:
        raise
    except Exception as e:
        raise SpoolError(f"{type(e).__name__}: {e}") from None


def _warm_up() -> bool:
    """In the child: draw one badge nobody prints, so fonts (the CJK one is large),
    the QR encoder and the dithering are loaded before the first real badge."""
    render_badge(
        Badge(
            "张伟 Ada Lovelace",
            company="Lobby",
            host_name="Grace Hopper",
            date_text="2026-01-01",
            code="warm-up-0000",
            language="zh",
        )
    )
    return True


class Spooler:
    """One child process that draws and sends badges, one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._in_process = False  # set when no child can be started here

    def _executor(self) -> ProcessPoolExecutor | None:
        with self._lock:
            if self._pool is None and not self._in_process:
                try:
                    self._pool = ProcessPoolExecutor(
                        max_workers=1,
                        mp_context=multiprocessing.get_context("spawn"),
                        initializer=_child_init,
                        initargs=(os.getpid(),),
                    )
                except (OSError, NotImplementedError, ImportError) as e:
                    log.warning("badges are drawn in the server process: %s", e)
                    self._in_process = True
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Stop a child that died or hangs; the next badge starts a new one."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        for proc in list(getattr(pool, "_processes", {}).values()):
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    @property
    def pid(self) -> int | None:
        """The child's process id, once one runs (None before, or when drawing here)."""
        pool = self._pool
        procs = list(getattr(pool, "_processes", None) or {}) if pool is not None else []
        return procs[0] if procs else None

    def _submit(
        self, url: str, badge: Badge, width: int, layout: Layout | None, timeout: float
    ) -> tuple[ProcessPoolExecutor | None, Future[str] | None]:
        """Hand one badge to the child. A child that died while idle is replaced (no
        badge of it was on the way, so none can come out twice)."""
        for attempt in (1, 2):
            pool = self._executor()
            if pool is None:
                return None, None
            try:
                return pool, pool.submit(_draw_and_send, url, badge, width, layout, timeout)
            except (BrokenProcessPool, RuntimeError) as e:  # died since, or shut down
                self._discard(pool)
                if attempt == 2:
                    raise SpoolError(f"the badge process could not be started: {e}") from None
        raise AssertionError("unreachable: the second attempt returns or raises")

    def warm_up(self) -> Future[bool] | None:
        """Start the child now and have it load what drawing needs, without waiting:
        a server's first badge then prints as fast as the rest, and a burst of
        check-ins at the start does not share the CPU with the child's start-up.
        Returns the future (None when badges are drawn in this process)."""
        pool = self._executor()
        if pool is None:
            return None
        try:
            future = pool.submit(_warm_up)
        except (BrokenProcessPool, RuntimeError) as e:
            log.warning("the badge process could not be started: %s", e)
            self._discard(pool)
            return None
        future.add_done_callback(_report_warm_up)
        return future

    def print_badge(
        self, url: str, badge: Badge, width: int, layout: Layout | None, timeout: float
    ) -> str:
        pool, future = self._submit(url, badge, width, layout, timeout)
        if pool is None or future is None:  # both or neither
            return _draw_and_send(url, badge, width, layout, timeout)
        try:
            return future.result(timeout=timeout + DRAW_SECONDS)
        except (PrinterError, SpoolError):
            raise
        except FutureTimeout:
            self._discard(pool)
            raise SpoolError("the badge process did not answer; it was stopped") from None
        except BrokenProcessPool:
            self._discard(pool)
            raise SpoolError("the badge process died while printing") from None

    def kill(self) -> None:
        """Stop the child at once, even mid-warm-up: for a server on its way out whose
        print worker has stopped (no badge on the wire). ``close`` would wait for the
        warm-up, seconds of font loading on a busy machine, holding up the exit."""
        with self._lock:
            pool = self._pool
        if pool is not None:
            self._discard(pool)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
