"""`lobby run` in production: gunicorn's threaded worker, one process.

This is the deployment Flask-SocketIO documents for its threading mode with
simple-websocket (``gunicorn -w 1 --threads 100 module:app``), embedded rather than
shelled out. One worker process, because Socket.IO's sessions live in the process
that accepted them; more processes go behind a sticky proxy, each its own
``lobby run`` (see deploy/). Each open dashboard or kiosk socket holds one thread,
so ``threads`` bounds the sockets one process holds.

Who does what: the *arbiter* (the process ``lobby run`` started) builds the app
(``create_app(..., start_worker=False)``), migrates, prints the banner, binds the port
and forks the *worker*, restarting it if it dies. The worker serves that app; the print
worker thread (``PRINT_WORKER``) starts in it, after the fork (:func:`post_fork`),
beside the Socket.IO server that announces its badges: once, and never in the arbiter.
Built before the fork, the worker is ready the moment it is forked.

A stop (SIGTERM, as systemd and docker send) is graceful: the worker stops accepting,
closes every Socket.IO connection at once (the clients reconnect, to another process
when a proxy has one), lets the requests in flight finish (up to ``graceful_timeout``),
then stops the print worker after the job it is sending (:func:`worker_exit`), so no
job is left ``sending``. The arbiter then exits 0.
"""

import logging
import os
import threading

from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

log = logging.getLogger(__name__)
ORPHAN_EXIT_SECONDS = 5.0  # an orphaned worker (its arbiter killed) exits by then at last


class LobbyServer(BaseApplication):
    """gunicorn configured from ``lobby run``'s options, serving ``app`` (built with
    ``start_worker=False``)."""

    def __init__(
        self,
        app,
        *,
        host: str,
        port: int,
        threads: int,
        certfile: str | None = None,
        keyfile: str | None = None,
        access_log: str | None = None,
        graceful_timeout: int = 30,
    ):
        self.application = app
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": 1,
            "worker_class": "server.serve.Worker",
            "threads": threads,
            # A socket holds its thread: room for them plus kept-alive page connections.
            "worker_connections": max(1000, threads * 2),
            "graceful_timeout": graceful_timeout,
            "certfile": certfile,
            "keyfile": keyfile,
            "accesslog": access_log,
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "lobby",
            "preload_app": True,
            "post_fork": post_fork,
            "worker_exit": worker_exit,
            # gunicorn 24+ listens on a control socket in ~/.gunicorn by default, one
            # path for every server of the user: several `lobby run` would fight over it.
            "control_socket_disable": True,
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if value is not None and key in self.cfg.settings:  # older gunicorn: fewer
                self.cfg.set(key, value)

    def load(self):
        return self.application


def post_fork(arbiter, worker) -> None:
    """gunicorn hook, in the new worker process: its own database connections (none
    inherited from the arbiter), and the print worker unless --no-worker."""
    from server import start_print_worker
    from server.extensions import db

    app = arbiter.app.application
    with app.app_context():
        db.engine.dispose(close=False)  # the arbiter's, if any, stay the arbiter's
    if app.config["PRINT_WORKER"]:
        start_print_worker(app)


class Worker(ThreadWorker):
    """gunicorn's ``gthread`` worker that also closes the Socket.IO connections when
    told to stop: each is a request that would otherwise hold the stop for the whole
    ``graceful_timeout``, and its client would wait that long to reconnect."""

    def handle_exit(self, sig, frame) -> None:
        if self.alive and getattr(self, "wsgi", None) is not None:
            # Off the signal handler: closing sockets writes to them and takes locks.
            threading.Thread(target=close_sockets, name="lobby-close-sockets", daemon=True).start()
        super().handle_exit(sig, frame)

    def is_parent_alive(self) -> bool:
        """gunicorn asks once a second. An arbiter killed outright (``kill -9``, the
        OOM killer) leaves this worker orphaned: it stops accepting, but its Socket.IO
        connections would hold it, and the port, for the whole ``graceful_timeout`` and
        a new ``lobby run`` could not bind. Close them, as on a stop, so it exits now."""
        alive = super().is_parent_alive()
        if not alive and getattr(self, "wsgi", None) is not None:
            close_sockets()
            # No arbiter will ever kill it: whatever still holds the process (a request
            # stuck in a thread) must not keep the port past a few seconds.
            deadline = threading.Timer(ORPHAN_EXIT_SECONDS, os._exit, args=(0,))
            deadline.daemon = True
            deadline.start()
        return alive


def close_sockets() -> None:
    """Close every Socket.IO connection of this process (at the Engine.IO level: the
    clients see a lost transport and reconnect, rather than a "server disconnect"
    which tells them not to)."""
    from server.extensions import socketio

    try:
        server = socketio.server
        if server is not None:
            log.info("closing %d Socket.IO connections", len(server.eio.sockets))
            server.eio.disconnect()
    except Exception:  # a stop must go on: the process exit closes them anyway
        log.exception("closing Socket.IO connections failed")


def worker_exit(arbiter, worker) -> None:
    """gunicorn hook, in the worker process once it has served its last request (also
    called in the arbiter for a worker already gone: nothing to do there): stop the
    print worker after the job it is sending."""
    from server.services.printing import EXTENSION_KEY, spooler

    app = getattr(worker, "wsgi", None)
    print_worker = getattr(app, "extensions", {}).get(EXTENSION_KEY)
    if print_worker is not None:
        print_worker.stop()
    if app is not None:
        # Nothing is on the wire now; the badge process may still be warming up, and
        # the interpreter's exit would wait for that.
        spooler.kill()
