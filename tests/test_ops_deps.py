"""Dependency hygiene: python-escpos imported quietly, fonts found through their
packages, Redis only imported when a message queue is configured."""

import json
import os
import subprocess
import sys
from pathlib import Path

import fontpkg
import pylopdf_fonts_zh_cn

from printers import fonts

ROOT = Path(__file__).resolve().parent.parent


def python(code: str, tmp_path, **env) -> dict:
    """Run ``code`` in a fresh interpreter with its own TMPDIR; it prints one JSON line."""
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("LOBBY_", "ESCPOS_"))}
    environ.update(TMPDIR=str(tmp), XDG_CACHE_HOME=str(tmp_path / "cache"), **env)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["tmp_entries"] = sorted(p.name for p in tmp.iterdir())
    return result


def test_importing_printers_leaves_the_root_logger_and_tmp_alone(tmp_path):
    got = python(
        "import json, logging; before = list(logging.root.handlers); "
        "import printers, escpos.printer, escpos.capabilities as c; "
        "print(json.dumps({'same': logging.root.handlers == before, "
        "'handlers': len(logging.root.handlers), 'level': logging.root.level, "
        "'pickle_dir': c.pickle_dir}))",
        tmp_path,
    )
    assert got["same"] and got["handlers"] == 0 and got["level"] == 30
    assert got["tmp_entries"] == []  # no mkdtemp() folder left behind
    assert got["pickle_dir"] == str(tmp_path / "cache" / "lobby" / "escpos")
    assert list(Path(got["pickle_dir"]).glob("*.capabilities.pickle"))


def test_the_server_keeps_escpos_cache_in_its_data_dir(tmp_path):
    got = python(
        "import json, logging; from server import create_app; "
        "app = create_app({'PRINT_WORKER': False}); "
        "import escpos.capabilities as c; "
        "print(json.dumps({'pickle_dir': c.pickle_dir, "
        "'handlers': len(logging.root.handlers)}))",
        tmp_path,
        LOBBY_DATA_DIR=str(tmp_path / "data"),
    )
    assert got["pickle_dir"] == str(tmp_path / "data" / "cache" / "escpos")
    assert list(Path(got["pickle_dir"]).glob("*.capabilities.pickle"))
    assert got["handlers"] == 0 and got["tmp_entries"] == []


# An interpreter where `import redis` fails, as without the [redis] extra.
NO_REDIS = """
import json, sys
class NoRedis:
    def find_spec(self, name, path=None, target=None):
        if name == "redis" or name.startswith("redis."):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoRedis())
from server import create_app, upgrade_database
app = create_app({"PRINT_WORKER": False})
upgrade_database(app)
client = app.test_client()
print(json.dumps({"healthz": client.get("/healthz").status_code,
                  "readyz": client.get("/readyz").get_json()["checks"],
                  "login": client.get("/login").status_code}))
"""


def test_lobby_runs_without_redis_installed_when_no_message_queue_is_set(tmp_path):
    got = python(NO_REDIS, tmp_path, LOBBY_DATA_DIR=str(tmp_path / "data"))
    assert got["healthz"] == 200 and got["login"] == 200
    assert "redis" not in got["readyz"]


def test_fonts_are_found_through_their_packages():
    assert fonts.font_path(cjk=True) == Path(pylopdf_fonts_zh_cn.sans_path())
    assert fonts.font_path(cjk=False) == Path(fontpkg.path("Noto Sans"))
    for cjk in (True, False):
        assert fonts.font_path(cjk).is_file()
    assert fonts.has_cjk_glyph("张") and fonts.text_width("Ada 张伟", 24) > 0
