"""Shared fixtures: a real app on a SQLite file, staff users and tokens, a loopback
ESC/POS printer, and a live server for Socket.IO clients and the browser."""

import re
import shutil
import socket
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from server import create_app, upgrade_database
from server.extensions import db, socketio
from server.models import utcnow
from server.services import clock, people, visits
from tests.loopback_printer import LoopbackPrinter

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def printer():
    """A healthy loopback TCP ESC/POS printer (answers status) recording every job."""
    with LoopbackPrinter(answer_status=True) as p:
        yield p


class IsolatedClient(FlaskClient):
    """Each request gets a fresh app context (fresh ``g``, fresh DB session), as in
    production, even though the test itself holds an app context."""

    def open(self, *args, **kwargs):
        # Commit what the test set up and drop its read snapshot, so the request sees
        # it and the test's next read sees what the request wrote.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


_TEMPLATE: dict = {}


def _template_database(tmp_path_factory) -> Path:
    """A SQLite file at the newest migration, made once per test run: each test's app
    starts from a copy of it (running every migration for every test cost ~0.4 s a
    test; the migrations themselves are tested in tests/test_migrations.py)."""
    if "path" not in _TEMPLATE:
        where = tmp_path_factory.mktemp("template-db")
        template = create_app(
            {
                "TESTING": True,
                "DATA_DIR": where,
                "PRINT_WORKER": False,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{where / 'lobby.db'}",
                "SECRET_KEY": "test-secret",
                "MESSAGE_QUEUE": None,
            },
            start_worker=False,
        )
        upgrade_database(template)
        with template.app_context():
            with db.engine.connect() as conn:  # everything into the main file
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.engine.dispose()
        _TEMPLATE["path"] = where / "lobby.db"
    return _TEMPLATE["path"]


@pytest.fixture
def app(tmp_path, printer, tmp_path_factory):
    shutil.copyfile(_template_database(tmp_path_factory), tmp_path / "lobby.db")
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lobby.db'}",
            "DEFAULT_PRINTER": printer.url,
            "SECRET_KEY": "test-secret",
            "MESSAGE_QUEUE": None,
            # The channel tests' receivers listen on loopback (tests/test_channels.py
            # turns this off to see such a destination refused).
            "CHANNELS_PRIVATE_NETWORKS": True,
        }
    )
    app.test_client_class = IsolatedClient
    upgrade_database(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_app(tmp_path, printer):
    """The app on a throw-away PostgreSQL database (created here, dropped after)."""
    import secrets

    import psycopg

    name = "lobby_test_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 40},
            "DEFAULT_PRINTER": printer.url,
            "SECRET_KEY": "test",
            "MESSAGE_QUEUE": None,
            "CHANNELS_PRIVATE_NETWORKS": True,
        }
    )
    upgrade_database(app)
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def staff(app):
    """Users by role: admin, receptionist, and two hosts."""
    return {
        "admin": people.create_user("admin@example.com", "Alex Admin", ["admin"], PASSWORD),
        "reception": people.create_user(
            "desk@example.com", "Rita Desk", ["receptionist"], PASSWORD
        ),
        "host": people.create_user("grace@example.com", "Grace Hopper", ["host"], PASSWORD),
        "other_host": people.create_user("linus@example.com", "Linus T", ["host"], PASSWORD),
    }


@pytest.fixture
def tokens(staff):
    return {role: people.create_token(user.email) for role, user in staff.items()}


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_visit(staff):
    """Pre-register a visit for the host (today, in an hour unless told otherwise)."""

    def make(
        name="Ada Lovelace",
        company="Analytical Engines",
        host="grace@example.com",
        when=None,
        **extra,
    ):
        if when is None:  # soon, but always today (a run at 23:58 must not say tomorrow)
            _, end = clock.today_bounds()
            when = min(utcnow() + timedelta(minutes=5), end - timedelta(seconds=1))
        return visits.pre_register(
            {"name": name, "company": company, **extra},
            host,
            when.isoformat() + "+00:00",
            "Engine review",
        )

    return make


def csrf_from(html: str) -> str:
    match = (
        re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
        or re.search(r'name="csrf_token" value="([^"]+)"', html)
        or re.search(r'name="csrf-token" content="([^"]+)"', html)
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client, email: str, password: str = PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_from(page)}
    )


def staff_socket(app, email=None, auth=None):
    """A Socket.IO test client signed in as ``email`` (session cookie) or with ``auth``."""
    web = app.test_client()
    if email:
        login(web, email)
    with app.app_context():  # connect handler sees this client's user, not a cached one
        return socketio.test_client(app, flask_test_client=web, auth=auth)


def parallel_checkins(app, code: str, n: int = 50) -> list[bool]:
    """Check ``code`` in from ``n`` threads released at once (each with its own app
    context and session, like request threads). Returns each call's ``created``;
    any exception fails the calling test with its traceback."""
    import traceback

    from server.services import checkin

    results, errors = [], []
    barrier = threading.Barrier(n)

    def scan():
        with app.app_context():
            try:
                barrier.wait()
                results.append(checkin.check_in(code).created)
            except Exception:  # reported below, with the traceback
                errors.append(traceback.format_exc())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [], errors[0]
    db.session.rollback()  # end the caller's read snapshot from before the scans
    return results


class LiveServer:
    """The real app served over HTTP + Socket.IO in a thread (werkzeug, threaded)."""

    def __init__(self, app):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(app):
    server = LiveServer(app).start()
    yield server
    server.stop()


def on_menu(name: str, name_zh: str = ""):
    """The drink called ``name``: one of the menu a fresh install seeds (tea, green tea,
    coffee, water) or added now."""
    from sqlalchemy import select

    from server.models import Drink
    from server.services import tasks

    found = db.session.scalar(select(Drink).where(Drink.name == name))
    return found if found is not None else tasks.add_drink(name, name_zh)


def soon_today(minutes: float):
    """UTC ``minutes`` from now, but still in the site's today (a test run at 23:55 must
    not plan a visit for tomorrow, which no page of today shows)."""
    _, end = clock.today_bounds()
    return min(utcnow() + timedelta(minutes=minutes), end - timedelta(seconds=90))
