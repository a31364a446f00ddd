"""lobby backup / lobby restore on the embedded SQLite, and pg_dump/pg_restore once."""

import secrets
import sqlite3
import subprocess
import threading

import pytest

from server.cli import main
from server.ops import runlock


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A data dir named by the environment, as an operator's shell has it."""
    monkeypatch.setenv("LOBBY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LOBBY_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOBBY_MESSAGE_QUEUE", raising=False)
    assert (
        main(
            [
                "user",
                "add",
                "ada@example.com",
                "--name",
                "Ada",
                "--role",
                "host",
                "--password",
                "correct horse battery",
            ]
        )
        == 0
    )
    yield tmp_path / "data"
    runlock.release_all()


def count(db_path, sql="SELECT count(*) FROM users"):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_backup_is_consistent_while_writers_write(data_dir, tmp_path, capsys):
    live = data_dir / "lobby.db"
    stop = threading.Event()

    def writer():
        # Two events per transaction: a torn copy would hold an odd number.
        conn = sqlite3.connect(live, timeout=15)
        while not stop.is_set():
            with conn:
                for _ in range(2):
                    conn.execute(
                        "INSERT INTO events (kind, payload, rooms, created_at) "
                        "VALUES ('test', '{}', '[\"reception\"]', '2025-01-01 00:00:00')"
                    )
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = []
        for n in range(3):
            target = tmp_path / f"copy{n}.db"
            assert main(["backup", str(target)]) == 0
            copies.append(target)
    finally:
        stop.set()
        thread.join()
    assert "backed up" in capsys.readouterr().out
    for copy in copies:
        assert count(copy, "PRAGMA integrity_check") == "ok"
        assert count(copy, "SELECT count(*) FROM events") % 2 == 0
        assert count(copy) == 1
    assert count(copies[-1], "SELECT count(*) FROM events") > 0


def test_backup_into_a_folder_names_the_file_and_never_overwrites(data_dir, tmp_path, capsys):
    folder = tmp_path / "backups"
    folder.mkdir()
    assert main(["backup", str(folder)]) == 0
    made = list(folder.glob("lobby-*.db"))
    assert len(made) == 1
    capsys.readouterr()
    assert main(["backup", str(made[0])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists" in err
    assert main(["backup", str(made[0]), "--force"]) == 0


def test_restore_brings_back_the_backed_up_data(data_dir, tmp_path, capsys):
    saved = tmp_path / "saved.db"
    assert main(["backup", str(saved)]) == 0
    assert (
        main(
            [
                "user",
                "add",
                "late@example.com",
                "--name",
                "Late",
                "--role",
                "host",
                "--password",
                "correct horse battery",
            ]
        )
        == 0
    )
    assert count(data_dir / "lobby.db") == 2
    assert main(["restore", str(saved)]) == 0
    assert "restored" in capsys.readouterr().out
    assert count(data_dir / "lobby.db") == 1
    kept = list(data_dir.glob("lobby.db.before-restore-*"))
    assert len(kept) == 1 and count(kept[0]) == 2


def test_restore_is_refused_while_a_server_holds_the_data_dir(data_dir, tmp_path, capsys):
    saved = tmp_path / "saved.db"
    assert main(["backup", str(saved)]) == 0
    capsys.readouterr()
    runlock.hold(data_dir)
    assert runlock.is_held(data_dir)
    assert main(["restore", str(saved)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "running" in err
    runlock.release_all()
    assert not runlock.is_held(data_dir)
    assert main(["restore", str(saved)]) == 0


def test_a_server_cannot_start_while_a_restore_writes(data_dir):
    with runlock.exclusive(data_dir) as taken:
        assert taken
        with pytest.raises(Exception) as refused:
            runlock.hold(data_dir)
        assert refused.value.code == "restore_running"


@pytest.mark.parametrize("content", ["text", "empty_sqlite", "foreign_sqlite", "bad_revision"])
def test_restore_refuses_a_file_that_is_not_a_lobby_database(data_dir, tmp_path, capsys, content):
    bogus = tmp_path / "bogus.db"
    if content == "text":
        bogus.write_text("not a database at all\n" * 100)
    else:
        conn = sqlite3.connect(bogus)
        if content in ("foreign_sqlite", "bad_revision"):
            conn.execute("CREATE TABLE alembic_version (version_num TEXT)")
            conn.execute(
                "INSERT INTO alembic_version VALUES (?)",
                ("0123abcd" if content == "bad_revision" else "a1dc3256b4c4",),
            )
            conn.execute("CREATE TABLE users (id INTEGER)")
        else:
            conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    before = (data_dir / "lobby.db").read_bytes()
    capsys.readouterr()
    assert main(["restore", str(bogus)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a Lobby database" in err
    assert (data_dir / "lobby.db").read_bytes() == before


def test_backup_and_restore_on_postgresql_point_to_pg_dump(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LOBBY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOBBY_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    for command in (["backup", str(tmp_path / "x.db")], ["restore", str(tmp_path / "x.db")]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "pg_dump" in err


@pytest.mark.postgres
def test_pg_dump_and_pg_restore_carry_every_row(tmp_path):
    """The README's PostgreSQL way, tried: dump a migrated database with a check-in's
    worth of rows, restore it into a new database, count the rows."""
    import os

    import psycopg

    from tests.test_scale_out import LOBBY, PG_ADMIN

    names = ["lobby_ops_" + secrets.token_hex(4) for _ in range(2)]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql://postgres@127.0.0.1:5432/{names[0]}"
        env = {
            **os.environ,
            "LOBBY_DATA_DIR": str(tmp_path),
            "LOBBY_DATABASE_URL": url.replace("postgresql:", "postgresql+psycopg:"),
        }
        subprocess.run(
            [
                LOBBY,
                "user",
                "add",
                "ada@example.com",
                "--name",
                "Ada",
                "--role",
                "host",
                "--password",
                "correct horse battery",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [LOBBY, "printer", "add", "desk", "tcp://127.0.0.1:9100"],
            env=env,
            check=True,
            capture_output=True,
        )
        dump = tmp_path / "lobby.dump"
        subprocess.run(["pg_dump", "-Fc", "-f", str(dump), url], check=True)
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "-d",
                f"postgresql://postgres@127.0.0.1:5432/{names[1]}",
                str(dump),
            ],
            check=True,
        )
        counts = []
        for name in names:
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
                counts.append(
                    {
                        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                        for table in ("users", "printers", "alembic_version")
                    }
                )
        assert counts[0] == counts[1] == {"users": 1, "printers": 1, "alembic_version": 1}
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_says_where_in_one_line(data_dir, tmp_path, capsys):
    """The success line names the file and its schema (operators read it in cron mail)."""
    assert main(["backup", str(tmp_path / "one.db")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and str(tmp_path / "one.db") in out[0] and "schema" in out[0]
