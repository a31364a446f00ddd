"""Issue 13, the kiosk: "Find my booking" masks the company and counts every search;
"I'm leaving" asks for what only the visitor has (badge, or the phone's last four
digits); a flood of junk scans is slowed down without ever refusing a code that
exists; walk-ins are limited per kiosk; the limits hold across server processes."""

import time
import uuid

import pytest

from kiosk.limits import LOOKUPS, SCANS
from server import create_app, upgrade_database
from server.extensions import db
from server.models import DeskRequest, Visit
from server.services import checkin, hosting, lookup
from tests.kiosk_helpers import KioskClient, ticket_in

ZHANG_PHONE = "138 0000 1234"


def html(resp) -> str:
    assert resp.status_code in (200, 429), resp.status_code
    return resp.get_data(as_text=True)


@pytest.fixture
def kiosk(app, staff):
    return KioskClient(app)


# ---- find my booking: the company masked, every search counted ---------------------


def test_company_is_masked_first_letter_of_each_word():
    assert lookup.mask_company("Analytical Engines") == "A••••••••• E••••••"
    assert lookup.mask_company("华为技术") == "华•••"
    assert lookup.mask_company("  IBM  ") == "I••"
    assert lookup.mask_company("") == ""


@pytest.mark.parametrize(
    "name, company, typed, masked",
    [
        (
            "Ada Lovelace",
            "Analytical Engines",
            {"surname": "Lovelace", "company": "an"},
            "A••••••••• E••••••",
        ),
        ("张伟", "华为技术", {"surname": "张", "company": "华为"}, "华•••"),
    ],
)
def test_confirm_screen_shows_no_company_name_only_its_initials(
    app, kiosk, make_visit, name, company, typed, masked
):
    make_visit(name, company)
    for language in ("en", "zh"):
        kiosk.language = language
        page = html(kiosk.post("/kiosk/lookup", typed))
        assert 'data-screen="lookup-confirm"' in page and masked in page
        assert company not in page and "Engines" not in page and "技术" not in page


def test_every_search_counts_found_or_not(app, kiosk, make_visit):
    make_visit()
    limit = app.config["KIOSK_LOOKUP_LIMIT"]
    found = {"surname": "Lovelace", "company": "Analytical"}
    nobody = {"surname": "Nobody", "company": "Analytical"}
    for i in range(limit):
        page = html(kiosk.post("/kiosk/lookup", found if i % 2 else nobody))
        assert 'data-reason="too_many_lookups"' not in page
    refused = kiosk.post("/kiosk/lookup", found)
    assert 'data-reason="too_many_lookups"' in html(refused)
    # A browser without JavaScript gets the status too.
    plain = kiosk.client.post("/kiosk/lookup", data={**found, "csrf_token": kiosk.token})
    assert plain.status_code == 429


# ---- I'm leaving: the badge or the phone, never a name alone ----------------------


@pytest.fixture
def zhang_on_site(app, make_visit):
    visit = make_visit("张伟", "华为技术", phone=ZHANG_PHONE)
    checkin.check_in(visit.code, language="zh")
    return visit


def still_on_site(visit) -> bool:
    db.session.expire_all()
    return db.session.get_one(Visit, visit.id).status == "checked_in"


@pytest.mark.parametrize(
    "typed",
    [
        {"surname": "张"},
        {"surname": "张", "company": "华为技术"},  # on every badge: not a secret
        {"surname": "张", "company": "华为技术", "phone_last4": ""},
    ],
)
def test_leaving_by_name_alone_sends_to_reception_and_checks_out_nobody(
    app, kiosk, zhang_on_site, typed
):
    page = html(kiosk.post("/kiosk/leave", typed))
    assert 'data-outcome="see_reception"' in page and 'data-reason="leave_at_desk"' in page
    assert "last four digits of your phone" in page and "张伟" not in page
    assert still_on_site(zhang_on_site)
    kiosk.language = "zh"
    page = html(kiosk.post("/kiosk/leave", typed))
    assert "前台工作人员可以为您办理签退" in page
    # The screen renders again in the other language (the switch), with its reason.
    again = html(kiosk.get("/kiosk/see-reception", reason="leave_at_desk", lang="en"))
    assert "Our reception team can check you out." in again


def test_leaving_with_wrong_digits_finds_nobody(app, kiosk, zhang_on_site):
    page = html(kiosk.post("/kiosk/leave", {"surname": "张", "phone_last4": "4321"}))
    assert "We could not find your visit." in page and 'data-screen="leave"' in page
    assert still_on_site(zhang_on_site)


def test_leave_form_asks_for_the_phone_not_the_company(app, kiosk):
    page = html(kiosk.get("/kiosk/leave"))
    assert 'name="phone_last4"' in page and 'name="company"' not in page
    assert "Scan your badge, or enter your surname and the last four digits" in page
    zh = html(kiosk.get("/kiosk/leave", lang="zh"))
    assert "请扫描您的访客证，或输入您的姓氏和手机号码后四位" in zh
    page = html(kiosk.post("/kiosk/leave", {"surname": "", "phone_last4": "12"}))
    assert 'data-error="required"' in page and 'data-error="four_digits"' in page


def test_leaving_with_surname_and_phone_checks_out_and_reception_still_can(
    app, kiosk, zhang_on_site, make_visit
):
    page = html(kiosk.post("/kiosk/leave", {"surname": "张", "phone_last4": "1234"}))
    assert 'data-screen="leave-confirm"' in page and "华•••" in page and "华为技术" not in page
    bye = html(kiosk.post("/kiosk/leave/confirm", {"ticket": ticket_in(page)}))
    assert 'data-outcome="goodbye"' in bye and not still_on_site(zhang_on_site)
    # Someone sent to reception is checked out there (the desk's own check-out).
    ada = make_visit()
    checkin.check_in(ada.code)
    checkin.check_out(ada.code)
    assert db.session.get(Visit, ada.id).status == "checked_out"


# ---- junk scans: slowed down, never in the way of a real code ---------------------


def scan(kiosk, code, htmx=True):
    data = {"code": code, "csrf_token": kiosk.token, "lang": "en"}
    headers = {"HX-Request": "true"} if htmx else {}
    return kiosk.client.post("/kiosk/scan", data=data, headers=headers)


def reason(resp) -> str:
    text = resp.get_data(as_text=True)
    return text.split('data-reason="', 1)[1].split('"', 1)[0] if 'data-reason="' in text else ""


def test_a_hundred_junk_scans_never_stop_a_real_code(app, kiosk, make_visit):
    visit = make_visit()
    reasons = [reason(scan(kiosk, f"junk-code-{i:06d}")) for i in range(100)]
    burst = app.config["KIOSK_FAILED_SCAN_BURST"]
    assert reasons[:burst] == ["unknown_code"] * burst
    assert set(reasons[burst:]) == {"too_many_attempts"}  # slowed: refused at once
    # A real invitation in the middle of the flood goes through at once.
    started = time.perf_counter()
    page = kiosk.skip_photo(html(scan(kiosk, visit.code)))
    elapsed = time.perf_counter() - started
    assert 'data-outcome="welcome"' in page and elapsed < 1.0, elapsed
    assert still_on_site(visit)
    # The 101st junk scan: refused with a stable code (429 without JavaScript).
    resp = scan(kiosk, "junk-code-000101", htmx=False)
    assert resp.status_code == 429 and reason(resp) == "too_many_attempts"
    assert "Please wait a moment and scan again." in resp.get_data(as_text=True)
    # A URL that ends in a real code is a real code too; so is a badge (check-out).
    app.config["CHECKOUT_GRACE_SECONDS"] = 0
    bye = html(scan(kiosk, f"https://lobby.example.com/i/{visit.code}"))
    assert 'data-outcome="goodbye"' in bye


def test_junk_scans_at_one_kiosk_do_not_slow_another(app, staff):
    front, side = KioskClient(app, "Front door"), KioskClient(app, "Side door")
    for i in range(app.config["KIOSK_FAILED_SCAN_BURST"] + 5):
        scan(front, f"junk-code-{i:06d}")
    assert reason(scan(front, "junk-code-999999")) == "too_many_attempts"
    assert reason(scan(side, "junk-code-999999")) == "unknown_code"


def test_no_hour_long_lock_a_token_comes_back_within_a_minute(app, kiosk):
    for i in range(120):
        scan(kiosk, f"junk-code-{i:06d}")
    kiosk_id = kiosk_id_of(kiosk)
    answer = SCANS.available(kiosk_id)
    assert not answer.ok and answer.retry_after <= 60, answer  # 100 an hour: one per 40 s
    # With a faster refill (settings), the kiosk answers unknown codes again in seconds.
    app.config["KIOSK_FAILED_SCAN_LIMIT"] = 3600 * 20 + 10  # 20 a second
    time.sleep(0.2)
    assert reason(scan(kiosk, "junk-code-again1")) == "unknown_code"


def kiosk_id_of(kiosk) -> int:
    from server.models import Kiosk

    return db.session.query(Kiosk).filter_by(name="Front door").one().id


# ---- walk-ins: a limit per kiosk, none for reception ------------------------------


def walk_in(kiosk, n, host=None, attempt=None):
    data = {"name": f"Walker {n}", "company": "Footpaths", "phone": "+86 138 0000 0000"}
    if host is not None:
        data["host_id"] = str(host.id)
    data["attempt"] = attempt or f"attempt-{n:04d}-{uuid.uuid4().hex[:12]}"
    return kiosk.post("/kiosk/walk-in", data)


def test_walk_ins_are_limited_per_kiosk_and_reception_is_not(app, staff):
    app.config["KIOSK_WALK_IN_LIMIT"] = 3
    host = staff["host"]
    front, side = KioskClient(app, "Front door"), KioskClient(app, "Side door")
    first = walk_in(front, 0, host, attempt="attempt-first-0123456789")
    assert 'data-reason="too_many_walk_ins"' not in html(first)
    assert "too_many" not in html(walk_in(front, 1))  # no host: a request to route them
    front.post("/kiosk/walk-in", {"name": "No key", "host_id": str(host.id)})  # counted too
    visits_before = db.session.query(Visit).count()
    requests_before = db.session.query(DeskRequest).count()

    for resp in (walk_in(front, 3, host), walk_in(front, 4)):
        page = html(resp)
        assert 'data-reason="too_many_walk_ins"' in page
        assert "This kiosk has registered many walk-ins just now." in page
    front.language = "zh"
    assert "本机刚刚登记了较多临时访客" in html(walk_in(front, 5, host))
    plain = front.client.post(
        "/kiosk/walk-in",
        data={"name": "Plain", "host_id": str(host.id), "csrf_token": front.token},
    )
    assert plain.status_code == 429
    db.session.expire_all()
    assert db.session.query(Visit).count() == visits_before  # nothing written
    assert db.session.query(DeskRequest).count() == requests_before

    # A retry of an attempt already made is the same visit, limit or not.
    again = html(walk_in(front, 0, host, attempt="attempt-first-0123456789"))
    assert 'data-reason="too_many_walk_ins"' not in again
    assert db.session.query(Visit).count() == visits_before
    # Another kiosk, and reception, are not limited by this one.
    assert "too_many" not in html(walk_in(side, 6, host))
    desk = hosting.walk_in("Desk Walker", "Footpaths", "", host.id, staff["reception"])
    assert desk.walk_in


def test_walk_in_limit_counts_only_the_window(app, staff):
    app.config["KIOSK_WALK_IN_LIMIT"] = 1
    front = KioskClient(app)
    walk_in(front, 0, staff["host"])
    assert 'data-reason="too_many_walk_ins"' in html(walk_in(front, 1, staff["host"]))
    app.config["KIOSK_WALK_IN_WINDOW_MINUTES"] = 0  # the earlier one is out of the window
    assert "too_many" not in html(walk_in(front, 2, staff["host"]))


# ---- several server processes -----------------------------------------------------


def site_app(tmp_path, printer, queue):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lobby.db'}",
            "DEFAULT_PRINTER": printer.url,
            "SECRET_KEY": "test-secret",
            "MESSAGE_QUEUE": None,
            "MESSAGE_QUEUE_CHANNEL": f"lobby-test-{uuid.uuid4().hex}",
        }
    )
    # Set after create_app: the limits read it when first used, and Socket.IO (bound
    # once per test process) is not what this is about.
    app.config["MESSAGE_QUEUE"] = queue
    return app


def test_scan_and_lookup_budgets_are_shared_by_processes_through_redis(tmp_path, printer):
    """Two apps (as two server processes: each has its own memory) on one database and
    one Redis: a kiosk's junk scans and searches at one count at the other."""
    a = site_app(tmp_path, printer, "redis://127.0.0.1:6379/0")
    b = site_app(tmp_path, printer, "redis://127.0.0.1:6379/0")
    b.config["MESSAGE_QUEUE_CHANNEL"] = a.config["MESSAGE_QUEUE_CHANNEL"]  # one site
    upgrade_database(a)
    with a.app_context():
        for _ in range(a.config["KIOSK_FAILED_SCAN_BURST"]):
            assert SCANS.take(7).ok
        for _ in range(a.config["KIOSK_LOOKUP_LIMIT"]):
            assert LOOKUPS.take(7).ok
        assert SCANS.take(8).ok  # another kiosk: its own bucket
    with b.app_context():
        assert not SCANS.take(7).ok and not LOOKUPS.available(7).ok
        assert SCANS.take(8).ok
    # Without Redis each process counts alone (documented in kiosk/limits.py).
    c = site_app(tmp_path, printer, None)
    with c.app_context():
        assert SCANS.take(7).ok


def test_a_redis_that_does_not_answer_refuses_no_one(tmp_path, printer):
    app = site_app(tmp_path, printer, "redis://127.0.0.1:1/0")  # nothing listens there
    with app.app_context():
        assert SCANS.take(1).ok and LOOKUPS.available(1).ok


@pytest.mark.postgres
def test_walk_in_limit_holds_across_processes_on_postgresql(pg_app, tmp_path, printer):
    """One kiosk, its requests spread over two server processes (two apps) sharing
    PostgreSQL: the walk-ins made through one count at the other."""
    from server.services import people
    from tests.conftest import IsolatedClient, csrf_from

    pg_app.test_client_class = IsolatedClient
    pg_app.config["KIOSK_WALK_IN_LIMIT"] = 2
    host = people.create_user("grace@example.com", "Grace Hopper", ["host"], "pw-" + "x" * 12)
    other = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path / "other",
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": pg_app.config["SQLALCHEMY_DATABASE_URI"],
            "DEFAULT_PRINTER": printer.url,
            "SECRET_KEY": "test",
            "MESSAGE_QUEUE": None,
            "KIOSK_WALK_IN_LIMIT": 2,
        }
    )
    front = KioskClient(pg_app)
    for n in range(2):
        assert "too_many" not in html(walk_in(front, n, host))
    cookie = front.client.get_cookie("lobby_kiosk")
    assert cookie is not None
    browser = other.test_client()
    browser.set_cookie("lobby_kiosk", cookie.value)
    token = csrf_from(browser.get("/kiosk/").get_data(as_text=True))
    resp = browser.post(
        "/kiosk/walk-in",
        data={"name": "Third", "host_id": str(host.id), "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert 'data-reason="too_many_walk_ins"' in html(resp)
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
