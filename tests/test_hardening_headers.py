"""Files and headers (issue 13 item 1): the data dir is 0700 and its files 0600 (the
secret key from its first byte); every response carries a Content-Security-Policy
without inline script; HSTS and ``Secure`` cookies over HTTPS (served directly, or
behind a proxy that ``PROXY_HOPS`` trusts), never over plain HTTP unless set."""

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from server import ROOT, create_app, upgrade_database
from server.realtime import KIOSK_COOKIE
from server.services import devices
from tests.conftest import PASSWORD, csrf_from, login

LOBBY = str(Path(sys.executable).with_name("lobby"))
HSTS = "max-age=31536000; includeSubDomains"
HTTPS = "https://localhost"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def directives(resp) -> dict[str, list[str]]:
    policy = resp.headers["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def cookies(resp) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def is_secure(set_cookie: str) -> bool:
    return "secure" in [a.strip().lower() for a in set_cookie.split(";")[1:]]


def sign_in(client, base_url="http://localhost"):
    page = client.get("/login", base_url=base_url).get_data(as_text=True)
    return client.post(
        "/login",
        data={"email": "desk@example.com", "password": PASSWORD, "csrf_token": csrf_from(page)},
        base_url=base_url,
        headers={"Referer": f"{base_url}/login"},  # Flask-WTF checks it over HTTPS
    )


# --- Content-Security-Policy -------------------------------------------------------


def test_every_response_carries_a_csp_that_allows_no_inline_script(app, client, staff):
    for path in ("/login", "/no-such-page", "/healthz", "/static/js/lobby.js"):
        resp = client.get(path)
        csp = directives(resp)
        assert csp["script-src"] == ["'self'"], path  # no 'unsafe-inline', no 'unsafe-eval'
        assert csp["default-src"] == ["'self'"]
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
        assert csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
        assert "'unsafe-inline'" not in csp.get("script-src-attr", [])
    # Socket.IO's websocket to this very host (older WebKit does not match it to 'self').
    assert directives(client.get("/login"))["connect-src"] == ["'self'", "ws://localhost"]
    over_https = directives(client.get("/login", base_url=HTTPS))
    assert over_https["connect-src"] == ["'self'", "wss://localhost"]
    # A Host header that is not a plain host name is not copied into the policy.
    odd = client.get("/login", headers={"Host": "evil.example; script-src *"})
    assert directives(odd)["connect-src"] == ["'self'"]
    assert directives(odd)["script-src"] == ["'self'"]


TEMPLATES = ROOT / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")
EVENTS = (
    r"on(?:click|dblclick|key\w+|load|error|submit|change|input|focus\w*|blur|reset|select"
    r"|mouse\w+|touch\w+|pointer\w+|drag\w*|drop|scroll|resize|wheel|paste|copy|cut)"
)
# onclick="..." in markup, or "onkeydown": "..." in a WTForms field's attributes.
HANDLER = re.compile(rf"""\s{EVENTS}\s*=|["']{EVENTS}["']\s*:""", re.I)


def test_no_template_has_inline_script_an_on_handler_or_an_htmx_eval():
    """What the CSP would refuse in a browser: a <script> with code, onclick=..., or
    (htmx's eval is off) hx-on and [filter] trigger conditions."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        name = str(path.relative_to(TEMPLATES))
        found += [f"{name}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        found += [f"{name}: {m.group(0)}" for m in HANDLER.finditer(text)]
        found += [f"{name}: hx-on" for _ in re.finditer(r"\bhx-on", text)]
        for trigger in re.findall(r'hx-trigger="([^"]*)"', text):
            if re.search(r"^[\w:.-]+\s*\[|,\s*[\w:.-]+\s*\[|every \d+\w*\s*\[", trigger):
                found.append(f"{name}: trigger filter in {trigger!r}")
    assert found == []


def test_htmx_may_not_eval_on_any_page(app, client, staff):
    config = '<meta name="htmx-config" content=\'{"allowEval": false, "allowScriptTags": false}\'>'
    assert config in client.get("/login").get_data(as_text=True)
    login(client, "desk@example.com")
    assert config in client.get("/reception/").get_data(as_text=True)
    _, pair = devices.add_kiosk("Front door")
    kiosk = app.test_client()
    kiosk.get(pair)
    assert config in kiosk.get("/kiosk/").get_data(as_text=True)


BROWSER_TESTS = ROOT / "tests"


def test_browser_tests_wait_with_functions_the_csp_lets_playwright_poll():
    """Playwright polls a string predicate with eval(), which the CSP refuses after the
    first try; a function ("() => ...") is compiled once, through DevTools."""
    found = []
    for path in BROWSER_TESTS.glob("test_*.py"):
        for m in re.finditer(r"wait_for_function\(\s*(f?\"[^\"]{0,40})", path.read_text()):
            if not m.group(1).lstrip("f").startswith('"() =>'):
                found.append(f"{path.name}: {m.group(1)}")
    assert found == []


# --- HSTS and Secure cookies ---------------------------------------------------------


def test_hsts_over_https_only_unless_set(app, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert client.get("/login", base_url=HTTPS).headers["Strict-Transport-Security"] == HSTS
    app.config["HSTS"] = True  # LOBBY_HSTS=1: TLS ends at a proxy Lobby does not trust
    assert client.get("/login").headers["Strict-Transport-Security"] == HSTS


def test_session_cookie_is_secure_over_https_and_not_over_http(app, staff):
    plain = sign_in(app.test_client())
    assert plain.status_code == 302 and not is_secure(cookies(plain)["session"])
    secure = sign_in(app.test_client(), base_url=HTTPS)
    assert secure.status_code == 302 and is_secure(cookies(secure)["session"])
    # Every cookie of an HTTPS response, the CSRF-carrying one on /login too.
    first = app.test_client().get("/login", base_url=HTTPS)
    assert cookies(first) and all(is_secure(c) for c in cookies(first).values())


def test_kiosk_device_cookie_is_secure_over_https_only(app):
    _, pair = devices.add_kiosk("Front door")
    _, pair_tls = devices.add_kiosk("Side door")
    plain = app.test_client().get(pair)
    tls = app.test_client().get(pair_tls, base_url=HTTPS)
    assert not is_secure(cookies(plain)[KIOSK_COOKIE])
    assert is_secure(cookies(tls)[KIOSK_COOKIE])


@pytest.mark.parametrize("hops", [1, 0])
def test_behind_a_trusted_proxy_forwarded_https_gets_hsts_and_secure_cookies(
    tmp_path, printer, hops
):
    """nginx says X-Forwarded-Proto: https; only PROXY_HOPS makes Lobby believe it (a
    client could otherwise claim HTTPS, or dodge HSTS, by header)."""
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SECRET_KEY": "test-secret",
            "DEFAULT_PRINTER": printer.url,
            "PROXY_HOPS": hops,
        }
    )
    upgrade_database(app)
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.9"}
    resp = app.test_client().get("/login", headers=forwarded)
    assert resp.status_code == 200
    trusted = hops == 1
    assert ("Strict-Transport-Security" in resp.headers) is trusted
    assert is_secure(cookies(resp)["session"]) is trusted
    assert directives(resp)["connect-src"][-1].startswith("wss://" if trusted else "ws://")


def test_secure_cookies_setting_marks_the_session_secure_over_http_too(tmp_path, printer):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SECRET_KEY": "test-secret",
            "DEFAULT_PRINTER": printer.url,
            "SECURE_COOKIES": True,
        }
    )
    upgrade_database(app)
    assert is_secure(cookies(app.test_client().get("/login"))["session"])


# --- the data dir --------------------------------------------------------------------

FIRST_START = r"""
import os, sys
os.umask(0)  # the most permissive: every mode below is Lobby's own doing
events = []
sys.addaudithook(lambda event, args: events.append((event, args))
                 if event in ("open", "os.chmod") and "secret_key" in str(args[0]) else None)
from server import config
config.load({"DATA_DIR": sys.argv[1]})
for event, args in events:
    print(event, args[0], args[-1])
"""


def test_first_start_makes_a_private_data_dir_and_a_secret_key_private_from_its_first_byte(
    tmp_path,
):
    data = tmp_path / "var" / "lobby"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOBBY_")}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_START, str(data)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    assert len((data / "secret_key").read_text()) >= 48
    assert [p.name for p in data.iterdir() if p.name.startswith(".secret_key")] == []
    # Written once, through a descriptor made 0600 and exclusive; never chmod-ed into
    # shape after its bytes were there.
    writes = [line.split() for line in out if line.startswith("open")]
    assert [w for w in writes if int(w[-1]) & os.O_WRONLY] == [
        w for w in writes if int(w[-1]) & (os.O_CREAT | os.O_EXCL) == os.O_CREAT | os.O_EXCL
    ]
    assert len([w for w in writes if int(w[-1]) & os.O_WRONLY]) == 1
    assert [line for line in out if line.startswith("os.chmod")] == []


def test_an_existing_data_dir_and_files_others_could_read_are_made_private(tmp_path):
    from server import config

    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in ("secret_key", "lobby.db", "lobby.db-wal", "lobby.db-shm"):
        (data / name).write_text("x" * 64 if name == "secret_key" else "")
        (data / name).chmod(0o644)
    config.load({"DATA_DIR": data, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data / 'lobby.db'}"})
    assert mode(data) == 0o700
    assert {p.name: mode(p) for p in data.iterdir()} == {
        "secret_key": 0o600,
        "lobby.db": 0o600,
        "lobby.db-wal": 0o600,
        "lobby.db-shm": 0o600,
    }


def test_lobby_commands_create_only_private_files(tmp_path):
    """The database, its -wal/-shm, the escpos cache, a backup: nothing group or others
    may read, even when the shell's umask is the usual 022."""
    data = tmp_path / "data"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LOBBY_")},
        "LOBBY_DATA_DIR": str(data),
    }

    def lobby(*args):
        subprocess.run(
            [LOBBY, *args],
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
            preexec_fn=lambda: os.umask(0o022),
        )

    lobby("db", "upgrade")
    lobby("printer", "add", "Desk", f"emulator://{data / 'badges'}")
    lobby("backup", str(tmp_path / "copy.db"))
    assert (data / "lobby.db").exists() and (tmp_path / "copy.db").exists()
    loose = {
        str(p.relative_to(tmp_path)): oct(mode(p))
        for p in [data, tmp_path / "copy.db", *data.rglob("*")]
        if mode(p) & 0o077
    }
    assert loose == {}
