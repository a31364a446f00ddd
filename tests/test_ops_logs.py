"""LOBBY_LOG_FORMAT=json: one JSON object per line, and no secret in any line."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from server.ops.logs import MARK, redact
from tests.conftest import PASSWORD, csrf_from, free_port

LOBBY = str(Path(sys.executable).with_name("lobby"))
# The app served by Werkzeug, whose request lines are the access log here.
SERVE = """
import sys
from werkzeug.serving import make_server
from server import create_app
app = create_app({"PRINT_WORKER": False})
server = make_server("127.0.0.1", int(sys.argv[1]), app, threaded=True)
print("ready", flush=True)
server.serve_forever()
"""


@pytest.mark.parametrize(
    "line,secret",
    [
        ("Authorization: Bearer lby_AbCdEf0123456789abcdefGHIJKLmnop", "lby_AbCd"),
        ("headers={'Authorization': 'Basic YWRhOnNlY3JldA=='}", "YWRhOnNlY3JldA"),
        ("POST /login email=ada@example.com&password=hunter2-hunter2", "hunter2"),
        ('{"email": "ada@example.com", "password": "hunter2-hunter2"}', "hunter2"),
        ("csrf_token=IjQ2ZTZmYjVkZTE0MDhl.ZxYz", "IjQ2ZTZmYjVk"),
        ("Cookie: session=eyJfZnJlc2giOmZhbHNlfQ.Zx; lobby_kiosk=abc", "eyJfZnJl"),
        ("Set-Cookie: remember_token=7|abcdef; HttpOnly", "7|abcdef"),
        (
            '"GET /kiosk/pair/xY_z-0123456789abcdefABCDEF0123456789abcdefg HTTP/1.1" 302',
            "xY_z-0123",
        ),
        ('"GET /kiosk/?code=Qm9vbGVhbi1jb2RlLTEyMzQ1Njc4OTBh HTTP/1.1" 200', "Qm9vbGVh"),
        ('"GET /i/Qm9vbGVhbi1jb2RlLTEyMzQ1Njc4OTBh HTTP/1.1" 404', "Qm9vbGVh"),
    ],
)
def test_redact_blanks_every_kind_of_secret(line, secret):
    assert secret in line
    clean = redact(line)
    assert secret not in clean and MARK in clean


def test_redact_keeps_ordinary_text():
    line = '127.0.0.1 - - "GET /api/v1/visits/42 HTTP/1.1" 200 test_browser_kiosk_scan_anywhere'
    assert redact(line) == line


@pytest.fixture
def served(tmp_path):
    env = {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp_path),
        "LOBBY_LOG_FORMAT": "json",
        "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp_path / 'badges'}",
    }
    for name in ("LOBBY_DATABASE_URL", "LOBBY_MESSAGE_QUEUE"):
        env.pop(name, None)

    def lobby(*args):
        out = subprocess.run([LOBBY, *args], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().splitlines()[-1]

    lobby(
        "user",
        "add",
        "grace@example.com",
        "--name",
        "Grace",
        "--role",
        "host",
        "--role",
        "receptionist",
        "--password",
        PASSWORD,
    )
    secrets = {
        "token": lobby("token", "create", "grace@example.com"),
        "pairing": lobby("kiosk", "add", "Front door").rsplit("/", 1)[-1],
        "password": PASSWORD,
    }
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    yield f"http://127.0.0.1:{port}", secrets, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_json_log_lines_carry_no_token_password_cookie_or_code(served):
    url, secrets, proc = served
    bearer = {"Authorization": f"Bearer {secrets['token']}"}
    made = requests.post(
        url + "/api/v1/visits",
        headers=bearer,
        timeout=10,
        json={
            "visitor": {"name": "Ada Lovelace", "company": "Engines"},
            "host": "grace@example.com",
            "expected_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 60)),
            "purpose": "review",
        },
    ).json()
    secrets["code"] = made["code"]
    requests.get(f"{url}/api/v1/visits/{made['id']}", headers=bearer, timeout=10)
    staff = requests.Session()
    csrf = csrf_from(staff.get(url + "/login", timeout=10).text)
    secrets["csrf"] = csrf
    signed_in = staff.post(
        url + "/login",
        timeout=10,
        data={"email": "grace@example.com", "password": PASSWORD, "csrf_token": csrf},
    )
    assert signed_in.ok and staff.cookies.get("session")
    secrets["session"] = staff.cookies["session"]
    kiosk = requests.Session()
    assert kiosk.get(f"{url}/kiosk/pair/{secrets['pairing']}", timeout=10).ok
    kiosk.get(f"{url}/kiosk/?code={made['code']}", timeout=10)
    requests.get(f"{url}/i/{made['code']}", timeout=10)  # a code in a path (a 404 here)
    checked = requests.post(
        url + "/api/v1/checkins", headers=bearer, timeout=10, json={"code": made["code"]}
    )
    assert checked.status_code == 201
    time.sleep(0.3)
    proc.terminate()
    _, err = proc.communicate(timeout=10)

    lines = [line for line in err.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(re.search(r"GET /kiosk/pair/", r["message"]) for r in records)
    assert any("/api/v1/checkins" in r["message"] for r in records)
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    for name, secret in secrets.items():
        assert secret not in err, name
