"""The floor for bench/checkin.py: the least a check-in server on Lobby's stack can do.

Same stack as Lobby (Flask + Flask-SocketIO in threading mode, simple-websocket,
SQLite in WAL mode in a file, served the way ``lobby run`` serves: ``--server
gunicorn``, one gthread process with ``--threads`` threads, or ``--server werkzeug``,
``socketio.run``), but a check-in is ONE insert and ONE emit:

- Socket.IO connect: ``auth={"token": ...}`` must equal the token given at start
  (env ``FLOOR_TOKEN``), else refused; accepted clients join the room ``host:1``.
- ``POST /checkins {"code": ...}`` -> one ``INSERT`` (``BEGIN IMMEDIATE`` ... ``COMMIT``),
  then ``emit("visitor_arrived", {"visit_id", "seq"}, to="host:1")``; ``201 {"id", "code",
  "status"}``.
- ``GET /healthz`` -> 200.

Concurrent writers wait for SQLite's write lock one at a time through an in-process
lock, then SQLite, the way Lobby's embedded default writes (``server/services/tx.py``):
the floor differs from Lobby only in the work a check-in does, not in how its writers
queue.

Run: ``FLOOR_TOKEN=secret python bench/floor_app.py --port 5055 --db /tmp/floor.db``
"""

import argparse
import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

ROOM = "host:1"
SERVERS = ("gunicorn", "werkzeug")


def create_app(db_path: str, token: str):
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    socketio = SocketIO(app, async_mode="threading")
    local = threading.local()
    queue = threading.Lock()  # writers in turn, as Lobby's (not SQLite's sleeping busy handler)

    def connect() -> sqlite3.Connection:
        # One connection per server thread (Werkzeug: one thread per keep-alive
        # connection), with the same pragmas as Lobby (server/models/base.py).
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                db_path, isolation_level=None, check_same_thread=False, timeout=15
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=15000")
            conn.execute("PRAGMA synchronous=NORMAL")
            local.conn = conn
        return conn

    connect().execute(
        "CREATE TABLE IF NOT EXISTS checkins (id INTEGER PRIMARY KEY "
        "AUTOINCREMENT, code TEXT NOT NULL, checked_in_at TEXT NOT NULL)"
    )

    @socketio.on("connect")
    def on_connect(auth=None):
        if not isinstance(auth, dict) or auth.get("token") != token:
            raise ConnectionRefusedError("unauthorized")
        join_room(ROOM)

    @app.post("/checkins")
    def checkins():
        data = request.get_json(silent=True)
        code = data.get("code") if isinstance(data, dict) else None
        if not isinstance(code, str) or not code:
            return {"error": {"code": "invalid_json", "message": "code required"}}, 422
        conn = connect()
        queue.acquire()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute(
                    "INSERT INTO checkins (code, checked_in_at) VALUES (?, ?)",
                    (code, datetime.now(UTC).isoformat()),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            queue.release()
        visit_id = cur.lastrowid
        socketio.emit("visitor_arrived", {"visit_id": visit_id, "seq": visit_id}, to=ROOM)
        return {"id": visit_id, "code": code, "status": "checked_in"}, 201

    @app.get("/healthz")
    def healthz():
        connect().execute("SELECT 1").fetchone()
        return {"ok": True}

    return app, socketio


def serve_gunicorn(app, host: str, port: int, threads: int) -> None:
    """As ``lobby run`` serves (server/serve.py): gunicorn's gthread worker, one process."""
    from gunicorn.app.base import BaseApplication

    class Floor(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": 1,
                "worker_class": "gthread",
                "threads": threads,
                "worker_connections": max(1000, threads * 2),
                "errorlog": "-",
                "loglevel": "warning",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Floor().run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--db", required=True, help="SQLite file (created)")
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default="gunicorn",
        help="how it is served, as `lobby run` is (default gunicorn)",
    )
    parser.add_argument(
        "--threads", type=int, default=100, help="gunicorn threads (default 100, as lobby run)"
    )
    args = parser.parse_args()
    token = os.environ.get("FLOOR_TOKEN")
    if not token:
        parser.error("set FLOOR_TOKEN")
    app, socketio = create_app(args.db, token)
    print(f"floor app ({args.server}) on http://{args.host}:{args.port}", flush=True)
    if args.server == "gunicorn":
        serve_gunicorn(app, args.host, args.port, args.threads)
    else:
        socketio.run(
            app,
            host=args.host,
            port=args.port,
            allow_unsafe_werkzeug=True,
            use_reloader=False,
            log_output=False,
        )


if __name__ == "__main__":
    main()
