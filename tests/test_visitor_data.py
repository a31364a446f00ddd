"""A visitor's rights (issue 13 item 3): ``lobby visitor export EMAIL`` writes everything
held on them (JSON with the images, in a zip); ``lobby visitor forget EMAIL``
anonymises them now; both audited, both one line and non-zero when nobody matches."""

import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from server import create_app, upgrade_database
from server import realtime as rt
from server.extensions import db
from server.models import AuditEntry, Event, Signature, Task, Visit, Visitor, VisitPhoto
from server.services import audit, retention, rules, visitor_data
from server.services.errors import NotFound, ValidationError
from server.services.tx import write
from tests.test_retention import with_everything

LOBBY = str(Path(sys.executable).with_name("lobby"))


@pytest.fixture
def ada(app, staff, make_visit):
    """Ada with two visits (one old, one recent, each with photo, signature, tea,
    desk request, reprint and event), plus someone else who must stay untouched."""
    published = rules.publish("Rule one.", "规则一。", staff["admin"])
    old = make_visit(name="Ada Lovelace", company="Engines", email="Ada@Example.com")
    with_everything(old, published, days=100)
    new = make_visit(name="Ada Lovelace", company="Engines", email="ada@example.com ")
    with_everything(new, published, days=1)
    other = make_visit(name="Bob Other", email="bob@example.com")
    with_everything(other, published, days=1)
    return {"old": old.id, "new": new.id, "other": other.id}


def test_export_holds_everything_on_the_person_with_images(app, ada, tmp_path):
    path = visitor_data.export("ADA@example.com", tmp_path / "out")

    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        data = json.loads(zf.read("visitor.json"))
        photo = zf.read(f"photos/visit-{ada['old']}.jpg")
    assert {v["name"] for v in data["visitors"]} == {"Ada Lovelace"}
    assert len(data["visitors"]) == 2  # both rows with that email, any case, any spaces
    assert sorted(v["id"] for v in data["visits"]) == sorted([ada["old"], ada["new"]])
    assert {v["purpose"] for v in data["visits"]} == {"Engine review"}
    assert len(data["signatures"]) == 2 and len(data["desk_requests"]) == 2
    assert len(data["tasks"]) == 2 and len(data["badges"]) == 2
    assert {e["payload"]["visit_id"] for e in data["events"]} == {ada["old"], ada["new"]}
    assert f"photos/visit-{ada['new']}.jpg" in names
    assert {f"signatures/signature-{s['id']}.png" for s in data["signatures"]} <= names
    assert photo[:3] == b"\xff\xd8\xff"  # a JPEG
    assert "Bob Other" not in json.dumps(data)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "visitor.export")
    ).one()
    assert entry.after["visits"] == 2 and "ada" not in json.dumps(entry.after).lower()


def test_forget_anonymises_every_row_with_that_email_now(app, ada):
    hers = {ada["old"], ada["new"]}
    about_her = [
        e.seq for e in db.session.scalars(select(Event)) if e.payload.get("visit_id") in hers
    ]
    assert len(about_her) >= 2  # booked and arrived, at least

    counts = visitor_data.forget("ada@EXAMPLE.com")

    assert counts["visitors"] == 2 and counts["visits"] == 2 and counts["photos"] == 2
    assert counts["events"] == len(about_her)
    db.session.expire_all()
    for key in ("old", "new"):
        visit = db.session.get(Visit, ada[key])
        assert visit.visitor.name == retention.REMOVED_NAME and visit.visitor.email == ""
        assert visit.purpose == "" and visit.anonymised_at is not None
        assert visit.status == "checked_out"  # the visit still counts
        assert db.session.get(VisitPhoto, ada[key]) is None
        sig = db.session.scalars(select(Signature).where(Signature.visit_id == visit.id)).one()
        assert sig.image_png is None and sig.visitor_key == ""
        tea = db.session.scalars(select(Task).where(Task.visit_id == visit.id)).one()
        assert "note" not in tea.details
    events = db.session.scalars(select(Event).order_by(Event.seq)).all()
    assert [e.seq for e in events if e.kind == "purged"] == about_her
    assert "Ada" not in json.dumps([e.payload for e in events])
    other = db.session.get(Visit, ada["other"])
    assert other.visitor.name == "Bob Other" and db.session.get(VisitPhoto, other.id) is not None

    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "visitor.forget")
    ).one()
    assert entry.after["visits"] == 2 and "ada" not in json.dumps(entry.after).lower()
    assert audit.verify(db.session) is None
    with pytest.raises(NotFound) as e:  # forgotten: nobody has that email any more
        visitor_data.forget("ada@example.com")
    assert e.value.code == "no_visitor"


@pytest.mark.parametrize("bad", ["", "   ", "not-an-email", "a" * 300 + "@x.com"])
def test_a_malformed_email_is_refused(app, bad):
    with pytest.raises(ValidationError):
        visitor_data.forget(bad)


def test_the_event_of_someone_else_is_kept(app, ada):
    with write() as session:
        rt.record(session, "printer_status", {"name": "Front", "status": "online"}, ["r"])
    visitor_data.forget("ada@example.com")
    kinds = db.session.scalars(select(Event.kind).order_by(Event.seq)).all()
    assert "printer_status" in kinds and kinds.count("visitor_arrived") == 1  # Bob's
    assert "Bob Other" in json.dumps([e.payload for e in db.session.scalars(select(Event))])


@pytest.fixture
def cli_env(tmp_path):
    """A data dir with Ada's visit, for the real ``lobby`` command."""
    data = tmp_path / "data"
    cli_app = create_app(
        {"DATA_DIR": data, "PRINT_WORKER": False, "SECRET_KEY": "x", "MESSAGE_QUEUE": None}
    )
    upgrade_database(cli_app)
    with cli_app.app_context():
        from server.models import utcnow
        from server.services import people, photos, visits

        people.create_user("h@example.com", "Host", ["host"], "password123")
        visit = visits.pre_register(
            {"name": "Ada Lovelace", "email": "ada@example.com"},
            "h@example.com",
            (utcnow() + timedelta(hours=1)).isoformat() + "+00:00",
            "Engine review",
        )
        from tests.test_retention import jpeg

        photos.save(visit.id, jpeg())
        db.session.remove()
        db.engine.dispose()
    yield {**os.environ, "LOBBY_DATA_DIR": str(data)}, cli_app


def lobby(env, *args):
    return subprocess.run([LOBBY, *args], env=env, capture_output=True, text=True, timeout=60)


def test_lobby_visitor_export_then_forget(cli_env, tmp_path):
    env, cli_app = cli_env
    out = lobby(env, "visitor", "export", "ADA@example.com", "--out", str(tmp_path / "x"))
    assert out.returncode == 0, out.stderr
    path = Path(out.stdout.strip().splitlines()[-1])
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("visitor.json"))["visitors"][0]["name"] == "Ada Lovelace"
        assert any(n.startswith("photos/") for n in zf.namelist())

    gone = lobby(env, "visitor", "forget", "ada@example.com")
    assert gone.returncode == 0, gone.stderr
    assert "visitors 1" in gone.stdout and "photos 1" in gone.stdout
    with cli_app.app_context():
        assert db.session.scalars(select(Visitor.name)).one() == retention.REMOVED_NAME
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("command", ["export", "forget"])
def test_nobody_with_that_email_is_one_line_and_non_zero(cli_env, command):
    env, _ = cli_env
    proc = lobby(env, "visitor", command, "nobody@example.com")
    assert proc.returncode != 0
    # The last line is the refusal (a line before it may be the data dir's permission notice).
    assert (
        proc.stderr.strip().splitlines()[-1] == "lobby: no visitor has the email nobody@example.com"
    )
    assert "Traceback" not in proc.stderr
