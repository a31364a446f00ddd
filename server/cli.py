"""The ``lobby`` command (DESIGN.md "Command line").

Every command works on the database named by LOBBY_* settings (upgrading it first),
and every failure is one line on stderr with a non-zero exit.
"""

import os
import socket
import sys
import unicodedata
from pathlib import Path

import click

from server.services.errors import ServiceError

EXIT_USAGE = 2
EXIT_FAIL = 1
PRIVATE_UMASK = 0o077


def _app(**overrides):
    from server import create_app, upgrade_database

    app = create_app({"PRINT_WORKER": False, **overrides})
    upgrade_database(app)
    return app


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Lobby: visitor check-in, badges and live host alerts."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Load demo data and print badges to the emulator.")
@click.option(
    "--threads",
    type=click.IntRange(1, 10000),
    help="Threads serving requests; each open socket holds one (default LOBBY_THREADS or 100).",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Serve web only: print badges and run timers with `lobby worker`.",
)
@click.option(
    "--certfile",
    type=click.Path(exists=True, dir_okay=False),
    help="Serve HTTPS with this PEM certificate (chain) ...",
)
@click.option(
    "--keyfile", type=click.Path(exists=True, dir_okay=False), help="... and its PEM private key."
)
@click.option(
    "--dev", is_flag=True, help="Development: Werkzeug's server, restarting when the code changes."
)
def run(host, port, demo, threads, no_worker, certfile, keyfile, dev):
    """Serve HTTP and Socket.IO on one port (gunicorn, one process, threads)."""
    import os

    from server import config

    if os.environ.get("WERKZEUG_RUN_MAIN") == "true":
        return _serve_dev_child(host, port, no_worker)
    settings = config.load()
    certfile = certfile or settings["CERTFILE"]
    keyfile = keyfile or settings["KEYFILE"]
    if bool(certfile) != bool(keyfile):
        raise click.ClickException("--certfile and --keyfile go together")
    if dev and certfile:
        raise click.ClickException("--dev serves plain HTTP: drop --certfile and --keyfile")
    _check_port_free(host, port)
    from server.ops import runlock

    runlock.hold(settings["DATA_DIR"])  # lobby restore refuses while this process lives
    overrides = {}
    if certfile:
        overrides.update(CERTFILE=certfile, KEYFILE=keyfile)
    if no_worker:
        overrides["PRINT_WORKER"] = False
    if demo:
        emulator, printer_url = _start_demo_printer(host)
        overrides["DEFAULT_PRINTER"] = printer_url
        # The serving process (gunicorn's worker, Werkzeug's reloaded child) reads it too.
        os.environ["LOBBY_DEFAULT_PRINTER"] = printer_url
    from server import create_app, upgrade_database

    # Built once, here: gunicorn's worker serves this app and starts its print worker.
    app = create_app(overrides, start_worker=False)
    upgrade_database(app)
    base = f"{'https' if certfile else 'http'}://{host}:{port}"
    click.echo(f"Lobby on {base}  (data: {app.config['DATA_DIR']})")
    if demo:
        from server.services import demo as demo_data

        with app.app_context():
            info = demo_data.load(printer_url)
        click.echo(f"Printer emulator: {printer_url} -> PNG badges in {emulator.out_dir}")
        click.echo(f"Kiosk (open once on the kiosk screen): {base}{info['pair_path']}")
        click.echo(f"Staff sign-in: {base}/login")
        for email, _name, roles, password, _ in info["logins"]:
            click.echo(f"  {roles[0]:<13} {email:<24} password: {password}")
        click.echo("Today's demo visitors (type or scan the code at the kiosk):")
        for line in aligned(info["codes"]):
            click.echo(line)
    sys.stdout.flush()
    # Build the UI's font subsets in the background now, not when the first page asks
    # (only a serving process: other commands would pay for fonts they never send).
    from server import views, webfonts

    with app.app_context():
        texts = views.site_texts()
        from server.extensions import db

        db.engine.dispose()  # none open across the fork
    webfonts.warm_up(Path(app.config["DATA_DIR"]) / "webfonts", texts)
    if dev:
        from server.extensions import socketio

        socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=True)
        return
    from server.serve import LobbyServer

    access_log = settings["ACCESS_LOG"]
    LobbyServer(
        app,
        host=host,
        port=port,
        threads=threads or settings["THREADS"],
        certfile=certfile,
        keyfile=keyfile,
        access_log=None if access_log in ("", "off") else access_log,
        graceful_timeout=settings["GRACEFUL_TIMEOUT"],
    ).run()


def _serve_dev_child(host: str, port: int, no_worker: bool) -> None:
    """`lobby run --dev`, in the child Werkzeug's reloader restarts on each change: the
    parent has migrated, printed the banner and holds the port."""
    from server import create_app
    from server.extensions import socketio

    app = create_app({"PRINT_WORKER": False} if no_worker else None)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=True)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror}") from e


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two, combining
    marks none (str.ljust counts characters, so 张伟 came out two columns short)."""
    return sum(
        0
        if unicodedata.combining(ch)
        else 2
        if unicodedata.east_asian_width(ch) in ("W", "F")
        else 1
        for ch in text
    )


def padded(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def aligned(rows, indent: str = "  ") -> list[str]:
    """Two-column rows as lines, the second column starting at one terminal column."""
    rows = list(rows)
    width = max((display_width(first) for first, _ in rows), default=0)
    return [f"{indent}{padded(first, width)}  {second}" for first, second in rows]


def _start_demo_printer(host: str):
    """The virtual ESC/POS printer on 9100 (or the next free port) for the demo."""
    from pathlib import Path

    from printers.emulator import EmulatorServer
    from server import config

    out = Path(config.load()["DATA_DIR"]) / "badges"
    for port in range(9100, 9120):
        try:
            server = EmulatorServer("127.0.0.1", port, out)
            server.start()
            return server, f"tcp://127.0.0.1:{server.port}"
        except OSError:
            continue
    raise click.ClickException("no free port for the printer emulator (9100-9119)")


@cli.group()
def user():
    """Staff accounts."""


@user.command("add")
@click.argument("email")
@click.option("--name", required=True, help="Full name as shown to visitors.")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    type=click.Choice(["admin", "receptionist", "host"]),
    help="Repeat for several.",
)
@click.option("--password", help="Sign-in password (one is generated when omitted).")
@click.option("--department", help="Department, e.g. Sales.")
def user_add(email, name, roles, password, department):
    """Add a member of staff."""
    import secrets

    from server.services import people

    generated = password is None
    password = password or secrets.token_urlsafe(12)
    with _app().app_context():
        created = people.create_user(
            email, name, list(roles), password=password, department=department
        )
        click.echo(f"added {created.email} ({', '.join(roles)})")
    if generated:
        click.echo(f"password: {password}")


@user.command("update")
@click.argument("email")
@click.option("--name", help="Full name as shown to visitors.")
@click.option("--phone", help='Where reception calls them ("" clears it).')
@click.option(
    "--fallback", help='Email of the host alerted when they do not answer ("" clears it).'
)
@click.option("--department", help='Department ("" clears it).')
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="Replaces their roles (admin, receptionist, host, ...); repeat for several.",
)
@click.option(
    "--disable",
    "active",
    flag_value=False,
    default=None,
    help="Sign them out everywhere and refuse their sign-in and tokens.",
)
@click.option("--enable", "active", flag_value=True, help="Let a disabled user back in.")
@click.option("--password", help="A new sign-in password (at least 8 characters).")
@click.option(
    "--away-until",
    help='Away until then ("YYYY-MM-DD HH:MM", site time): arrivals also alert the delegate.',
)
@click.option(
    "--delegate", help='Email of the host who meets their visitors while away ("" clears).'
)
@click.option("--back", is_flag=True, help="Back now: no longer away (the delegate is kept).")
def user_update(
    email, name, phone, fallback, department, roles, active, password, away_until, delegate, back
):
    """Change a member of staff; only the options given change."""
    from server.extensions import db
    from server.services import accounts, away, clock, people

    if back and away_until is not None:
        raise click.UsageError("--back and --away-until go one at a time")
    with _app().app_context():
        target = people.user_by_email(email)
        # Away and delegate are checked before anything is saved (services/away.py).
        if away_until is not None:
            away.parse_away_until(away_until)
        if delegate:
            away.resolve_delegate(db.session, delegate, target.id)
        updated = accounts.update_user(
            target.id,
            name=name,
            phone=phone,
            roles=list(roles) or None,
            active=active,
            password=password,
            department=accounts.UNSET if department is None else department,
            fallback=accounts.UNSET if fallback is None else fallback,
        )
        if back or away_until is not None or delegate is not None:
            away.set_away(
                target.id,
                away_until="" if back else (away.UNSET if away_until is None else away_until),
                delegate=away.UNSET if delegate is None else delegate,
            )
            db.session.expire_all()
            updated = people.user_by_email(email)
        fallback_user = updated.fallback_contact
        now_away = away.as_dict(updated)
        click.echo(
            f"updated {updated.email}: {updated.name}; roles {updated.roles.replace(',', ', ')}; "
            f"department {updated.department or '-'}; phone {updated.phone or '-'}; "
            f"fallback {fallback_user.email if fallback_user else '-'}; "
            f"{'active' if updated.active else 'disabled'}"
        )
        if now_away["away"] or now_away["delegate"]:
            until = updated.away_until
            local = clock.to_local(until).strftime("%Y-%m-%d %H:%M") if until else ""
            click.echo(
                f"away: {'until ' + local if now_away['away'] else 'no'}; "
                f"delegate {now_away['delegate']['email'] if now_away['delegate'] else '-'}"
            )


@cli.group()
def token():
    """API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
def token_create(email, name):
    """Print a new API token for EMAIL (last line)."""
    from server.services import people

    with _app().app_context():
        click.echo(people.create_token(email, name))


@token.command("list")
@click.argument("email")
def token_list(email):
    """List EMAIL's tokens (id, created, revoked)."""
    from server.services import people

    with _app().app_context():
        for tok in people.tokens_of(email):
            state = f"revoked {tok.revoked_at:%Y-%m-%d %H:%M}" if tok.revoked_at else "active"
            click.echo(f"{tok.id}\t{tok.created_at:%Y-%m-%d %H:%M}\t{state}\t{tok.name}")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id):
    """Revoke token TOKEN_ID: it stops working at once (API and Socket.IO)."""
    from server.services import people

    with _app().app_context():
        people.revoke_token(token_id)
    click.echo(f"revoked token {token_id}")


@cli.group()
def printer():
    """Badge printers."""


@printer.command("add")
@click.argument("name")
@click.argument("url")
def printer_add(name, url):
    """Name a printer at URL (tcp://host:9100, usb://VID:PID, serial://..., file://..., emulator://DIR)."""
    from server.services import devices

    with _app().app_context():
        devices.add_printer(name, url)
        click.echo(f"added printer {name} -> {url}")


@printer.command("list")
def printer_list():
    """Named printers with their last known state and last job."""
    from server.services import printing

    with _app().app_context():
        rows = [printing.printer_dict(p) for p in printing.printers()]
    if not rows:
        click.echo("no printers yet: lobby printer add NAME URL")
    for row in rows:
        job = row["last_job"]
        last = f"last job #{job['id']} {job['status']}" if job else "no jobs yet"
        click.echo(f"{row['name']}\t{row['url']}\t{row['status']}\t{row['queued']} queued\t{last}")


@printer.command("status")
@click.argument("name")
def printer_status(name):
    """Ask printer NAME now (exit 1 unless it can print)."""
    from server.models import PRINTABLE_STATES
    from server.services import devices, printing

    with _app().app_context():
        target = devices.printer_by_name(name)
        status = printing.check_printer(target, target.url)
    click.echo(f"{name}: {status.state}" + (f" ({status.detail})" if status.detail else ""))
    if status.state not in PRINTABLE_STATES:
        raise SystemExit(EXIT_FAIL)


@printer.command("test")
@click.argument("name")
def printer_test(name):
    """Print a sample badge on printer NAME now."""
    from server.services import devices

    with _app().app_context():
        outcome = devices.print_sample(name)
    click.echo(f"sample badge sent to {name} ({outcome})")


@printer.command("emulate")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9100, show_default=True, type=click.IntRange(0, 65535))
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for PNGs.")
@click.option("--paper-out", is_flag=True, help="Start out of paper (type paper-ok to refill).")
@click.option("--cover-open", is_flag=True, help="Start with the cover open.")
def printer_emulate(host, port, out, paper_out, cover_open):
    """A virtual network ESC/POS printer that saves every job as a PNG.

    While it runs, type paper-out, paper-ok, paper-low, cover-open, cover-closed or
    status (or send SIGUSR1 / SIGUSR2 to toggle paper / cover)."""
    from printers.emulator import main as emulate

    try:
        emulate(host, port, out, log=click.echo, paper_out=paper_out, cover_open=cover_open)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


@cli.group()
def kiosk():
    """Kiosks."""


@kiosk.command("add")
@click.argument("name")
@click.option("--printer", "printer_name", help="Name of the printer for this kiosk's badges.")
@click.option("--fallback", "fallback_name", help="Printer to use while the kiosk's own is down.")
@click.option(
    "--language",
    type=click.Choice(["zh", "en"]),
    help="Language the kiosk greets visitors in until they switch (default: the browser's).",
)
def kiosk_add(name, printer_name, fallback_name, language):
    """Add a kiosk; prints its one-time pairing path (last line)."""
    from server.services import devices

    with _app().app_context():
        added, path = devices.add_kiosk(name, printer=printer_name, fallback=fallback_name)
        if language:
            devices.set_kiosk_language(added.id, language)
    click.echo(f"added kiosk {name}; open this path once on the kiosk:")
    click.echo(path)


@kiosk.command("pair")
@click.argument("name")
def kiosk_pair(name):
    """A new one-time pairing path for NAME (the old device stops working)."""
    from server.services import devices

    with _app().app_context():
        click.echo(devices.new_pairing(name))


@kiosk.command("revoke")
@click.argument("name")
def kiosk_revoke(name):
    """Lock kiosk NAME out on its next request."""
    from server.services import devices

    with _app().app_context():
        devices.revoke_kiosk(name)
    click.echo(f"revoked kiosk {name}")


@cli.command()
@click.option(
    "--interval",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Seconds between two looks for due badges.",
)
@click.option(
    "--lease",
    default=60.0,
    show_default=True,
    type=click.FloatRange(1, 3600),
    help="Seconds a job stays this worker's after it stops renewing (dies).",
)
@click.option("--name", help="Worker name (default host:pid).")
def worker(interval, lease, name):
    """Send badges and run the timers in this process, until SIGTERM or Ctrl-C."""
    from server import worker as print_worker
    from server.ops import runlock

    app = _app()
    runlock.hold(app.config["DATA_DIR"])  # lobby restore refuses while this process lives
    raise SystemExit(print_worker.run(app, name=name, interval=interval, lease=lease))


@cli.group()
def db():
    """Database."""


@db.command("upgrade")
def db_upgrade():
    """Apply all migrations (keeps every row)."""
    _app()
    click.echo("database is up to date")


@cli.command()
@click.argument("path", type=click.Path())
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup(path, force):
    """Copy the embedded SQLite database to PATH (a file, or a folder) while Lobby runs."""
    from server import config
    from server.ops import backup as ops

    done = ops.backup(config.load(), path, force=force)
    click.echo(f"backed up {done.size} bytes (schema {done.revision}) to {done.path}")


@cli.command()
@click.argument("path", type=click.Path())
def restore(path):
    """Replace the embedded SQLite database with the backup at PATH (servers stopped)."""
    from server import config
    from server.ops import backup as ops

    done = ops.restore(config.load(), path)
    _app()  # a backup from an older release gets this release's migrations
    click.echo(f"restored {done.path} from {path} (schema {done.revision}, now up to date)")


from server.policy import cli as _policy_cli  # noqa: E402,F401  (registers its commands)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Show what would be purged; change nothing.")
def purge(dry_run):
    """Apply the retention settings now: anonymise, delete images and old events."""
    from server.services import retention

    with _app().app_context():
        row = retention.settings()
        click.echo(
            f"retention: personal data {row.personal_days} days, photos and signatures "
            f"{row.images_days} days, event log {row.events_days} days"
        )
        done = retention.purge(dry_run=dry_run, actor_label="cli", progress=click.echo)
    assert done is not None  # not only_if_due: always runs
    total = ", ".join(f"{k} {v:,}" for k, v in done.counts.items())
    if dry_run:
        click.echo(f"dry run, nothing changed; would purge: {total} ({done.seconds:.2f} s)")
    else:
        click.echo(f"purged: {total} ({done.seconds:.2f} s; audit entry {done.audit_id})")


@cli.group()
def visitor():
    """A visitor's data: a copy of it, or forgetting them."""


@visitor.command("export")
@click.argument("email")
@click.option(
    "--out",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the zip (visitor.json, photos, signatures).",
)
def visitor_export(email, out):
    """Write everything held on the visitor(s) with EMAIL into a zip."""
    from server.services import visitor_data

    with _app().app_context():
        path = visitor_data.export(email, out, actor_label="cli")
    click.echo(str(path))


@visitor.command("forget")
@click.argument("email")
def visitor_forget(email):
    """Anonymise the visitor(s) with EMAIL and all their visits now."""
    from server.services import visitor_data

    with _app().app_context():
        counts = visitor_data.forget(email, actor_label="cli")
    click.echo("forgotten: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))


@cli.group()
def audit():
    """The audit trail."""


@audit.command("verify")
def audit_verify():
    """Check the audit trail's hash chain (exit 1 naming the first broken entry)."""
    from sqlalchemy import func, select

    from server.extensions import db
    from server.models import AuditEntry
    from server.services import audit as trail
    from server.services import audit_checkins

    with _app().app_context():
        audit_checkins.catch_up(db.session)
        broken = trail.verify(db.session)
        total = db.session.scalar(select(func.count(AuditEntry.id)))
    if broken is not None:
        raise click.ClickException(
            f"audit entry {broken} does not match the chain: changed or removed behind Lobby's back"
        )
    click.echo(f"audit trail whole: {total:,} entries")


@cli.group("watchlist")
def watchlist_group():
    """People who may not enter without reception's word."""


@watchlist_group.command("add")
@click.argument("name")
@click.option("--company", default="", help="The name matches only with this company.")
@click.option("--phone", default="", help="At least 8 digits; the last 8 are compared.")
@click.option("--email", default="", help="Matched whatever the name.")
@click.option("--reason", required=True, help="Why (reception sees it, the visitor never).")
def watchlist_add(name, company, phone, email, reason):
    """Put NAME on the watchlist; prints the entry's id as the last line."""
    from server.services import watchlist

    data = {"name": name, "company": company, "phone": phone, "email": email, "reason": reason}
    with _app().app_context():
        entry = watchlist.add(data, actor_label="cli")
        click.echo(f"added {entry.name} to the watchlist")
        click.echo(str(entry.id))


@watchlist_group.command("list")
@click.option("--all", "include_removed", is_flag=True, help="With the removed entries.")
def watchlist_list(include_removed):
    """The watchlist: id, name, company, phone, email, reason (tab-separated)."""
    from server.services import watchlist

    with _app().app_context():
        rows = watchlist.entries(include_removed)
        if not rows:
            click.echo("nobody on the watchlist: lobby watchlist add NAME --reason R")
        for e in rows:
            state = "" if e.active else f"\tremoved {e.removed_at:%Y-%m-%d}"
            reason = " ".join(e.reason.split())
            fields = (e.name, e.company or "-", e.phone or "-", e.email or "-", reason)
            click.echo(f"{e.id}\t" + "\t".join(fields) + state)


@watchlist_group.command("remove")
@click.argument("entry_id", type=int)
def watchlist_remove(entry_id):
    """Take entry ENTRY_ID off the watchlist (kept as removed, audited)."""
    from server.services import watchlist

    with _app().app_context():
        entry = watchlist.remove(entry_id, actor_label="cli")
        click.echo(f"removed {entry.id} ({entry.name}) from the watchlist")


@cli.group("channel")
def channel_group():
    """Where alerts go: chat robots, webhooks, email (per person or the site's default)."""


@channel_group.command("add")
@click.argument("name")
@click.argument("kind")
@click.argument("url")
@click.option("--secret", default="", help="Signing secret (DingTalk SEC..., Feishu, webhook).")
@click.option("--for", "for_email", help="The person's email (without: the site's default).")
def channel_add(name, kind, url, secret, for_email):
    """Add channel NAME of KIND (webhook, wecom, dingtalk, feishu, slack, email) at URL
    (an email address for email). A webhook given no --secret gets one, printed once."""
    from server.services import channels

    with _app().app_context():
        owner = channels.owner_by_email(for_email)
        added = channels.add(name, kind, url, secret, owner)
        who = owner.email if owner else "everyone (site default)"
        click.echo(f"added {added.kind} channel {added.name} for {who}")
        if added.kind == "webhook" and not secret:
            click.echo(f"signing secret (X-Lobby-Signature): {added.secret}")


@channel_group.command("list")
def channel_list():
    """Channels: name, kind, where (credentials masked), for whom, signed, events."""
    from server.services import channels

    with _app().app_context():
        rows = [channels.as_dict(c) for c in channels.everyone()]
    if not rows:
        click.echo("no channels yet: lobby channel add NAME KIND URL [--for EMAIL]")
    for row in rows:
        fields = (
            row["name"],
            row["kind"],
            row["url"],
            row["for"] or "site default",
            "signed" if row["signed"] else "unsigned",
            ",".join(row["events"]) or "all events",
        )
        click.echo("\t".join(fields))


@channel_group.command("remove")
@click.argument("name")
def channel_remove(name):
    """Remove channel NAME (its unsent messages are marked failed)."""
    from server.services import channels

    with _app().app_context():
        channels.remove(name)
    click.echo(f"removed channel {name}")


@cli.group("visits")
def visits_group():
    """Visits in bulk."""


@visits_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
@click.option("--no-invite", is_flag=True, help="Do not email the visitors invitations.")
def visits_import(file, dry_run, no_invite):
    """Pre-register the visitors in FILE (CSV or XLSX; columns name, company, email,
    phone, host, expected_at, purpose, language): every row or none."""
    from server.services import visit_import, visit_sheet

    path = Path(file)
    with path.open("rb") as f:
        data = f.read(visit_sheet.MAX_BYTES + 1)
    with _app().app_context():
        with click.progressbar(length=1, label="Checking rows 检查", file=sys.stderr) as bar:
            result = visit_import.preview(data, path.name, progress=_advance(bar))
        if not result.ok:
            errors = result.errors
            for e in errors[:500]:
                click.echo(f"row {e.row}, {e.field}: {e.reason}", err=True)
            if len(errors) > 500:
                click.echo(f"... and {len(errors) - 500} more", err=True)
            raise click.ClickException(
                f"{result.invalid} of {len(result.rows)} rows have errors; nothing was imported"
            )
        if dry_run:
            click.echo(f"dry run: all {len(result.rows):,} rows are valid; nothing was written")
            return
        with click.progressbar(length=1, label="Importing 导入", file=sys.stderr) as bar:
            ids = visit_import.run(
                result, invite=not no_invite, actor_label="cli", progress=_advance(bar)
            )
        invites = 0 if no_invite else sum(1 for r in result.rows if r.visitor.get("email"))
        plural = "" if invites == 1 else "s"
        click.echo(f"Imported {len(ids):,} visits ({invites:,} invitation{plural} queued)")


def _advance(bar):
    """A ``progress(done, total)`` callback that moves a click progress bar."""

    def progress(done: int, total: int) -> None:
        bar.length = total
        bar.update(done - bar.pos)

    return progress


def main(argv=None) -> int:
    """Entry point: click's errors and service refusals become one line on stderr.

    Whatever a command creates (the database and its -wal/-shm, badges, backups, web
    font caches, logs) is for Lobby's user alone: umask 0o077 (files 0600, folders
    0700), restored on return for a caller in the same process."""
    umask = os.umask(PRIVATE_UMASK)
    try:
        return _main(argv)
    finally:
        os.umask(umask)


def _main(argv) -> int:
    try:
        cli.main(args=argv, prog_name="lobby", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("lobby: aborted", err=True)
        return EXIT_FAIL
    except click.UsageError as e:
        click.echo(f"lobby: {e.format_message()}", err=True)
        return EXIT_USAGE
    except click.ClickException as e:
        click.echo(f"lobby: {e.format_message()}", err=True)
        return EXIT_FAIL
    except ServiceError as e:
        click.echo(f"lobby: {e.message}", err=True)
        return EXIT_FAIL
    return 0


if __name__ == "__main__":
    sys.exit(main())
