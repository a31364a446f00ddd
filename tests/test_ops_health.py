"""/readyz names what is not ready; /metrics speaks Prometheus to loopback or the token."""

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from server.extensions import db, socketio
from server.models import Printer, WorkerHeartbeat, utcnow
from tests.conftest import free_port

ELSEWHERE = {"REMOTE_ADDR": "203.0.113.7"}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def beat(seconds_ago: float) -> None:
    db.session.merge(
        WorkerHeartbeat(
            name="test:1", host="test", pid=1, beat_at=utcnow() - timedelta(seconds=seconds_ago)
        )
    )
    db.session.commit()


def scrape(client, **kwargs) -> dict:
    resp = client.get("/metrics", **kwargs)
    assert resp.status_code == 200, resp.data
    assert resp.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_readyz_is_503_naming_the_worker_until_one_beats(client):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {"ready": False, "checks": {"database": "ok", "worker": "none"}}
    beat(seconds_ago=90)
    body = client.get("/readyz").get_json()
    assert body["checks"]["worker"].startswith("stale") and not body["ready"]
    beat(seconds_ago=2)
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {"ready": True, "checks": {"database": "ok", "worker": "ok"}}


def test_readyz_checks_redis_only_when_a_message_queue_is_set(app, client):
    beat(seconds_ago=1)
    app.config["MESSAGE_QUEUE"] = "redis://127.0.0.1:6379/0"
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["checks"]["redis"] == "ok"
    app.config["MESSAGE_QUEUE"] = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"] == {"database": "ok", "redis": "unreachable", "worker": "ok"}


def test_healthz_still_answers_without_a_worker(client):
    assert client.get("/healthz").status_code == 200


def test_metrics_are_refused_off_loopback_without_the_token(app, client):
    resp = client.get("/metrics", environ_base=ELSEWHERE)
    assert resp.status_code == 403
    assert resp.get_json()["error"]["code"] == "forbidden"
    app.config["METRICS_TOKEN"] = "s3cret-metrics-token"
    assert client.get("/metrics", environ_base=ELSEWHERE, headers=auth("wrong")).status_code == 403
    scrape(client, environ_base=ELSEWHERE, headers=auth("s3cret-metrics-token"))


def test_metrics_count_checkins_alerts_jobs_and_printers(client, tokens, make_visit, staff):
    db.session.add_all(
        [
            Printer(name="desk", url="tcp://127.0.0.1:9", status="online"),
            Printer(name="lobby", url="tcp://127.0.0.1:9", status="offline"),
        ]
    )
    db.session.commit()
    before = scrape(client)
    visit = make_visit()
    for _ in range(2):  # the second scan is the same check-in: no second alert
        client.post(
            "/api/v1/checkins", headers=auth(tokens["reception"]), json={"code": visit.code}
        )
    after = scrape(client)
    assert after[("lobby_checkins_total", ())] == before[("lobby_checkins_total", ())] + 1
    # One alert, to two rooms: the host's and reception's.
    assert after[("lobby_alerts_sent_total", ())] == before[("lobby_alerts_sent_total", ())] + 2
    jobs = {
        labels[0][1]: value for (name, labels), value in after.items() if name == "lobby_print_jobs"
    }
    assert set(jobs) >= {"queued", "sending", "done", "failed"} and sum(jobs.values()) == 1
    assert after[("lobby_printer_up", (("printer", "desk"),))] == 1
    assert after[("lobby_printer_up", (("printer", "lobby"),))] == 0
    endpoint = [
        key
        for key in after
        if key[0] == "lobby_request_seconds_count" and ("method", "POST") in key[1]
    ]
    assert endpoint, after.keys()
    assert sum(after[key] for key in endpoint) - sum(before.get(key, 0) for key in endpoint) == 2


def test_metrics_count_the_sockets_connected_to_this_process(app, tokens):
    def sockets():
        return scrape(app.test_client())[("lobby_sockets", ())]

    start = sockets()
    first = socketio.test_client(app, auth={"token": tokens["host"]})
    second = socketio.test_client(app, auth={"token": tokens["reception"]})
    refused = socketio.test_client(app, auth={"token": "nope"})
    assert first.is_connected() and second.is_connected() and not refused.is_connected()
    assert sockets() == start + 2
    first.disconnect()
    assert sockets() == start + 1
    second.disconnect()
    assert sockets() == start
