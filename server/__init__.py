"""Lobby's server: ``create_app`` binds the extensions and registers the blueprints."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from server import config as settings
from server import i18n
from server.extensions import babel, csrf, db, htmx, login, migrate, socketio
from server.limits import LimitedRequest
from server.secure_cookies import CookieSessions, SecureCookies

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class Int64Converter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: dict | None = None, start_worker: bool = True) -> Flask:
    """Build an app. ``config`` overrides the LOBBY_* settings (tests use it). With
    ``PRINT_WORKER`` the print worker starts here, unless ``start_worker`` is False:
    then the caller starts it where the app will serve (`lobby run`: in gunicorn's
    worker, after the fork; a thread does not survive a fork)."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(settings.load(config))
    # Ids in URLs are database integers: anything past 64 bits is a 404, not an overflow.
    app.url_map.converters["int"] = Int64Converter
    # Body size limits known before anything reads the body (server/limits.py).
    app.request_class = LimitedRequest

    db.init_app(app)
    from server.services import audit_hook

    audit_hook.install()  # every ORM change of an audited model leaves an entry
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True)
    login.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(i18n.TRANSLATIONS),
    )
    # The extension object outlives an app: drop the message queue (client manager) an
    # earlier app of this process set up, or an app without a queue would inherit it.
    socketio.server_options.pop("client_manager", None)
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config["MESSAGE_QUEUE"],
        channel=app.config["MESSAGE_QUEUE_CHANNEL"],
        manage_session=True,
    )
    # Cookies of HTTPS requests are Secure (server/secure_cookies.py): inside ProxyFix,
    # so behind a proxy it is the proxy's scheme that counts.
    app.wsgi_app = SecureCookies(app.wsgi_app)  # type: ignore[method-assign]
    app.session_interface = CookieSessions()
    if hops := app.config["PROXY_HOPS"]:
        # Outermost, around Socket.IO's middleware too: every request, page or socket,
        # sees the client's scheme, host and address as the proxy received them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    from server import ops

    ops.init_app(app)  # before the blueprints: escpos's cache, logging, /readyz, /metrics

    from kiosk import bp as kiosk_bp
    from server import auth, errors, realtime  # noqa: F401  (registers socket handlers)
    from server.admin import bp as admin_bp
    from server.api import bp as api_bp
    from server.host import bp as host_bp
    from server.reception import bp as reception_bp

    app.register_blueprint(auth.bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    from server.policy.pages import bp as policy_bp

    app.register_blueprint(policy_bp, url_prefix="/admin")
    from server.policy.request_pages import bp as requests_bp

    app.register_blueprint(requests_bp)
    from server.policy.report_pages import bp as reports_bp

    app.register_blueprint(reports_bp)
    from server.policy.feedback_pages import bp as feedback_bp

    app.register_blueprint(feedback_bp)
    from server.policy.audit_pages import bp as audit_bp

    app.register_blueprint(audit_bp)
    app.register_blueprint(host_bp, url_prefix="/host")
    app.register_blueprint(reception_bp, url_prefix="/reception")
    app.register_blueprint(kiosk_bp, url_prefix="/kiosk")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # bearer tokens only: no ambient credentials to forge
    errors.register(app)

    from server import views

    views.register(app)

    if app.config["PRINT_WORKER"] and start_worker:
        start_print_worker(app)
    return app


def start_print_worker(app: Flask) -> None:
    """Start the app's print worker thread (badges and timers) in this process."""
    from server.services.printing import EXTENSION_KEY, PrintWorker

    app.extensions[EXTENSION_KEY] = PrintWorker(app).start()


def upgrade_database(app: Flask) -> None:
    """Bring the database to the newest migration (keeps every row). Processes that
    start together (several `lobby run`, a `lobby worker`) take turns: one migrates
    under a lock, the others then find the database at head and change nothing."""
    from flask_migrate import upgrade

    with app.app_context(), _migration_lock(app):
        upgrade(directory=str(MIGRATIONS))


MIGRATION_LOCK_KEY = 0x6C6F6279  # "loby": the PostgreSQL advisory lock of migrations


@contextmanager
def _migration_lock(app: Flask) -> Iterator[None]:
    """PostgreSQL: a session advisory lock on a connection of its own (released when
    that connection ends, even if this process dies). SQLite: an exclusive ``flock`` on
    a file beside the database (the kernel drops it with the process)."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        with db.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        return
    database = url.database if url.get_backend_name() == "sqlite" else None
    if database and database != ":memory:":
        lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    else:
        lock_path = Path(app.config["DATA_DIR"]) / "migrate-lock"
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
