"""HTTPS (browsers give the kiosk's camera only to a secure page): `lobby run --certfile
--keyfile` serves it itself; behind a proxy that ends TLS, LOBBY_PROXY_HOPS trusts that
many proxies' X-Forwarded-* headers, and no more."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from server import create_app
from server.services import devices
from tests.conftest import free_port
from tests.stack import self_signed

LOBBY = str(Path(sys.executable).with_name("lobby"))


def test_run_with_a_certificate_serves_https_with_secure_cookies(tmp_path):
    cert, key = self_signed(tmp_path)
    port = free_port()
    env = {**os.environ, "LOBBY_DATA_DIR": str(tmp_path / "data"), "LOBBY_PRINT_WORKER": "0"}
    log = tmp_path / "server.log"
    proc = subprocess.Popen(
        [LOBBY, "run", "--port", str(port), "--certfile", str(cert), "--keyfile", str(key)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                page = requests.get(f"https://127.0.0.1:{port}/login", verify=str(cert), timeout=2)
                break
            except requests.ConnectionError:
                assert time.time() < deadline, log.read_text()
                time.sleep(0.2)
        assert page.status_code == 200 and 'name="password"' in page.text
        session = next(c for c in page.cookies if c.name == "session")
        assert session.secure
        assert f"Lobby on https://127.0.0.1:{port}" in log.read_text()
        with pytest.raises(requests.ConnectionError):  # no plain HTTP on that port
            requests.get(f"http://127.0.0.1:{port}/login", timeout=2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_certfile_without_keyfile_is_one_line(tmp_path):
    cert, _ = self_signed(tmp_path)
    proc = subprocess.run(
        [LOBBY, "run", "--certfile", str(cert)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "LOBBY_DATA_DIR": str(tmp_path / "data")},
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == ["lobby: --certfile and --keyfile go together"]


def proxied_app(tmp_path, printer, **config):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lobby.db'}",
            "DEFAULT_PRINTER": printer.url,
            "SECRET_KEY": "test-secret",
            "MESSAGE_QUEUE": None,
            **config,
        }
    )
    from server import upgrade_database

    upgrade_database(app)
    return app


FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "lobby.example.com",
    "X-Forwarded-For": "203.0.113.7",
}


@pytest.mark.parametrize("hops, secure", [(1, True), (0, False)])
def test_kiosk_cookie_is_secure_behind_a_tls_proxy_only_when_hops_are_trusted(
    tmp_path, printer, hops, secure
):
    """nginx ends TLS and says so in X-Forwarded-Proto: with LOBBY_PROXY_HOPS=1 the
    kiosk's device cookie is Secure; with 0 the header is a client's claim, ignored."""
    app = proxied_app(tmp_path, printer, PROXY_HOPS=hops)
    with app.app_context():
        _, path = devices.add_kiosk("Front")
    resp = app.test_client().get(path, headers=FORWARDED)
    assert resp.status_code == 302
    [cookie] = resp.headers.getlist("Set-Cookie")
    assert ("; Secure" in cookie) is secure


def test_secure_cookies_setting_marks_session_cookies_secure_for_tls_at_a_proxy(tmp_path, printer):
    app = proxied_app(tmp_path, printer, SECURE_COOKIES=True)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    resp = app.test_client().get("/login")
    assert "; Secure" in resp.headers["Set-Cookie"]
    plain = proxied_app(tmp_path / "plain", printer)
    assert "Secure" not in plain.test_client().get("/login").headers["Set-Cookie"]
