"""The socket guard: a live Socket.IO connection is only as good as the credential it
connected with. Each web process remembers, per connected sid, what it authenticated
with (a login session, an API token, a kiosk's device secret) and one thread sweeps
them every ``SOCKET_SWEEP_SECONDS`` (2 s): one query per kind for all the sids it holds,
and every sid whose credential is gone (logged out, session ended by a disabled user
or a password change, token revoked, kiosk revoked or re-paired) is disconnected.

A change made in this process wakes the sweep at once (``sessions.changed``); other
processes cut their sockets on their next sweep, so within seconds everywhere without
any message between processes. The thread runs only while the process holds sockets
(started by the first connection, after any fork)."""

import logging
import threading
from typing import Any

from flask import Flask, current_app

from server.extensions import db, socketio
from server.services import sessions

log = logging.getLogger("lobby.sockets")

EXTENSION_KEY = "lobby_socket_guard"
SWEEP_SECONDS = 2.0
_guards_lock = threading.Lock()

# ("session", login session id) | ("token", api token id) | ("kiosk", kiosk id, secret hash)
Credential = tuple[Any, ...]


class SocketGuard:
    def __init__(self, app: Flask):
        self.app = app
        self.interval = float(app.config.get("SOCKET_SWEEP_SECONDS", SWEEP_SECONDS))
        self.lock = threading.Lock()
        self.sids: dict[str, Credential] = {}
        self.running = False

    def add(self, sid: str, credential: Credential) -> None:
        with self.lock:
            self.sids[sid] = credential
            if not self.running:
                self.running = True
                threading.Thread(target=self._run, name="lobby-socket-guard", daemon=True).start()

    def remove(self, sid: str) -> None:
        with self.lock:
            self.sids.pop(sid, None)

    def _run(self) -> None:
        while True:
            with sessions.changed:
                sessions.changed.wait(self.interval)
            with self.lock:
                for sid in [sid for sid in self.sids if not _known(sid)]:
                    del self.sids[sid]  # gone without a goodbye, or its server replaced
                if not self.sids:
                    self.running = False  # the next connection starts a new thread
                    return
                held = dict(self.sids)
            try:
                with self.app.app_context():
                    try:
                        dead = self.sweep(held)
                    finally:
                        db.session.remove()
            except Exception:  # a database hiccup: keep the sockets, try again
                log.exception("socket guard: sweep failed")
                continue
            for sid in dead:
                self.remove(sid)
                log.info("socket %s cut: its credential %s ended", sid, held[sid][0])
                try:
                    socketio.server.disconnect(sid, namespace="/")
                except Exception:  # already gone
                    log.debug("socket %s: disconnect failed", sid, exc_info=True)

    @staticmethod
    def sweep(held: dict[str, Credential]) -> list[str]:
        """The sids whose credential no longer holds (one query per kind)."""
        by_kind: dict[str, set] = {"session": set(), "token": set(), "kiosk": set()}
        for cred in held.values():
            by_kind[cred[0]].add(cred[1] if cred[0] != "kiosk" else (cred[1], cred[2]))
        live: dict[str, set[Any]] = {
            "session": sessions.live_sessions(by_kind["session"]),
            "token": sessions.live_tokens(by_kind["token"]),
            "kiosk": sessions.live_kiosks(by_kind["kiosk"]),
        }
        dead = []
        for sid, cred in held.items():
            key = cred[1] if cred[0] != "kiosk" else (cred[1], cred[2])
            if key not in live[cred[0]]:
                dead.append(sid)
        return dead


def _known(sid: str) -> bool:
    """Whether this process's Socket.IO server still holds ``sid`` (connected, or
    still in its connect handler)."""
    manager = socketio.server.manager
    return bool(manager.is_connected(sid, "/") or manager.is_pre_connected(sid, "/"))


def guard() -> SocketGuard:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _guards_lock:
        found = app.extensions.get(EXTENSION_KEY)
        if found is None:
            found = app.extensions[EXTENSION_KEY] = SocketGuard(app)
    return found


def track(sid: str, credential: Credential) -> None:
    """Remember what socket ``sid`` connected with, to cut it when that ends."""
    guard().add(sid, credential)


def forget(sid: str) -> None:
    guard().remove(sid)
