"""The floor for bench/checkin.py: the least a check-in server on Lobby's stack can do.

Same stack as Lobby (Flask + Flask-SocketIO in threading mode, simple-websocket,
Werkzeug via ``socketio.run(..., allow_unsafe_werkzeug=True)``, SQLite in WAL mode
in a file), but a check-in is ONE insert and ONE emit:

- Socket.IO connect: ``auth={"token": ...}`` must equal the token given at start
  (env ``FLOOR_TOKEN``), else refused; accepted clients join the room ``host:1``.
- ``POST /checkins {"code": ...}`` -> one ``INSERT`` (``BEGIN IMMEDIATE`` ... ``COMMIT``),
  then ``emit("visitor_arrived", {"visit_id", "seq"}, to="host:1")``; ``201 {"id", "code",
  "status"}``.
- ``GET /healthz`` -> 200.

How concurrent writers wait for SQLite's write lock (``--writers``):

- ``queued`` (the default, the floor the targets are judged against): one writer at
  a time through an in-process lock, then SQLite, the way Lobby's embedded default
  writes (``server/services/tx.py``). The floor then differs from Lobby only in the
  work a check-in does, not in how its writers queue.
- ``busy``: each thread goes straight to SQLite and waits in its busy handler, which
  sleeps 1, 2, 5 ... up to 100 ms between tries. Writers pass unevenly: some at
  once, some after several sleeps (under load p50 sits near half the mean and p99
  at 10-20x p50). Kept for comparison.

Run: ``FLOOR_TOKEN=secret python bench/floor_app.py --port 5055 --db /tmp/floor.db``
"""
import argparse
import os
import secrets
import sqlite3
import threading
from datetime import datetime, timezone

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, join_room

ROOM = "host:1"
WRITERS = ("queued", "busy")


def create_app(db_path: str, token: str, writers: str = "queued"):
    if writers not in WRITERS:
        raise ValueError(f"writers must be one of {WRITERS}")
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secrets.token_hex(16)
    socketio = SocketIO(app, async_mode="threading")
    local = threading.local()
    queue = threading.Lock() if writers == "queued" else None  # busy: SQLite's handler only

    def connect() -> sqlite3.Connection:
        # One connection per server thread (Werkzeug: one thread per keep-alive
        # connection), with the same pragmas as Lobby (server/models/base.py).
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False,
                                   timeout=15)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=15000")
            conn.execute("PRAGMA synchronous=NORMAL")
            local.conn = conn
        return conn

    connect().execute("CREATE TABLE IF NOT EXISTS checkins (id INTEGER PRIMARY KEY "
                      "AUTOINCREMENT, code TEXT NOT NULL, checked_in_at TEXT NOT NULL)")

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
        if queue is not None:
            queue.acquire()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.execute("INSERT INTO checkins (code, checked_in_at) VALUES (?, ?)",
                                   (code, datetime.now(timezone.utc).isoformat()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            if queue is not None:
                queue.release()
        visit_id = cur.lastrowid
        socketio.emit("visitor_arrived", {"visit_id": visit_id, "seq": visit_id}, to=ROOM)
        return {"id": visit_id, "code": code, "status": "checked_in"}, 201

    @app.get("/healthz")
    def healthz():
        connect().execute("SELECT 1").fetchone()
        return {"ok": True}

    return app, socketio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--db", required=True, help="SQLite file (created)")
    parser.add_argument("--writers", choices=WRITERS, default="queued",
                        help="how concurrent writers wait for SQLite's lock (default queued)")
    args = parser.parse_args()
    token = os.environ.get("FLOOR_TOKEN")
    if not token:
        parser.error("set FLOOR_TOKEN")
    app, socketio = create_app(args.db, token, args.writers)
    print(f"floor app ({args.writers} writers) on http://{args.host}:{args.port}", flush=True)
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True,
                 use_reloader=False, log_output=False)


if __name__ == "__main__":
    main()
