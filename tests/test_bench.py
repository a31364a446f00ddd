"""bench/checkin.py and its floor (bench/floor_app.py) keep working: the floor's two
ways of queueing writers each check in and alert, and the benchmark runs every target
end to end on a tiny load and writes the figures it reports."""
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


@pytest.mark.parametrize("writers", ["queued", "busy"])
def test_floor_checks_in_and_alerts_its_host(tmp_path, writers):
    app, socketio = floor_module().create_app(str(tmp_path / "floor.db"), "s3cret", writers)
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


def test_floor_refuses_an_unknown_way_of_queueing(tmp_path):
    with pytest.raises(ValueError):
        floor_module().create_app(str(tmp_path / "floor.db"), "s3cret", "fifo")


def test_checkin_bench_runs_every_target_and_reports(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [sys.executable, str(BENCH / "checkin.py"), "--visits", "24", "--kiosks", "3",
         "--rounds", "1", "--paced-visits", "6", "--json", str(out)],
        capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    for line in ("throughput  Lobby/floor median", "alert p50   Lobby/floor median",
                 "alerts missing: lobby 0, floor 0, floor-busy 0", "Lobby/floor-busy medians",
                 "paced load: 6 check-ins"):
        assert line in done.stdout, done.stdout
    figures = json.loads(out.read_text())
    (round1,) = figures["rounds"]
    for name in ("lobby", "floor", "floor-busy"):
        assert round1[name]["ok"] == 24 and round1[name]["missing"] == 0
        assert round1[name]["throughput"] > 0 and round1[name]["alert_p50"] > 0
        assert round1[name + "~"]["ok"] == 6 and round1[name + "~"]["missing"] == 0
    assert set(figures["median_ratios"]) == {"floor", "floor-busy"}
    ratio = figures["median_ratios"]["floor"]
    assert ratio["throughput"] == pytest.approx(
        round1["lobby"]["throughput"] / round1["floor"]["throughput"])
    assert ratio["alert_p50"] == pytest.approx(
        round1["lobby"]["alert_p50"] / round1["floor"]["alert_p50"])
