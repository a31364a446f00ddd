"""The watchlist (issue 13 item 4): names matched as given (case, spaces, full-width,
word order; no transliteration), a matching check-in or walk-in prints no badge and
alerts no host, the kiosk and the API say only "see reception", reception is told
live who and why and may let the visitor in with a reason (audited); the admin page,
the API and ``lobby watchlist``."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event

from server.extensions import db
from server.models import AuditEntry, DeskRequest, PrintJob, Visit, WatchlistEntry, utcnow
from server.services import audit, checkin, clock, people, visits, watchlist
from server.services.errors import CheckInError, ValidationError
from tests.conftest import auth, csrf_from, login, pg_app, staff_socket  # noqa: F401
from tests.kiosk_helpers import KioskClient
from tests.test_cli import env, lobby  # noqa: F401
from tests.test_kiosk import paired_kiosk, scan
from tests.test_reception_desk import Desk, received

WALK_IN_ATTEMPT = "attempt-key-0123456789"


def listed(name="Zhang Wei", reason="Harassed staff at the 2025 fair", **extra):
    return watchlist.add({"name": name, "reason": reason, **extra})


def badges(visit_id: int) -> int:
    db.session.rollback()
    return db.session.query(PrintJob).filter_by(visit_id=visit_id).count()


def matches_of(visit_id: int) -> list[DeskRequest]:
    db.session.rollback()
    return list(db.session.query(DeskRequest).filter_by(kind="watchlist_match", visit_id=visit_id))


def actions() -> list[str]:
    db.session.rollback()
    entries = db.session.query(AuditEntry).order_by(AuditEntry.id)
    return [e.action for e in entries if e.action.startswith("watchlist.")]


# --- normalisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["Zhang Wei", "zhang  wei", "ＺＨＡＮＧ ＷＥＩ", " ZHANG\u3000Wei ", "Wei Zhang", "zhang-wei"],
)
def test_latin_names_match_whatever_case_spacing_width_or_word_order(app, given):
    assert watchlist.name_key(given) == watchlist.name_key("Zhang Wei") == "wei zhang"


def test_chinese_names_match_as_given_and_spaces_between_characters_do_not_count():
    assert watchlist.name_key("张伟") == watchlist.name_key("张 伟") == "张伟"
    assert watchlist.name_key("张伟") == watchlist.name_key("张\u3000伟")


def test_no_transliteration_between_scripts():
    assert watchlist.name_key("张伟") != watchlist.name_key("Zhang Wei")


def test_accents_and_apostrophes_are_forgiven():
    assert watchlist.name_key("José Müller") == watchlist.name_key("jose MULLER")
    assert watchlist.name_key("Conan O'Brien") == watchlist.name_key("conan obrien")


def test_phone_keys_are_the_last_eight_digits_and_shorter_numbers_have_none():
    assert watchlist.phone_key("+86 138-0000-1234") == "00001234"
    assert watchlist.phone_key("１３８ ０００ ０１２３４") == "00001234"  # full-width digits
    assert watchlist.phone_key("1234567") == ""
    assert watchlist.email_key(" Zhang.Wei@Example.COM ") == "zhang.wei@example.com"


def test_an_entry_with_a_company_matches_the_name_only_with_that_company(app):
    listed("Zhang Wei", company="Acme Trading Co.")
    assert watchlist.find("zhang wei", "ACME trading") is not None
    assert watchlist.find("Zhang Wei", "Globex") is None
    assert watchlist.find("Zhang Wei", "") is None
    plain = listed("李娜")  # no company: the name alone matches
    found = watchlist.find("李 娜", "Anything Ltd")
    assert found is not None and found.entry.id == plain.id and found.on == ["name"]


def test_email_or_phone_match_whatever_the_name(app):
    entry = listed("Somebody", email="Bad@Example.com", phone="+86 138 0000 1234")
    by_mail = watchlist.find("Another Name", "", "", "bad@example.COM")
    by_phone = watchlist.find("Another Name", "", "0086-13800001234", "")
    assert by_mail is not None and by_mail.entry.id == entry.id and by_mail.on == ["email"]
    assert by_phone is not None and by_phone.on == ["phone"]
    assert watchlist.find("Another Name", "", "0001234", "") is None  # 7 digits: no match


def test_a_removed_entry_no_longer_matches(app):
    entry = listed()
    assert watchlist.find("Zhang Wei") is not None
    watchlist.remove(entry.id)
    assert watchlist.find("Zhang Wei") is None


def test_bad_entries_are_refused_field_by_field(app):
    with pytest.raises(ValidationError) as e:
        watchlist.add({"name": "  ", "reason": "", "phone": "12-34", "email": "nope"})
    assert e.value.code == "invalid_entry"
    assert set(e.value.fields) == {"name", "reason", "phone", "email"}
    with pytest.raises(ValidationError):
        watchlist.add({"name": ["x"], "reason": "r"})
    assert db.session.query(WatchlistEntry).count() == 0


# --- the hot path stays free while the list is empty ------------------------------------


def test_check_in_asks_nothing_of_the_empty_watchlist_and_sees_a_new_entry_at_once(
    app, staff, make_visit
):
    first, second, third = make_visit(), make_visit(), make_visit(name="Zhang Wei")
    checkin.check_in(first.code)  # warms the "is the list empty?" cache
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        checkin.check_in(second.code)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert statements and not [s for s in statements if "watchlist_entries" in s]
    listed("Zhang Wei")  # this process added it: the very next check-in sees it
    with pytest.raises(CheckInError) as e:
        checkin.check_in(third.code)
    assert e.value.code == "see_reception" and e.value.status == 409


# --- a match: no check-in, reception told -------------------------------------------------


def test_api_check_in_of_a_listed_visitor_is_409_see_reception_and_only_reception_hears(
    app, client, staff, tokens, make_visit
):
    visit = make_visit(name="ＺＨＡＮＧ  wei", company="Acme")
    entry = listed("Zhang Wei", reason="Harassed staff at the 2025 fair")
    host_sock = staff_socket(app, "grace@example.com")
    desk_sock = staff_socket(app, "desk@example.com")
    admin_sock = staff_socket(app, "admin@example.com")
    for sock in (host_sock, desk_sock, admin_sock):
        sock.get_received()
    resp = client.post(
        "/api/v1/checkins", json={"code": visit.code}, headers=auth(tokens["reception"])
    )
    assert resp.status_code == 409
    body = resp.get_json()
    assert body["error"]["code"] == "see_reception"
    assert "watchlist" not in resp.get_data(as_text=True).lower()
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "expected"
    assert badges(visit.id) == 0
    assert host_sock.get_received() == []  # no alert, no event at all for the host
    for sock in (desk_sock, admin_sock):
        got = received(sock, "watchlist_match")
        assert len(got) == 1
        details = got[0]["details"]
        assert got[0]["visit_id"] == visit.id and got[0]["visitor"]["name"] == "ＺＨＡＮＧ  wei"
        assert details["why"] == "Harassed staff at the 2025 fair"
        assert details["entry_id"] == entry.id and details["matched_on"] == ["name"]
    (request,) = matches_of(visit.id)
    assert request.status == "open" and request.details["listed_name"] == "Zhang Wei"
    # Trying again: the same refusal, still one request and no second alert.
    again = client.post(
        "/api/v1/checkins", json={"code": visit.code}, headers=auth(tokens["reception"])
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "see_reception"
    assert len(matches_of(visit.id)) == 1
    assert received(desk_sock, "watchlist_match") == []


def test_kiosk_scan_refuses_without_saying_watchlist(app, staff, make_visit):
    visit = make_visit(name="Zhang Wei", email="zw@example.com")
    listed("Someone Else", email="ZW@example.com", reason="WATCHLIST-SECRET-REASON")
    kiosk = KioskClient(app)  # the scan's own answer: refused before rules and photo
    html = kiosk.scan(visit.code).get_data(as_text=True)
    assert 'data-outcome="refused"' in html and 'data-reason="see_reception"' in html
    assert "Please ask at the reception desk." in html
    assert "watchlist" not in html.lower() and "SECRET" not in html
    assert 'data-screen="rules"' not in html and 'data-screen="photo"' not in html
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "expected"
    assert badges(visit.id) == 0
    (request,) = matches_of(visit.id)
    assert request.kiosk is not None and request.kiosk.name == "Front door"
    assert request.details["matched_on"] == ["email"]
    # The refusal screen's refresh URL (language switch) says nothing either.
    again = kiosk.get("/kiosk/refused", reason="see_reception", lang="zh")
    assert "watchlist" not in again.get_data(as_text=True).lower()
    # Another kiosk: refused the same way, and reception still has the one request.
    browser, _ = paired_kiosk(app, "Side door")
    late = scan(browser, visit.code).get_data(as_text=True)
    assert 'data-reason="see_reception"' in late and "watchlist" not in late.lower()
    assert badges(visit.id) == 0 and len(matches_of(visit.id)) == 1


def test_walk_in_with_a_host_is_refused_before_rules_and_photo(app, staff):
    listed("Zhang Wei", company="Acme")
    kiosk = KioskClient(app)
    resp = kiosk.post(
        "/kiosk/walk-in",
        {
            "name": "zhang wei",
            "company": "ACME Ltd",
            "phone": "13800001234",
            "purpose": "negotiation",
            "host_id": str(staff["host"].id),
            "attempt": WALK_IN_ATTEMPT,
        },
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-reason="see_reception"' in html
    assert "watchlist" not in html.lower()
    visit = db.session.query(Visit).one()
    assert visit.status == "expected" and badges(visit.id) == 0
    assert len(matches_of(visit.id)) == 1


def test_walk_in_without_a_host_asks_reception_about_the_match_not_to_route_them(app, staff):
    listed("张伟", reason="前员工，禁止入内")
    desk_sock = staff_socket(app, "desk@example.com")
    desk_sock.get_received()
    kiosk = KioskClient(app, language="zh")
    form = {"name": "张 伟", "company": "", "phone": "", "attempt": WALK_IN_ATTEMPT}
    for _ in range(2):  # a retried submit is one request
        html = kiosk.post("/kiosk/walk-in", form).get_data(as_text=True)
        assert 'data-reason="see_reception"' in html and "watchlist" not in html.lower()
        assert "请到前台咨询。" in html  # the usual refusal, in the visitor's language
    db.session.rollback()
    kinds = [r.kind for r in db.session.query(DeskRequest)]
    assert kinds == ["watchlist_match"]
    (alert,) = received(desk_sock, "watchlist_match")
    assert alert["visitor"]["name"] == "张 伟" and alert["details"]["why"] == "前员工，禁止入内"
    assert db.session.query(Visit).count() == 0


def test_on_postgresql_parallel_scans_of_a_listed_visitor_make_one_request(pg_app):  # noqa: F811
    people.create_user("grace@example.com", "Grace Hopper", ["host"], "password123")
    _, end = clock.today_bounds()
    when = min(utcnow() + timedelta(minutes=5), end - timedelta(seconds=1))
    visit = visits.pre_register(
        {"name": "Zhang Wei"}, "grace@example.com", when.isoformat() + "+00:00", "x"
    )
    listed("zhang WEI")  # the visitor has no phone or e-mail: blank keys are bound too
    errors: list[str] = []
    barrier = threading.Barrier(30)

    def scan():
        with pg_app.app_context():
            try:
                barrier.wait()
                checkin.check_in(visit.code)
                errors.append("checked in")
            except CheckInError as e:
                errors.append(e.code)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == ["see_reception"] * 30
    assert len(matches_of(visit.id)) == 1
    assert db.session.get(Visit, visit.id).status == "expected" and badges(visit.id) == 0


# --- reception lets them in ---------------------------------------------------------------


def test_reception_lets_a_listed_visitor_in_with_a_reason_audited(app, staff, make_visit):
    visit = make_visit(name="Zhang Wei")
    entry = listed()
    desk = Desk(app)
    # Without a reason the desk is refused too, and told why (staff may read it).
    refused = desk.post(f"/reception/visits/{visit.id}/checkin")
    text = refused.get_data(as_text=True)
    assert 'role="alert"' in text and "Not checked in" in text
    assert "on the watchlist" in text and "give a reason" in text
    assert badges(visit.id) == 0
    (request,) = matches_of(visit.id)
    board = desk.html("/reception")
    assert "On the watchlist 命中观察名单" in board
    assert "Harassed staff at the 2025 fair" in board and "Let in 准许进入" in board
    host_sock = staff_socket(app, "grace@example.com")
    host_sock.get_received()
    answer = desk.post(
        f"/reception/visits/{visit.id}/checkin",
        {"reason": "Cleared by security, escorted", "desk_request_id": str(request.id)},
    )
    assert "checked in 已签到" in answer.get_data(as_text=True)
    db.session.expire_all()
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "checked_in" and visit.admit_reason == "Cleared by security, escorted"
    assert visit.admitted_by_id == staff["reception"].id
    assert badges(visit.id) == 1
    assert [a["visit_id"] for a in received(host_sock, "visitor_arrived")] == [visit.id]
    (request,) = matches_of(visit.id)
    assert request.status == "done"
    entry_row = db.session.query(AuditEntry).filter_by(action="watchlist.admit").one()
    assert entry_row.actor_id == staff["reception"].id and entry_row.target_id == str(visit.id)
    assert entry_row.note == "Cleared by security, escorted"
    assert entry_row.after["entry_id"] == entry.id
    assert audit.verify(db.session) is None
    # Let in, their badge scanned again at once is the usual welcome, not a new refusal.
    again = KioskClient(app).scan(visit.code).get_data(as_text=True)
    assert 'data-outcome="welcome"' in again and len(matches_of(visit.id)) == 1


def test_a_reason_given_before_reception_saw_the_match_is_not_enough(app, staff, make_visit):
    """Letting in a turned-away visitor who is also listed: reception must first see who
    and why (the request), then let them in."""
    visit = make_visit(name="Zhang Wei")
    listed()
    desk = Desk(app)
    first = desk.post(f"/reception/visits/{visit.id}/checkin", {"reason": "VIP"})
    assert "Not checked in" in first.get_data(as_text=True) and badges(visit.id) == 0
    assert len(matches_of(visit.id)) == 1
    second = desk.post(f"/reception/visits/{visit.id}/checkin", {"reason": "VIP, seen"})
    assert "checked in 已签到" in second.get_data(as_text=True) and badges(visit.id) == 1
    assert actions().count("watchlist.admit") == 1


def test_desk_walk_in_of_a_listed_visitor_is_not_checked_in_and_the_desk_is_told_why(app, staff):
    listed("Zhang Wei", phone="138 0000 1234")
    desk = Desk(app)
    resp = desk.post(
        "/reception/walk-ins",
        {"name": "Someone", "phone": "+86 13800001234", "host_id": str(staff["host"].id)},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "is on the watchlist 命中观察名单" in html
    visit = db.session.query(Visit).one()
    assert visit.status == "expected" and badges(visit.id) == 0
    (request,) = matches_of(visit.id)
    assert request.details["matched_on"] == ["phone"]


# --- the admin page and the API ------------------------------------------------------------


def test_admin_page_adds_and_removes_entries_audited(app, staff):
    admin = app.test_client()
    login(admin, "admin@example.com")
    page = admin.get("/admin/watchlist")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Watchlist" in html and "观察名单" in html and "Nobody is on the list" in html
    token = csrf_from(html)
    bad = admin.post("/admin/watchlist", data={"csrf_token": token, "name": "Zhang Wei"})
    assert bad.status_code == 422 and 'data-field="reason"' in bad.get_data(as_text=True)
    no_csrf = admin.post("/admin/watchlist", data={"name": "X", "reason": "y"})
    assert no_csrf.status_code in (400, 422)
    ok = admin.post(
        "/admin/watchlist",
        data={
            "csrf_token": token,
            "name": "<b>Zhang</b> Wei",
            "company": "Acme",
            "phone": "+86 138 0000 1234",
            "reason": "Threatened a guard",
        },
    )
    assert ok.status_code == 201
    shown = ok.get_data(as_text=True)
    assert "&lt;b&gt;Zhang&lt;/b&gt; Wei" in shown and "<b>Zhang</b>" not in shown
    entry = db.session.query(WatchlistEntry).one()
    assert entry.name_key == "b b wei zhang" and entry.phone_key == "00001234"
    removed = admin.post(f"/admin/watchlist/{entry.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 200 and "Removed" in removed.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(WatchlistEntry, entry.id).active is False
    again = admin.post(f"/admin/watchlist/{entry.id}/remove", data={"csrf_token": token})
    assert again.status_code == 409
    assert actions() == ["watchlist.add", "watchlist.remove"]
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get("/admin/watchlist").status_code == 403
    assert 'href="/admin/watchlist"' in admin.get("/admin/").get_data(as_text=True)


def test_api_lists_adds_and_removes_for_admins_only(app, client, staff, tokens):
    admin = auth(tokens["admin"])
    assert client.get("/api/v1/watchlist", headers=auth(tokens["reception"])).status_code == 403
    assert client.get("/api/v1/watchlist").status_code == 401
    bad = client.post("/api/v1/watchlist", json={"name": "X"}, headers=admin)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_entry"
    junk = client.post("/api/v1/watchlist", data="[1]", headers=admin)
    assert junk.status_code == 422
    made = client.post(
        "/api/v1/watchlist",
        json={"name": "Zhang Wei", "email": "zw@example.com", "reason": "fraud"},
        headers=admin,
    )
    assert made.status_code == 201
    entry = made.get_json()
    assert entry["active"] is True and entry["email"] == "zw@example.com"
    listing = client.get("/api/v1/watchlist", headers=admin).get_json()
    assert listing["count"] == 1 and listing["entries"][0]["id"] == entry["id"]
    gone = client.delete(f"/api/v1/watchlist/{entry['id']}", headers=admin)
    assert gone.status_code == 200 and gone.get_json()["active"] is False
    assert client.delete(f"/api/v1/watchlist/{entry['id']}", headers=admin).status_code == 409
    assert client.delete("/api/v1/watchlist/999", headers=admin).status_code == 404
    huge = client.delete(f"/api/v1/watchlist/{2**70}", headers=admin)  # past SQLite's integers
    assert huge.status_code == 404 and huge.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/watchlist", headers=admin).get_json()["count"] == 0
    assert client.get("/api/v1/watchlist?all=1", headers=admin).get_json()["count"] == 1


# --- the command line ------------------------------------------------------------------------


def test_cli_adds_lists_and_removes(env):  # noqa: F811
    added = lobby(
        env,
        "watchlist",
        "add",
        "Zhang Wei",
        "--company",
        "Acme",
        "--phone",
        "+86 138 0000 1234",
        "--reason",
        "Threatened a guard",
    )
    entry_id = added.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+", entry_id)
    shown = lobby(env, "watchlist", "list").stdout
    assert f"{entry_id}\tZhang Wei\tAcme\t+86 138 0000 1234\t-\tThreatened a guard" in shown
    refused = lobby(env, "watchlist", "add", "Nobody", ok=False)
    assert refused.returncode != 0 and "--reason" in refused.stderr
    short = lobby(env, "watchlist", "add", "X", "--phone", "12", "--reason", "r", ok=False)
    assert short.returncode == 1 and "phone" in short.stderr
    lobby(env, "watchlist", "remove", entry_id)
    assert "nobody on the watchlist" in lobby(env, "watchlist", "list").stdout
    assert "removed" in lobby(env, "watchlist", "list", "--all").stdout
    again = lobby(env, "watchlist", "remove", entry_id, ok=False)
    assert again.returncode == 1 and "already removed" in again.stderr
