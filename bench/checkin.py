"""Benchmark: concurrent kiosk check-ins and host alerts, Lobby against a floor app.

Run with ``python bench/checkin.py [--visits N] [--kiosks K] [--rounds R]`` (defaults:
1000 visits, 20 kiosks, 3 rounds). Loopback only; every wait is bounded.

For each target (Lobby; bench/floor_app.py, the floor, its writers queued in-process
as Lobby's are; and the same floor with its writers left to SQLite's busy handler,
for comparison) it starts the server as a subprocess, connects one host Socket.IO
client (websocket transport, ``auth={"token": ...}``) that records when each
``visitor_arrived`` arrives (by ``visit_id``), and has K kiosk threads (one
``requests.Session`` each) split N codes and ``POST`` a check-in for each. Each
kiosk first checks one extra code in as a warm-up (not measured). Reported per
target: throughput over the whole load, request latency p50/p99, alert latency
(alert received - request sent) p50/p99, alerts missing (waiting up to 5 s after
the last response) and the server's CPU time per check-in (Linux: from /proc, all
its threads).

A round measures every target, each on fresh data; rounds rotate which goes
first. The ratios Lobby/floor are taken per round and the targets are judged on
their medians: on a shared 2-core machine one round alone is a coin toss. Exit
status is 0 unless something crashed.
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
from datetime import datetime, timezone
from pathlib import Path

import requests
import socketio

HERE = Path(__file__).resolve().parent
HOST_EMAIL = "host@example.com"
DESK_EMAIL = "desk@example.com"
ALERT_WAIT = 5.0          # seconds to wait for alerts after the last response
START_TIMEOUT = 60.0      # seconds for a server to answer /healthz
REQUEST_TIMEOUT = 30.0    # seconds per HTTP request
LOAD_TIMEOUT = 300.0      # seconds for the whole measured load (kiosks stop after)

TARGETS = ("lobby", "floor", "floor-busy")  # floor-busy: for comparison only
TARGET_THROUGHPUT = 0.6   # Lobby/floor, at least
TARGET_ALERT_P50 = 1.5    # Lobby/floor, at most


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
        out = open(log, "wb")
        # Own session: a Ctrl-C in the terminal reaches only us; we end them ourselves.
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        out.close()
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
    raise RuntimeError(f"{base}/healthz did not answer within {START_TIMEOUT:.0f}s; "
                       f"log:\n{tail(log)}")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) a process has used so far; Linux only."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
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
        raise RuntimeError(f"{' '.join(argv[:3])} failed ({done.returncode}): "
                           f"{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


# ---------------------------------------------------------------- measuring

class AlertRecorder:
    """One host's Socket.IO client: the receive time of each visitor_arrived."""

    def __init__(self, base: str, token: str):
        self.times: dict[int, float] = {}
        self.duplicates = 0
        self._lock = threading.Lock()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("visitor_arrived", self._on_arrived)
        self.sio.connect(base, transports=["websocket"], auth={"token": token},
                         wait_timeout=10)

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
        return [(self.alerts[r.visit_id] - r.sent) * 1000 for r in self.requests
                if r.visit_id in self.alerts]

    def missing(self, expected: int) -> int:
        return expected - len(self.alert_lat())

    def cpu_per_checkin(self) -> float | None:
        """Server CPU milliseconds per check-in during the load (Linux only)."""
        return self.cpu / len(self.ok) * 1000 if self.cpu is not None and self.ok else None

    def figures(self, n: int) -> dict:
        return {"ok": len(self.ok), "throughput": self.throughput,
                "req_p50": pct(self.req_lat(), 50), "req_p99": pct(self.req_lat(), 99),
                "alert_p50": pct(self.alert_lat(), 50), "alert_p99": pct(self.alert_lat(), 99),
                "missing": self.missing(n), "cpu_ms_per_checkin": self.cpu_per_checkin()}


def run_load(name: str, url: str, token: str, codes: list[str], warm: list[str],
             alerts: AlertRecorder, pid: int, rate: float | None = None) -> Result:
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
            with requests.Session() as s:
                s.headers["Authorization"] = f"Bearer {token}"
                r = s.post(url, json={"code": warm[i]}, timeout=REQUEST_TIMEOUT)
                if r.status_code != 201:
                    raise RuntimeError(f"{name}: warm-up check-in got {r.status_code}: "
                                       f"{r.text[:200]}")
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
                        r = s.post(url, json={"code": code}, timeout=REQUEST_TIMEOUT)
                        done = time.perf_counter()
                        vid = None
                        if r.status_code in (200, 201):
                            vid = r.json().get("id")
                        err = "" if r.status_code == 201 else r.text[:200]
                        result.requests.append(Req(sent, done, r.status_code, vid, err))
                    except requests.RequestException as e:
                        result.requests.append(Req(sent, time.perf_counter(), None, None,
                                                   repr(e)))
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
    alerts.wait_for([r.visit_id for r in result.requests if r.visit_id is not None],
                    ALERT_WAIT)
    with alerts._lock:
        result.alerts = dict(alerts.times)
        result.duplicates = alerts.duplicates
    return result


# ---------------------------------------------------------------- the two targets

def bench_lobby(tmp: Path, servers: Servers, n: int, k: int, print_worker: bool,
                paced: tuple[int, float] | None) -> list[Result]:
    data = tmp / "lobby"
    env = {**os.environ, "LOBBY_DATA_DIR": str(data),
           "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp / 'badges'}"}
    if not print_worker:
        env["LOBBY_PRINT_WORKER"] = "0"
    for k_var in ("LOBBY_DATABASE_URL", "LOBBY_MESSAGE_QUEUE"):
        env.pop(k_var, None)  # the embedded default: SQLite file, in-process Socket.IO
    lobby = lobby_exe()
    run_cli([lobby, "user", "add", DESK_EMAIL, "--name", "Front Desk", "--role",
             "receptionist"], env)
    run_cli([lobby, "user", "add", HOST_EMAIL, "--name", "Grace Host", "--role", "host"], env)
    desk_token = run_cli([lobby, "token", "create", DESK_EMAIL], env).strip().splitlines()[-1]
    host_token = run_cli([lobby, "token", "create", HOST_EMAIL], env).strip().splitlines()[-1]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "lobby.log"
    proc = servers.start("lobby", [lobby, "run", "--port", str(port)], env, log)
    wait_healthy(base, proc, log)

    # Pre-register N + K visits (K warm-up ones); not timed.
    expected_at = datetime.now(timezone.utc).isoformat()
    local = threading.local()

    def register(i: int) -> str:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.headers["Authorization"] = f"Bearer {desk_token}"
        r = local.s.post(f"{base}/api/v1/visits", timeout=REQUEST_TIMEOUT, json={
            "visitor": {"name": f"Visitor {i}", "company": "Bench Ltd",
                        "email": f"v{i}@example.org", "phone": "+1 555 0100"},
            "host": HOST_EMAIL, "expected_at": expected_at, "purpose": "benchmark"})
        if r.status_code != 201:
            raise RuntimeError(f"lobby: pre-register got {r.status_code}: {r.text[:200]}")
        return r.json()["code"]

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(register, range(n + k + (paced[0] + k if paced else 0))))

    alerts = AlertRecorder(base, host_token)
    try:
        return run_phases("lobby", f"{base}/api/v1/checkins", desk_token, codes, n, k, alerts,
                          proc.pid, paced)
    finally:
        alerts.close()
        servers.stop(proc)


def bench_floor(name: str, writers: str, tmp: Path, servers: Servers, n: int, k: int,
                paced: tuple[int, float] | None) -> list[Result]:
    token = "floor-" + os.urandom(16).hex()
    env = {**os.environ, "FLOOR_TOKEN": token}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / f"{name}.log"
    proc = servers.start(name, [sys.executable, str(HERE / "floor_app.py"), "--port",
                                str(port), "--db", str(tmp / f"{name}.db"), "--writers",
                                writers], env, log)
    wait_healthy(base, proc, log)
    codes = [f"code-{i:06d}-{os.urandom(8).hex()}"
             for i in range(n + k + (paced[0] + k if paced else 0))]
    alerts = AlertRecorder(base, token)
    try:
        return run_phases(name, f"{base}/checkins", token, codes, n, k, alerts, proc.pid,
                          paced)
    finally:
        alerts.close()
        servers.stop(proc)


def run_phases(name: str, url: str, token: str, codes: list[str], n: int, k: int,
               alerts: AlertRecorder, pid: int, paced: tuple[int, float] | None) -> list[Result]:
    """The saturating load (n codes), then the paced one (paced = (count, rate))."""
    results = [run_load(name, url, token, codes[k:k + n], codes[:k], alerts, pid)]
    if paced:
        rest = codes[n + k:]
        results.append(run_load(name + "~", url, token, rest[k:], rest[:k], alerts, pid,
                                rate=paced[1]))
    return results


# ---------------------------------------------------------------- report

def fmt(x: float | None, spec: str = ".1f") -> str:
    return "-" if x is None else format(x, spec)


def report_round(label: str, results: list[Result], n: int) -> None:
    for r in results:
        req, al = r.req_lat(), r.alert_lat()
        print(f"{label:<3} {r.name:<10} {len(r.ok):>5} {r.throughput:>8.1f} "
              f"{fmt(pct(req, 50)):>8} {fmt(pct(req, 99)):>8} {fmt(pct(al, 50)):>9} "
              f"{fmt(pct(al, 99)):>9} {len(al):>4}/{n:<4} {r.missing(n):>7} "
              f"{fmt(r.cpu_per_checkin(), '.2f'):>7}")
    for r in results:
        bad = [q for q in r.requests if q.status != 201]
        notes = []
        if len(r.requests) < n:
            notes.append(f"only {len(r.requests)} of {n} requests sent (time bound)")
        if bad:
            by = {}
            for q in bad:
                by[q.status] = by.get(q.status, 0) + 1
            notes.append(f"non-201: {by}; first: {bad[0].error[:120]}")
        if r.duplicates:
            notes.append(f"{r.duplicates} duplicate alerts")
        for note in notes:
            print(f"    {r.name}: {note}")


def ratios(lobby: Result, floor: Result) -> dict:
    """Lobby/floor for one round: throughput, alert p50 and p99, server CPU per check-in."""
    def over(a, b):
        return a / b if a is not None and b else None
    return {
        "throughput": over(lobby.throughput, floor.throughput),
        "alert_p50": over(pct(lobby.alert_lat(), 50), pct(floor.alert_lat(), 50)),
        "alert_p99": over(pct(lobby.alert_lat(), 99), pct(floor.alert_lat(), 99)),
        "alert_mean": over(mean(lobby.alert_lat()), mean(floor.alert_lat())),
        "cpu": over(lobby.cpu_per_checkin(), floor.cpu_per_checkin()),
    }


def mean(values: list) -> float | None:
    return sum(values) / len(values) if values else None


def median(values: list) -> float | None:
    v = sorted(x for x in values if x is not None)
    if not v:
        return None
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def report(rounds: list[dict], n: int, k: int, paced: tuple[int, float] | None) -> dict:
    """Print every round and the medians of the per-round ratios; the targets are
    judged on the medians of Lobby/floor (one round on a shared machine is a coin
    toss). Lobby/floor-busy is printed for comparison when that target ran. Returns
    the summary."""
    names = [name for name in TARGETS if name in rounds[0]]
    print(f"\ncheck-in benchmark: {n} visits, {k} kiosks, {len(rounds)} rounds (rotating "
          f"which target goes first), loopback, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}")
    head = (f"{'rnd':<3} {'target':<10} {'ok':>5} {'thru/s':>8} {'req p50':>8} {'req p99':>8} "
            f"{'alert p50':>9} {'alert p99':>9} {'alerts':>9} {'missing':>7} {'cpu ms':>7}")
    print(head)
    print("-" * len(head))
    for i, res in enumerate(rounds, 1):
        report_round(str(i), [res[name] for name in names], n)
    print("(latencies in ms; alert = alert received - request sent; "
          "cpu ms = server CPU per check-in)")
    per_round = {name: [ratios(res["lobby"], res[name]) for res in rounds]
                 for name in names if name != "lobby"}
    med = {name: {key: median([r[key] for r in rs]) for key in rs[0]}
           for name, rs in per_round.items()}
    print()
    print("ratios Lobby/floor per round: " + "; ".join(
        f"{i}: thru {fmt(r['throughput'], '.2f')} alert p50 {fmt(r['alert_p50'], '.2f')} "
        f"cpu {fmt(r['cpu'], '.2f')}" for i, r in enumerate(per_round["floor"], 1)))
    missing = {name: sum(res[name].missing(n) for res in rounds) for name in names}
    thr, a50 = med["floor"]["throughput"], med["floor"]["alert_p50"]
    print(f"throughput  Lobby/floor median = {fmt(thr, '.2f')}  (target >= {TARGET_THROUGHPUT})  "
          f"{'PASS' if thr is not None and thr >= TARGET_THROUGHPUT else 'FAIL'}")
    print(f"alert p50   Lobby/floor median = {fmt(a50, '.2f')}  (target <= {TARGET_ALERT_P50})  "
          f"{'PASS' if a50 is not None and a50 <= TARGET_ALERT_P50 else 'FAIL'}")
    print("alerts missing: " + ", ".join(f"{name} {missing[name]}" for name in names)
          + f"  (target: none)  {'PASS' if not any(missing.values()) else 'FAIL'}")
    m = med["floor"]
    print(f"(info) Lobby/floor medians: alert mean {fmt(m['alert_mean'], '.2f')} (by Little's "
          f"law the ratio of the time each check-in takes), alert p99 "
          f"{fmt(m['alert_p99'], '.2f')}, server CPU per check-in {fmt(m['cpu'], '.2f')}")
    if "floor-busy" in med:
        b = med["floor-busy"]
        print(f"(info) Lobby/floor-busy medians (the floor with its writers left to SQLite's "
              f"busy handler): throughput {fmt(b['throughput'], '.2f')}, alert p50 "
              f"{fmt(b['alert_p50'], '.2f')}, mean {fmt(b['alert_mean'], '.2f')}, p99 "
              f"{fmt(b['alert_p99'], '.2f')}")
    size = {name: n for name in names} | {name + "~": paced[0] for name in names if paced}
    summary = {"rounds": [{name: res[name].figures(size[name]) for name in res}
                          | {"ratios": {name: rs[i] for name, rs in per_round.items()}}
                          for i, res in enumerate(rounds)],
               "median_ratios": med, "missing": missing}
    if paced:
        count, rate = paced
        print(f"\n(info) paced load: {count} check-ins at {rate:g}/s from the same {k} kiosks, "
              f"after the load above (a lobby's real pace is far below; nobody queues)")
        p50s = []
        for i, res in enumerate(rounds, 1):
            lo, fl = res["lobby~"], res["floor~"]
            l50, f50 = pct(lo.alert_lat(), 50), pct(fl.alert_lat(), 50)
            ratio = l50 / f50 if l50 is not None and f50 else None
            p50s.append(ratio)
            print(f"  round {i}: alert p50 {fmt(l50)} / {fmt(f50)} ms = {fmt(ratio, '.2f')}; "
                  f"p99 {fmt(pct(lo.alert_lat(), 99))} / {fmt(pct(fl.alert_lat(), 99))} ms; "
                  f"missing {lo.missing(count)} / {fl.missing(count)}")
        summary["paced_alert_p50_median"] = median(p50s)
        print(f"  alert p50 Lobby/floor median = {fmt(median(p50s), '.2f')}")
    return summary


def _interrupt(*_):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description="Kiosk check-in + host alert benchmark.")
    parser.add_argument("--visits", type=int, default=1000, help="N check-ins (default 1000)")
    parser.add_argument("--kiosks", type=int, default=20, help="K concurrent kiosks (default 20)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every target, rotating which goes first (default 3)")
    parser.add_argument("--paced-visits", type=int, default=200,
                        help="then this many check-ins paced at --paced-rate (0: none)")
    parser.add_argument("--paced-rate", type=float, default=100.0,
                        help="check-ins per second in all for the paced load (default 100)")
    parser.add_argument("--no-busy-floor", action="store_true",
                        help="skip the floor with its writers left to SQLite's busy handler")
    parser.add_argument("--no-print-worker", action="store_true",
                        help="diagnosis: run Lobby with LOBBY_PRINT_WORKER=0")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs, DBs)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.visits < 1 or args.kiosks < 1 or args.rounds < 1:
        parser.error("--visits, --kiosks and --rounds must be at least 1")
    if args.paced_visits < 0 or args.paced_rate <= 0:
        parser.error("--paced-visits must be at least 0 and --paced-rate above 0")
    paced = (args.paced_visits, args.paced_rate) if args.paced_visits else None
    targets = [t for t in TARGETS if not (args.no_busy_floor and t == "floor-busy")]

    # SIGTERM ends us like Ctrl-C does, so the finally below stops the servers.
    signal.signal(signal.SIGTERM, _interrupt)
    servers = Servers()
    tmp = Path(tempfile.mkdtemp(prefix="lobby-bench-"))
    try:
        rounds = []
        for i in range(args.rounds):
            where = tmp / f"round{i + 1}"
            where.mkdir()
            shift = i % len(targets)
            res = {}
            for name in targets[shift:] + targets[:shift]:
                print(f"round {i + 1}/{args.rounds}: {name}...", file=sys.stderr, flush=True)
                if name == "lobby":
                    phases = bench_lobby(where, servers, args.visits, args.kiosks,
                                         not args.no_print_worker, paced)
                else:
                    writers = "busy" if name == "floor-busy" else "queued"
                    phases = bench_floor(name, writers, where, servers, args.visits,
                                         args.kiosks, paced)
                res[name] = phases[0]
                if paced:
                    res[name + "~"] = phases[1]
            rounds.append(res)
        summary = report(rounds, args.visits, args.kiosks, paced)
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
