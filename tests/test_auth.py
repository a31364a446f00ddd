"""Staff sign-in: hashed passwords, fresh session, CSRF, roles on every page."""

from server.extensions import db
from server.models import User
from tests.conftest import PASSWORD, csrf_from, login


def test_passwords_are_stored_hashed(app, staff):
    user = db.session.get(User, staff["host"].id)
    assert PASSWORD not in (user.password_hash or "")
    assert user.check_password(PASSWORD) and not user.check_password("wrong")


def test_login_lands_each_role_on_its_page(app, staff):
    for email, page in [
        ("admin@example.com", "/admin/"),
        ("desk@example.com", "/reception/"),
        ("grace@example.com", "/host/"),
    ]:
        web = app.test_client()
        resp = login(web, email)
        assert resp.status_code == 302 and resp.headers["Location"] == page


def test_wrong_password_shows_an_error_and_no_session(client, staff):
    resp = login(client, "grace@example.com", "nope")
    assert resp.status_code == 401
    assert "Wrong email or password" in resp.get_data(as_text=True)
    assert client.get("/host/").status_code == 302


def test_login_without_csrf_token_is_refused(client, staff):
    resp = client.post("/login", data={"email": "grace@example.com", "password": PASSWORD})
    assert resp.status_code == 400
    assert client.get("/host/").status_code == 302


def test_login_starts_a_new_session(client, staff):
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, "grace@example.com")
    assert client.get_cookie("session").value != before


def test_logout_needs_csrf_and_ends_the_session(client, staff):
    login(client, "grace@example.com")
    assert client.post("/logout").status_code == 400
    page = client.get("/host/").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert client.get("/host/").status_code == 302


def test_pages_require_their_roles(app, staff):
    host = app.test_client()
    login(host, "grace@example.com")
    assert host.get("/reception/").status_code == 403
    assert host.get("/admin/").status_code == 403
    desk = app.test_client()
    login(desk, "desk@example.com")
    assert desk.get("/reception/").status_code == 200
    assert desk.get("/admin/").status_code == 403
    anon = app.test_client()
    for page in ["/host/", "/reception/", "/admin/"]:
        assert anon.get(page).status_code == 302


def test_open_redirects_are_ignored(client, staff):
    page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
    resp = client.post(
        "/login?next=https://evil.example/",
        data={"email": "grace@example.com", "password": PASSWORD, "csrf_token": csrf_from(page)},
    )
    assert resp.headers["Location"] == "/host/"
