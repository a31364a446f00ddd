"""Settings. The only module that reads ``os.environ``.

Every setting is a ``LOBBY_*`` environment variable (see DESIGN.md); ``create_app``
may override any key with a mapping, which is how tests configure an app.
"""

import logging
import os
import secrets
import stat
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Only the user Lobby runs as reads its data: the directory 0700, its files 0600
# (`lobby` sets the process umask to 0o077, so what it creates later is 0600 too).
DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """Give an existing ``path`` that others may read ``mode`` (or say why not)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    old = stat.S_IMODE(st.st_mode)
    if old & 0o077 == 0:
        return
    try:
        path.chmod(mode)
    except OSError as e:
        log.warning("%s is readable by others (mode %o) and stays so: %s", path, old, e)
    else:
        log.warning("%s was readable by others (mode %o): now %o", path, old, mode)


def private_dir(path: Path) -> Path:
    """Create ``path`` with mode 0700 (its missing parents as the umask says), or
    tighten an existing one that group or others may enter."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def _secret_key(data_dir: Path) -> str:
    """Return LOBBY_SECRET_KEY, else a key generated once and kept in the data dir.

    The file is 0600 from its first byte (made by ``os.open`` with that mode, never
    written and then chmod-ed) and appears whole: written under a private temporary
    name, then linked to its name, which fails if a process starting at the same time
    got there first (then both use that one)."""
    if os.environ.get("LOBBY_SECRET_KEY"):
        return os.environ["LOBBY_SECRET_KEY"]
    path = data_dir / "secret_key"
    if not path.exists():
        private_dir(data_dir)
        tmp = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    _tighten(path, FILE_MODE)
    return path.read_text().strip()


def _tighten_sqlite(url: str) -> None:
    """An existing SQLite database (and its -wal, -shm) made before files were kept
    private: 0600. A new one is made so by the umask; SQLite gives its -wal and -shm
    the database file's mode."""
    from sqlalchemy.engine import make_url

    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    for suffix in ("", "-wal", "-shm"):
        _tighten(Path(database + suffix), FILE_MODE)


def load(overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment plus ``overrides``."""
    overrides = dict(overrides or {})
    env = os.environ
    data_dir = Path(overrides.get("DATA_DIR") or env.get("LOBBY_DATA_DIR", "instance")).resolve()
    private_dir(data_dir)
    config: dict[str, Any] = {
        "DATA_DIR": data_dir,
        "SQLALCHEMY_DATABASE_URI": env.get("LOBBY_DATABASE_URL")
        or f"sqlite:///{data_dir / 'lobby.db'}",
        "MESSAGE_QUEUE": env.get("LOBBY_MESSAGE_QUEUE") or None,
        # Processes of one Lobby share this Redis pub/sub channel (one per site).
        "MESSAGE_QUEUE_CHANNEL": env.get("LOBBY_MESSAGE_QUEUE_CHANNEL", "lobby"),
        "DEFAULT_PRINTER": env.get("LOBBY_DEFAULT_PRINTER") or f"emulator://{data_dir / 'badges'}",
        "TIMEZONE": env.get("LOBBY_TIMEZONE", "UTC"),
        # A second scan of a badge within this many seconds of check-in is the same
        # check-in (a scanner double-read), not a check-out.
        "CHECKOUT_GRACE_SECONDS": int(env.get("LOBBY_CHECKOUT_GRACE_SECONDS", "60")),
        # Reception is warned when a host has not said "on my way" within this.
        "ACK_WARNING_MINUTES": int(env.get("LOBBY_ACK_WARNING_MINUTES", "5")),
        # Unconfirmed tours remind the host and departments this long before start.
        "TOUR_REMINDER_MINUTES": int(env.get("LOBBY_TOUR_REMINDER_MINUTES", "60")),
        # A host is reminded of an open promised answer this long before its deadline
        # (and once more when it passes).
        "FOLLOW_UP_REMINDER_HOURS": float(env.get("LOBBY_FOLLOW_UP_REMINDER_HOURS", "2")),
        # Printer name for walk-in badges printed at the desk (default printer if unset).
        "DESK_PRINTER": env.get("LOBBY_DESK_PRINTER") or None,
        # A kiosk step left untouched this long returns to the start screen and
        # clears the visitor's data; a result (welcome, goodbye) stays this long.
        "KIOSK_IDLE_SECONDS": int(env.get("LOBBY_KIOSK_IDLE_SECONDS", "30")),
        "KIOSK_RESULT_SECONDS": int(env.get("LOBBY_KIOSK_RESULT_SECONDS", "12")),
        # "Find my booking" / "I'm leaving" searches (found or not) a kiosk may make in
        # 10 minutes (a token bucket: as many at once, then one back every 600/N s).
        "KIOSK_LOOKUP_LIMIT": int(env.get("LOBBY_KIOSK_LOOKUP_LIMIT", "10")),
        # Unknown codes a kiosk gets an answer for per hour, BURST of them at once; past
        # that an unknown code is refused for a few seconds (too_many_attempts) while
        # codes that exist still check in at once (OWASP ASVS: at most 100 failed an hour).
        "KIOSK_FAILED_SCAN_LIMIT": int(env.get("LOBBY_KIOSK_FAILED_SCAN_LIMIT", "100")),
        "KIOSK_FAILED_SCAN_BURST": int(env.get("LOBBY_KIOSK_FAILED_SCAN_BURST", "10")),
        # Walk-ins one kiosk may register within the window (reception: no limit).
        "KIOSK_WALK_IN_LIMIT": int(env.get("LOBBY_KIOSK_WALK_IN_LIMIT", "20")),
        "KIOSK_WALK_IN_WINDOW_MINUTES": int(env.get("LOBBY_KIOSK_WALK_IN_WINDOW_MINUTES", "10")),
        "PRINT_WORKER": env.get("LOBBY_PRINT_WORKER", "1") != "0",
        # Email (server/notify/mail.py): smtp://user:pass@host:587?starttls=1 or
        # smtps://user:pass@host:465; unset leaves emails queued ("SMTP not configured").
        "SMTP_URL": env.get("LOBBY_SMTP_URL") or None,
        # Chat robots and webhooks may point at loopback, private or link-local
        # addresses only when this is 1 (an internal receiver): otherwise any member of
        # staff could make the worker POST into the company's network (SSRF).
        "CHANNELS_PRIVATE_NETWORKS": env.get("LOBBY_CHANNELS_PRIVATE_NETWORKS", "0") == "1",
        "MAIL_FROM": env.get("LOBBY_MAIL_FROM") or "",
        # What an invitation says about the site (server/notify/invitations.py): the
        # language of visitors who chose none, the address, how to find reception, what
        # to bring, and the host name in calendar UIDs (visit-<id>@<host>).
        "SITE_LANGUAGE": env.get("LOBBY_SITE_LANGUAGE", "en"),
        "SITE_ADDRESS": env.get("LOBBY_SITE_ADDRESS", ""),
        "SITE_DIRECTIONS": env.get("LOBBY_SITE_DIRECTIONS", ""),
        "INVITE_BRING": env.get("LOBBY_INVITE_BRING", ""),
        "SITE_HOST": env.get("LOBBY_SITE_HOST", "lobby.local"),
        "PRINTER_TIMEOUT": float(env.get("LOBBY_PRINTER_TIMEOUT", "3")),
        "PRINTER_POLL_SECONDS": float(env.get("LOBBY_PRINTER_POLL_SECONDS", "30")),
        # Pause between two badges sent by the worker (a thermal printer needs ~0.25 s
        # per badge): a burst of check-ins is never slowed down by badge rendering.
        "PRINT_PACING_SECONDS": float(env.get("LOBBY_PRINT_PACING_SECONDS", "0.2")),
        # `lobby run`: threads of its one gunicorn worker (each open dashboard or kiosk
        # socket holds one), and seconds a stop waits for requests in flight.
        "THREADS": int(env.get("LOBBY_THREADS", "100")),
        "GRACEFUL_TIMEOUT": int(env.get("LOBBY_GRACEFUL_TIMEOUT", "30")),
        # Request lines: "-" is stderr, a path a file, "off" none (the default, as
        # gunicorn's: nginx logs requests in front; a line per request cost ~5% of a
        # check-in's CPU in bench/checkin.py's burst).
        "ACCESS_LOG": env.get("LOBBY_ACCESS_LOG", "off"),
        # HTTPS served by `lobby run` itself (PEM files; --certfile/--keyfile).
        "CERTFILE": env.get("LOBBY_CERTFILE") or None,
        "KEYFILE": env.get("LOBBY_KEYFILE") or None,
        # Proxies in front that set X-Forwarded-For/-Proto/-Host/-Port (nginx: 1). Zero
        # trusts none of those headers: a client could otherwise claim any address.
        "PROXY_HOPS": int(env.get("LOBBY_PROXY_HOPS", "0")),
        # Cookies only over HTTPS: on when `lobby run` has a certificate, or set it
        # when TLS ends at a proxy.
        # (Without it, cookies set over HTTPS are Secure anyway: the request's scheme,
        # which PROXY_HOPS makes the proxy's, decides; a LAN kiosk over HTTP still works.)
        "SECURE_COOKIES": env.get("LOBBY_SECURE_COOKIES", "0") == "1",
        # Strict-Transport-Security on every response, even ones that reach Lobby over
        # plain HTTP (TLS ended at a proxy that PROXY_HOPS does not trust). Responses to
        # HTTPS requests carry it without this.
        "HSTS": env.get("LOBBY_HSTS", "0") == "1",
        # Sign-in limits (Flask-Limiter syntax): failed sign-ins per account (email) and
        # per address; past them the right password does not get in either (429).
        "LOGIN_LIMIT_ACCOUNT": env.get("LOBBY_LOGIN_LIMIT_ACCOUNT", "5/minute;20/hour"),
        "LOGIN_LIMIT_ADDRESS": env.get("LOBBY_LOGIN_LIMIT_ADDRESS", "30/minute"),
        # A staff sign-in lasts this long (then the browser signs in again).
        "LOGIN_SESSION_HOURS": float(env.get("LOBBY_LOGIN_SESSION_HOURS", "12")),
        # "json": one JSON object per log line (server/ops/logs.py); "text" otherwise.
        "LOG_FORMAT": env.get("LOBBY_LOG_FORMAT", "text"),
        # Bearer token that may read /metrics from elsewhere than loopback (none: loopback only).
        "METRICS_TOKEN": env.get("LOBBY_METRICS_TOKEN") or None,
        # Largest request body in bytes (413 ``too_large`` before it is read); views
        # taking an upload (photo, logo, signature) allow more (server/limits.py).
        "MAX_CONTENT_LENGTH": int(env.get("LOBBY_MAX_BODY_BYTES", str(1024 * 1024))),
        # Largest non-file form field and number of form parts (Flask's defaults, said).
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1000,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {},
    }
    config.update(overrides)
    config["DATA_DIR"] = Path(config["DATA_DIR"])
    config.setdefault("SECRET_KEY", _secret_key(config["DATA_DIR"]))
    if config["SECURE_COOKIES"] or config["CERTFILE"]:
        config.setdefault("SESSION_COOKIE_SECURE", True)
        config.setdefault("REMEMBER_COOKIE_SECURE", True)
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tighten_sqlite(config["SQLALCHEMY_DATABASE_URI"])
        # Threads share the file; SQLite serialises writers, the busy timeout waits.
        # Connections are cheap: enough for every request thread, so none queues for one.
        opts = config["SQLALCHEMY_ENGINE_OPTIONS"]
        opts.setdefault("connect_args", {"check_same_thread": False, "timeout": 15})
        opts.setdefault("pool_size", 32)
        opts.setdefault("max_overflow", 32)
    return config
