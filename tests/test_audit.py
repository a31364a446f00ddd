"""The audit trail (services/audit.py): append-only and hash-chained, so an entry changed
or removed behind Lobby's back is found by ``verify`` and ``lobby audit verify``."""

import os
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from server import create_app, upgrade_database
from server.extensions import db
from server.models import AuditEntry
from server.services import audit, audit_checkins, checkin, devices, people
from server.services.tx import write
from tests.conftest import auth, pg_app  # noqa: F401

LOBBY = str(Path(sys.executable).with_name("lobby"))


def append(n: int, actor=None) -> list[int]:
    ids = []
    for i in range(n):
        with write() as session:
            entry = audit.record(
                session,
                "visit.update",
                actor=actor,
                actor_label="" if actor else "test",
                target_type="visit",
                target_id=i,
                before={"purpose": "old", "at": datetime(2026, 1, 2, 3, 4, 5, 6), "n": 1.5},
                after={"purpose": "新的 <b>", "rooms": ["A", "B"], 3: None},
                note="edited",
            )
            ids.append(entry.id)
    return ids


def test_a_whole_chain_verifies(app, staff):
    ids = append(4, actor=staff["admin"])
    db.session.expire_all()  # read back from the database, not the objects just made
    assert audit.verify(db.session) is None
    every = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    # The staff fixture's users are audited too (services/audit_hook.py): they come first.
    assert every[0].prev_hash == "" and [e.action for e in every[:1]] == ["user.insert"]
    entries = [e for e in every if e.id in ids]
    assert [e.id for e in entries] == ids
    assert entries[1].prev_hash == entries[0].hash
    assert entries[0].actor == "admin@example.com" and entries[0].after["3"] is None


def test_an_entry_edited_in_the_database_is_named(app):
    ids = append(4)
    db.session.execute(
        text("UPDATE audit_entries SET after = :a WHERE id = :id"),
        {"a": '{"purpose": "forged"}', "id": ids[2]},
    )
    db.session.commit()
    assert audit.verify(db.session) == ids[2]


def test_an_entry_removed_from_the_middle_is_found(app):
    ids = append(4)
    db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": ids[1]})
    db.session.commit()
    assert audit.verify(db.session) == ids[2]  # its link to the one before is broken


def test_a_rehashed_forgery_still_breaks_the_next_link(app):
    ids = append(3)
    entry = db.session.get(AuditEntry, ids[0])
    entry.note = "forged"
    entry.hash = audit.entry_hash(entry)  # a forger who recomputes this entry's hash
    db.session.commit()
    assert audit.verify(db.session) == ids[1]


def test_concurrent_appends_keep_one_chain(app):
    barrier = threading.Barrier(6)

    def writer():
        with app.app_context():
            barrier.wait()
            append(5)
            db.session.remove()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == 30
    assert audit.verify(db.session) is None


@pytest.mark.postgres
def test_chain_verifies_on_postgresql_with_concurrent_appends(pg_app):  # noqa: F811
    barrier = threading.Barrier(6)

    def writer():
        with pg_app.app_context():
            barrier.wait()
            append(5)
            db.session.remove()

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.expire_all()
    assert db.session.scalar(select(db.func.count(AuditEntry.id))) == 30
    assert audit.verify(db.session) is None
    first = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id).limit(1))
    db.session.execute(text("UPDATE audit_entries SET note = 'x' WHERE id = :id"), {"id": first})
    db.session.commit()
    assert audit.verify(db.session) == first


def test_lobby_audit_verify_exits_non_zero_naming_the_entry(tmp_path):
    data = tmp_path / "data"
    cli_app = create_app(
        {"DATA_DIR": data, "PRINT_WORKER": False, "SECRET_KEY": "x", "MESSAGE_QUEUE": None}
    )
    upgrade_database(cli_app)
    with cli_app.app_context():
        ids = append(3)
        db.session.remove()
    env = {**os.environ, "LOBBY_DATA_DIR": str(data)}
    run = [LOBBY, "audit", "verify"]

    ok = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "audit trail whole: 3 entries" in ok.stdout

    with cli_app.app_context():
        db.session.execute(
            text("UPDATE audit_entries SET after = '{}' WHERE id = :id"), {"id": ids[1]}
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    bad = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and f"audit entry {ids[1]} " in lines[0]


def test_check_ins_reach_the_trail_with_who_before_and_after(app, client, staff, make_visit):
    """The check-in hot path writes no audit entry itself: its arrival events are folded
    in (services/audit_checkins.py) before anyone reads the trail, once each."""
    devices.add_kiosk("Front door")
    at_desk, at_kiosk = make_visit(), make_visit(name="张伟")
    checkin.check_in(at_desk.code, by=staff["reception"])
    checkin.check_in(at_kiosk.code, kiosk="Front door")
    checkin.check_out(at_kiosk.code)
    token = people.create_token("admin@example.com")
    got = client.get("/api/v1/audit?what=visit", headers=auth(token)).get_json()["entries"]
    arrivals = {e["target"]["id"]: e for e in got if e["action"] == "visit.check_in"}
    assert set(arrivals) == {str(at_desk.id), str(at_kiosk.id)}
    desk, kiosk = arrivals[str(at_desk.id)], arrivals[str(at_kiosk.id)]
    assert desk["actor"]["name"] == "desk@example.com"
    assert kiosk["actor"]["name"] == "kiosk:Front door" and kiosk["after"]["kiosk"] == "Front door"
    assert desk["before"] == {"status": "expected"} and desk["after"]["status"] == "checked_in"
    left = [
        e for e in got if e["target"]["id"] == str(at_kiosk.id) and e["action"] == "visit.update"
    ]
    assert left and left[0]["after"]["status"] == "checked_out"
    assert "张伟" not in str(got)  # personal data stays out of the trail
    assert audit_checkins.catch_up(db.session) == 0  # once each
    assert audit.verify(db.session) is None
