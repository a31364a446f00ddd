"""Issue 14 items 1 and 2: departments with heads, duties, the approval chain's steps,
and the star-level standards as versioned configuration — through the CLI, the admin
pages (real forms with CSRF) and the JSON API, on a real SQLite file."""

import pytest
from sqlalchemy import select

from server.cli import main
from server.extensions import db
from server.models import ApprovalStep, AuditEntry, Standard
from server.policy import organisation, standards
from server.services import audit, people
from server.services.errors import Conflict, ValidationError
from tests.conftest import PASSWORD, auth, csrf_from, login


def test_the_policy_is_seeded_by_the_migration(app):
    assert [(s.position, s.name, s.decider) for s in organisation.steps()] == [
        (1, "dept_head", "dept_head"),
        (2, "marketing", "marketing"),
        (3, "finance", "finance"),
        (4, "gm", "gm"),
    ]
    policy = {s.level: s for s in standards.current("policy")}
    assert [float(policy[3].meal_cap), float(policy[4].meal_cap)] == [81.0, 152.0]
    assert policy[5].meal_cap is None  # actual cost
    assert (policy[3].lodging, policy[4].lodging, policy[5].lodging) == (
        "client_pays",
        "company_room",
        "company_all",
    )
    assert (policy[3].vehicle, policy[4].vehicle, policy[5].vehicle) == (
        "none",
        "business_van",
        "van_or_premium_car",
    )
    assert "注册资本" in policy[4].qualifies_zh and "200" in policy[4].qualifies_zh
    alternative = standards.current("alternative")
    assert {
        (float(s.meal_cap), float(s.lodging_cap), float(s.transport_cap)) for s in alternative
    } == {(150.0, 400.0, 500.0)}
    assert standards.scheme_in_force() == "policy"


def test_cli_departments_heads_and_duties(app, staff, capsys, monkeypatch):
    monkeypatch.setenv("LOBBY_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("LOBBY_DATA_DIR", str(app.config["DATA_DIR"]))
    db.session.commit()
    assert main(["department", "add", "Sales", "--head", "grace@example.com"]) == 0
    assert "added department Sales (grace@example.com)" in capsys.readouterr().out
    assert main(["department", "add", "sales"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["department", "add", "R&D", "--head", "nobody@example.com"]) == 1
    assert "nobody@example.com" in capsys.readouterr().err
    assert main(["user", "duty", "linus@example.com", "finance"]) == 0
    assert main(["user", "duty", "linus@example.com", "finance"]) == 0
    assert "already has finance" in capsys.readouterr().out
    assert main(["user", "duty", "linus@example.com", "bogus"]) == 2
    assert main(["department", "head", "Sales", "linus@example.com"]) == 0
    assert main(["department", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Sales" in listing and "linus@example.com" in listing
    db.session.remove()
    linus = people.user_by_email("linus@example.com")
    assert organisation.duties_of(linus) == {"finance"}
    assert main(["user", "duty", "linus@example.com", "finance", "--remove"]) == 0
    db.session.remove()
    assert organisation.duties_of(people.user_by_email("linus@example.com")) == set()


def test_deciders_are_the_department_head_or_everyone_with_the_duty(app, staff):
    people.create_user("rita@example.com", "Rita Sales", ["host"], PASSWORD, department="Sales")
    organisation.add_department("Sales", "grace@example.com")
    organisation.add_duty("linus@example.com", "marketing")
    organisation.add_duty("admin@example.com", "marketing")
    rita = people.user_by_email("rita@example.com")
    steps = {s.name: s for s in organisation.steps()}
    assert [u.email for u in organisation.deciders(steps["dept_head"], rita)] == [
        "grace@example.com"
    ]
    assert {u.email for u in organisation.deciders(steps["marketing"], rita)} == {
        "linus@example.com",
        "admin@example.com",
    }
    assert organisation.deciders(steps["finance"], rita) == []  # nobody has it yet
    # A requester without a department has no head to ask.
    assert organisation.deciders(steps["dept_head"], staff["other_host"]) == []


def test_the_chain_can_be_changed_but_not_emptied(app, staff):
    organisation.add_step("auditor", "Audit", "审计", position=2)
    assert [s.name for s in organisation.steps()] == [
        "dept_head",
        "auditor",
        "marketing",
        "finance",
        "gm",
    ]
    with pytest.raises(Conflict) as e:
        organisation.add_step("auditor")
    assert e.value.code == "step_exists"
    with pytest.raises(ValidationError):
        organisation.add_step("janitor")
    organisation.move_step("gm", -1)
    assert [s.name for s in organisation.steps()][-2:] == ["gm", "finance"]
    for name in ("dept_head", "auditor", "marketing", "finance"):
        organisation.remove_step(name)
    with pytest.raises(Conflict) as e:
        organisation.remove_step("gm")
    assert e.value.code == "last_step"
    assert [(s.position, s.name) for s in db.session.scalars(select(ApprovalStep))] == [(1, "gm")]
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("approval_chain.change") == 6
    assert audit.verify(db.session) is None


def test_standards_api_reads_for_staff_and_writes_new_versions_for_admins(client, tokens):
    got = client.get("/api/v1/standards", headers=auth(tokens["host"]))
    assert got.status_code == 200
    body = got.get_json()
    assert body["scheme"] == "policy"
    four = next(s for s in body["schemes"]["policy"] if s["level"] == 4)
    assert four["meal_cap"] == 152.0 and four["version"] == 1
    old_id = four["id"]

    assert (
        client.put("/api/v1/standards", json={"levels": []}, headers=auth(tokens["host"]))
    ).status_code == 403
    put = client.put(
        "/api/v1/standards",
        json={"levels": [{"level": 4, "meal_cap": 160, "hotel_class": "五星级 5-star"}]},
        headers=auth(tokens["admin"]),
    )
    assert put.status_code == 200, put.get_json()
    four = next(s for s in put.get_json()["schemes"]["policy"] if s["level"] == 4)
    assert (four["meal_cap"], four["version"], four["hotel_class"]) == (160.0, 2, "五星级 5-star")
    # The version a request was approved under stays as it was.
    assert float(standards.by_id(old_id).meal_cap) == 152.0

    bad = client.put(
        "/api/v1/standards",
        json={
            "scheme": "cheap",
            "levels": [{"level": 6}, {"level": 3, "meal_cap": -1, "vehicle": "rocket", "x": 1}],
        },
        headers=auth(tokens["admin"]),
    )
    assert bad.status_code == 422
    error = bad.get_json()["error"]
    assert error["code"] == "invalid_standard"
    assert set(error["fields"]) == {
        "scheme",
        "levels[0].level",
        "levels[1].meal_cap",
        "levels[1].vehicle",
        "levels[1].x",
    }
    for body in ([1, 2], "x", {"levels": "all"}, {"levels": [{"level": True}]}):
        r = client.put("/api/v1/standards", json=body, headers=auth(tokens["admin"]))
        assert r.status_code == 422, body
    assert len(db.session.scalars(select(Standard).where(Standard.level == 3)).all()) == 2

    switched = client.put(
        "/api/v1/standards", json={"scheme": "alternative"}, headers=auth(tokens["admin"])
    )
    assert switched.get_json()["scheme"] == "alternative"
    assert standards.scheme_in_force() == "alternative"
    assert client.get("/api/v1/standards").status_code == 401


class Admin:
    def __init__(self, app, email="admin@example.com"):
        self.web = app.test_client()
        login(self.web, email)

    def page(self, url):
        return self.web.get(url)

    def post(self, url, page, **data):
        token = csrf_from(self.web.get(page).get_data(as_text=True))
        return self.web.post(url, data={"csrf_token": token, **data})


def test_admin_pages_set_up_departments_duties_chain_and_standards(app, staff):
    admin = Admin(app)
    org = admin.page("/admin/organisation")
    assert org.status_code == 200
    html = org.get_data(as_text=True)
    assert "Department head 部门负责人" in html and "审批流程" in html

    r = admin.post(
        "/admin/departments", "/admin/organisation", name="研发 R and D", head="grace@example.com"
    )
    assert r.status_code == 303
    assert "研发 R and D" in admin.page("/admin/organisation").get_data(as_text=True)
    again = admin.post("/admin/departments", "/admin/organisation", name="研发  r AND d")
    assert again.status_code == 422
    assert 'data-field="name"' in again.get_data(as_text=True)

    linus = staff["other_host"]
    r = admin.post(f"/admin/users/{linus.id}/duties", "/admin/organisation", duty=["finance", "gm"])
    assert r.status_code == 303
    assert organisation.duties_of(linus) == {"finance", "gm"}

    r = admin.post("/admin/approval-chain/gm/move", "/admin/organisation", direction="up")
    assert r.status_code == 303
    assert [s.name for s in organisation.steps()][-2:] == ["gm", "finance"]

    page = admin.page("/admin/standards")
    assert page.status_code == 200 and "152.00" in page.get_data(as_text=True)
    r = admin.post(
        "/admin/standards",
        "/admin/standards",
        scheme_view="policy",
        in_force="policy",
        l3_meal_cap="90",
        l3_vehicle="none",
        l5_meal_cap="",
    )
    assert r.status_code == 303
    assert float(standards.for_level(3).meal_cap) == 90.0
    assert standards.for_level(5).meal_cap is None and standards.for_level(5).version == 1
    bad = admin.post(
        "/admin/standards", "/admin/standards", scheme_view="policy", l4_meal_cap="lots"
    )
    assert bad.status_code == 422
    assert 'data-field="levels[0].meal_cap"' in bad.get_data(as_text=True)

    # Without the form's CSRF token nothing changes.
    r = admin.web.post("/admin/departments", data={"name": "Forged"})
    assert r.status_code == 400
    assert organisation.department("Forged") is None


def test_policy_pages_are_for_admins_only(app, staff):
    host = app.test_client()
    login(host, "grace@example.com")
    for url in ("/admin/organisation", "/admin/standards"):
        assert host.get(url).status_code == 403
    assert app.test_client().get("/admin/standards").status_code in (302, 401)


def test_admins_add_rooms_on_their_page(app, staff):
    admin = Admin(app)
    assert "No rooms yet" in admin.page("/admin/rooms").get_data(as_text=True)
    r = admin.post("/admin/rooms", "/admin/rooms", name="会议室 A", capacity="12", projector="1")
    assert r.status_code == 303
    page = admin.page("/admin/rooms").get_data(as_text=True)
    assert 'data-room="会议室 A"' in page and "Yes 有" in page
    bad = admin.post("/admin/rooms", "/admin/rooms", name="会议室 a", capacity="²")
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'data-field="capacity"' in html or 'data-field="name"' in html
    host = app.test_client()
    login(host, "grace@example.com")
    assert host.get("/admin/rooms").status_code == 403
