"""Benchmark: kiosk check-ins, host alerts and badges, Lobby side by side with a floor.

Run with ``python bench/checkin.py`` (defaults: 3 rounds; per round and target 200
check-ins paced at 20/s, then 1000 back to back from 20 kiosks). Loopback only; every
wait is bounded. See bench/README.md for what is measured and why.

Each round starts, one after the other on fresh data (rounds rotate which goes
first), Lobby (``lobby run --port``, the way it is served for real, SQLite and
in-process Socket.IO, its print worker sending every badge to a loopback ESC/POS
printer with no pacing) and the floor (bench/floor_app.py: one SQLite write and one
emit per check-in, writers queued in-process, served by the same server as Lobby).
One host Socket.IO client per target times each ``visitor_arrived``; K kiosk
threads (one ``requests.Session`` each) check in one warm-up code each, then:

- **paced**: ``--paced-visits`` check-ins at ``--paced-rate`` per second in all,
  open loop (kiosk i takes every K-th slot whatever the answers): the latency a host
  feels, and for Lobby the time to paper (scan -> first byte of that visitor's badge
  at the printer; the badge is told by its QR code);
- **burst**: ``--visits`` check-ins back to back (a kiosk posts its next one when the
  last is answered): capacity (throughput) and fairness (alert p99).

The targets are judged on the medians of the per-round ratios Lobby/floor (one round
on a shared 2-core machine is a coin toss) and printed PASS or MISS. Then, unless
``--no-stack``, the same run on the production shape (PostgreSQL + Redis, two web
processes and a worker behind nginx: tests/stack.py), reported without targets.
Exit status is 0 unless something crashed.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
import socketio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.loopback_printer, tests.stack, bench/badge.py

from tests.loopback_printer import LoopbackPrinter  # noqa: E402

HOST_EMAIL = "host@example.com"
DESK_EMAIL = "desk@example.com"
ALERT_WAIT = 5.0  # seconds to wait for alerts after the last response
PAPER_WAIT = 60.0  # seconds to wait for the paced load's badges
START_TIMEOUT = 60.0  # seconds for a server to answer /healthz
REQUEST_TIMEOUT = 30.0  # seconds per HTTP request
LOAD_TIMEOUT = 300.0  # seconds for the whole measured load (kiosks stop after)

TARGETS = ("lobby", "floor")
# Lobby/floor, medians of the rounds (issue 12, item 5): (key, bound, at least?)
GOALS = (
    ("burst throughput", "throughput", 0.5, True),
    ("paced alert p50", "paced_alert_p50", 1.5, False),
    ("paced alert p99", "paced_alert_p99", 2.0, False),
    ("burst alert p99", "alert_p99", 1.5, False),
)


# ---------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (as bench/badge.py)."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(p / 100 * len(v)) - 1))]


def lobby_exe() -> str:
    exe = Path(sys.executable).with_name("lobby")
    return str(exe) if exe.exists() else (shutil.which("lobby") or "lobby")


class Servers:
    """The subprocesses this run started; ``stop_all`` ends each by its own pid."""

    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict, log: Path) -> subprocess.Popen:
        # The child holds its own copy of the log's descriptor; ours closes after the spawn.
        with open(log, "wb") as out:
            # Own session: a Ctrl-C in the terminal reaches only us; we end them ourselves.
            proc = subprocess.Popen(
                argv,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def stop_all(self) -> None:
        for _, proc in self.procs:
            try:
                self.stop(proc)
            except Exception as e:  # keep stopping the others
                print(f"warning: could not stop pid {proc.pid}: {e}", file=sys.stderr)


def wait_healthy(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; log:\n{tail(log)}")
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"{base}/healthz did not answer within {START_TIMEOUT:.0f}s; log:\n{tail(log)}"
    )


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system, all threads) a process and its children (gunicorn's
    worker under its arbiter) have used so far; Linux only."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child)) or 0.0
        return total
    except (OSError, ValueError, IndexError):
        return None


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_cli(argv: list[str], env: dict) -> str:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:3])} failed ({done.returncode}): "
            f"{done.stderr.strip() or done.stdout.strip()}"
        )
    return done.stdout


# ---------------------------------------------------------------- measuring


class AlertRecorder:
    """One host's Socket.IO client: the receive time of each visitor_arrived."""

    def __init__(self, base: str, token: str, verify: bool = True):
        self.times: dict[int, float] = {}
        self.duplicates = 0
        self._lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False, ssl_verify=verify)
        self.sio.on("visitor_arrived", self._on_arrived)
        self.sio.connect(base, transports=["websocket"], auth={"token": token}, wait_timeout=10)

    def _on_arrived(self, data):
        now = time.perf_counter()
        with self._lock:
            vid = data.get("visit_id") if isinstance(data, dict) else None
            if vid in self.times:
                self.duplicates += 1
            else:
                self.times[vid] = now

    def wait_for(self, ids, timeout: float) -> None:
        ids = set(ids)
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self._lock:
                if ids <= self.times.keys():
                    return
            time.sleep(0.01)

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:
            pass


@dataclass
class Req:
    sent: float
    done: float
    status: int | None
    visit_id: int | None
    error: str = ""
    code: str = ""


@dataclass
class Result:
    name: str
    requests: list[Req] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    alerts: dict = field(default_factory=dict)
    duplicates: int = 0
    cpu: float | None = None  # server CPU seconds used during the measured load

    @property
    def ok(self) -> list[Req]:
        return [r for r in self.requests if r.status == 201]

    @property
    def throughput(self) -> float:
        return len(self.ok) / (self.end - self.start) if self.end > self.start else 0.0

    def req_lat(self) -> list[float]:
        return [(r.done - r.sent) * 1000 for r in self.requests if r.status is not None]

    def alert_lat(self) -> list[float]:
        return [
            (self.alerts[r.visit_id] - r.sent) * 1000
            for r in self.requests
            if r.visit_id in self.alerts
        ]

    def missing(self, expected: int) -> int:
        return expected - len(self.alert_lat())

    def cpu_per_checkin(self) -> float | None:
        """Server CPU milliseconds per check-in during the load (Linux only)."""
        return self.cpu / len(self.ok) * 1000 if self.cpu is not None and self.ok else None

    def figures(self, n: int) -> dict:
        return {
            "ok": len(self.ok),
            "throughput": self.throughput,
            "req_p50": pct(self.req_lat(), 50),
            "req_p99": pct(self.req_lat(), 99),
            "alert_p50": pct(self.alert_lat(), 50),
            "alert_p99": pct(self.alert_lat(), 99),
            "missing": self.missing(n),
            "cpu_ms_per_checkin": self.cpu_per_checkin(),
        }


def run_load(
    name: str,
    url: str,
    token: str,
    codes: list[str],
    warm: list[str],
    alerts: AlertRecorder,
    pid: int | None,
    rate: float | None = None,
    verify: bool = True,
    session_for=None,
    settle=None,
) -> Result:
    """K kiosk threads (K = len(warm)) split ``codes``; each checks in its warm-up code
    first, then all start the measured load together: back to back (each kiosk posts
    its next check-in when the last is answered), or with ``rate``, paced at ``rate``
    check-ins a second in all (kiosk i takes every K-th slot)."""
    kiosks = len(warm)
    chunks = [codes[i::kiosks] for i in range(kiosks)]
    warm_ids: list[int] = []
    ready = threading.Barrier(kiosks + 1, timeout=120)
    go = threading.Barrier(kiosks + 1, timeout=120)
    result = Result(name)
    stop_at = [float("inf")]
    crashed: list[BaseException] = []

    def kiosk(i: int) -> None:
        try:
            with session_for(i) if session_for else requests.Session() as s:
                s.headers["Authorization"] = f"Bearer {token}"
                s.verify = verify
                r = s.post(url, json={"code": warm[i]}, timeout=REQUEST_TIMEOUT, verify=verify)
                if r.status_code != 201:
                    raise RuntimeError(
                        f"{name}: warm-up check-in got {r.status_code}: {r.text[:200]}"
                    )
                warm_ids.append(r.json()["id"])
                ready.wait()
                go.wait()
                for j, code in enumerate(chunks[i]):
                    if time.perf_counter() > stop_at[0]:
                        break
                    if rate:
                        slot = result.start + (j * kiosks + i) / rate
                        time.sleep(max(0.0, slot - time.perf_counter()))
                    sent = time.perf_counter()
                    try:
                        r = s.post(url, json={"code": code}, timeout=REQUEST_TIMEOUT, verify=verify)
                        done = time.perf_counter()
                        vid = None
                        if r.status_code in (200, 201):
                            vid = r.json().get("id")
                        err = "" if r.status_code == 201 else r.text[:200]
                        result.requests.append(Req(sent, done, r.status_code, vid, err, code))
                    except requests.RequestException as e:
                        result.requests.append(
                            Req(sent, time.perf_counter(), None, None, repr(e), code)
                        )
        except BaseException as e:
            crashed.append(e)
            for b in (ready, go):
                b.abort()

    threads = [threading.Thread(target=kiosk, args=(i,), daemon=True) for i in range(kiosks)]
    for t in threads:
        t.start()
    cpu_start = None
    try:
        ready.wait()
        alerts.wait_for(warm_ids, ALERT_WAIT)  # warm-up alerts out of the way
        if settle is not None:  # e.g. the warm-up badges printed
            settle()
        cpu_start = cpu_seconds(pid)
        result.start = time.perf_counter()
        stop_at[0] = result.start + LOAD_TIMEOUT
        go.wait()
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(timeout=LOAD_TIMEOUT + REQUEST_TIMEOUT + 10)
    if crashed:
        raise crashed[0]
    cpu_end = cpu_seconds(pid)
    if cpu_start is not None and cpu_end is not None:
        result.cpu = cpu_end - cpu_start
    result.end = max((r.done for r in result.requests), default=result.start)
    alerts.wait_for([r.visit_id for r in result.requests if r.visit_id is not None], ALERT_WAIT)
    with alerts._lock:
        result.alerts = dict(alerts.times)
        result.duplicates = alerts.duplicates
    return result


# ---------------------------------------------------------------- time to paper


class _FirstByte:
    """A printer connection's socket that notes when its first byte arrived."""

    def __init__(self, sock: socket.socket, seen: threading.local):
        self._sock, self._seen = sock, seen

    def recv(self, n: int) -> bytes:
        data = self._sock.recv(n)
        if data and self._seen.at is None:
            self._seen.at = time.perf_counter()
        return data

    def __getattr__(self, name):
        return getattr(self._sock, name)


class PaperPrinter(LoopbackPrinter):
    """tests/loopback_printer.py's printer (answering status, as a healthy one does),
    also keeping for each job the moment its first byte arrived: ``timed`` holds
    (first byte, job bytes)."""

    def __init__(self):
        super().__init__(answer_status=True)
        self._seen = threading.local()
        self.timed: list[tuple[float, bytes]] = []

    def _handle(self, sock) -> None:
        self._seen.at = None
        super()._handle(_FirstByte(sock, self._seen))

    def _record(self, where: str, data: bytes) -> None:
        if where == "jobs":
            with self._cond:
                self.timed.append((self._seen.at, data))
        super()._record(where, data)


def badge_codes(data: bytes) -> list[str]:
    """The visit codes in a job's badges (their QR codes hold the code, or a URL ending in it)."""
    import zxingcpp

    from printers.raster import decode_raster

    return [
        r.text.rstrip("/").rsplit("/", 1)[-1]
        for img in decode_raster(data)
        for r in zxingcpp.read_barcodes(img.convert("L"))
    ]


def time_to_paper(printer: PaperPrinter, sent: dict[str, float], timeout: float) -> dict:
    """For each code in ``sent`` (code -> scan sent), the ms from the scan to the first
    byte of its badge at the printer; waits up to ``timeout`` for all of them."""
    deadline = time.monotonic() + timeout
    found: dict[str, float] = {}
    done = 0
    while time.monotonic() < deadline:
        with printer._cond:
            timed = printer.timed[done:]
        for at, data in timed:
            for code in badge_codes(data):
                if code in sent and code not in found:
                    found[code] = (at - sent[code]) * 1000
        done += len(timed)
        if len(found) == len(sent):
            break
        time.sleep(0.2)
    return {"ms": list(found.values()), "missing": len(sent) - len(found)}


def render_times(n: int = 60) -> dict:
    """bench/badge.py's render + encode figures, in this process (fonts warmed first)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("badge_bench", HERE / "badge.py")
    badge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(badge)
    for i in range(16):
        badge.one(i)
    times = [badge.one(i) for i in range(n)]
    return {"p50": pct(times, 50), "p99": pct(times, 99)}


# ---------------------------------------------------------------- the targets


def register_visits(base: str, token: str, count: int, verify: bool = True) -> list[str]:
    """Pre-register ``count`` visits for the host through the API (not timed); their codes.
    Each is valid through the day after tomorrow (``valid_until``): a run that crosses
    midnight still checks them in (expected "today" only, they were ``not_today`` after it)."""
    now = datetime.now(UTC)
    expected_at, valid_until = now.isoformat(), (now + timedelta(days=2)).date().isoformat()
    local = threading.local()

    def register(i: int) -> str:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.verify = verify
            local.s.headers["Authorization"] = f"Bearer {token}"
        # verify per request: a session's verify=False loses to REQUESTS_CA_BUNDLE
        r = local.s.post(
            f"{base}/api/v1/visits",
            timeout=REQUEST_TIMEOUT,
            verify=verify,
            json={
                "visitor": {
                    "name": f"Visitor {i}",
                    "company": "Bench Ltd",
                    "email": f"v{i}@example.org",
                    "phone": "+1 555 0100",
                },
                "host": HOST_EMAIL,
                "expected_at": expected_at,
                "valid_until": valid_until,
                "purpose": "benchmark",
            },
        )
        if r.status_code != 201:
            raise RuntimeError(f"pre-register got {r.status_code}: {r.text[:200]}")
        return r.json()["code"]

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(register, range(count)))


def lobby_tokens(lobby) -> tuple[str, str]:
    """A receptionist's token (it checks visitors in) and the host's."""
    lobby("user", "add", DESK_EMAIL, "--name", "Front Desk", "--role", "receptionist")
    lobby("user", "add", HOST_EMAIL, "--name", "Grace Host", "--role", "host")
    return lobby("token", "create", DESK_EMAIL), lobby("token", "create", HOST_EMAIL)


def bench_lobby(
    tmp: Path, servers: Servers, n: int, k: int, paced: tuple[int, float], printer: PaperPrinter
) -> dict:
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp / "lobby"),
        "LOBBY_DEFAULT_PRINTER": printer.url,
        "LOBBY_PRINT_PACING_SECONDS": "0",
        "LOBBY_PRINT_WORKER": os.environ.get("BENCH_PRINT_WORKER", "1"),
    }
    for var in ("LOBBY_DATABASE_URL", "LOBBY_MESSAGE_QUEUE"):
        env.pop(var, None)  # the embedded default: SQLite file, in-process Socket.IO
    exe = lobby_exe()
    desk, host = lobby_tokens(lambda *a: run_cli([exe, *a], env).strip().splitlines()[-1])
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "lobby.log"
    proc = servers.start("lobby", [exe, "run", "--port", str(port)], env, log)
    wait_healthy(base, proc, log)
    codes = register_visits(base, desk, n + paced[0] + 2 * k)
    alerts = AlertRecorder(base, host)
    try:
        return run_phases(
            "lobby", f"{base}/api/v1/checkins", desk, codes, n, k, alerts, proc.pid, paced, printer
        )
    finally:
        alerts.close()
        servers.stop(proc)


def floor_command(port: int, db: Path) -> list[str]:
    """The floor, served by the same server as ``lobby run`` (gunicorn once it is)."""
    help_text = subprocess.run(
        [lobby_exe(), "run", "--help"], capture_output=True, text=True
    ).stdout
    server = "gunicorn" if "gunicorn" in help_text else "werkzeug"
    return [
        sys.executable,
        str(HERE / "floor_app.py"),
        "--port",
        str(port),
        "--db",
        str(db),
        "--server",
        server,
    ]


def bench_floor(tmp: Path, servers: Servers, n: int, k: int, paced: tuple[int, float]) -> dict:
    token = "floor-" + os.urandom(16).hex()
    env = {**os.environ, "FLOOR_TOKEN": token}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "floor.log"
    proc = servers.start("floor", floor_command(port, tmp / "floor.db"), env, log)
    wait_healthy(base, proc, log)
    codes = [f"code-{i:06d}-{os.urandom(8).hex()}" for i in range(n + paced[0] + 2 * k)]
    alerts = AlertRecorder(base, token)
    try:
        return run_phases("floor", f"{base}/checkins", token, codes, n, k, alerts, proc.pid, paced)
    finally:
        alerts.close()
        servers.stop(proc)


def run_phases(
    name: str,
    url: str,
    token: str,
    codes: list[str],
    n: int,
    k: int,
    alerts: AlertRecorder,
    pid: int | None,
    paced: tuple[int, float],
    printer: PaperPrinter | None = None,
    verify: bool = True,
    session_for=None,
) -> dict:
    """The paced load (paced = (count, rate)), then the burst (n codes back to back).
    With a ``printer``: the paced check-ins' time to paper, measured before the burst
    (whose badges would queue in front of nobody's then)."""
    count, rate = paced
    warm, rest = codes[:k], codes[k:]
    out = {}
    if count:
        out["paced"] = run_load(
            name + "~",
            url,
            token,
            rest[:count],
            warm,
            alerts,
            pid,
            rate=rate,
            verify=verify,
            session_for=session_for,
            settle=printer and (lambda: printer.wait_for_jobs(k, 60)),
        )
        if printer is not None:
            sent = {r.code: r.sent for r in out["paced"].requests if r.status == 201}
            out["paper"] = time_to_paper(printer, sent, PAPER_WAIT)
    burst = rest[count:]
    spy = profile_burst(pid) if name == "lobby" else None
    out["burst"] = run_load(
        name,
        url,
        token,
        burst[k : k + n],
        burst[:k],
        alerts,
        pid,
        verify=verify,
        session_for=session_for,
    )
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    return out


PROFILE: list[str] = []  # --profile FILE: py-spy Lobby's server during the burst


def profile_burst(pid: int | None) -> subprocess.Popen | None:
    """py-spy (raw stacks, the web process and its children) on Lobby's burst."""
    if not PROFILE or pid is None:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    argv = [spy, "record", "--pid", str(pid), "--subprocesses", "--rate", "250"]
    argv += ["--format", "raw", "--nonblocking", "-o", PROFILE[0]]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(PROFILE[0] + ".log", "w"))


# ---------------------------------------------------------------- the production shape


def bench_stack(tmp: Path, n: int, k: int, paced: tuple[int, float], printer: PaperPrinter) -> dict:
    """The same run on PostgreSQL + Redis with two ``lobby run --no-worker`` processes
    and one ``lobby worker`` behind nginx (HTTPS, self-signed), as tests/stack.py starts
    them; the kiosks split between the two web processes (nginx's ip_hash keys on the
    source address), the host socket on whichever nginx picks. Returns the phases, or
    ``{"not_measured": why}``."""
    try:
        from tests.stack import SourceAddress, Stack
    except Exception as e:  # noqa: BLE001 - any reason it cannot start is reported
        return {"not_measured": f"tests/stack.py not usable: {e!r}"}
    for tool in ("nginx", "redis-server", "openssl"):
        if not shutil.which(tool):
            return {"not_measured": f"{tool} not installed"}
    import urllib3

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    with Stack(tmp / "stack", web=2, env={"LOBBY_DEFAULT_PRINTER": printer.url}) as stack:
        desk, host = lobby_tokens(stack.lobby)
        ips = [stack.session_to(stack.upstream(i)).get_adapter(stack.url).ip for i in range(2)]

        def session_for(i: int) -> requests.Session:
            s = requests.Session()
            s.mount("https://", SourceAddress(ips[i % 2]))
            return s

        codes = register_visits(stack.url, desk, n + paced[0] + 2 * k, verify=False)
        alerts = AlertRecorder(stack.url, host, verify=False)
        try:
            out = run_phases(
                "stack",
                f"{stack.url}/api/v1/checkins",
                desk,
                codes,
                n,
                k,
                alerts,
                None,
                paced,
                printer,
                verify=False,
                session_for=session_for,
            )
        finally:
            alerts.close()
        out["notes"] = stack.notes
        return out


# ---------------------------------------------------------------- report


def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: list) -> float | None:
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def over(a, b):
    return a / b if a is not None and b else None


def ratios(lobby: dict, floor: dict) -> dict:
    """Lobby/floor for one round."""
    lb, fb = lobby["burst"], floor["burst"]
    out = {
        "throughput": over(lb.throughput, fb.throughput),
        "alert_p50": over(pct(lb.alert_lat(), 50), pct(fb.alert_lat(), 50)),
        "alert_p99": over(pct(lb.alert_lat(), 99), pct(fb.alert_lat(), 99)),
        "cpu": over(lb.cpu_per_checkin(), fb.cpu_per_checkin()),
    }
    if "paced" in lobby:
        lp, fp = lobby["paced"], floor["paced"]
        out["paced_alert_p50"] = over(pct(lp.alert_lat(), 50), pct(fp.alert_lat(), 50))
        out["paced_alert_p99"] = over(pct(lp.alert_lat(), 99), pct(fp.alert_lat(), 99))
    return out


HEAD = (
    f"{'rnd':<4} {'target':<7} {'load':<6} {'ok':>5} {'thru/s':>7} {'req p50':>8} "
    f"{'req p99':>8} {'alert p50':>9} {'alert p99':>9} {'missing':>7} {'cpu ms':>7}"
)


def report_phases(label: str, name: str, phases: dict, size: dict) -> None:
    for load in ("paced", "burst"):
        r = phases.get(load)
        if r is None:
            continue
        req, al = r.req_lat(), r.alert_lat()
        print(
            f"{label:<4} {name:<7} {load:<6} {len(r.ok):>5} {r.throughput:>7.1f} "
            f"{fmt(pct(req, 50)):>8} {fmt(pct(req, 99)):>8} {fmt(pct(al, 50)):>9} "
            f"{fmt(pct(al, 99)):>9} {r.missing(size[load]):>7} "
            f"{fmt(r.cpu_per_checkin(), '.2f'):>7}"
        )
        bad = [q for q in r.requests if q.status != 201]
        if bad:
            print(
                f"     {name} {load}: {len(bad)} not 201; first: {bad[0].status} "
                f"{bad[0].error[:120]}"
            )
        if r.duplicates:
            print(f"     {name} {load}: {r.duplicates} duplicate alerts")


def phase_figures(phases: dict, size: dict) -> dict:
    out = {load: phases[load].figures(size[load]) for load in ("paced", "burst") if load in phases}
    if "paper" in phases:
        ms = phases["paper"]["ms"]
        out["paper"] = {
            "p50": pct(ms, 50),
            "p99": pct(ms, 99),
            "n": len(ms),
            "missing": phases["paper"]["missing"],
        }
    return out


def report(
    rounds: list[dict], n: int, k: int, paced: tuple[int, float], render: dict, stack: dict | None
) -> dict:
    """Print every round, the medians of the per-round ratios judged against the
    targets (PASS/MISS), time to paper and the production shape; returns the summary."""
    count, rate = paced
    size = {"burst": n, "paced": count}
    print(
        f"\ncheck-in benchmark: paced {count} at {rate:g}/s, then a burst of {n} from {k} "
        f"kiosks back to back; {len(rounds)} rounds (rotating which target goes first); "
        f"loopback, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}, Python {sys.version.split()[0]}"
    )
    print(HEAD)
    print("-" * len(HEAD))
    for i, res in enumerate(rounds, 1):
        for name in TARGETS:
            report_phases(str(i), name, res[name], size)
    print("(ms; alert = alert received - request sent; cpu ms = server CPU per check-in)")
    per_round = [ratios(res["lobby"], res["floor"]) for res in rounds]
    med = {key: median([r.get(key) for r in per_round]) for key in per_round[0]}
    print(
        "\nLobby/floor per round: "
        + "; ".join(
            " ".join(f"{key} {fmt(value, '.2f')}" for key, value in r.items()) for r in per_round
        )
    )
    verdicts = {}
    for label, key, bound, at_least in GOALS:
        value = med.get(key)
        ok = value is not None and (value >= bound if at_least else value <= bound)
        verdicts[key] = ok
        print(
            f"{label:<17} Lobby/floor median = {fmt(value, '.2f'):>5}  (target "
            f"{'>=' if at_least else '<='} {bound})  {'PASS' if ok else 'MISS'}"
        )
    missing = {
        name: sum(
            res[name][load].missing(size[load])
            for res in rounds
            for load in ("paced", "burst")
            if load in res[name]
        )
        for name in TARGETS
    }
    verdicts["no_alert_missing"] = not any(missing.values())
    print(
        "alerts missing: "
        + ", ".join(f"{name} {m}" for name, m in missing.items())
        + f"  (target: none)  {'PASS' if verdicts['no_alert_missing'] else 'MISS'}"
    )
    print(
        f"(info) burst alert p50 Lobby/floor median {fmt(med['alert_p50'], '.2f')} (queueing: "
        f"by Little's law ~ K / throughput), server CPU per check-in {fmt(med['cpu'], '.2f')}"
    )
    summary = {
        "rounds": [
            {name: phase_figures(res[name], size) for name in TARGETS} | {"ratios": per_round[i]}
            for i, res in enumerate(rounds)
        ],
        "median_ratios": med,
        "verdicts": verdicts,
        "missing": missing,
        "render": render,
    }
    if count:
        ms = [x for res in rounds for x in res["lobby"].get("paper", {}).get("ms", [])]
        lost = sum(res["lobby"].get("paper", {}).get("missing", 0) for res in rounds)
        summary["paper"] = {"p50": pct(ms, 50), "p99": pct(ms, 99), "n": len(ms), "missing": lost}
        print(
            f"time to paper (paced, scan -> first badge byte at a loopback printer, print "
            f"pacing 0): p50 {fmt(pct(ms, 50))} ms, p99 {fmt(pct(ms, 99))} ms over {len(ms)} "
            f"badges ({lost} not printed in {PAPER_WAIT:.0f}s); badge render + encode "
            f"(bench/badge.py's badge, this process): p50 {fmt(render['p50'])} ms, "
            f"p99 {fmt(render['p99'])} ms"
        )
    print()
    if stack is None or "not_measured" in stack:
        why = "--no-stack" if stack is None else stack["not_measured"]
        print(f"stack (PostgreSQL + Redis, 2 web + 1 worker behind nginx): not measured ({why})")
        summary["stack"] = {"not_measured": why}
    else:
        print("stack (PostgreSQL + Redis, 2 web + 1 worker behind nginx, HTTPS), no target:")
        print(HEAD)
        report_phases("-", "stack", stack, size)
        figures = phase_figures(stack, size)
        if "paper" in figures:
            p = figures["paper"]
            print(
                f"  time to paper: p50 {fmt(p['p50'])} ms, p99 {fmt(p['p99'])} ms "
                f"({p['missing']} not printed)"
            )
        for note in stack.get("notes", []):
            print(f"  note: {note}")
        summary["stack"] = figures
    return summary


def _interrupt(*_):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description="Kiosk check-in, alert and badge benchmark.")
    parser.add_argument(
        "--visits", type=int, default=1000, help="check-ins of the burst (default 1000)"
    )
    parser.add_argument("--kiosks", type=int, default=20, help="K kiosks (default 20)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of both targets, rotating which goes first (default 3)",
    )
    parser.add_argument(
        "--paced-visits",
        type=int,
        default=200,
        help="check-ins of the paced load, before the burst (default 200)",
    )
    parser.add_argument(
        "--paced-rate",
        type=float,
        default=20.0,
        help="check-ins per second in all for the paced load (default 20)",
    )
    parser.add_argument(
        "--no-stack",
        action="store_true",
        help="skip the run on PostgreSQL + Redis + nginx (tests/stack.py)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DBs)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy Lobby's server during the burst (raw stacks)"
    )
    args = parser.parse_args()
    if args.profile:
        PROFILE.append(args.profile)
    if args.visits < 1 or args.kiosks < 1 or args.rounds < 1:
        parser.error("--visits, --kiosks and --rounds must be at least 1")
    if args.paced_visits < 1 or args.paced_rate <= 0:
        parser.error("--paced-visits must be at least 1 and --paced-rate above 0")
    paced = (args.paced_visits, args.paced_rate)

    # SIGTERM ends us like Ctrl-C does, so the finally below stops the servers.
    signal.signal(signal.SIGTERM, _interrupt)
    servers = Servers()
    tmp = Path(tempfile.mkdtemp(prefix="lobby-bench-"))
    try:
        render = render_times()
        rounds = []
        for i in range(args.rounds):
            where = tmp / f"round{i + 1}"
            where.mkdir()
            res = {}
            for name in TARGETS[i % 2 :] + TARGETS[: i % 2]:
                print(f"round {i + 1}/{args.rounds}: {name}...", file=sys.stderr, flush=True)
                if name == "lobby":
                    with PaperPrinter() as printer:
                        res[name] = bench_lobby(
                            where, servers, args.visits, args.kiosks, paced, printer
                        )
                else:
                    res[name] = bench_floor(where, servers, args.visits, args.kiosks, paced)
            rounds.append(res)
        stack = None
        if not args.no_stack:
            print(
                "stack: PostgreSQL + Redis + 2 web + worker + nginx...", file=sys.stderr, flush=True
            )
            try:
                with PaperPrinter() as printer:
                    stack = bench_stack(tmp, args.visits, args.kiosks, paced, printer)
            except Exception as e:  # noqa: BLE001 - the SQLite figures still count
                stack = {"not_measured": f"the stack failed: {e!r}"[:300]}
        summary = report(rounds, args.visits, args.kiosks, paced, render, stack)
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=2))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop_all()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
