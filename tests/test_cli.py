"""The `lobby` command as an operator runs it: real processes, real database file."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from server import create_app
from server.extensions import db
from tests.conftest import IsolatedClient, free_port, login

LOBBY = str(Path(sys.executable).with_name("lobby"))


@pytest.fixture
def env(tmp_path):
    return {
        **os.environ,
        "LOBBY_DATA_DIR": str(tmp_path / "data"),
        "LOBBY_DEFAULT_PRINTER": f"emulator://{tmp_path / 'badges'}",
    }


def lobby(env, *args, ok=True):
    proc = subprocess.run([LOBBY, *args], env=env, capture_output=True, text=True, timeout=60)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_user_token_printer_kiosk_commands(env):
    out = lobby(
        env,
        "user",
        "add",
        "grace@example.com",
        "--name",
        "Grace Hopper",
        "--role",
        "host",
        "--role",
        "receptionist",
        "--password",
        "pw-123456",
    ).stdout
    assert "added grace@example.com" in out
    token = lobby(env, "token", "create", "grace@example.com").stdout.strip().splitlines()[-1]
    assert token.startswith("lby_") and len(token) > 40
    lobby(env, "printer", "add", "Desk", "tcp://127.0.0.1:9100")
    path = lobby(env, "kiosk", "add", "Front", "--printer", "Desk").stdout.strip().splitlines()[-1]
    assert path.startswith("/kiosk/pair/") and len(path) > 40


def test_token_can_be_listed_and_revoked(env):
    lobby(env, "user", "add", "desk@example.com", "--name", "Desk", "--role", "receptionist")
    token = (
        lobby(env, "token", "create", "desk@example.com", "--name", "kiosk-script")
        .stdout.strip()
        .splitlines()[-1]
    )
    listed = lobby(env, "token", "list", "desk@example.com").stdout
    token_id = listed.split("\t")[0]
    assert "active" in listed and "kiosk-script" in listed and token not in listed
    lobby(env, "token", "revoke", token_id)
    assert "revoked" in lobby(env, "token", "list", "desk@example.com").stdout
    assert lobby(env, "token", "revoke", "999", ok=False).returncode == 1


def test_generated_password_is_printed_once(env):
    out = lobby(env, "user", "add", "ada@example.com", "--name", "Ada", "--role", "admin").stdout
    assert out.splitlines()[-1].startswith("password: ")


@pytest.mark.parametrize(
    "args,needle",
    [
        (["user", "add", "not-an-email", "--name", "X", "--role", "host"], "not an email"),
        (["user", "add", "x@example.com", "--name", "X", "--role", "wizard"], "wizard"),
        (["user", "add", "x@example.com", "--role", "host"], "--name"),
        (["token", "create", "nobody@example.com"], "no user"),
        (["printer", "add", "P", "gopher://printer"], "printer URL"),
        (["kiosk", "add", "K", "--printer", "missing"], "no printer named missing"),
        (["kiosk", "revoke", "missing"], "no kiosk named missing"),
        (["frobnicate"], "No such command"),
        (["run", "--port", "99999"], "99999"),
    ],
)
def test_bad_arguments_exit_nonzero_with_one_line(env, args, needle):
    proc = lobby(env, *args, ok=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert needle.lower() in lines[0].lower()
    assert "Traceback" not in proc.stderr + proc.stdout


def test_duplicate_user_is_refused(env):
    lobby(env, "user", "add", "a@example.com", "--name", "A", "--role", "host")
    proc = lobby(env, "user", "add", "a@example.com", "--name", "A", "--role", "host", ok=False)
    assert proc.returncode == 1 and "exists" in proc.stderr


def test_printer_emulate_saves_each_job_as_png(env, tmp_path):
    from printers.badge import Badge, render_badge
    from printers.connection import print_badge

    port = free_port()
    out = tmp_path / "emu"
    proc = subprocess.Popen(
        [LOBBY, "printer", "emulate", "--port", str(port), "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.time() + 10
        while True:
            try:
                print_badge(f"tcp://127.0.0.1:{port}", render_badge(Badge("Ada", code="x" * 20)))
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        deadline = time.time() + 10
        while not list(out.glob("*.png")) and time.time() < deadline:
            time.sleep(0.1)
        assert len(list(out.glob("*.png"))) == 1
    finally:
        proc.terminate()
        proc.wait(10)


def test_run_demo_serves_and_prints_logins(env, tmp_path):
    port = free_port()
    proc = subprocess.Popen(
        [LOBBY, "run", "--demo", "--port", str(port)],
        env={**env, "LOBBY_ACCESS_LOG": "-"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        while not any(line.startswith("Today's demo visitors") for line in lines):
            line = proc.stdout.readline()
            assert line, "lobby run exited early:\n" + "".join(lines)
            lines.append(line)
        lines += [proc.stdout.readline() for _ in range(3)]  # the three visitors' codes
        text = "".join(lines)
        assert "/kiosk/pair/" in text and "admin@lobby.local" in text and "demo-host" in text
        deadline = time.time() + 10
        while True:
            try:
                assert (
                    requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                )
                break
            except requests.ConnectionError:
                assert time.time() < deadline
                time.sleep(0.2)
        # the demo logins work
        web = requests.Session()
        page = web.get(f"http://127.0.0.1:{port}/login").text
        from tests.conftest import csrf_from

        resp = web.post(
            f"http://127.0.0.1:{port}/login",
            data={
                "email": "grace@lobby.local",
                "password": "demo-host",
                "csrf_token": csrf_from(page),
            },
        )
        assert resp.url.endswith("/host/") and "Ada Lovelace" in resp.text
        # the demo kiosk greets with the company's name and asks for the site rules
        pair = next(line.split()[-1] for line in lines if "/kiosk/pair/" in line)
        code = next(line.split()[-1] for line in lines if "Ada Lovelace" in line)
        kiosk = requests.Session()
        start = kiosk.get(f"http://127.0.0.1:{port}{pair[pair.index('/kiosk/pair/') :]}").text
        assert "Analytical Engines Ltd." in start
        step = kiosk.post(
            f"http://127.0.0.1:{port}/kiosk/scan",
            headers={"HX-Request": "true"},
            data={"code": code, "csrf_token": csrf_from(start)},
        ).text
        assert 'data-screen="rules"' in step and "Site rules for visitors" in step
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=10)
    # asked for, gunicorn's access log has a line for every request
    assert '"GET /healthz HTTP/1.1" 200' in rest and '"POST /kiosk/scan HTTP/1.1" 200' in rest


def test_upgrade_keeps_rows_across_runs(env):
    lobby(env, "user", "add", "keep@example.com", "--name", "Keep Me", "--role", "host")
    lobby(env, "db", "upgrade")
    out = lobby(env, "token", "create", "keep@example.com").stdout
    assert out.strip().splitlines()[-1].startswith("lby_")


def test_printer_list_status_and_test_against_a_real_loopback_printer(env):
    from tests.loopback_printer import LoopbackPrinter

    with LoopbackPrinter(answer_status=True) as desk:
        lobby(env, "printer", "add", "Desk", desk.url)
        out = lobby(env, "printer", "status", "Desk").stdout
        assert out.strip() == "Desk: online"
        out = lobby(env, "printer", "test", "Desk").stdout
        assert "sample badge sent to Desk" in out
        [image] = [img for img in desk.images()]
        assert image.width == 576
        desk.paper_out = True
        proc = lobby(env, "printer", "status", "Desk", ok=False)
        assert proc.returncode == 1 and proc.stdout.startswith("Desk: paper_out")
        listed = lobby(env, "printer", "list").stdout
        assert listed.startswith("Desk\t" + desk.url + "\tpaper_out")


def test_printer_test_on_a_dead_printer_is_one_clear_line(env):
    lobby(env, "printer", "add", "Dead", f"tcp://127.0.0.1:{free_port()}")
    proc = lobby(env, "printer", "test", "Dead", ok=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("lobby: printer Dead: unreachable")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert (
        lobby(env, "printer", "status", "Nope", ok=False).stderr.strip()
        == "lobby: no printer named Nope"
    )


def test_emulator_acts_out_paper_out_and_is_switched_while_running(env, tmp_path):
    from printers.status import query_status

    port = free_port()
    proc = subprocess.Popen(
        [
            LOBBY,
            "printer",
            "emulate",
            "--port",
            str(port),
            "--out",
            str(tmp_path / "emu"),
            "--paper-out",
        ],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"tcp://127.0.0.1:{port}"
        deadline = time.time() + 10
        while query_status(url, timeout=1).state == "unreachable" and time.time() < deadline:
            time.sleep(0.2)
        assert query_status(url).state == "paper_out"
        proc.stdin.write("paper-ok\n")
        proc.stdin.flush()
        deadline = time.time() + 5
        while query_status(url).state != "online" and time.time() < deadline:
            time.sleep(0.1)
        assert query_status(url).state == "online"
        proc.stdin.write("cover-open\n")
        proc.stdin.flush()
        deadline = time.time() + 5
        while query_status(url).state != "cover_open" and time.time() < deadline:
            time.sleep(0.1)
        assert query_status(url).state == "cover_open"
    finally:
        proc.terminate()
        proc.wait(10)


def test_user_update_changes_only_what_is_given(env):
    lobby(
        env,
        "user",
        "add",
        "grace@example.com",
        "--name",
        "Grace",
        "--role",
        "host",
        "--department",
        "R&D",
    )
    lobby(env, "user", "add", "lee@example.com", "--name", "Lee", "--role", "host")
    out = lobby(
        env,
        "user",
        "update",
        "grace@example.com",
        "--phone",
        "+86 21 5555 0101",
        "--fallback",
        "lee@example.com",
        "--role",
        "host",
        "--role",
        "receptionist",
    ).stdout
    assert out.strip() == (
        "updated grace@example.com: Grace; roles receptionist, host; "
        "department R&D; phone +86 21 5555 0101; fallback lee@example.com; active"
    )
    out = lobby(
        env, "user", "update", "grace@example.com", "--name", "Grace Hopper", "--department", ""
    ).stdout
    assert (
        "Grace Hopper; roles receptionist, host; department -; phone +86 21 5555 0101; "
        "fallback lee@example.com" in out
    )


def test_user_update_disable_stops_their_token_and_enable_restores_it(env):
    lobby(env, "user", "add", "desk@example.com", "--name", "Desk", "--role", "receptionist")
    lobby(env, "user", "update", "desk@example.com", "--password", "new-password-1")
    token = lobby(env, "token", "create", "desk@example.com").stdout.strip().splitlines()[-1]
    assert (
        lobby(env, "user", "update", "desk@example.com", "--disable")
        .stdout.strip()
        .endswith("disabled")
    )
    app = create_app({"DATA_DIR": env["LOBBY_DATA_DIR"], "PRINT_WORKER": False})
    app.test_client_class = IsolatedClient  # each request sees what the CLI wrote
    bearer = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        web = app.test_client()
        assert web.get("/api/v1/onsite", headers=bearer).status_code == 401
        assert login(web, "desk@example.com", "new-password-1").status_code == 401  # refused
        lobby(env, "user", "update", "desk@example.com", "--enable")
        assert web.get("/api/v1/onsite", headers=bearer).status_code == 200
        assert login(web, "desk@example.com", "new-password-1").status_code == 302
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(
    "args,needle",
    [
        (["nobody@example.com", "--phone", "123"], "no user with email nobody@example.com"),
        (["grace@example.com", "--fallback", "nobody@example.com"], "no user nobody@example.com"),
        (["grace@example.com", "--fallback", "grace@example.com"], "own fallback"),
        (["grace@example.com", "--fallback", "desk@example.com"], "not a host"),
        (["grace@example.com", "--phone", "call me maybe"], "not a phone number"),
        (["grace@example.com", "--role", "wizard"], "wizard"),
        (["grace@example.com", "--password", "short"], "8 to 200 characters"),
    ],
)
def test_user_update_bad_input_exits_nonzero_with_one_line(env, args, needle):
    lobby(env, "user", "add", "grace@example.com", "--name", "Grace", "--role", "host")
    lobby(env, "user", "add", "desk@example.com", "--name", "Desk", "--role", "receptionist")
    proc = lobby(env, "user", "update", *args, ok=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
