"""Two walks over the app's URL map, so that no route escapes them:

- CSRF: every state-changing page/form route refuses a request without a CSRF token
  (400), so a stray ``@csrf.exempt`` fails here unless it is in ``CSRF_EXEMPT`` with
  its reason. The JSON API is exempt as a whole (bearer tokens, no ambient
  credentials): a signed-in browser's cookie opens none of it.
- Roles: every route answers each role (admin, receptionist, host, kiosk, anonymous)
  as ``ACCESS`` (pages) or the OpenAPI document's ``x-roles`` (the API) says. A route in
  neither fails the test: add it to ``ACCESS`` (or document it in server/api/openapi.py).
"""

import re
from datetime import timedelta

import pytest
from flask import Flask
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from server.api import openapi
from server.models import utcnow
from server.realtime import KIOSK_COOKIE
from server.services import desk, devices, people, tasks, visits
from tests.conftest import PASSWORD, auth, login, make_visit, staff, tokens  # noqa: F401

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = ("admin", "receptionist", "host", "kiosk", "anonymous")
LETTER = {"A": "admin", "R": "receptionist", "H": "host", "K": "kiosk", "N": "anonymous"}
EVERYONE = "ARHKN"

# Routes that may change state without a CSRF token, and why. Empty on purpose: the
# whole API blueprint is exempt in create_app (bearer tokens only), and is tested
# below for refusing a cookie session.
CSRF_EXEMPT: dict[str, str] = {}

# Who may call each page route (endpoint -> letters of LETTER). "Refused" is 401, 403
# or a redirect to /login; anything else (a page, 404, 409, a redirect elsewhere) is
# "allowed". The API's roles come from the OpenAPI document (``x-roles``).
ACCESS: dict[str, str] = {
    # Open to all: the front door (signed in: your page; otherwise /login), health,
    # static files and fonts, the sign-in form, and pairing (the token is the credential).
    "index": "ARH",
    "healthz": EVERYONE,
    "ops.readyz": EVERYONE,
    "ops.metrics_page": EVERYONE,  # from loopback (the test client's address)
    "favicon": EVERYONE,
    "static": EVERYONE,
    "font": EVERYONE,
    "font_faces": EVERYONE,
    "extra_faces": EVERYONE,
    "extra_font": EVERYONE,
    "font_subset": EVERYONE,
    "auth.login": EVERYONE,
    "kiosk.pair": EVERYONE,
    "feedback.page": EVERYONE,  # the client's form: its signed token is the credential
    "feedback.submit": EVERYONE,
    # Any member of staff (a host: only their own visits and requests).
    "invitation_qr": "ARH",
    "admin.invitation": "ARH",
    "host.visit_photo": "ARH",
    "reception.signature_png": "ARH",
    # The audit trail and its report: admins and users with the auditor duty (none of
    # the test's users has it); violations: the auditor duty only, whatever the role.
    "audit.trail": "A",
    "audit.report": "A",
    "audit.report_pdf": "A",
    "audit.record_violation": "",
    "requests.add_expense": "ARH",
    "requests.ask_increase": "ARH",
    "requests.decide_increase": "ARH",
    "requests.expense_receipt": "ARH",
    "requests.expense_status": "ARH",
    "requests.write_summary": "ARH",
    "requests.attach_materials": "ARH",
    "requests.remove_material": "ARH",
    "requests.material_file": "ARH",
    "requests.approvals": "ARH",
    "requests.approvals_count_json": "ARH",
    "requests.arrangement": "ARH",
    "requests.arrangement_pdf": "ARH",
    "requests.create": "ARH",
    "requests.decide": "ARH",
    "requests.edit": "ARH",
    "requests.estimate": "ARH",
    "requests.file_arrangement": "ARH",
    "requests.index": "ARH",
    "requests.new": "ARH",
    "requests.show": "ARH",
    "requests.update": "ARH",
    # Reports: reception and admins (and users with the auditor duty).
    "reports.index": "AR",
    "reports.export_csv": "AR",
    "reports.export_xlsx": "AR",
    # Bulk pre-registration (server/admin/visit_import.py).
    "admin.import_page": "AR",
    "admin.import_upload": "AR",
    "admin.import_confirm": "AR",
    "admin.import_progress": "AR",
    "admin.import_template_csv": "AR",
    "admin.import_template_xlsx": "AR",
    # Reception's desk and changing any visit: reception and admins.
    "admin.visit_edit": "AR",
    "admin.visit_cancel": "AR",
    "reception.check_in": "AR",
    "reception.check_in_group": "AR",
    "reception.check_out": "AR",
    "reception.desk_request_done": "AR",
    "reception.desk_request_walk_in": "AR",
    "reception.desk_requests": "AR",
    "reception.host_search": "AR",
    "reception.index": "AR",
    "reception.log": "AR",
    "reception.log_csv": "AR",
    "reception.renotify": "AR",
    "reception.reprint": "AR",
    "reception.roster": "AR",
    "reception.tea_served": "AR",
    "reception.walk_in": "AR",
    # A person's own notification settings (server/host/settings.py): all staff.
    "host.settings": "ARH",
    "host.add_channel": "ARH",
    "host.test_channel": "ARH",
    "host.remove_channel": "ARH",
    "host.save_preferences": "ARH",
    # The site's default alert channels (server/admin/channels.py).
    "admin.channels_page": "A",
    "admin.add_site_channel": "A",
    "admin.test_site_channel": "A",
    "admin.remove_site_channel": "A",
    # The host's own page.
    "host.acknowledge": "H",
    "host.add_follow_up": "H",
    "host.farewell": "H",
    "host.follow_ups_list": "H",
    "host.index": "H",
    "host.plan_tour": "H",
    "host.record_requirements": "H",
    "host.request_tea": "H",
    "host.update_task": "H",
    "host.visit_cancel": "H",
    "host.visit_edit": "H",
    # Admins only.
    "admin.add_drink": "A",
    "admin.update_drink": "A",
    "admin.add_kiosk": "A",
    "admin.add_printer": "A",
    "admin.add_user": "A",
    "admin.badge_layout": "A",
    "admin.badge_preview": "A",
    "admin.badge_preview_png": "A",
    "admin.check_printer": "A",
    "admin.create_visit": "A",
    "admin.index": "A",
    "admin.kiosk_logo_preview": "A",
    "admin.kiosk_settings_page": "A",
    "admin.kiosks_page": "A",
    "admin.log": "A",
    "admin.outbox_page": "A",
    "admin.outbox_resend": "A",
    "admin.pair_kiosk": "A",
    "admin.printers_page": "A",
    "admin.publish_rules": "A",
    "admin.reset_user_password": "A",
    "admin.retention_page": "A",
    "admin.revoke_kiosk": "A",
    "admin.run_purge": "A",
    "admin.save_badge_layout": "A",
    "admin.save_kiosk": "A",
    "admin.save_kiosk_settings": "A",
    "admin.save_retention": "A",
    "admin.save_user": "A",
    "admin.set_kiosk_language": "A",
    "admin.set_user_active": "A",
    "admin.signature_image": "A",
    "admin.site_rules": "A",
    "admin.test_printer": "A",
    "admin.user_page": "A",
    "admin.users_page": "A",
    "admin.visitor_rights": "A",
    "admin.watchlist_add": "A",
    "admin.watchlist_page": "A",
    "admin.watchlist_remove": "A",
    "policy.add_department": "A",
    "policy.add_room": "A",
    "policy.add_step": "A",
    "policy.move_step": "A",
    "policy.organisation_page": "A",
    "policy.remove_step": "A",
    "policy.rooms_page": "A",
    "policy.save_standards": "A",
    "policy.set_department_head": "A",
    "policy.set_duties": "A",
    "policy.standards_page": "A",
    # The kiosk's screens: a paired kiosk only.
    "kiosk.check_in": "K",
    "kiosk.hosts": "K",
    "kiosk.index": "K",
    "kiosk.leave": "K",
    "kiosk.leave_confirm": "K",
    "kiosk.logo": "K",
    "kiosk.lookup": "K",
    "kiosk.lookup_confirm": "K",
    "kiosk.photo": "K",
    "kiosk.pick_host": "K",
    "kiosk.refused_again": "K",
    "kiosk.scan": "K",
    "kiosk.see_reception": "K",
    "kiosk.sign_rules": "K",
    "kiosk.start": "K",
    "kiosk.step": "K",
    "kiosk.walk_in": "K",
}
# /readyz answers 503 while no print worker beats (none runs in these tests): a
# documented answer, not a server error.
NOT_READY_503 = {"ops.readyz"}
# Sign-out: everyone may, and everyone lands on /login, so "allowed" and "refused"
# look alike; it is asked last (it ends the session) and must not fail.
ANY_ANSWER = {"auth.logout"}


def expected_roles(rule: Rule, api_roles: dict) -> set[str] | None:
    if rule.endpoint.startswith("api."):
        roles = api_roles.get(rule.endpoint)
        if roles is None:
            return None
        return set(ROLES) if roles == ["anonymous"] else set(roles)
    letters = ACCESS.get(rule.endpoint)
    if letters is None:
        return None
    return {LETTER[c] for c in letters}


def documented_api_roles(app: Flask) -> dict[str, list[str]]:
    """API endpoint -> x-roles, matched through the rule's path and method."""
    doc = openapi.document()["paths"]
    found = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(openapi.API_PREFIX) :])
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            op = doc.get(path, {}).get(method.lower())
            if op is not None:
                found[rule.endpoint] = op["x-roles"]
    return found


def methods_of(rule: Rule) -> list[str]:
    return sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})


@pytest.fixture
def world(app, staff, make_visit):  # noqa: F811
    """Real objects for every path variable: the host's visit (so a host may open
    it), a task on it, a group, a desk request, a printer, a kiosk to change (not
    the one signed in), a user to change (not the one signed in)."""
    visit = make_visit()
    deadline = (utcnow() + timedelta(days=2)).isoformat() + "+00:00"
    task = tasks.create(
        visit.id,
        {"kind": "follow_up", "question": "Price?", "reply_method": "email", "deadline": deadline},
        staff["host"],
    )
    soon = (utcnow() + timedelta(minutes=5)).isoformat() + "+00:00"
    group = visits.pre_register_group(
        [{"name": "Ann Group"}, {"name": "Bo Group"}], "grace@example.com", soon, "Tour"
    )
    request = desk.open_request("help", visit=visit)
    printer = devices.add_printer("Desk printer", app.config["DEFAULT_PRINTER"])
    other_kiosk, _ = devices.add_kiosk("Side door")
    victim = people.create_user("victim@example.com", "Vic Tim", ["host"], PASSWORD)
    return {
        "visit_id": visit.id,
        "task_id": task.id,
        "group_id": group.id,
        "request_id": request.id,
        "printer_id": printer.id,
        "kiosk_id": other_kiosk.id,
        "user_id": victim.id,
        "signature_id": 1,
        "action": "disable",
        "report": "daily",
        "name": "NotoSans.ttf",
        "filename": "x.woff2",
        # A fresh pairing token each time it is asked for (pairing uses it up).
        "token": lambda: devices.add_kiosk(f"Pair {utcnow().timestamp()}")[1].rsplit("/", 1)[-1],
    }


PER_ENDPOINT = {"static": {"filename": "css/kiosk.css"}}


def url_for_rule(app: Flask, rule: Rule, method: str, world: dict) -> str:
    values = {}
    for name in rule.arguments:
        value = PER_ENDPOINT.get(rule.endpoint, {}).get(name, world.get(name))
        if value is None:  # some object: the role is checked before the lookup
            converter = rule._converters[name]
            if isinstance(converter, AnyConverter):
                value = sorted(converter.items)[0]
            else:
                value = 1 if isinstance(converter, IntegerConverter) else "x"
        assert value is not None, f"no value for <{name}> of {rule.rule}: add one to world"
        values[name] = value() if callable(value) else value
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, values, method=method)


def cookies_of(client) -> dict[str, str]:
    return {c.key: c.value for c in client._cookies.values()}


@pytest.fixture
def role_cookies(app, staff, world):  # noqa: F811
    """Each role's cookies: staff signed in through /login, the kiosk paired."""
    jars: dict[str, dict[str, str]] = {"anonymous": {}}
    for role, user in (
        ("admin", staff["admin"]),
        ("receptionist", staff["reception"]),
        ("host", staff["host"]),
    ):
        client = app.test_client()
        assert login(client, user.email).status_code == 302
        jars[role] = cookies_of(client)
    kiosk = app.test_client()
    _, path = devices.add_kiosk("Front door")
    assert kiosk.get(path).status_code == 302
    jars["kiosk"] = cookies_of(kiosk)
    assert KIOSK_COOKIE in jars["kiosk"]
    return jars


def fresh_client(app, cookies: dict[str, str]):
    client = app.test_client()
    for key, value in cookies.items():
        client.set_cookie(key, value)
    return client


def ask(client, url: str, method: str, **kwargs):
    """One request, its body read and the response closed (a streamed answer, such
    as the log's CSV, would otherwise keep its request context open)."""
    resp = client.open(url, method=method, **kwargs)
    resp.get_data()
    resp.close()
    return resp


def refused(resp) -> bool:
    if resp.status_code in (401, 403):
        return True
    return resp.status_code in (301, 302, 303, 307, 308) and "/login" in resp.headers.get(
        "Location", ""
    )


def all_requests(app):
    """(rule, method) for every rule, sign-out last (it ends the session)."""
    pairs = [(rule, method) for rule in app.url_map.iter_rules() for method in methods_of(rule)]
    return sorted(pairs, key=lambda p: (p[0].endpoint in ANY_ANSWER, p[0].rule, p[1]))


def test_every_route_has_an_entry_in_the_role_table(app):
    api_roles = documented_api_roles(app)
    missing = sorted(
        f"{rule.endpoint} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in ANY_ANSWER and expected_roles(rule, api_roles) is None
    )
    assert missing == [], "routes with no entry in ACCESS (or not in the OpenAPI document)"


def test_every_route_answers_each_role_as_documented(app, tokens, world, role_cookies):  # noqa: F811
    app.config["WTF_CSRF_ENABLED"] = False  # roles here; CSRF in its own test below
    api_roles = documented_api_roles(app)
    token_of = {
        "admin": tokens["admin"],
        "receptionist": tokens["reception"],
        "host": tokens["host"],
    }
    wrong: list[str] = []
    for rule, method in all_requests(app):
        expected = expected_roles(rule, api_roles)
        if expected is None and rule.endpoint not in ANY_ANSWER:
            continue  # no entry: the test above names it
        is_api = rule.endpoint.startswith("api.")
        for role in ROLES:
            url = url_for_rule(app, rule, method, world)
            if is_api:  # tokens, never cookies
                client = app.test_client()
                headers = auth(token_of[role]) if role in token_of else {}
                resp = ask(client, url, method, headers=headers, json={})
            else:
                client = fresh_client(app, role_cookies[role])
                resp = ask(client, url, method, data={})
            where = f"{method} {url} as {role}: {resp.status_code}"
            if resp.status_code >= 500 and rule.endpoint not in NOT_READY_503:
                wrong.append(f"{where} (a server error)")
            elif rule.endpoint in ANY_ANSWER:
                continue
            elif expected is not None and role in expected and refused(resp):
                wrong.append(f"{where}, refused but documented as allowed")
            elif expected is not None and role not in expected and not refused(resp):
                wrong.append(f"{where}, allowed but documented as refused")
    assert wrong == []


def test_a_signed_in_browser_cannot_call_the_api_with_its_cookie(app, role_cookies, world):
    """The API is CSRF-exempt because it reads only bearer tokens: an admin's session
    cookie (what a forged cross-site request would carry) gets 401 everywhere."""
    opened = []
    for rule, method in all_requests(app):
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi_document":
            continue
        client = fresh_client(app, role_cookies["admin"])
        resp = ask(client, url_for_rule(app, rule, method, world), method, json={})
        if resp.status_code != 401:
            opened.append(f"{method} {rule.rule}: {resp.status_code}")
    assert opened == []


def test_every_form_route_refuses_a_request_without_csrf_token(app, role_cookies, world):
    """A signed-in admin (or, on the kiosk, the paired kiosk) posting without the
    token: 400 and the 'form has expired' page, on every state-changing route
    outside the API."""
    assert app.config.get("WTF_CSRF_ENABLED", True)
    accepted = []
    checked = 0
    for rule, method in all_requests(app):
        if method not in CHANGING or rule.endpoint.startswith("api."):
            continue
        if rule.endpoint in CSRF_EXEMPT:
            continue
        role = "kiosk" if rule.endpoint.startswith("kiosk.") else "admin"
        client = fresh_client(app, role_cookies[role])
        resp = ask(client, url_for_rule(app, rule, method, world), method, data={})
        checked += 1
        body = resp.get_data(as_text=True)
        if resp.status_code != 400 or "expired" not in body:
            accepted.append(f"{method} {rule.rule} ({rule.endpoint}): {resp.status_code}")
    assert checked > 40
    assert accepted == [], "state-changing routes that took a request without a CSRF token"


def test_csrf_exempt_list_names_only_existing_routes(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(CSRF_EXEMPT) <= endpoints
