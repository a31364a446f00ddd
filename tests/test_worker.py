"""``lobby worker`` processes on PostgreSQL: several at once send each badge once, a
worker killed mid-job leaves that job failed (never done) once its lease has run
out, and SIGTERM stops a worker after its current job. The printer is a loopback
TCP printer in this process; the workers are real ``lobby worker`` subprocesses."""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import zxingcpp
from flask.ctx import AppContext

from printers.raster import decode_raster
from server import create_app
from server.extensions import db
from server.models import PrintJob, Visit, WorkerHeartbeat
from server.services import checkin, people, printing, visits
from server.services.tx import write
from tests.loopback_printer import LoopbackPrinter

LOBBY = str(Path(sys.executable).with_name("lobby"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
pytestmark = pytest.mark.postgres


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(sql)


def _url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A database migrated once by ``lobby db upgrade``: each test copies it."""
    name = "lobby_worker_tpl_" + secrets.token_hex(4)
    _admin(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp_path_factory.mktemp("tpl")),
        "LOBBY_DATABASE_URL": _url(name),
    }
    try:
        done = subprocess.run(
            [LOBBY, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Site:
    """A throw-away PostgreSQL database, an app on it in this process (to queue
    badges and read jobs) and ``lobby worker`` processes on it."""

    def __init__(self, tmp_path: Path, url: str, printer_url: str, **env):
        self.tmp_path, self.url = tmp_path, url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LOBBY_")}
        self.env.update(
            {
                "LOBBY_DATA_DIR": str(tmp_path),
                "LOBBY_DATABASE_URL": url,
                "LOBBY_SECRET_KEY": "worker-test",
                "LOBBY_DEFAULT_PRINTER": printer_url,
                "LOBBY_PRINT_PACING_SECONDS": "0",
                **env,
            }
        )
        self.app = create_app(
            {
                "TESTING": True,
                "DATA_DIR": tmp_path,
                "PRINT_WORKER": False,
                "SQLALCHEMY_DATABASE_URI": url,
                "DEFAULT_PRINTER": printer_url,
                "SECRET_KEY": "worker-test",
                "MESSAGE_QUEUE": None,
            }
        )
        self.workers: list[subprocess.Popen] = []

    def start_worker(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.tmp_path / f"{name}.log", "w") as log:  # the child keeps its copy
            proc = subprocess.Popen(
                [LOBBY, "worker", "--name", name, "--interval", "0.2", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as in a terminal
            )
        self.workers.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def wait_for(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            db.session.rollback()  # a fresh snapshot each look
            if value := predicate():
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")

    def heartbeats(self) -> set[str]:
        return set(db.session.scalars(db.select(WorkerHeartbeat.name)))

    def queue_badges(self, n: int, at_once: bool = False) -> list[str]:
        """Queue ``n`` badges; returns their visitors' codes. One by one, each through a
        check-in; ``at_once``: one group of ``n`` visitors whose badges are queued in
        one transaction (every worker then finds all of them waiting)."""
        people.create_user("grace@example.com", "Grace Hopper", ["host"], "pw-grace-123")
        if not at_once:
            codes = []
            for i in range(n):
                visit = visits.pre_register(
                    {"name": f"Guest {i}", "company": "Acme"},
                    "grace@example.com",
                    None,
                    "Badge run",
                )
                checkin.check_in(visit.code)
                codes.append(visit.code)
            return codes
        group = visits.pre_register_group(
            [{"name": f"Guest {i}", "company": "Acme"} for i in range(n)],
            "grace@example.com",
            None,
            "Badge run",
        )
        ids = [v.id for v in group.visits]
        with write() as tx:
            party = [tx.get(Visit, i) for i in ids]
            for visit in party:
                printing.enqueue(tx, visit, None, self.app.config["DEFAULT_PRINTER"])
            return [visit.code for visit in party]

    def jobs(self) -> list[PrintJob]:
        db.session.rollback()
        return list(db.session.scalars(db.select(PrintJob).order_by(PrintJob.id)))

    def close(self):
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def site_for(tmp_path, migrated):
    """``site_for(printer, **env)``: a Site on a fresh copy of the migrated database."""
    name = "lobby_worker_" + secrets.token_hex(4)
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{migrated}"')
    sites: list[tuple[Site, AppContext]] = []

    def make(printer: LoopbackPrinter, **env) -> Site:
        site = Site(tmp_path, _url(name), printer.url, **env)
        ctx = site.app.app_context()
        sites.append((site, ctx))
        ctx.push()
        return site

    yield make
    for site, ctx in sites:
        site.close()
        ctx.pop()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_workers_print_200_badges_each_exactly_once(site_for):
    with LoopbackPrinter(answer_status=True) as printer:
        site = site_for(printer)
        a, b = site.start_worker("worker-a"), site.start_worker("worker-b")
        site.wait_for(lambda: site.heartbeats() == {"worker-a", "worker-b"}, 30, "both workers")
        codes = site.queue_badges(200, at_once=True)
        printer.wait_for_jobs(200, timeout=60)
        time.sleep(0.5)  # a badge sent twice would arrive meanwhile
        raws = list(printer.jobs)
        assert len(raws) == 200, (len(raws), site.log("worker-a")[-2000:])
        assert len(set(raws)) == 200  # 200 different badges: none twice, so none lost
        for raw in raws[::50]:  # a few decoded (all 200 would cost seconds of CPU)
            [image] = decode_raster(raw)
            assert zxingcpp.read_barcodes(image.convert("L"))[0].text in codes
        jobs = site.jobs()
        assert [j.status for j in jobs] == ["done"] * 200
        taken = {name: sum(j.leased_by == name for j in jobs) for name in ("worker-a", "worker-b")}
        assert all(taken.values()), taken  # both workers took some
        for proc in (a, b):
            proc.send_signal(signal.SIGTERM)
        assert [a.wait(15), b.wait(15)] == [0, 0]
        assert "print job" in site.log("worker-a") + site.log("worker-b")


def test_worker_killed_mid_job_leaves_it_failed_after_its_lease_never_done(site_for):
    # the printer takes 8 s to answer after a job: the job is in flight that long
    with LoopbackPrinter(answer_status=True, job_answer_delay=8) as printer:
        site = site_for(printer, LOBBY_PRINTER_TIMEOUT="12")
        a = site.start_worker("worker-a", "--lease", "2")
        site.wait_for(lambda: "worker-a" in site.heartbeats(), 30, "worker a")
        site.queue_badges(1)
        site.wait_for(lambda: site.jobs()[0].status == "sending", 10, "the job in flight")
        b = site.start_worker("worker-b", "--lease", "2")
        site.wait_for(lambda: "worker-b" in site.heartbeats(), 30, "worker b")
        time.sleep(2.5)  # past a's first lease: a renews it, b leaves a live worker's job alone
        [job] = site.jobs()
        assert (job.status, job.leased_by) == ("sending", "worker-a")
        a.send_signal(signal.SIGKILL)
        a.wait(5)
        job = site.wait_for(
            lambda: next((j for j in site.jobs() if j.status != "sending"), None),
            10,
            "the dead worker's job to be dealt with",
        )
        assert job.status == "failed" and "died mid-job" in job.error, (job.status, job.error)
        assert "worker-a" in job.error
        time.sleep(1)  # b never sends it again on its own
        assert [j.status for j in site.jobs()] == ["failed"]
        assert len(printer.jobs) + len(printer.dropped) <= 1
        b.send_signal(signal.SIGTERM)
        assert b.wait(15) == 0


@pytest.mark.parametrize("how", ["SIGTERM to the worker", "Ctrl-C to its process group"])
def test_sigterm_or_ctrl_c_stop_a_worker_after_its_current_job(site_for, how):
    with LoopbackPrinter(answer_status=True, job_answer_delay=1.5) as printer:
        site = site_for(printer, LOBBY_PRINTER_TIMEOUT="5")
        worker = site.start_worker("worker-a")
        site.wait_for(lambda: "worker-a" in site.heartbeats(), 30, "the worker")
        site.queue_badges(3)
        site.wait_for(
            lambda: any(j.status == "sending" for j in site.jobs()), 10, "a job in flight"
        )
        if how.startswith("SIGTERM"):
            worker.send_signal(signal.SIGTERM)
        else:  # the badge process gets it too, and must finish the badge
            os.killpg(worker.pid, signal.SIGINT)
        assert worker.wait(15) == 0, site.log("worker-a")
        statuses = [j.status for j in site.jobs()]
        assert "sending" not in statuses
        assert statuses.count("done") == 1 and statuses.count("queued") == 2, (
            [(j.status, j.error) for j in site.jobs()],
            site.log("worker-a"),
        )
        assert site.heartbeats() == set()  # a clean stop takes its heartbeat row away
        assert "stopping after the current job" in site.log("worker-a")


def test_a_badge_queued_by_another_process_wakes_the_worker_at_once(site_for):
    """PostgreSQL NOTIFY: the worker polls only every 30 s here, yet the badge of a
    check-in made in this process (a web process without a worker) prints at once."""
    with LoopbackPrinter(answer_status=True) as printer:
        site = site_for(printer)
        site.start_worker("worker-a", "--interval", "30")
        site.wait_for(lambda: "worker-a" in site.heartbeats(), 30, "the worker")
        time.sleep(1)  # its LISTEN is on by now
        people.create_user("grace@example.com", "Grace Hopper", ["host"], "pw-grace-123")
        times = []
        for n in range(1, 6):
            code = visits.pre_register({"name": f"Guest {n}"}, "grace@example.com").code
            started = time.monotonic()
            checkin.check_in(code)
            assert len(printer.wait_for_jobs(n, timeout=10)) == n
            times.append(time.monotonic() - started)
        print(f"scan to a whole badge at the printer, woken by NOTIFY: {times}")
        assert max(times) < 5, times  # a poll would have taken up to 30 s
