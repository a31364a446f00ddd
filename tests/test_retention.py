"""Retention (issue 13 item 3): the purge anonymises visits past the personal window,
deletes images and old events, keeps counts, money records and the audit trail; a
dry run changes nothing; the daily job runs once however many workers ask; the admin
page; the privacy notice published with the rules and shown on the kiosk."""

import io
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, select, update

from server import create_app, upgrade_database
from server import realtime as rt
from server.extensions import db
from server.models import (
    AuditEntry,
    DeskRequest,
    Event,
    PrintJob,
    RetentionSettings,
    Signature,
    Task,
    Visit,
    Visitor,
    VisitPhoto,
    utcnow,
)
from server.services import audit, kiosk_settings, photos, print_worker, retention, rules
from server.services.tx import write
from tests.conftest import csrf_from, login, pg_app  # noqa: F401
from tests.kiosk_helpers import KioskClient
from tests.test_browser import browser, device  # noqa: F401

LOBBY = str(Path(sys.executable).with_name("lobby"))


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 255)).save(out, format="PNG")
    return out.getvalue()


def backdate(visit, days: float, checked_out=True):
    """Move a visit (and its photo) ``days`` into the past, as if it happened then."""
    when = utcnow() - timedelta(days=days)
    values: dict = {"expected_at": when, "created_at": when}
    if checked_out:
        values.update(
            status="checked_out", checked_in_at=when, checked_out_at=when + timedelta(hours=1)
        )
    db.session.execute(update(Visit).where(Visit.id == visit.id).values(**values))
    db.session.execute(
        update(Visitor).where(Visitor.id == visit.visitor_id).values(created_at=when)
    )
    db.session.execute(
        update(VisitPhoto).where(VisitPhoto.visit_id == visit.id).values(taken_at=when)
    )
    db.session.commit()


def with_everything(visit, rules_row, days: float):
    """A photo, a signature, a tea with a note, a desk request, a reprint and an
    event for ``visit``, all ``days`` old."""
    when = utcnow() - timedelta(days=days)
    photos.save(visit.id, jpeg())
    with write() as session:
        session.add(
            Signature(
                visit_id=visit.id,
                rules_id=rules_row.id,
                version=rules_row.version,
                language="en",
                visitor_key=rules.visitor_key(visit.visitor),
                image_png=png(),
                signed_at=when,
            )
        )
        session.add(
            Task(
                visit_id=visit.id,
                kind="tea",
                status="served",
                details={"items": [{"drink": "Green tea", "count": 2}], "note": "Ada: no sugar"},
            )
        )
        session.add(
            DeskRequest(
                kind="turned_away",
                visit_id=visit.id,
                details={"reason": "cancelled", "name": visit.visitor.name},
                created_at=when,
            )
        )
        session.add(
            PrintJob(
                visit_id=visit.id,
                printer_url="emulator:///tmp/x",
                status="done",
                reason=f"{visit.visitor.name} lost it",
                reprint=True,
            )
        )
        event = rt.record(
            session,
            "visitor_arrived",
            {"visit_id": visit.id, "visitor": {"name": visit.visitor.name}},
            ["reception"],
        )
        event.created_at = when
    backdate(visit, days)


@pytest.fixture
def published(staff):
    return rules.publish("Rule one.", "规则一。", staff["admin"])


def test_purge_anonymises_visits_past_the_window_and_keeps_counts(
    app, staff, make_visit, published
):
    old = make_visit(name="Ada Lovelace", company="Engines", email="ada@example.com")
    with_everything(old, published, days=400)
    recent = make_visit(name="Bob Recent", company="Now Ltd", email="bob@example.com")
    with_everything(recent, published, days=3)
    visits_before = db.session.scalar(select(func.count(Visit.id)))

    done = retention.purge(actor_label="test")

    assert done is not None and not done.dry_run
    assert done.counts["visits"] == 1 and done.counts["visitors"] == 1
    db.session.expire_all()
    gone = db.session.get(Visit, old.id)
    assert gone.anonymised_at is not None and gone.purpose == ""
    assert gone.status == "checked_out" and gone.host_id == staff["host"].id  # still counts
    assert gone.visitor.name == retention.REMOVED_NAME
    assert (gone.visitor.company, gone.visitor.email, gone.visitor.phone) == ("", "", "")
    assert db.session.get(VisitPhoto, old.id) is None
    sig = db.session.scalars(select(Signature).where(Signature.visit_id == old.id)).one()
    assert sig.image_png is None and sig.visitor_key == "" and sig.version == published.version
    tea = db.session.scalars(select(Task).where(Task.visit_id == old.id)).one()
    assert tea.details == {"items": [{"drink": "Green tea", "count": 2}]}
    req = db.session.scalars(select(DeskRequest).where(DeskRequest.visit_id == old.id)).one()
    assert req.details == {"reason": "cancelled"}
    job = db.session.scalars(select(PrintJob).where(PrintJob.visit_id == old.id)).one()
    assert job.reason == "" and job.status == "done"
    assert db.session.scalar(select(func.count(Visit.id))) == visits_before  # no row deleted

    kept = db.session.get(Visit, recent.id)
    assert kept.anonymised_at is None and kept.purpose == "Engine review"
    assert kept.visitor.name == "Bob Recent" and kept.visitor.email == "bob@example.com"
    assert db.session.get(VisitPhoto, recent.id) is not None
    recent_sig = db.session.scalars(select(Signature).where(Signature.visit_id == recent.id)).one()
    assert recent_sig.image_png is not None

    entry = db.session.get(AuditEntry, done.audit_id)
    assert entry.action == "retention.purge" and entry.actor == "test"
    assert entry.after["visits"] == 1 and entry.after["personal_days"] == 365
    assert "Ada" not in str(entry.after)
    assert audit.verify(db.session) is None


def test_dry_run_reports_the_same_counts_and_changes_nothing(app, make_visit, published):
    old = make_visit(name="Ada Lovelace", email="ada@example.com")
    with_everything(old, published, days=400)
    entries = db.session.scalar(select(func.count(AuditEntry.id)))

    dry = retention.purge(dry_run=True)

    db.session.expire_all()
    assert dry is not None and dry.dry_run and dry.counts["visits"] == 1
    assert db.session.get(Visit, old.id).visitor.name == "Ada Lovelace"
    assert db.session.get(VisitPhoto, old.id) is not None
    assert db.session.scalar(select(func.count(AuditEntry.id))) == entries
    assert db.session.scalar(select(RetentionSettings.last_purge_at)) is None
    real = retention.purge()
    assert real is not None and real.counts == dry.counts


def test_a_visitor_with_a_recent_visit_keeps_their_name_until_it_is_old_too(
    app, make_visit, published
):
    first = make_visit(name="Cleo Return", email="cleo@example.com")
    backdate(first, 500)
    again = make_visit(name="Cleo Return", email="cleo@example.com")
    # One visitor row with two visits (today each booking makes its own row; an import
    # or a later "returning visitor" may share one).
    db.session.execute(
        update(Visit).where(Visit.id == again.id).values(visitor_id=first.visitor_id)
    )
    db.session.commit()

    retention.purge()
    db.session.expire_all()
    assert db.session.get(Visit, first.id).anonymised_at is not None
    assert db.session.get(Visit, first.id).purpose == ""
    assert db.session.get(Visitor, first.visitor_id).name == "Cleo Return"

    backdate(again, 370)
    retention.purge()
    db.session.expire_all()
    assert db.session.get(Visitor, first.visitor_id).name == retention.REMOVED_NAME


def test_images_go_after_their_own_window_personal_data_stays(app, make_visit, published):
    visit = make_visit(name="Dora Photo", email="dora@example.com")
    with_everything(visit, published, days=40)
    badge_dir = Path(app.config["DATA_DIR"]) / "badges"
    badge_dir.mkdir(exist_ok=True)
    old_badge, new_badge = badge_dir / "badge-old-0001.png", badge_dir / "badge-new-0001.png"
    old_badge.write_bytes(png())
    new_badge.write_bytes(png())
    forty_days = time.time() - 40 * 86400
    os.utime(old_badge, (forty_days, forty_days))
    app.config["DEFAULT_PRINTER"] = f"emulator://{badge_dir}"

    done = retention.purge()

    assert done is not None
    assert (done.counts["photos"], done.counts["signature_images"]) == (1, 1)
    assert (done.counts["visits"], done.counts["badge_files"]) == (0, 1)
    db.session.expire_all()
    assert db.session.get(VisitPhoto, visit.id) is None
    assert db.session.get(Visit, visit.id).visitor.name == "Dora Photo"
    assert not old_badge.exists() and new_badge.exists()


def test_old_events_are_deleted_and_seq_keeps_growing(app, make_visit):
    with write() as session:
        for n in range(3):
            rt.record(session, "visit_updated", {"visit_id": n, "visitor": {"name": "X"}}, ["r"])
    last = db.session.scalar(select(func.max(Event.seq)))
    db.session.execute(update(Event).values(created_at=utcnow() - timedelta(days=31)))
    db.session.commit()

    done = retention.purge()

    assert done is not None and done.counts["events"] == 3
    remaining = db.session.scalars(select(Event)).all()
    # The newest row stays, emptied: on SQLite the next seq must not start again at 1.
    assert [(e.seq, e.kind, e.payload) for e in remaining] == [(last, "purged", {})]
    with write() as session:
        fresh = rt.record(session, "visit_updated", {"visit_id": 9}, ["r"])
    assert fresh.seq == last + 1


def test_daily_purge_runs_once_however_many_workers_ask(app):
    assert retention.purge_if_due(actor_label="w1") is not None
    assert retention.purge_if_due(actor_label="w2") is None  # already done today
    later = utcnow() + retention.EVERY + timedelta(minutes=1)
    assert retention.purge_if_due(actor_label="w3", now=later) is not None
    actors = db.session.scalars(
        select(AuditEntry.actor).where(AuditEntry.action == "retention.purge")
    ).all()
    assert actors == ["w1", "w3"]


def _race(app, n=8) -> list:
    results, errors = [], []
    barrier = threading.Barrier(n)

    def ask(i):
        with app.app_context():
            try:
                barrier.wait()
                results.append(retention.purge_if_due(actor_label=f"w{i}"))
            except Exception as e:  # reported below
                errors.append(repr(e))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    return results


def test_concurrent_workers_purge_once_on_sqlite(app):
    results = _race(app)  # no settings row yet either
    assert db.session.scalar(select(func.count(RetentionSettings.id))) == 1
    assert sum(r is not None for r in results) == 1
    count = select(func.count()).where(AuditEntry.action == "retention.purge")
    assert db.session.scalar(count) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("first_ever", [True, False])
def test_concurrent_workers_purge_once_on_postgresql(pg_app, first_ever):  # noqa: F811
    if not first_ever:  # else no settings row yet: each worker would make one
        retention.save_settings(retention.DEFAULTS, None)
    results = _race(pg_app)
    assert db.session.scalar(select(func.count(RetentionSettings.id))) == 1
    assert sum(r is not None for r in results) == 1
    count = select(func.count()).where(AuditEntry.action == "retention.purge")
    assert db.session.scalar(count) == 1
    assert audit.verify(db.session) is None


def test_the_worker_runs_the_daily_purge(app, monkeypatch):
    monkeypatch.setattr(print_worker, "PURGE_FIRST_DELAY", 0.0)
    worker = print_worker.PrintWorker(app, interval=0.05, poll_seconds=0).start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.rollback()
            if db.session.scalar(select(RetentionSettings.last_purge_at)) is not None:
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.purge")
    ).one()
    assert entry.actor == f"worker:{worker.name}"


def test_lobby_purge_dry_run_then_for_real(tmp_path):
    data = tmp_path / "data"
    cli_app = create_app(
        {"DATA_DIR": data, "PRINT_WORKER": False, "SECRET_KEY": "x", "MESSAGE_QUEUE": None}
    )
    upgrade_database(cli_app)
    with cli_app.app_context():
        from server.services import people, visits

        people.create_user("h@example.com", "Host", ["host"], "password123")
        old = visits.pre_register(
            {"name": "Old Visitor", "email": "old@example.com"},
            "h@example.com",
            (utcnow() + timedelta(hours=1)).isoformat() + "+00:00",
            "Secret project",
        )
        backdate(old, 800)
        old_id = old.id
        db.session.remove()
        db.engine.dispose()
    env = {**os.environ, "LOBBY_DATA_DIR": str(data)}

    dry = subprocess.run([LOBBY, "purge", "--dry-run"], env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "visits: 1" in dry.stdout and "dry run, nothing changed" in dry.stdout
    real = subprocess.run([LOBBY, "purge"], env=env, capture_output=True, text=True)
    assert real.returncode == 0, real.stderr
    assert "purged: visits 1, " in real.stdout and "audit entry" in real.stdout
    again = subprocess.run([LOBBY, "purge"], env=env, capture_output=True, text=True)
    assert "purged: visits 0, " in again.stdout
    with cli_app.app_context():
        assert db.session.get(Visit, old_id).visitor.name == retention.REMOVED_NAME
        db.session.remove()
        db.engine.dispose()


# ---- the admin page --------------------------------------------------------------------


def test_retention_page_is_for_admins_only(app, client, staff):
    assert client.get("/admin/retention").status_code in (302, 401)
    login(client, "desk@example.com")
    assert client.get("/admin/retention").status_code == 403


def test_admin_saves_the_windows_and_it_is_audited(app, client, staff):
    login(client, "admin@example.com")
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "Data retention" in page and "数据保留期限" in page and 'value="365"' in page
    resp = client.post(
        "/admin/retention",
        data={
            "personal_days": "180",
            "images_days": "7",
            "events_days": "14",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 303
    row = db.session.scalars(select(RetentionSettings)).one()
    assert (row.personal_days, row.images_days, row.events_days) == (180, 7, 14)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.settings")
    ).one()
    assert entry.actor == "admin@example.com" and entry.after["personal_days"] == 180


@pytest.mark.parametrize("bad", ["0", "3651", "abc", "", "1.5", "-3", "٣"])
def test_bad_days_come_back_on_the_form_and_nothing_is_saved(app, client, staff, bad):
    login(client, "admin@example.com")
    page = client.get("/admin/retention").get_data(as_text=True)
    resp = client.post(
        "/admin/retention",
        data={
            "personal_days": bad,
            "images_days": "30",
            "events_days": "30",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'data-field="personal_days"' in html and "请更正" in html
    assert db.session.scalars(select(RetentionSettings)).first() is None


def test_the_form_needs_its_csrf_token(app, client, staff):
    login(client, "admin@example.com")
    resp = client.post(
        "/admin/retention", data={"personal_days": "1", "images_days": "1", "events_days": "1"}
    )
    assert resp.status_code == 400
    assert db.session.scalars(select(RetentionSettings)).first() is None


def test_admin_previews_then_purges_from_the_page(app, client, staff, make_visit):
    old = make_visit(name="Eve Old", email="eve@example.com")
    backdate(old, 400)
    login(client, "admin@example.com")
    token = csrf_from(client.get("/admin/retention").get_data(as_text=True))
    preview = client.post("/admin/retention/purge", data={"dry_run": "1", "csrf_token": token})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-dry-run="1"' in html
    assert (
        '<tr data-kind="visits"><td>Visits anonymised 匿名化的到访</td><td class="num">1<' in html
    )
    db.session.expire_all()
    assert db.session.get(Visit, old.id).visitor.name == "Eve Old"
    purged = client.post("/admin/retention/purge", data={"dry_run": "0", "csrf_token": token})
    assert 'data-dry-run="0"' in purged.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Visit, old.id).visitor.name == retention.REMOVED_NAME
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "retention.purge")
    ).one()
    assert entry.actor == "admin@example.com"


# ---- the privacy notice ------------------------------------------------------------------


def test_privacy_notice_is_published_with_the_rules_and_shown_on_the_kiosk(
    app, client, staff, make_visit
):
    login(client, "admin@example.com")
    page = client.get("/admin/rules").get_data(as_text=True)
    assert "Privacy notice" in page and "隐私声明" in page
    assert "365 days" in page  # the draft names the retention windows
    resp = client.post(
        "/admin/rules",
        data={
            "text_en": "Rule one.",
            "text_zh": "规则一。",
            "privacy_en": "We keep your <name> for a year.",
            "privacy_zh": "您的姓名保存一年。",
            "base_version": "0",
            "csrf_token": csrf_from(page),
        },
    )
    assert resp.status_code == 302
    current = rules.current()
    assert current is not None and current.privacy_en == "We keep your <name> for a year."

    kiosk_settings.save(photo_enabled=False)
    kiosk = KioskClient(app)
    html = kiosk.scan(make_visit().code).get_data(as_text=True)
    assert 'data-screen="rules"' in html
    assert '<section class="privacy-notice" data-version="1"><h3>Privacy notice</h3>' in html
    assert "We keep your &lt;name&gt; for a year." in html  # escaped
    zh = KioskClient(app, name="Side door", language="zh")
    html = zh.scan(make_visit(name="Li Lei").code).get_data(as_text=True)
    assert "<h3>隐私声明</h3>您的姓名保存一年。" in html


def test_privacy_notice_in_one_language_only_is_refused(app, staff):
    from server.services.errors import ValidationError

    with pytest.raises(ValidationError) as e:
        rules.publish("Rule.", "规则。", staff["admin"], privacy_en="We keep data.")
    assert e.value.fields == {"privacy_zh": "required in both languages"}


def test_a_new_privacy_notice_is_a_new_version(app, staff):
    rules.publish("Rule.", "规则。", staff["admin"])
    again = rules.publish("Rule.", "规则。", staff["admin"], privacy_en="P.", privacy_zh="隐。")
    assert again.version == 2 and again.privacy_zh == "隐。"


def test_a_removed_signature_image_is_a_404_not_an_empty_image(
    app, client, staff, make_visit, published
):
    visit = make_visit()
    with_everything(visit, published, days=40)
    retention.purge()
    sig = db.session.scalars(select(Signature)).one()
    login(client, "admin@example.com")
    assert client.get(f"/admin/rules/signatures/{sig.id}.png").status_code == 404
    page = client.get("/admin/rules").get_data(as_text=True)
    assert "Removed (retention)" in page


@pytest.fixture
def sqlite_without_secure_delete(app):
    """SQLite as most builds ship it (Debian's turns secure_delete on by default)."""

    def off(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA secure_delete = OFF")

    db.session.remove()
    db.engine.dispose()
    sqlalchemy_event.listen(db.engine, "connect", off)
    yield
    sqlalchemy_event.remove(db.engine, "connect", off)


def test_a_purged_photo_is_not_left_readable_in_the_database_file(
    app, sqlite_without_secure_delete, make_visit, published
):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 0
    visit = make_visit(name="Fay File", email="fay@example.com")
    with_everything(visit, published, days=40)
    stored = db.session.get(VisitPhoto, visit.id).jpeg
    signature = db.session.scalars(select(Signature)).one().image_png
    needles = [stored[-80:-16], signature[-200:-100]]  # image data, not standard tables
    db.session.commit()

    retention.purge()
    with db.engine.connect() as conn:  # the WAL's pages written back into the file
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    files = Path(app.config["DATA_DIR"]).glob("lobby.db*")
    raw = b"".join(p.read_bytes() for p in files if p.is_file())
    assert not [n for n in needles if n in raw]


@pytest.mark.browser
def test_kiosk_shows_the_privacy_notice_under_the_rules_in_chromium(app, device, staff, make_visit):
    from playwright.sync_api import expect

    from tests.kiosk_helpers import snap
    from tests.test_browser import kiosk_page, now_today, scan_like_a_wedge

    kiosk_settings.save(photo_enabled=False)
    rules.publish(
        "1. No photos on the shop floor.\n" * 12 + "2. Stay with your host.",
        "一、车间内禁止拍照。\n" * 12 + "二、请与接待人同行。",
        staff["admin"],
        privacy_en="We keep your name and visit for 365 days, your photo for 30.\n"
        "Ask reception for a copy.",
        privacy_zh="您的姓名与到访记录保存365天，照片保存30天。\n可向前台索取副本。",
    )
    kiosk = kiosk_page(device)
    kiosk.set_viewport_size({"width": 1280, "height": 800})
    scan_like_a_wedge(kiosk, make_visit(when=now_today()).code)
    notice = kiosk.locator("#kiosk-result .rules-text .privacy-notice")
    expect(notice.locator("h3")).to_have_text("Privacy notice")
    notice.scroll_into_view_if_needed()
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("your photo for 30.")
    # The notice scrolls inside the rules box; the pad and the buttons stay where they were.
    expect(kiosk.get_by_role("button", name="I accept and sign")).to_be_in_viewport()
    snap(kiosk, "kiosk-rules-privacy-en")

    kiosk.click(".lang-switch .lang[data-lang=zh]")
    notice = kiosk.locator("#kiosk-result .rules-text .privacy-notice")
    expect(notice.locator("h3")).to_have_text("隐私声明")
    notice.scroll_into_view_if_needed()
    expect(notice).to_contain_text("照片保存30天")
    snap(kiosk, "kiosk-rules-privacy-zh")


@pytest.mark.postgres
def test_purge_and_forget_on_postgresql(pg_app):  # noqa: F811
    from server.services import people, visitor_data, visits

    people.create_user("host@example.com", "Host", ["host"], "password123")
    published = rules.publish("Rule.", "规则。", None)
    soon = (utcnow() + timedelta(hours=1)).isoformat() + "+00:00"
    old = visits.pre_register(
        {"name": "Ada Old", "email": "ada@example.com"}, "host@example.com", soon, "x"
    )
    with_everything(old, published, days=400)
    new = visits.pre_register(
        {"name": "Bob New", "email": "bob@example.com"}, "host@example.com", soon, "y"
    )
    with_everything(new, published, days=40)

    dry = retention.purge(dry_run=True)
    done = retention.purge()

    assert dry is not None and done is not None and dry.counts == done.counts
    assert (done.counts["visits"], done.counts["visitors"], done.counts["photos"]) == (1, 1, 2)
    db.session.expire_all()
    assert db.session.get(Visit, old.id).visitor.name == retention.REMOVED_NAME
    assert db.session.get(Visit, new.id).visitor.name == "Bob New"
    assert visitor_data.forget("BOB@example.com")["visits"] == 1
    db.session.expire_all()
    assert db.session.get(Visit, new.id).visitor.name == retention.REMOVED_NAME
    assert audit.verify(db.session) is None


def test_admin_downloads_a_visitors_data_and_forgets_them(app, client, staff, make_visit):
    import json
    import zipfile

    visit = make_visit(name="Gil Person", email="gil@example.com")
    photos.save(visit.id, jpeg())
    login(client, "admin@example.com")
    page = client.get("/admin/retention").get_data(as_text=True)
    assert "A visitor's data" in page and "访客个人数据" in page
    token = csrf_from(page)

    got = client.post(
        "/admin/retention/visitor",
        data={"email": "GIL@example.com", "action": "export", "csrf_token": token},
    )
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert "attachment;" in got.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(got.data)) as zf:
        assert json.loads(zf.read("visitor.json"))["visitors"][0]["name"] == "Gil Person"
        assert f"photos/visit-{visit.id}.jpg" in zf.namelist()

    unconfirmed = client.post(
        "/admin/retention/visitor",
        data={"email": "gil@example.com", "action": "forget", "csrf_token": token},
    )
    assert unconfirmed.status_code == 422
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).visitor.name == "Gil Person"
    done = client.post(
        "/admin/retention/visitor",
        data={"email": "gil@example.com", "action": "forget", "confirm": "1", "csrf_token": token},
    )
    assert done.status_code == 200 and 'id="visitor-forgotten"' in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).visitor.name == retention.REMOVED_NAME
    mine = select(AuditEntry.action, AuditEntry.actor).where(
        AuditEntry.action.in_(["visitor.export", "visitor.forget"])
    )
    assert db.session.execute(mine.order_by(AuditEntry.id)).all() == [
        ("visitor.export", "admin@example.com"),
        ("visitor.forget", "admin@example.com"),
    ]


@pytest.mark.parametrize(
    "form, status",
    [
        ({"email": "nobody@example.com", "action": "export"}, 404),
        ({"email": "nobody@example.com", "action": "forget", "confirm": "1"}, 404),
        ({"email": "not an email", "action": "export"}, 422),
        ({"email": "", "action": "forget", "confirm": "1"}, 422),
        ({"email": "x@example.com", "action": "drop-tables"}, 422),
        ({"email": "x" * 5000 + "@example.com", "action": "export"}, 422),
    ],
)
def test_bad_visitor_requests_are_a_clear_4xx(app, client, staff, form, status):
    login(client, "admin@example.com")
    token = csrf_from(client.get("/admin/retention").get_data(as_text=True))
    resp = client.post("/admin/retention/visitor", data={**form, "csrf_token": token})
    assert resp.status_code == status
    assert 'id="visitor-error"' in resp.get_data(as_text=True)


def test_visitor_requests_are_for_admins_with_a_csrf_token(app, client, staff, make_visit):
    make_visit(name="Hal", email="hal@example.com")
    login(client, "desk@example.com")
    form = {"email": "hal@example.com", "action": "export"}
    assert client.post("/admin/retention/visitor", data=form).status_code in (400, 403)
    admin = app.test_client()
    login(admin, "admin@example.com")
    assert admin.post("/admin/retention/visitor", data=form).status_code == 400  # no token
    exported = select(AuditEntry).where(AuditEntry.action == "visitor.export")
    assert db.session.scalars(exported).first() is None
