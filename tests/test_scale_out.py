"""The grown-up deployment: two server processes on PostgreSQL, Socket.IO fanned out
through Redis. A host connected to one process hears a check-in made on the other."""

import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
import socketio

from tests.conftest import free_port

LOBBY = str(Path(sys.executable).with_name("lobby"))
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def grown_env(tmp_path):
    name = "lobby_scale_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp_path),
        "LOBBY_SECRET_KEY": "shared-between-processes",
        "LOBBY_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        "LOBBY_MESSAGE_QUEUE": "redis://127.0.0.1:6379/0",
        "LOBBY_MESSAGE_QUEUE_CHANNEL": name,
        "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp_path / 'badges'}",
    }
    yield env
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(env, *args):
    proc = subprocess.run([LOBBY, *args], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def start_server(env):
    port = free_port()
    proc = subprocess.Popen(
        [LOBBY, "run", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not start")


@pytest.mark.postgres
def test_arrival_on_one_process_reaches_a_host_on_another(grown_env):
    run(grown_env, "user", "add", "grace@example.com", "--name", "Grace Hopper", "--role", "host")
    run(grown_env, "user", "add", "desk@example.com", "--name", "Desk", "--role", "receptionist")
    host_token = run(grown_env, "token", "create", "grace@example.com")
    desk_token = run(grown_env, "token", "create", "desk@example.com")
    a, url_a = start_server(grown_env)
    b, url_b = start_server(grown_env)
    client = socketio.Client()
    try:
        got = threading.Event()
        seen = []

        @client.on("visitor_arrived")
        def arrived(data):
            seen.append(data)
            got.set()

        client.connect(url_a, auth={"token": host_token}, transports=["websocket"])
        h = {"Authorization": f"Bearer {desk_token}"}
        visit = requests.post(
            url_b + "/api/v1/visits",
            headers=h,
            json={"visitor": {"name": "张伟", "company": "华为"}, "host": "grace@example.com"},
        ).json()
        resp = requests.post(url_b + "/api/v1/checkins", headers=h, json={"code": visit["code"]})
        assert resp.status_code == 201
        assert got.wait(5), "the arrival did not cross processes"
        assert seen[0]["visitor"] == {"name": "张伟", "company": "华为"}
        assert seen[0]["visit_id"] == visit["id"]
    finally:
        client.disconnect()
        for proc in (a, b):
            proc.terminate()
            proc.wait(10)
