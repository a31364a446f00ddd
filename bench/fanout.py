"""Benchmark: one arrival fanned out to hundreds of live dashboards.

Run with ``python bench/fanout.py [--sockets 500] [--arrivals 100]``. Loopback only;
every wait is bounded; exit status is 0 unless something crashed.

It starts a real Lobby (``lobby run``) as a subprocess in a temp ``LOBBY_DATA_DIR``
(``LOBBY_DEFAULT_PRINTER=emulator://<tmp>/badges``, so every check-in also renders a
badge), creates with the ``lobby`` CLI a check-in receptionist (the API token that
checks visitors in), a dashboard receptionist and H hosts, and mints their tokens.

Then S Socket.IO dashboards (``socketio.Client``, websocket transport,
``auth={"token": ...}``) connect, a few at a time, spread over W worker processes:
R of them with the dashboard receptionist's token (room ``reception``: every arrival
reaches them) and the other S - R with host tokens, spread evenly over the hosts
(room ``host:<id>``: only their own host's arrivals). Each socket records, per
``visit_id``, the wall-clock time (``time.time()``) of every ``visitor_arrived`` it gets.

A arrivals, pre-registered over the hosts (round robin, not timed), are checked in
one by one at a steady pace (``--rate``, 10/s) through ``POST /api/v1/checkins``;
the send time of each request is kept. Reported: sockets connected, deliveries
expected vs received, duplicates, misdeliveries (an arrival at a socket that should
not get it: another host's visitor), delivery latency (received at the socket - check-in
request sent) p50/p99/max over every delivery, and the server process's memory from
``/proc/<pid>/status`` (VmHWM = peak RSS, and VmRSS now). Targets: p99 <= 250 ms and
peak memory <= 200 MB, PASS/FAIL each; "no loss, no duplicates, no misdelivery" too.
"""

import argparse
import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
# After the path insert: bench/ is not a package, so checkin resolves only from here.
from checkin import (  # noqa: E402
    REQUEST_TIMEOUT,
    Servers,
    free_port,
    lobby_exe,
    pct,
    run_cli,
    tail,
    wait_healthy,
)

DESK_EMAIL = "desk@example.com"  # checks visitors in through the API
DASH_EMAIL = "reception@example.com"  # the reception dashboards
CONNECT_TIMEOUT = 180.0  # seconds for all sockets to connect
DELIVERY_WAIT = 10.0  # seconds to wait for deliveries after the last check-in answer
WORKER_TIMEOUT = 60.0  # seconds for a worker to answer a command
TARGET_P99_MS = 250.0
TARGET_PEAK_MB = 200.0


# ---------------------------------------------------------------- worker process


def worker_main(conn, base: str, specs: list[dict], concurrency: int) -> None:
    """Connect this worker's share of sockets, record arrivals, answer commands.

    ``specs``: ``{"idx", "token"}`` per socket. Commands on ``conn``: ``"count"`` ->
    deliveries so far; ``"collect"`` -> every socket's record; ``"close"`` -> disconnect
    all and exit.
    """
    import socketio  # in the worker only: the parent needs no Socket.IO client

    lock = threading.Lock()
    recs: dict[int, dict] = {}
    clients: dict[int, socketio.Client] = {}
    total = [0]

    def make(spec: dict) -> None:
        idx = spec["idx"]
        rec = {
            "idx": idx,
            "connected": False,
            "error": "",
            "rooms": None,
            "arrivals": [],
            "dropped": False,
        }
        recs[idx] = rec
        sio = socketio.Client(reconnection=False)

        @sio.on("visitor_arrived")
        def _arrived(data):
            now = time.time()
            vid = data.get("visit_id") if isinstance(data, dict) else None
            host = (data.get("host") or {}).get("id") if isinstance(data, dict) else None
            seq = data.get("seq") if isinstance(data, dict) else None
            with lock:
                rec["arrivals"].append((vid, now, host, seq))
                total[0] += 1

        @sio.on("hello")
        def _hello(data):
            rec["rooms"] = data.get("rooms") if isinstance(data, dict) else None

        @sio.on("disconnect")
        def _gone(*_):
            if rec["connected"]:
                rec["dropped"] = True

        for attempt in range(3):
            try:
                sio.connect(
                    base, transports=["websocket"], auth={"token": spec["token"]}, wait_timeout=20
                )
                rec["connected"] = True
                rec["error"] = ""
                clients[idx] = sio
                return
            except Exception as e:  # retry a couple of times, then report it
                rec["error"] = f"{type(e).__name__}: {e}"
                time.sleep(0.5 * (attempt + 1))

    started = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(make, specs))
    # hello arrives right after the connect ack; give the last ones a moment
    deadline = time.time() + 5
    while time.time() < deadline and any(
        r["connected"] and r["rooms"] is None for r in recs.values()
    ):
        time.sleep(0.05)
    conn.send(
        (
            "connected",
            sum(r["connected"] for r in recs.values()),
            [r["error"] for r in recs.values() if r["error"]][:3],
            time.time() - started,
        )
    )

    while True:
        cmd = conn.recv()
        if cmd == "count":
            with lock:
                conn.send(total[0])
        elif cmd == "collect":
            with lock:
                conn.send([{**r, "arrivals": list(r["arrivals"])} for r in recs.values()])
        elif cmd == "close":
            # All at once, and not for long: each close waits up to 3 s for a close
            # frame from the server; whatever is left is cut when this process exits.
            closers = [
                threading.Thread(target=_quiet_disconnect, args=(c,), daemon=True)
                for c in clients.values()
            ]
            for th in closers:
                th.start()
            deadline = time.monotonic() + 5
            for th in closers:
                th.join(timeout=max(0.0, deadline - time.monotonic()))
            conn.send("closed")
            return


def _quiet_disconnect(sio) -> None:
    try:
        sio.disconnect()
    except Exception:
        pass


class Workers:
    """The client worker processes (spawned, each ended by its own handle)."""

    def __init__(self):
        self.procs: list[tuple[mp.Process, object]] = []

    def start(self, base: str, specs: list[dict], n: int, concurrency: int) -> None:
        ctx = mp.get_context("spawn")
        for w in range(n):
            mine = specs[w::n]
            if not mine:
                continue
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=worker_main,
                args=(child, base, mine, concurrency),
                daemon=True,
                name=f"fanout-worker-{w}",
            )
            p.start()
            child.close()
            self.procs.append((p, parent))

    def ask(self, conn, cmd, timeout: float = WORKER_TIMEOUT):
        conn.send(cmd)
        if not conn.poll(timeout):
            raise RuntimeError(f"worker did not answer {cmd!r} within {timeout:.0f}s")
        return conn.recv()

    def wait_connected(self, timeout: float) -> tuple[int, list[str], float]:
        deadline = time.monotonic() + timeout
        ok, errors, slowest = 0, [], 0.0
        for p, conn in self.procs:
            left = max(0.1, deadline - time.monotonic())
            if not conn.poll(left):
                raise RuntimeError(f"{p.name} did not finish connecting within {timeout:.0f}s")
            _, n, errs, took = conn.recv()
            ok += n
            errors += errs
            slowest = max(slowest, took)
        return ok, errors, slowest

    def count(self) -> int:
        return sum(self.ask(conn, "count") for _, conn in self.procs)

    def collect(self) -> list[dict]:
        out = []
        for _, conn in self.procs:
            out += self.ask(conn, "collect")
        return out

    def stop_all(self) -> None:
        for p, conn in self.procs:  # all close at once
            try:
                if p.is_alive():
                    conn.send("close")
            except Exception:
                pass
        deadline = time.monotonic() + 15
        for p, _conn in self.procs:
            p.join(timeout=max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)


# ---------------------------------------------------------------- server side


def proc_status(pid: int) -> dict:
    """VmHWM, VmRSS (kB) and Threads of a process, from /proc/<pid>/status."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, val = line.partition(":")
            if key in ("Name", "VmHWM", "VmRSS", "Threads"):
                out[key] = val.split()[0] if key != "Name" else val.strip()
    except OSError:
        pass
    return out


def server_pid_check(pid: int) -> str:
    """The command line of ``pid``: it must be the Python ``lobby run`` itself."""
    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
    if "python" not in exe or "run" not in cmd:
        raise RuntimeError(f"pid {pid} is {exe} ({cmd}), not the Python server")
    return f"{exe}: {cmd}"


def create_people(env: dict, hosts: int, parallel: int) -> tuple[str, str, list[str], list[str]]:
    """The check-in receptionist, the dashboard receptionist and ``hosts`` hosts, each
    with one token, all through the ``lobby`` CLI. Returns (desk token, dashboard token,
    host emails, host tokens)."""
    lobby = lobby_exe()
    host_emails = [f"host{i:03d}@example.com" for i in range(hosts)]
    people = [
        (DESK_EMAIL, "Front Desk", "receptionist"),
        (DASH_EMAIL, "Reception Dashboard", "receptionist"),
    ]
    people += [(e, f"Host {i:03d}", "host") for i, e in enumerate(host_emails)]
    # The first command creates (migrates) the database alone; the rest in parallel.
    first, *rest = people

    def add(p):
        run_cli(
            [
                lobby,
                "user",
                "add",
                p[0],
                "--name",
                p[1],
                "--role",
                p[2],
                "--password",
                "bench-password",
            ],
            env,
        )

    def mint(email):
        return (
            run_cli([lobby, "token", "create", email, "--name", "fanout bench"], env)
            .strip()
            .splitlines()[-1]
        )

    add(first)
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(add, rest))
        tokens = list(pool.map(mint, [p[0] for p in people]))
    return tokens[0], tokens[1], host_emails, tokens[2:]


def preregister(base: str, token: str, host_emails: list[str], n: int) -> list[dict]:
    """N visits for today, round robin over the hosts: [{"id", "code", "host_email",
    "host_id"}]."""
    expected_at = datetime.now(UTC).isoformat()
    local = threading.local()

    def register(i: int) -> dict:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.headers["Authorization"] = f"Bearer {token}"
        email = host_emails[i % len(host_emails)]
        r = local.s.post(
            f"{base}/api/v1/visits",
            timeout=REQUEST_TIMEOUT,
            json={
                "visitor": {
                    "name": f"Visitor {i}",
                    "company": "Fanout Ltd",
                    "email": f"f{i}@example.org",
                    "phone": "+1 555 0100",
                },
                "host": email,
                "expected_at": expected_at,
                "purpose": "fanout benchmark",
            },
        )
        if r.status_code != 201:
            raise RuntimeError(f"pre-register got {r.status_code}: {r.text[:200]}")
        body = r.json()
        return {
            "id": body["id"],
            "code": body["code"],
            "host_email": email,
            "host_id": body["host"]["id"],
        }

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(register, range(n)))


def check_in_paced(base: str, token: str, visits: list[dict], rate: float) -> list[dict]:
    """Check each visit in at t0 + i/rate (a few sender threads so one slow answer does
    not delay the next send). Returns per visit: sent, done (time.time()), status."""
    out: list[dict] = [{} for _ in visits]
    local = threading.local()

    def send(i: int, v: dict) -> None:
        if not hasattr(local, "s"):
            local.s = requests.Session()
            local.s.headers["Authorization"] = f"Bearer {token}"
        sent = time.time()
        try:
            r = local.s.post(
                f"{base}/api/v1/checkins", json={"code": v["code"]}, timeout=REQUEST_TIMEOUT
            )
            out[i] = {
                "id": v["id"],
                "sent": sent,
                "done": time.time(),
                "status": r.status_code,
                "error": "" if r.status_code == 201 else r.text[:200],
            }
        except requests.RequestException as e:
            out[i] = {
                "id": v["id"],
                "sent": sent,
                "done": time.time(),
                "status": None,
                "error": repr(e),
            }

    with ThreadPoolExecutor(4) as pool:
        t0 = time.monotonic() + 0.2
        futures = []
        for i, v in enumerate(visits):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(send, i, v))
        for f in futures:
            f.result(timeout=REQUEST_TIMEOUT + 10)
    return out


def start_profiler(pid: int, out: Path, seconds: int) -> subprocess.Popen | None:
    spy = shutil.which("py-spy") or "/tmp/tools/bin/py-spy"
    if not Path(spy).exists():
        print("warning: py-spy not found; no profile", file=sys.stderr)
        return None
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "100",
            "--nonblocking",
            "--threads",
            "--format",
            "raw",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


# ---------------------------------------------------------------- the run


def run(args, tmp: Path, servers: Servers, workers: Workers) -> dict:
    data = tmp / "lobby"
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(data),
        "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp / 'badges'}",
    }
    for k in ("LOBBY_DATABASE_URL", "LOBBY_MESSAGE_QUEUE", "LOBBY_PRINT_WORKER"):
        env.pop(k, None)  # the embedded default: SQLite file, in-process Socket.IO
    if args.no_print_worker:
        env["LOBBY_PRINT_WORKER"] = "0"
    t = time.monotonic()
    desk_token, dash_token, host_emails, host_tokens = create_people(
        env, args.hosts, args.cli_parallel
    )
    print(
        f"created {args.hosts + 2} users and tokens with the lobby CLI "
        f"in {time.monotonic() - t:.0f}s",
        flush=True,
    )

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp / "lobby.log"
    proc = servers.start("lobby", [lobby_exe(), "run", "--port", str(port)], env, log)
    wait_healthy(base, proc, log)
    who = server_pid_check(proc.pid)
    mem = {"started": proc_status(proc.pid)}
    visits = preregister(base, desk_token, host_emails, args.arrivals)
    print(f"server pid {proc.pid} ({who}); {len(visits)} visits pre-registered", flush=True)

    # The dashboards: R reception sockets, the rest spread evenly over the hosts.
    specs, sockets = [], []
    for i in range(args.sockets):
        if i < args.reception_sockets:
            sockets.append({"idx": i, "kind": "reception", "host_email": None})
            specs.append({"idx": i, "token": dash_token})
        else:
            h = (i - args.reception_sockets) % args.hosts
            sockets.append({"idx": i, "kind": "host", "host_email": host_emails[h]})
            specs.append({"idx": i, "token": host_tokens[h]})
    t = time.monotonic()
    workers.start(base, specs, args.workers, max(1, args.connect_concurrency // args.workers))
    connected, errors, _ = workers.wait_connected(CONNECT_TIMEOUT)
    connect_s = time.monotonic() - t
    mem["connected"] = proc_status(proc.pid)
    print(
        f"{connected}/{args.sockets} sockets connected in {connect_s:.1f}s "
        f"({args.workers} worker processes)" + (f"; errors: {errors}" if errors else ""),
        flush=True,
    )
    time.sleep(1.0)  # let the last hellos and pings settle

    profiler = None
    if args.profile:
        secs = int(args.arrivals / args.rate + DELIVERY_WAIT / 2 + 3)
        profiler = start_profiler(proc.pid, Path(args.profile), secs)
        time.sleep(1.0)
    before = workers.count()
    load_before = os.getloadavg()[0]
    t = time.monotonic()
    sends = check_in_paced(base, desk_token, visits, args.rate)
    load_s = time.monotonic() - t
    loadavg = (load_before, os.getloadavg()[0])

    # Who should get what.
    by_host: dict[str, set] = {}
    for v in visits:
        by_host.setdefault(v["host_email"], set()).add(v["id"])
    checked = {s["id"] for s in sends if s.get("status") == 201}
    all_ids = {v["id"] for v in visits}
    for s in sockets:
        s["should"] = all_ids if s["kind"] == "reception" else by_host.get(s["host_email"], set())
    # (a socket that never connected makes this wait the full DELIVERY_WAIT)
    expected_total = sum(len(s["should"] & checked) for s in sockets)
    deadline = time.monotonic() + DELIVERY_WAIT
    while time.monotonic() < deadline and workers.count() - before < expected_total:
        time.sleep(0.1)
    records = {r["idx"]: r for r in workers.collect()}
    mem["end"] = proc_status(proc.pid)
    if profiler is not None:
        try:
            profiler.wait(timeout=60)
        except subprocess.TimeoutExpired:
            profiler.kill()
            profiler.wait(timeout=5)
        err = profiler.stderr.read().decode(errors="replace").strip() if profiler.stderr else ""
        if profiler.returncode:
            print(f"warning: py-spy exited {profiler.returncode}: {err[-300:]}", file=sys.stderr)
    t = time.monotonic()
    workers.stop_all()
    closed_s = time.monotonic() - t
    servers.stop(proc)
    print(
        f"sockets closed in {closed_s:.1f}s, server stopped in "
        f"{time.monotonic() - t - closed_s:.1f}s",
        flush=True,
    )

    # ---- score every socket
    sent_at = {s["id"]: s["sent"] for s in sends if s.get("status") == 201}
    lat, per_arrival_max = [], {}
    expected = received = duplicates = misdelivered = missing = 0
    dropped = wrong_room = 0
    for s in sockets:
        r = records.get(
            s["idx"], {"connected": False, "arrivals": [], "rooms": None, "dropped": False}
        )
        should = s["should"] & checked
        expected += len(should)
        if r.get("dropped"):
            dropped += 1
        want_rooms = ["reception"] if s["kind"] == "reception" else None
        if want_rooms and r.get("rooms") != want_rooms:
            wrong_room += 1
        seen: set = set()
        for vid, when, _host_id, _seq in r["arrivals"]:
            if vid not in sent_at:  # not one of ours (nothing else checks in)
                misdelivered += 1
                continue
            if vid not in s["should"]:
                misdelivered += 1
                continue
            if vid in seen:
                duplicates += 1
                continue
            seen.add(vid)
            received += 1
            ms = (when - sent_at[vid]) * 1000
            lat.append(ms)
            per_arrival_max[vid] = max(per_arrival_max.get(vid, 0.0), ms)
        missing += len(should - seen)
    reqs = [(s["done"] - s["sent"]) * 1000 for s in sends if s.get("status") is not None]
    per_socket = {
        "reception": args.reception_sockets,
        "host": (args.sockets - args.reception_sockets),
    }
    host_share = [
        sum(1 for s in sockets if s["kind"] == "host" and s["host_email"] == e) for e in host_emails
    ]
    return {
        "sockets": args.sockets,
        "connected": connected,
        "connect_s": connect_s,
        "connect_errors": errors,
        "dropped": dropped,
        "wrong_room": wrong_room,
        "reception_sockets": per_socket["reception"],
        "host_sockets": per_socket["host"],
        "hosts": args.hosts,
        "host_sockets_per_host": [min(host_share), max(host_share)],
        "arrivals": args.arrivals,
        "checked_in": len(checked),
        "rate": args.rate,
        "load_s": load_s,
        "non_201": [s for s in sends if s.get("status") != 201][:3],
        "expected": expected,
        "received": received,
        "missing": missing,
        "duplicates": duplicates,
        "misdelivered": misdelivered,
        "lat_p50": pct(lat, 50),
        "lat_p99": pct(lat, 99),
        "lat_max": max(lat, default=None),
        "last_socket_p50": pct(list(per_arrival_max.values()), 50),
        "last_socket_p99": pct(list(per_arrival_max.values()), 99),
        "req_p50": pct(reqs, 50),
        "req_p99": pct(reqs, 99),
        "loadavg": loadavg,
        "mem": mem,
        "server_pid": proc.pid,
        "log_tail": tail(log, 5),
    }


# ---------------------------------------------------------------- report


def fmt(x, spec=".1f") -> str:
    return "-" if x is None else format(x, spec)


def mb(kb) -> float | None:
    return None if kb in (None, "") else int(kb) / 1024


def report(r: dict) -> None:
    lo, hi = r["host_sockets_per_host"]
    per = (
        f"{r['reception_sockets']} + {lo}" if lo == hi else f"{r['reception_sockets']} + {lo}..{hi}"
    )
    print(
        f"\nfan-out benchmark: {r['sockets']} sockets ({r['reception_sockets']} reception, "
        f"{r['host_sockets']} host over {r['hosts']} hosts), {r['arrivals']} arrivals at "
        f"{r['rate']:g}/s, loopback, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(
        "load average (1 min) at start {:.1f}, after the check-ins {:.1f}: other work on "
        "this machine skews the figures".format(*r["loadavg"])
    )
    print(f"each arrival should reach {per} sockets (every reception socket + its host's sockets)")
    print(
        f"sockets connected   {r['connected']}/{r['sockets']} in {r['connect_s']:.1f}s"
        + (f"; dropped during the run: {r['dropped']}" if r["dropped"] else "")
        + (f"; reception sockets in wrong rooms: {r['wrong_room']}" if r["wrong_room"] else "")
    )
    print(
        f"check-ins           {r['checked_in']}/{r['arrivals']} (201) in {r['load_s']:.1f}s; "
        f"request p50 {fmt(r['req_p50'])} ms, p99 {fmt(r['req_p99'])} ms"
    )
    for s in r["non_201"]:
        print(f"  non-201: visit {s['id']} -> {s.get('status')}: {s.get('error', '')[:120]}")
    print(
        f"deliveries          expected {r['expected']}, received {r['received']}, "
        f"missing {r['missing']}, duplicates {r['duplicates']}, "
        f"misdelivered {r['misdelivered']}"
    )
    print(
        f"delivery latency    p50 {fmt(r['lat_p50'])} ms, p99 {fmt(r['lat_p99'])} ms, "
        f"max {fmt(r['lat_max'])} ms   (socket received - check-in request sent)"
    )
    print(
        f"  slowest socket per arrival: p50 {fmt(r['last_socket_p50'])} ms, "
        f"p99 {fmt(r['last_socket_p99'])} ms"
    )
    m = r["mem"]
    print(
        "server memory       "
        + ", ".join(
            f"{k}: RSS {fmt(mb(v.get('VmRSS')), '.0f')} MB, {v.get('Threads', '?')} threads"
            for k, v in m.items()
        )
    )
    hwm = mb(m["end"].get("VmHWM"))
    print(
        f"  peak (VmHWM) {fmt(hwm, '.0f')} MB, now (VmRSS) "
        f"{fmt(mb(m['end'].get('VmRSS')), '.0f')} MB  (pid {r['server_pid']})"
    )
    print()
    p99 = r["lat_p99"]
    complete = (
        r["connected"] == r["sockets"]
        and r["missing"] == 0
        and r["duplicates"] == 0
        and r["misdelivered"] == 0
        and r["checked_in"] == r["arrivals"]
    )
    print(
        f"every socket gets its arrivals exactly once, no other host's     "
        f"{'PASS' if complete else 'FAIL'}"
    )
    print(
        f"delivery p99 {fmt(p99)} ms  (target <= {TARGET_P99_MS:.0f} ms)"
        f"{' ' * 18}{'PASS' if p99 is not None and p99 <= TARGET_P99_MS else 'FAIL'}"
    )
    print(
        f"server peak memory {fmt(hwm, '.0f')} MB  (target <= {TARGET_PEAK_MB:.0f} MB)"
        f"{' ' * 14}{'PASS' if hwm is not None and hwm <= TARGET_PEAK_MB else 'FAIL'}"
    )


def _interrupt(*_):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description="Socket.IO fan-out benchmark for Lobby.")
    parser.add_argument("--sockets", type=int, default=500, help="dashboard sockets (500)")
    parser.add_argument("--arrivals", type=int, default=100, help="check-ins (100)")
    parser.add_argument(
        "--reception-sockets",
        type=int,
        default=None,
        help="of the sockets, how many are reception (default: a fifth)",
    )
    parser.add_argument("--hosts", type=int, default=50, help="host users (50)")
    parser.add_argument("--rate", type=float, default=10.0, help="check-ins per second (10)")
    parser.add_argument("--workers", type=int, default=4, help="client processes (4)")
    parser.add_argument(
        "--connect-concurrency",
        type=int,
        default=8,
        help="sockets connecting at once, over all workers (8)",
    )
    parser.add_argument(
        "--cli-parallel",
        type=int,
        default=3,
        help="lobby CLI commands at once while creating users (3)",
    )
    parser.add_argument(
        "--no-print-worker",
        action="store_true",
        help="diagnosis: run Lobby with LOBBY_PRINT_WORKER=0 (no badge rendering)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy record the server during the check-ins (raw format)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server log)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.reception_sockets is None:
        args.reception_sockets = args.sockets // 5
    if (
        args.sockets < 1
        or args.arrivals < 1
        or args.hosts < 1
        or args.rate <= 0
        or args.workers < 1
        or not 0 <= args.reception_sockets <= args.sockets
    ):
        parser.error(
            "--sockets, --arrivals, --hosts, --workers must be >= 1, --rate > 0, "
            "0 <= --reception-sockets <= --sockets"
        )

    signal.signal(signal.SIGTERM, _interrupt)
    servers, workers = Servers(), Workers()
    tmp = Path(tempfile.mkdtemp(prefix="lobby-fanout-"))
    try:
        result = run(args, tmp, servers, workers)
        report(result)
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {k: v for k, v in result.items() if k != "log_tail"}, indent=2, default=str
                )
            )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        workers.stop_all()
        servers.stop_all()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
