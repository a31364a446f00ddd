"""`lobby kiosk add NAME --language zh|en` as an operator runs it: a real process on
a real database file."""

import sqlite3

from tests.test_cli import env, lobby  # noqa: F401


def kiosk_languages(env) -> dict:  # noqa: F811
    with sqlite3.connect(f"{env['LOBBY_DATA_DIR']}/lobby.db") as db:
        return dict(db.execute("SELECT name, language FROM kiosks"))


def test_kiosk_is_added_with_its_default_language(env):  # noqa: F811
    path = lobby(env, "kiosk", "add", "Front door", "--language", "zh").stdout.splitlines()[-1]
    assert path.startswith("/kiosk/pair/")
    lobby(env, "kiosk", "add", "Side door", "--language", "en")
    lobby(env, "kiosk", "add", "Back door")
    # No --language: the kiosk follows the visitor's browser (Accept-Language).
    assert kiosk_languages(env) == {"Front door": "zh", "Side door": "en", "Back door": ""}


def test_bad_language_exits_nonzero_with_one_line_and_adds_no_kiosk(env):  # noqa: F811
    proc = lobby(env, "kiosk", "add", "Front door", "--language", "fr", ok=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "'fr'" in lines[0] and "zh" in lines[0] and "en" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout
    lobby(env, "db", "upgrade")
    assert kiosk_languages(env) == {}
