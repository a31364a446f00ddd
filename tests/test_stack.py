"""The scale-out stack of deploy/ running for real on loopback (tests/stack.py): nginx
with TLS in front of two `lobby run --no-worker` processes, one `lobby worker`,
PostgreSQL and a Redis of our own. One test walks an operator's bad morning: a check-in
through nginx, the web process holding the host's dashboard restarted, Redis restarted;
the dashboard (as static/js/live.js does it) ends with every event once."""

import threading
import time

import pytest
import socketio

from tests.loopback_printer import LoopbackPrinter
from tests.stack import UPSTREAM_HEADER, Stack

pytestmark = [pytest.mark.stack, pytest.mark.postgres]


class Dashboard:
    """A host's live dashboard as live.js keeps it: on every (re)connect it replays
    what came after the last seq it knows; each seq is applied once. ``upstreams``: the
    process that answered each handshake."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.stack, self.token = stack, token
        self.last = 0
        self.applied: dict[int, dict] = {}
        self.deliveries: list[tuple[int, bool]] = []  # (seq, during a replay)
        self.replaying = 0
        self.connected = threading.Event()
        self.dropped = threading.Event()
        self.lock = threading.Lock()
        http = stack.session()
        self.upstreams: list[str] = []
        http.hooks["response"].append(self._handshake)
        self.client = socketio.Client(
            http_session=http,
            reconnection_delay=2,
            reconnection_delay_max=2,
            randomization_factor=0,
        )
        self.client.on("connect", self._connected)
        self.client.on("disconnect", self._disconnected)
        self.client.on("*", self._event)  # every kind a host's room may hear

    def _handshake(self, resp, *args, **kwargs):
        if "sid" in resp.text[:200] and UPSTREAM_HEADER in resp.headers:
            self.upstreams.append(resp.headers[UPSTREAM_HEADER])

    def _disconnected(self, reason=None):
        self.connected.clear()
        self.dropped.set()
        if reason == socketio.Client.reason.SERVER_DISCONNECT:
            # A server closing gracefully says goodbye; Socket.IO then does not
            # reconnect by itself, so the dashboard does (as live.js does).
            threading.Timer(1.0, self._reconnect).start()

    def _reconnect(self):
        for _ in range(30):
            try:
                self.client.connect(self.stack.url, auth={"token": self.token}, wait_timeout=10)
                return
            except socketio.exceptions.ConnectionError:
                time.sleep(0.5)

    def _connected(self):
        # A fresh database: the dashboard starts at 0. Off the connect handler's thread,
        # as the call waits for the server's answer.
        threading.Thread(target=self._replay, args=(self.last or 0,), daemon=True).start()

    def _replay(self, since):
        with self.lock:
            self.replaying += 1
        ack = self.client.call("replay", {"since": since}, timeout=10)
        with self.lock:
            self.replaying -= 1
            self.last = max(self.last or 0, ack["last_seq"])
        self.connected.set()

    def _event(self, kind, data):
        if not isinstance(data, dict) or "seq" not in data:
            return
        with self.lock:
            self.deliveries.append((data["seq"], self.replaying > 0))
            self.applied.setdefault(data["seq"], data)
            self.last = max(self.last or 0, data["seq"])

    def connect(self):
        self.client.connect(self.stack.url, auth={"token": self.token}, wait_timeout=10)
        assert self.connected.wait(10)

    def arrivals(self) -> set[int]:
        with self.lock:
            return {e["visit_id"] for e in self.applied.values() if "arrived_at" in e}

    def wait_arrivals(self, visit_ids, timeout=10) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if set(visit_ids) <= self.arrivals():
                return True
            time.sleep(0.05)
        return False


def test_checkin_through_nginx_survives_a_web_restart_and_a_redis_restart(tmp_path):
    with LoopbackPrinter(answer_status=True) as printer, Stack(tmp_path) as stack:
        stack.lobby("user", "add", "grace@example.com", "--name", "Grace Hopper", "--role", "host")
        stack.lobby("user", "add", "desk@example.com", "--name", "Desk", "--role", "admin")
        host_token = stack.lobby("token", "create", "grace@example.com")
        desk_token = stack.lobby("token", "create", "desk@example.com")
        stack.lobby("printer", "add", "hall", printer.url)
        stack.lobby("kiosk", "add", "hall-kiosk", "--printer", "hall")

        dashboard = Dashboard(stack, host_token)
        dashboard.connect()
        b = dashboard.upstreams[-1]  # the process holding the host's socket
        a = next(up for i in range(2) if (up := stack.upstream(i)) != b)
        kiosk = stack.session_to(a)  # nginx's ip_hash sends this address to the other one
        kiosk.headers["Authorization"] = f"Bearer {desk_token}"

        def visit_and_check_in(name):
            visit = kiosk.post(
                stack.url + "/api/v1/visits",
                json={"visitor": {"name": name, "company": "华为"}, "host": "grace@example.com"},
            )
            assert visit.status_code == 201, visit.text
            resp = kiosk.post(
                stack.url + "/api/v1/checkins",
                json={"code": visit.json()["code"], "kiosk": "hall-kiosk"},
            )
            assert resp.status_code == 201, resp.text
            assert resp.headers[UPSTREAM_HEADER] == a  # served by process A, not B
            return visit.json()["id"]

        # 1. Served by A, heard on B's socket; one badge at the kiosk's printer.
        first = visit_and_check_in("张伟")
        assert dashboard.wait_arrivals([first], 5), "the arrival did not reach B's socket"
        assert [
            e
            for e in dashboard.applied.values()
            if e.get("visit_id") == first and "arrived_at" in e
        ][0]["kiosk"] == "hall-kiosk"
        assert len(printer.wait_for_jobs(1, timeout=10)) == 1
        assert (
            kiosk.post(
                stack.url + "/api/v1/checkins",
                json={
                    "code": kiosk.get(stack.url + f"/api/v1/visits/{first}").json()["code"],
                    "kiosk": "hall-kiosk",
                },
            ).status_code
            == 200
        )  # a second scan: no second badge

        # 2. B restarts: arrivals while the dashboard is away come back by replay.
        web_b = stack.web_ports.index(int(b.rsplit(":", 1)[1]))
        stack.webs[web_b].send(15)  # SIGTERM: graceful, its sockets close
        assert dashboard.dropped.wait(15), "B's socket was not closed"
        while_away = [visit_and_check_in(f"Away {i}") for i in range(2)]
        stack.webs[web_b].stop()
        stack.start_web(web_b)
        assert dashboard.wait_arrivals(while_away, 15), "missed arrivals were not replayed"
        assert len(dashboard.upstreams) >= 2  # reconnected through nginx

        # 3. Redis restarts (our own): an arrival during the outage is in the log.
        dashboard.dropped.clear()
        stack.redis.stop()
        during = visit_and_check_in("During Outage")
        stack.start_redis()
        after = visit_and_check_in("After Outage")
        heard = dashboard.wait_arrivals([during, after], 15)
        assert heard, f"lost in the Redis outage: {[during, after]} not in {dashboard.arrivals()}"

        # Every event addressed to the host, each applied once; no live double.
        expected = stack.events_for(f"host:{dashboard_host_id(dashboard)}")
        assert sorted(dashboard.applied) == expected
        live = [seq for seq, replayed in dashboard.deliveries if not replayed]
        assert len(live) == len(set(live)), "an event was delivered live twice"
        assert any(replayed for _, replayed in dashboard.deliveries), "replay never used"
        # Every check-in printed exactly once.
        assert len(printer.wait_for_jobs(5, timeout=15)) == 5
        time.sleep(1)
        assert len(printer.jobs) == 5
        dashboard.client.disconnect()


def dashboard_host_id(dashboard: Dashboard) -> int:
    return next(e["host"]["id"] for e in dashboard.applied.values() if "host" in e)
