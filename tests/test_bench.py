"""bench/checkin.py and its floor (bench/floor_app.py) keep working: the floor checks
in and alerts, and the benchmark runs both targets end to end on a tiny load (paced,
burst, time to paper) and reports every target with PASS or MISS."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def floor_module():
    spec = importlib.util.spec_from_file_location("floor_app", BENCH / "floor_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_floor_checks_in_and_alerts_its_host(tmp_path):
    app, socketio = floor_module().create_app(str(tmp_path / "floor.db"), "s3cret")
    assert not socketio.test_client(app, auth={"token": "wrong"}).is_connected()
    host = socketio.test_client(app, auth={"token": "s3cret"})
    assert host.is_connected()
    http = app.test_client()

    first = http.post("/checkins", json={"code": "abc"})
    second = http.post("/checkins", json={"code": "def"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json["id"] == first.json["id"] + 1
    alerts = [m["args"][0] for m in host.get_received() if m["name"] == "visitor_arrived"]
    assert [a["visit_id"] for a in alerts] == [first.json["id"], second.json["id"]]
    assert http.post("/checkins", json={"nope": 1}).status_code == 422


def test_checkin_bench_runs_both_targets_and_judges_every_goal(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "checkin.py"),
            "--visits",
            "24",
            "--kiosks",
            "3",
            "--rounds",
            "1",
            "--paced-visits",
            "6",
            "--paced-rate",
            "20",
            "--no-stack",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for label in (
        "burst throughput",
        "paced alert p50",
        "paced alert p99",
        "burst alert p99",
        "alerts missing:",
    ):
        [line] = [x for x in done.stdout.splitlines() if x.startswith(label)]
        assert line.endswith(("PASS", "MISS")), line
    assert "time to paper (paced" in done.stdout
    assert (
        "stack (PostgreSQL + Redis, 2 web + 1 worker behind nginx): not measured "
        "(--no-stack)" in done.stdout
    )
    figures = json.loads(out.read_text())
    (round1,) = figures["rounds"]
    for name in ("lobby", "floor"):
        assert round1[name]["burst"]["ok"] == 24 and round1[name]["paced"]["ok"] == 6
        assert round1[name]["burst"]["throughput"] > 0
    assert figures["missing"] == {"lobby": 0, "floor": 0}  # every alert reached the host
    assert figures["paper"]["n"] + figures["paper"]["missing"] == 6
    assert figures["paper"]["n"] == 0 or figures["paper"]["p50"] > 0
    assert figures["render"]["p50"] > 0
    ratio = figures["median_ratios"]["throughput"]
    assert ratio == pytest.approx(
        round1["lobby"]["burst"]["throughput"] / round1["floor"]["burst"]["throughput"]
    )
