"""/admin/users through the Flask test client and the real services: an admin adds
staff (a generated password shown once), edits roles, department, phone and fallback
contact, disables and re-enables (sessions, tokens and sockets stop), resets
passwords; the rules hold (no self-disable, no dropping one's own admin role, a
fallback is another active host) and "Alert fallback" then reaches that person."""

import re

import pytest

from server.extensions import db
from server.models import User
from server.services import accounts, checkin, people
from server.services.errors import ServiceError
from tests.conftest import PASSWORD, auth, csrf_from, login, staff_socket
from tests.test_reception_desk import Desk, received

PAGE = "/admin/users"
XSS = "<img src=x onerror=alert(1)>"


class Admin:
    """The admin's browser: pages and plain form posts with the page's CSRF token."""

    def __init__(self, app, email="admin@example.com"):
        self.web = app.test_client()
        login(self.web, email)
        self.token = csrf_from(self.web.get(PAGE).get_data(as_text=True))

    def html(self, url=PAGE):
        return self.web.get(url).get_data(as_text=True)

    def post(self, url, **data):
        return self.web.post(url, data={"csrf_token": self.token, **data})


def field_errors(html: str) -> dict:
    return dict(re.findall(r'class="field-error" data-field="([a-z_]+)"[^>]*>([^<]+)<', html))


def user(email) -> User:
    db.session.rollback()  # see what the request wrote
    return db.session.scalar(db.select(User).where(User.email == email))


def new_user(**fields):
    return {
        "name": "Lee Fallback",
        "email": "lee@example.com",
        "roles": ["host"],
        "department": "",
        "phone": "",
        "fallback": "0",
        "password": "",
        **fields,
    }


def test_staff_pages_are_for_admins_only(app, staff):
    pages = [PAGE, f"{PAGE}/{staff['host'].id}"]
    assert all(app.test_client().get(p).status_code == 302 for p in pages)  # to sign-in
    for email in ("desk@example.com", "grace@example.com"):
        web = app.test_client()
        login(web, email)
        token = csrf_from(web.get("/login", follow_redirects=True).get_data(as_text=True))
        assert [web.get(p).status_code for p in pages] == [403, 403]
        assert web.post(PAGE, data={"csrf_token": token, **new_user()}).status_code == 403
        assert (
            web.post(f"{PAGE}/{staff['admin'].id}/disable", data={"csrf_token": token}).status_code
            == 403
        )
    assert user("lee@example.com") is None and user("admin@example.com").active


def test_list_shows_everyone_with_roles_department_phone_fallback_and_state(app, staff):
    accounts.update_user(
        staff["host"].id,
        phone="+86 21 5555 0101",
        department="R&D",
        fallback=staff["other_host"].id,
    )
    accounts.set_active(staff["reception"].id, False)
    html = Admin(app).html()
    row = re.search(rf'<tr data-user-id="{staff["host"].id}".*?</tr>', html, re.S).group(0)
    for text in (
        "Grace Hopper",
        "grace@example.com",
        "Host 接待人",
        "R&amp;D",
        "+86 21 5555 0101",
        "Linus T",
        "Active 启用",
    ):
        assert text in row
    desk = re.search(rf'<tr data-user-id="{staff["reception"].id}".*?</tr>', html, re.S).group(0)
    assert "Disabled 已停用" in desk and "Reception 前台" in desk
    assert "Staff 员工" in html and "Fallback contact 备用联系人" in html


def test_added_user_gets_a_generated_password_shown_once_and_can_sign_in(app, staff):
    admin = Admin(app)
    resp = admin.post(
        PAGE,
        **new_user(
            roles=["host", "receptionist"],
            department="Sales",
            phone="138 0000 0000",
            fallback=str(staff["host"].id),
        ),
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 201 and "Added <strong>Lee Fallback</strong>" in html
    password = re.search(r'id="new-password">([^<]+)<', html).group(1)
    assert len(password) >= 16
    lee = user("lee@example.com")
    assert (lee.roles, lee.department, lee.phone, lee.fallback_contact_id) == (
        "receptionist,host",
        "Sales",
        "138 0000 0000",
        staff["host"].id,
    )
    assert password not in admin.html()  # shown once: not on the list afterwards
    web = app.test_client()
    assert login(web, "lee@example.com", password).status_code == 302


def test_typed_password_is_used_and_not_shown(app, staff):
    resp = Admin(app).post(PAGE, **new_user(password="lee-password-1"))
    assert resp.status_code == 201 and 'id="new-password"' not in resp.get_data(as_text=True)
    assert login(app.test_client(), "lee@example.com", "lee-password-1").status_code == 302


@pytest.mark.parametrize(
    "fields,field,needle",
    [
        ({"email": "not-an-email"}, "email", "not an email"),
        ({"email": "grace@example.com"}, "email", "exists"),
        ({"roles": []}, "roles", "at least one role"),
        ({"roles": ["wizard"]}, "roles", "Not a valid choice"),
        ({"name": "  "}, "name", "required"),
        ({"phone": "call me"}, "phone", "phone"),
        ({"password": "short"}, "password", "8 to 200"),
        ({"fallback": "999"}, "fallback", "Not a valid choice"),
    ],
)
def test_add_user_errors_come_back_next_to_their_field(app, staff, fields, field, needle):
    resp = Admin(app).post(PAGE, **new_user(**fields))
    html = resp.get_data(as_text=True)
    assert resp.status_code in (409, 422)
    errors = field_errors(html)
    assert field in errors and needle.lower() in errors[field].lower(), errors
    assert "nothing was saved" in html
    assert user("lee@example.com") is None


def test_fallback_must_be_another_active_host(app, staff):
    grace, linus = staff["host"], staff["other_host"]
    cases = [
        (grace.id, "fallback_is_self"),
        ("desk@example.com", "fallback_not_host"),
        ("nobody@example.com", "unknown_fallback"),
    ]
    for fallback, code in cases:
        with pytest.raises(ServiceError) as e:
            accounts.update_user(grace.id, fallback=fallback)
        assert e.value.code == code
    accounts.set_active(linus.id, False)
    with pytest.raises(ServiceError) as e:
        accounts.update_user(grace.id, fallback=linus.id)
    assert e.value.code == "fallback_inactive"
    # On the page: oneself is not offered, and posting one's own id is refused.
    admin = Admin(app)
    page = admin.html(f"{PAGE}/{grace.id}")
    options = re.search(r'<select[^>]*name="fallback".*?</select>', page, re.S).group(0)
    assert f'value="{grace.id}"' not in options and "Linus" not in options
    resp = admin.post(
        f"{PAGE}/{grace.id}", name="Grace Hopper", roles="host", fallback=str(grace.id)
    )
    assert resp.status_code == 422 and "fallback" in field_errors(resp.get_data(as_text=True))
    assert user("grace@example.com").fallback_contact_id is None


def test_edit_saves_roles_department_phone_and_fallback(app, staff):
    admin, grace = Admin(app), staff["host"]
    resp = admin.post(
        f"{PAGE}/{grace.id}",
        name="Grace B. Hopper",
        roles=["host", "admin"],
        department="Navy",
        phone="+1 555 0100",
        fallback=str(staff["other_host"].id),
    )
    assert resp.status_code == 303
    assert "Saved. 已保存。" in admin.html(resp.headers["Location"])
    saved = user("grace@example.com")
    assert (saved.name, saved.roles, saved.department, saved.phone, saved.fallback_contact_id) == (
        "Grace B. Hopper",
        "admin,host",
        "Navy",
        "+1 555 0100",
        staff["other_host"].id,
    )
    # Clearing: no department, no phone, no fallback.
    resp = admin.post(
        f"{PAGE}/{grace.id}",
        name="Grace B. Hopper",
        roles="host",
        department="",
        phone="",
        fallback="0",
    )
    assert resp.status_code == 303
    saved = user("grace@example.com")
    assert (saved.department, saved.phone, saved.fallback_contact_id) == (None, "", None)
    resp = admin.post(f"{PAGE}/{grace.id}", name="Grace", roles="host", phone="12ab", fallback="0")
    assert resp.status_code == 422 and "phone" in field_errors(resp.get_data(as_text=True))


def test_admin_cannot_disable_themselves_or_remove_their_own_admin_role(app, staff):
    admin, me = Admin(app), staff["admin"]
    resp = admin.post(f"{PAGE}/{me.id}/disable")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and 'data-code="cannot_disable_self"' in html
    resp = admin.post(f"{PAGE}/{me.id}", name="Alex Admin", roles="host", fallback="0")
    assert resp.status_code == 409
    assert "own admin role" in field_errors(resp.get_data(as_text=True))["roles"]
    saved = user("admin@example.com")
    assert saved.active and saved.roles == "admin"
    assert (
        "you cannot disable your own account" in admin.html(f"{PAGE}/{me.id}").lower()
        or "cannot disable yourself" in admin.html(f"{PAGE}/{me.id}").lower()
    )
    with pytest.raises(ServiceError) as e:
        accounts.set_active(me.id, False, by=me)
    assert e.value.code == "cannot_disable_self"


def test_disabled_user_is_signed_out_and_their_token_and_socket_stop(app, staff, make_visit):
    host_web = app.test_client()
    login(host_web, "grace@example.com")
    token = people.create_token("grace@example.com")
    own_visit = f"/api/v1/visits/{make_visit().id}"
    assert host_web.get("/host/").status_code == 200
    assert app.test_client().get(own_visit, headers=auth(token)).status_code == 200

    admin = Admin(app)
    resp = admin.post(f"{PAGE}/{staff['host'].id}/disable")
    assert resp.status_code == 303 and not user("grace@example.com").active
    assert "/login" in host_web.get("/host/").headers.get("Location", "")
    assert app.test_client().get(own_visit, headers=auth(token)).status_code == 401
    assert login(app.test_client(), "grace@example.com").status_code == 401
    assert not staff_socket(app, auth={"token": token}).is_connected()

    assert admin.post(f"{PAGE}/{staff['host'].id}/enable").status_code == 303
    assert app.test_client().get(own_visit, headers=auth(token)).status_code == 200
    assert login(app.test_client(), "grace@example.com").status_code == 302


def test_reset_password_generated_once_or_typed(app, staff):
    admin, grace = Admin(app), staff["host"]
    html = admin.post(f"{PAGE}/{grace.id}/password", password="").get_data(as_text=True)
    generated = re.search(r'id="new-password">([^<]+)<', html).group(1)
    assert login(app.test_client(), "grace@example.com", PASSWORD).status_code == 401
    assert login(app.test_client(), "grace@example.com", generated).status_code == 302
    resp = admin.post(f"{PAGE}/{grace.id}/password", password="typed-password-2")
    assert resp.status_code == 200 and 'id="new-password"' not in resp.get_data(as_text=True)
    assert login(app.test_client(), "grace@example.com", "typed-password-2").status_code == 302
    resp = admin.post(f"{PAGE}/{grace.id}/password", password="short")
    assert resp.status_code == 422 and "password" in field_errors(resp.get_data(as_text=True))


def test_forms_need_the_csrf_token(app, staff):
    web = app.test_client()
    login(web, "admin@example.com")
    assert web.post(PAGE, data=new_user()).status_code == 400
    assert web.post(f"{PAGE}/{staff['host'].id}/disable").status_code == 400
    assert user("lee@example.com") is None and user("grace@example.com").active


def test_names_typed_by_an_admin_are_escaped(app, staff):
    Admin(app).post(PAGE, **new_user(name=XSS, department=XSS))
    html = Admin(app).html()
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_alert_fallback_reaches_the_contact_set_on_the_users_page(app, staff, make_visit):
    """End to end: the admin sets Grace's fallback on the page; reception's "Alert
    fallback" then alerts that person on their own socket, not Grace again."""
    admin = Admin(app)
    admin.post(PAGE, **new_user(password="lee-password-1"))
    lee = user("lee@example.com")
    grace = staff["host"]
    resp = admin.post(
        f"{PAGE}/{grace.id}",
        name="Grace Hopper",
        roles="host",
        phone="+86 21 5555 0101",
        fallback=str(lee.id),
    )
    assert resp.status_code == 303
    visit = make_visit()
    checkin.check_in(visit.code)
    lee_web = app.test_client()
    login(lee_web, "lee@example.com", "lee-password-1")
    with app.app_context():
        from server.extensions import socketio

        lee_sock = socketio.test_client(app, flask_test_client=lee_web)
    grace_sock = staff_socket(app, "grace@example.com")
    lee_sock.get_received(), grace_sock.get_received()

    resp = Desk(app).post(f"/reception/visits/{visit.id}/renotify", {"fallback": "1"})
    assert "Fallback contact Lee Fallback alerted" in resp.get_data(as_text=True)
    alerts = received(lee_sock, "visitor_arrived")
    assert len(alerts) == 1 and alerts[0]["for_host"] == "Grace Hopper"
    assert alerts[0]["visit_id"] == visit.id
    assert received(grace_sock, "visitor_arrived") == []


def test_alert_fallback_to_a_contact_disabled_since_is_refused_not_lost(app, staff, make_visit):
    grace, linus = staff["host"], staff["other_host"]
    accounts.update_user(grace.id, fallback=linus.id)
    Admin(app).post(f"{PAGE}/{linus.id}/disable")
    page = Admin(app).html(f"{PAGE}/{grace.id}")
    assert "Linus T is disabled: choose another fallback contact" in page
    visit = make_visit()
    checkin.check_in(visit.code)
    resp = Desk(app).post(f"/reception/visits/{visit.id}/renotify", {"fallback": "1"})
    text = resp.get_data(as_text=True)
    assert 'role="alert"' in text and "fallback contact Linus T is disabled" in text


def test_unknown_user_is_a_404_not_an_error(app, staff):
    admin = Admin(app)
    assert admin.web.get(f"{PAGE}/999").status_code == 404
    for action in ("disable", "enable", "password"):
        assert admin.post(f"{PAGE}/999/{action}").status_code == 404
