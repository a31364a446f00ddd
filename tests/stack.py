"""The production shape on loopback, for tests and benchmarks: a throw-away PostgreSQL
database, a private redis-server, N ``lobby run --no-worker`` processes, one
``lobby worker`` and Debian's nginx running deploy/nginx/lobby.conf rendered for the
loopback ports (with a self-signed certificate: the TLS server block is the one tested).

    with Stack(tmp_path) as stack:          # all started, torn down on exit
        stack.lobby("user", "add", ...)     # the CLI against the stack's database
        requests.get(stack.url + "/healthz", verify=False)

Nothing here touches the machine's shared Redis or other databases: Redis is our own
``redis-server`` on a free port (so a test may restart it), the database a new one.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import requests
from requests.adapters import HTTPAdapter

import server
from tests.conftest import PG_ADMIN, free_port

LOBBY = str(Path(sys.executable).with_name("lobby"))
DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UPSTREAM_HEADER = "X-Lobby-Upstream"  # set by deploy/nginx/lobby.conf


def _sub(text: str, old: str, new: str) -> str:
    """Replace ``old``; the deploy file must still hold it (a drifted file fails loudly)."""
    assert old in text, f"deploy config no longer contains {old!r}"
    return text.replace(old, new)


def render_nginx(
    out: Path, web_ports: list[int], http_port: int, https_port: int, cert: Path, key: Path
) -> Path:
    """Write deploy's nginx files rendered for loopback under ``out``; returns the
    top-level nginx.conf (temp paths, pid and logs inside ``out``)."""
    locations = (DEPLOY / "nginx" / "lobby-locations.conf").read_text()
    locations = re.sub(
        r"alias /opt/lobby/\S+/static/;", f"alias {server.ROOT / 'static'}/;", locations
    )
    (out / "lobby-locations.conf").write_text(locations)
    conf = (DEPLOY / "nginx" / "lobby.conf").read_text()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+([^;]*);\n", conf, re.M)
    assert servers, "no upstream servers in deploy/nginx/lobby.conf"
    lines = "".join(f"    server 127.0.0.1:{p}{servers[0]};\n" for p in web_ports)
    conf = re.sub(r"(^\s*server 127\.0\.0\.1:\d+[^;]*;\n)+", lines, conf, flags=re.M)
    conf = _sub(conf, "    listen [::]:80;\n", "")
    conf = _sub(conf, "    listen [::]:443 ssl http2;\n", "")
    conf = _sub(conf, "listen 80;", f"listen 127.0.0.1:{http_port};")
    conf = _sub(conf, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    conf = _sub(conf, "/etc/lobby/tls/lobby.crt", str(cert))
    conf = _sub(conf, "/etc/lobby/tls/lobby.key", str(key))
    conf = _sub(conf, "/etc/nginx/snippets/lobby-locations.conf", str(out / "lobby-locations.conf"))
    (out / "lobby.conf").write_text(conf)
    temps = "".join(
        f"    {kind}_temp_path {out / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = (
        f"pid {out / 'nginx.pid'};\nerror_log {out / 'error.log'} warn;\n"
        f"worker_processes 1;\nuser root;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    include /etc/nginx/mime.types;\n"
        f"    default_type application/octet-stream;\n"
        f"    access_log {out / 'access.log'};\n{temps}    include {out / 'lobby.conf'};\n}}\n"
    )
    (out / "nginx.conf").write_text(main)
    return out / "nginx.conf"


def self_signed(out: Path) -> tuple[Path, Path]:
    """A one-day certificate for 127.0.0.1 and its key (openssl), written into ``out``."""
    cert, key = out / "lobby.crt", out / "lobby.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class SourceAddress(HTTPAdapter):
    """Connect from a chosen loopback address (nginx's ip_hash keys on it)."""

    def __init__(self, ip: str) -> None:
        self.ip = ip
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.ip, 0)
        return super().init_poolmanager(*args, **kwargs)


class Proc:
    """A child process logging to ``<dir>/<name>.log``; started again with ``start``."""

    def __init__(self, name: str, argv: list[str], env: dict, logdir: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, logdir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Proc:
        with open(self.log, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def send(self, sig: int) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.popen is None or self.popen.poll() is not None:
            return None if self.popen is None else self.popen.returncode
        self.popen.send_signal(sig)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait(5)

    def tail(self, n: int = 15) -> str:
        return (
            "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
            if self.log.exists()
            else ""
        )


def wait_http(url: str, proc: Proc, timeout: float = 30, **kw) -> None:
    assert proc.popen is not None, f"{proc.name} was never started"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.popen.poll() is not None:
            raise AssertionError(f"{proc.name} exited:\n{proc.tail()}")
        try:
            if requests.get(url, timeout=1, **kw).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{proc.name} did not answer {url}:\n{proc.tail()}")


def _lobby_has(*words: str) -> bool:
    out = subprocess.run([LOBBY, *words[:-1], "--help"], capture_output=True, text=True)
    return out.returncode == 0 and words[-1] in out.stdout


class Stack:
    """PostgreSQL db + own Redis + ``web`` web processes + a worker + nginx (TLS)."""

    def __init__(self, workdir: Path, web: int = 2, env: dict | None = None) -> None:
        self.dir = Path(workdir)
        self.db = "lobby_stack_" + secrets.token_hex(4)
        self.redis_port = free_port()
        self.web_ports = [free_port() for _ in range(web)]
        self.http_port, self.https_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.env = {
            **os.environ,
            "LOBBY_DATA_DIR": str(self.dir / "data"),
            "LOBBY_SECRET_KEY": secrets.token_urlsafe(32),
            "LOBBY_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{self.db}",
            "LOBBY_MESSAGE_QUEUE": f"redis://127.0.0.1:{self.redis_port}/0",
            "LOBBY_MESSAGE_QUEUE_CHANNEL": self.db,
            "LOBBY_PROXY_HOPS": "1",
            "LOBBY_SECURE_COOKIES": "1",
            "LOBBY_PRINT_PACING_SECONDS": "0",
            **(env or {}),
        }
        # The real commands when this checkout has them; else (noted) a stand-in.
        self.notes: list[str] = []
        no_worker = _lobby_has("run", "--no-worker")
        web_env = self.env if no_worker else {**self.env, "LOBBY_PRINT_WORKER": "0"}
        if not no_worker:
            self.notes.append(
                "lobby run has no --no-worker: web processes run with LOBBY_PRINT_WORKER=0"
            )
        # LOBBY_STACK_RUN_ARGS: extra `lobby run` arguments, e.g. --dev to compare with
        # Werkzeug when the production server misbehaves.
        extra = os.environ.get("LOBBY_STACK_RUN_ARGS", "").split()
        self.webs = [
            Proc(
                f"web{i}",
                [LOBBY, "run", *(["--no-worker"] if no_worker else []), *extra, "--port", str(p)],
                web_env,
                self.dir,
            )
            for i, p in enumerate(self.web_ports)
        ]
        if _lobby_has("worker"):
            argv = [LOBBY, "worker"]
        else:
            self.notes.append("no `lobby worker`: the worker is a `lobby run` outside nginx")
            argv = [LOBBY, "run", "--port", str(free_port())]
        self.worker = Proc("worker", argv, {**self.env, "LOBBY_PRINT_WORKER": "1"}, self.dir)
        self.redis = Proc(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            self.env,
            self.dir,
        )
        self.nginx: Proc | None = None
        self.cert = self.dir / "lobby.crt"

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> Stack:
        self.dir.mkdir(parents=True, exist_ok=True)
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.db}"')
        self.start_redis()
        self.lobby("db", "upgrade")  # once, before the processes (as the README says)
        for web in self.webs:  # together: each spends seconds importing
            web.start()
        self.worker.start()
        for i, web in enumerate(self.webs):
            wait_http(f"http://127.0.0.1:{self.web_ports[i]}/healthz", web)
        self.cert, key = self_signed(self.dir)
        conf = render_nginx(
            self.dir, self.web_ports, self.http_port, self.https_port, self.cert, key
        )
        self.nginx = Proc(
            "nginx",
            ["nginx", "-p", str(self.dir), "-c", str(conf), "-g", "daemon off;"],
            self.env,
            self.dir,
        ).start()
        wait_http(self.url + "/healthz", self.nginx, verify=str(self.cert))
        return self

    def stop(self) -> None:
        procs = [p for p in [self.nginx, *self.webs, self.worker, self.redis] if p is not None]
        for proc in procs:  # all at once, then wait: each drains in parallel
            proc.send(signal.SIGTERM)
        for proc in procs:
            proc.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def start_web(self, i: int) -> None:
        self.webs[i].start()
        wait_http(f"http://127.0.0.1:{self.web_ports[i]}/healthz", self.webs[i])

    def start_redis(self) -> None:
        self.redis.start()
        deadline = time.time() + 10
        while time.time() < deadline:
            out = subprocess.run(
                ["redis-cli", "-p", str(self.redis_port), "ping"], capture_output=True, text=True
            )
            if out.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start:\n" + self.redis.tail())

    # --- using it ----------------------------------------------------------------------
    def lobby(self, *args: str) -> str:
        """Run ``lobby ARGS`` against the stack; returns its last line of output."""
        out = subprocess.run(
            [LOBBY, *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        return (out.stdout.strip().splitlines() or [""])[-1]

    def upstream(self, i: int) -> str:
        return f"127.0.0.1:{self.web_ports[i]}"

    def session(self, source: str | None = None) -> requests.Session:
        """A session that trusts the stack's certificate (and only it: the
        environment's CA bundle settings are ignored), optionally from ``source``."""
        session = requests.Session()
        session.trust_env = False
        session.verify = str(self.cert)
        if source:
            session.mount("https://", SourceAddress(source))
        return session

    def session_to(self, upstream: str) -> requests.Session:
        """A session whose requests nginx sends to ``upstream``: ip_hash keys on the
        first three octets, so try source addresses 127.0.X.1 until one lands there."""
        for x in range(64):
            session = self.session(f"127.0.{x}.1")
            resp = session.get(self.url + "/healthz", timeout=5)
            if resp.headers.get(UPSTREAM_HEADER) == upstream:
                return session
        raise AssertionError(f"no loopback source address lands on {upstream}")

    def events_for(self, room: str) -> list[int]:
        """Seqs of every logged event addressed to ``room``, from the database."""
        url = self.env["LOBBY_DATABASE_URL"].replace("postgresql+psycopg", "postgresql")
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT seq, rooms FROM events ORDER BY seq").fetchall()
        return [seq for seq, rooms in rows if room in rooms]
