"""Several processes starting at once on a fresh database (two `lobby run` and a
`lobby worker` after a deploy) take turns at the migrations: all start, the schema
ends at head."""

import os
import secrets
import subprocess
import sys

import psycopg
import pytest

from tests.conftest import PG_ADMIN

UPGRADE = (
    "from server import create_app, upgrade_database; "
    "upgrade_database(create_app({'PRINT_WORKER': False}))"
)


def upgrade_at_once(env, n: int) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPGRADE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from server import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None  # the project has migrations
    return head


@pytest.mark.postgres
def test_four_processes_upgrading_a_fresh_postgres_database_at_once_all_succeed(tmp_path):
    name = "lobby_migrate_" + secrets.token_hex(4)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            **os.environ,
            "LOBBY_DATA_DIR": str(tmp_path),
            "LOBBY_SECRET_KEY": "x",
            "LOBBY_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        }
        results = upgrade_at_once(env, 4)
        assert [r.returncode for r in results] == [0] * 4, [r.stderr[-2000:] for r in results]
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{name}") as conn:
            [(version,)] = conn.execute("SELECT version_num FROM alembic_version").fetchall()
            assert conn.execute("SELECT count(*) FROM print_jobs").fetchone() == (0,)
        assert version == head_revision()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_four_processes_upgrading_a_fresh_sqlite_database_at_once_all_succeed(tmp_path):
    env = {**os.environ, "LOBBY_DATA_DIR": str(tmp_path), "LOBBY_SECRET_KEY": "x"}
    env.pop("LOBBY_DATABASE_URL", None)
    results = upgrade_at_once(env, 4)
    assert [r.returncode for r in results] == [0] * 4, [r.stderr[-2000:] for r in results]
    import sqlite3

    conn = sqlite3.connect(tmp_path / "lobby.db")
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]
    finally:
        conn.close()
