"""Issue 13, login: logout for real (a replayed cookie opens nothing), sessions that end
when a user is disabled or their password changes, the same answer time for unknown
and real accounts, and sign-in limits per account and per address (memory, Redis)."""

import secrets
import statistics
import time

import pytest
import redis
from flask_login.utils import encode_cookie
from sqlalchemy import select

from server import create_app, upgrade_database
from server.extensions import db
from server.models import LoginSession
from server.services import accounts, people
from tests.conftest import PASSWORD, csrf_from, login

REDIS_URL = "redis://127.0.0.1:6379/0"


def signed_in(client, page="/host") -> bool:
    resp = client.get(page)
    return resp.status_code == 200


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def logout(client):
    page = client.get("/host").get_data(as_text=True)
    return client.post("/logout", data={"csrf_token": csrf_from(page)})


# --- logout for real ----------------------------------------------------------------


def test_a_session_cookie_replayed_after_logout_is_refused(app, staff):
    web = app.test_client()
    assert login(web, "grace@example.com").status_code == 302
    stolen = session_cookie(web)
    assert logout(web).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    resp = replay.get("/host")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    row = db.session.scalar(select(LoginSession).where(LoginSession.user_id == staff["host"].id))
    assert row is not None and row.ended_at is not None and row.end_reason == "logout"


def test_login_keeps_only_the_login_session_id_in_the_cookie(app, staff):
    web = app.test_client()
    login(web, "grace@example.com")
    assert signed_in(web)
    with web.session_transaction() as sess:
        sid = sess["lobby_login"]
    row = db.session.get(LoginSession, sid)
    assert row is not None and row.user_id == staff["host"].id and row.ended_at is None
    assert len(sid) >= 43  # token_urlsafe(32): 256 random bits


def test_a_remember_cookie_cannot_bring_an_ended_session_back(app, staff):
    web = app.test_client()
    login(web, "grace@example.com")
    logout(web)
    forged = app.test_client()  # a valid, signed remember cookie, but no login session
    forged.set_cookie("remember_token", encode_cookie(str(staff["host"].id)))
    resp = forged.get("/host")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_disabling_a_user_ends_every_session_of_theirs(app, staff):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "grace@example.com")
    login(laptop, "grace@example.com")
    assert signed_in(phone) and signed_in(laptop)
    accounts.set_active(staff["host"].id, False, by=staff["admin"])
    accounts.set_active(staff["host"].id, True, by=staff["admin"])  # back, but not the cookies
    assert not signed_in(phone) and not signed_in(laptop)
    assert login(app.test_client(), "grace@example.com").status_code == 302


def test_a_new_password_ends_other_sessions_but_not_the_admins_own(app, staff):
    grace = app.test_client()
    login(grace, "grace@example.com")
    admin, admin_phone = app.test_client(), app.test_client()
    login(admin, "admin@example.com")
    login(admin_phone, "admin@example.com")
    page = admin.get(f"/admin/users/{staff['host'].id}").get_data(as_text=True)
    resp = admin.post(
        f"/admin/users/{staff['host'].id}/password",
        data={"password": "a brand new secret", "csrf_token": csrf_from(page)},
    )
    assert resp.status_code == 200
    assert not signed_in(grace)
    # An admin changing their own password stays signed in where they did it.
    page = admin.get(f"/admin/users/{staff['admin'].id}").get_data(as_text=True)
    resp = admin.post(
        f"/admin/users/{staff['admin'].id}/password",
        data={"password": "another new secret", "csrf_token": csrf_from(page)},
    )
    assert resp.status_code == 200
    assert signed_in(admin, "/admin") and not signed_in(admin_phone, "/admin")


def test_an_expired_login_session_is_signed_out(app, staff):
    web = app.test_client()
    login(web, "grace@example.com")
    app.config["LOGIN_SESSION_HOURS"] = 0
    assert not signed_in(web)


# --- the same answer time -----------------------------------------------------------


def test_a_wrong_password_and_an_unknown_email_take_the_same_time(app, staff):
    # Ten real accounts, one wrong try each (an account's own limit is not reached).
    users = [f"timing{i}@example.com" for i in range(10)]
    for email in users:
        people.create_user(email, "Timing", ["host"], PASSWORD)
    web = app.test_client()
    csrf = csrf_from(web.get("/login").get_data(as_text=True))

    def attempt(email):
        start = time.perf_counter()
        resp = web.post("/login", data={"email": email, "password": "wrong!", "csrf_token": csrf})
        took = time.perf_counter() - start
        assert resp.status_code == 401
        return took

    real, unknown = [], []
    for i, email in enumerate(users):  # interleaved: machine noise hits both alike
        real.append(attempt(email))
        unknown.append(attempt(f"nobody{i}@example.com"))
    fast, slow = sorted([statistics.median(real), statistics.median(unknown)])
    assert slow <= fast * 1.3, (
        f"real {statistics.median(real):.3f}s, unknown {statistics.median(unknown):.3f}s"
    )


def test_a_disabled_user_is_refused_in_the_same_way(app, staff):
    accounts.set_active(staff["host"].id, False, by=staff["admin"])
    web = app.test_client()
    resp = login(web, "grace@example.com")
    assert resp.status_code == 401 and "Wrong email or password" in resp.get_data(as_text=True)


# --- sign-in limits -----------------------------------------------------------------


def attempts(app, email, password, n, client=None):
    web = client or app.test_client()
    csrf = csrf_from(web.get("/login").get_data(as_text=True))
    return [
        web.post(
            "/login", data={"email": email, "password": password, "csrf_token": csrf}
        ).status_code
        for _ in range(n)
    ]


def test_wrong_passwords_lock_the_account_and_then_the_right_one_does_not_get_in(app, staff):
    codes = attempts(app, "grace@example.com", "guess!!!", 50)
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    web = app.test_client()
    resp = login(web, "grace@example.com")  # the right password, while locked
    assert resp.status_code == 429
    html = resp.get_data(as_text=True)
    assert "Too many sign-in attempts" in html and "登录尝试次数过多" in html
    assert resp.headers["Retry-After"]
    assert not signed_in(web)
    # The account is locked, not the address: another member of staff signs in.
    assert login(app.test_client(), "desk@example.com").status_code == 302


def test_the_account_key_is_the_email_as_sign_in_reads_it(app, staff):
    attempts(app, "grace@example.com", "guess!!!", 5)
    assert attempts(app, "  GRACE@Example.com ", PASSWORD, 1) == [429]


def test_signing_in_successfully_is_not_counted(app, staff):
    for _ in range(8):
        web = app.test_client()
        assert login(web, "grace@example.com").status_code == 302


def test_too_many_failures_from_one_address_lock_it_for_every_account(app, staff):
    app.config["LOGIN_LIMIT_ADDRESS"] = "6/minute"  # the default 30, quicker to reach
    for i in range(6):
        assert attempts(app, f"spray{i}@example.com", "guess!!!", 1) == [401]
    assert attempts(app, "grace@example.com", PASSWORD, 1) == [429]


def test_get_login_is_never_limited(app, staff):
    attempts(app, "grace@example.com", "guess!!!", 6)
    web = app.test_client()
    assert all(web.get("/login").status_code == 200 for _ in range(40))


def make_app(tmp_path, printer, queue, prefix):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path,
            "PRINT_WORKER": False,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'lobby.db'}",
            "DEFAULT_PRINTER": printer.url,
            "SECRET_KEY": "test-secret",
            "MESSAGE_QUEUE": queue,
            "MESSAGE_QUEUE_CHANNEL": prefix,
            "LOGIN_LIMIT_KEY_PREFIX": prefix,
        }
    )
    upgrade_database(app)
    return app


@pytest.mark.parametrize("queue", [REDIS_URL, None], ids=["redis", "memory"])
def test_with_a_message_queue_every_process_counts_in_redis(tmp_path, printer, queue):
    """Two apps on one database stand for two processes: with LOBBY_MESSAGE_QUEUE set,
    the second one refuses the account the first one locked. In memory (no queue),
    each process counts alone: the control that shows the test can fail."""
    prefix = "lobby_test_" + secrets.token_hex(4)
    first = make_app(tmp_path, printer, queue, prefix)
    with first.app_context():
        people.create_user("grace@example.com", "Grace Hopper", ["host"], PASSWORD)
        assert attempts(first, "grace@example.com", "guess!!!", 6)[-1] == 429
        db.session.remove()
    second = make_app(tmp_path, printer, queue, prefix)  # binds the limiter anew
    try:
        with second.app_context():
            code = attempts(second, "grace@example.com", PASSWORD, 1)[0]
            db.session.remove()
        if queue:
            assert code == 429
            keys = redis.Redis.from_url(REDIS_URL).keys(f"*{prefix}*")
            assert keys, "no limit counted in Redis"
        else:
            assert code == 302
    finally:
        if queue:
            r = redis.Redis.from_url(REDIS_URL)
            for key in r.scan_iter(f"*{prefix}*"):
                r.delete(key)
        for a in (first, second):
            with a.app_context():
                db.engine.dispose()
