"""Issue 15 items 5 and 6: every kind of change leaves an audit entry (visits, users
and settings through the flush hook; requests, decisions, expenses, standards, rooms
through their services), secrets and personal data never in it; only GET reads the
trail; /audit shows a broken chain; violations with fines from configuration; the
month's audit report as an auditor reads it, and its PDF."""

import io
from datetime import timedelta

import pypdf
from sqlalchemy import select, text

from server.extensions import db
from server.models import AuditEntry, Feedback, utcnow
from server.policy import organisation, rooms, standards
from server.services import accounts, kiosk_settings, people, visit_changes, visits
from tests.conftest import auth, login
from tests.test_policy_expenses import approved, spend
from tests.test_policy_requests import body, office, when  # noqa: F401  (fixture)


def actions() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_every_kind_of_change_is_audited_without_secrets(app, client, office):  # noqa: F811
    admin = people.user_by_email("admin@example.com")
    visit = visits.pre_register({"name": "张伟", "company": "华为"}, "grace@example.com")
    visit_changes.update(visit.id, {"purpose": "合同", "meeting_room": "Room 3"}, admin)
    accounts.reset_password(
        people.user_by_email("linus@example.com").id, "new-password-123", by=admin
    )
    kiosk_settings.save(company_name="Analytical Engines", welcome_en="Hello", welcome_zh="你好")
    standards.update({"levels": [{"level": 3, "meal_cap": 90}]}, by=admin)
    rooms.add_room("Room 3", 8, by=admin)
    rid = approved(client, office)
    spend(client, office["rita"], rid, 100)
    seen = actions()
    for expected in (
        "visit.insert",
        "visitor.insert",
        "visit.update",
        "user.update",
        "kiosk_settings.insert",
        "standard.update",
        "room.add",
        "request.create",
        "request.approve",
        "expense.add",
        "user.duty.add",
        "department.add",
    ):
        assert expected in seen, expected
    change = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visit.update"))
    assert change.after["purpose"] == "[personal]" and change.after["meeting_room"] == "Room 3"
    who = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "visitor.insert"))
    assert who.after["name"] == "[personal]" and "张伟" not in str(who.after)
    pw = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.update").order_by(AuditEntry.id.desc())
    )
    assert pw.after["password_hash"] == "[changed]" and "scrypt" not in str(pw.before)
    assert pw.actor == "" or pw.actor in ("system", "admin@example.com")
    # Only GET reads the trail: no route changes or deletes an entry.
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule and "violations" not in rule.rule:
            assert set(rule.methods) <= {"GET", "HEAD", "OPTIONS"}, rule.rule


def test_the_api_and_page_read_the_trail_and_show_a_broken_chain(app, client, office):  # noqa: F811
    organisation.add_duty("pia@example.com", "auditor")
    pia = people.create_token("pia@example.com")
    approved(client, office)
    assert client.get("/api/v1/audit", headers=auth(office["rita"])).status_code == 403
    got = client.get("/api/v1/audit?what=request", headers=auth(pia)).get_json()["entries"]
    assert got and all(
        e["action"].startswith("request") or e["target"]["type"] == "request" for e in got
    )
    mine = client.get("/api/v1/audit?who=gus@", headers=auth(pia)).get_json()["entries"]
    assert {e["actor"]["name"] for e in mine} == {"gus@example.com"}
    assert client.get("/api/v1/audit?from=yesterday", headers=auth(pia)).status_code == 422
    web = app.test_client()
    login(web, "pia@example.com")
    assert 'id="chain-ok"' in web.get("/audit").get_data(as_text=True)
    victim = db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "request.approve"))
    db.session.execute(
        text("UPDATE audit_entries SET note = 'nothing to see' WHERE id = :id"), {"id": victim}
    )
    db.session.commit()
    page = web.get("/audit").get_data(as_text=True)
    assert f"The chain is broken at entry {victim}" in page
    host = app.test_client()
    login(host, "grace@example.com")
    assert host.get("/audit").status_code == 403


def test_violations_take_their_fine_from_configuration(client, office):  # noqa: F811
    organisation.add_duty("pia@example.com", "auditor")
    pia = people.create_token("pia@example.com")
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    v = {
        "person": "rita@example.com",
        "rule": "major",
        "date": day,
        "note": "gift over the standard",
    }
    assert (
        client.post("/api/v1/violations", json=v, headers=auth(office["gus"])).get_json()["error"][
            "code"
        ]
        == "not_auditor"
    )
    r = client.post("/api/v1/violations", json=v, headers=auth(pia))
    assert r.status_code == 201
    assert (
        r.get_json()["fine"],
        r.get_json()["manager"]["name"],
        r.get_json()["manager_share"],
    ) == (20.0, "Grace Hopper", 4.0)
    serious = client.post(
        "/api/v1/violations", json={**v, "serious": True, "multiplier": 3}, headers=auth(pia)
    )
    assert serious.get_json()["fine"] == 60.0 and serious.get_json()["manager_share"] == 12.0
    bad = client.post(
        "/api/v1/violations",
        json={
            "person": "nobody@example.com",
            "rule": "huge",
            "date": "2999-01-01",
            "serious": True,
            "multiplier": 9,
        },
        headers=auth(pia),
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"person", "rule", "date", "multiplier"}
    assert [
        x["fine"]
        for x in client.get("/api/v1/violations", headers=auth(pia)).get_json()["violations"]
    ] == [60.0, 20.0]


def test_the_months_audit_report(app, client, office):  # noqa: F811
    organisation.add_duty("pia@example.com", "auditor")
    month = (utcnow()).strftime("%Y-%m")
    rid = approved(
        client,
        office,
        arrives_at=when(0.01),
        departs_at=when(0.05),
        items=[{"kind": "meal", "quantity": 2}],
    )
    client.post(
        f"/api/v1/requests/{rid}/budget-increase",
        json={"amount": 100, "reason": "more"},
        headers=auth(office["rita"]),
    )
    inc = client.get("/api/v1/approvals", headers=auth(office["fay"])).get_json()[
        "budget_increases"
    ][0]["id"]
    for who in ("fay", "gus"):
        client.post(
            f"/api/v1/budget-increases/{inc}/decision",
            json={"decision": "approve"},
            headers=auth(office[who]),
        )
    assert spend(client, office["rita"], rid, 350).status_code == 201  # 304 + 100 budget
    late = client.post(
        "/api/v1/requests",
        json=body(
            president_attends=True,
            arrives_at=when(0.5),
            departs_at=when(0.6),
            president_override={"reason": "Minister"},
        ),
        headers=auth(office["gus"]),
    ).get_json()["id"]
    visit = visits.pre_register({"name": "Ada Lovelace"}, "grace@example.com")
    from server.services import checkin

    checkin.check_in(visit.code)
    checkin.check_out(visit.code)
    db.session.add(
        Feedback(
            visit_id=visit.id,
            token="t",
            expires_at=utcnow(),
            submitted_at=utcnow(),
            welcome=2,
            hospitality=4,
            meeting=4,
            comment="waited long",
        )
    )
    db.session.commit()
    pia = app.test_client()
    login(pia, "pia@example.com")
    html = pia.get(f"/reports/audit?month={month}").get_data(as_text=True)
    assert "Over budget 超预算 (1)" in html and "Yes 是" in html  # pre-approved
    assert f"#{late}" in html and "Minister" in html
    assert "waited long" in html and "Ada Lovelace" in html
    assert "Arrangement sheets late" in html
    pdf = pia.get(f"/reports/audit.pdf?month={month}")
    assert pdf.status_code == 200
    words = pypdf.PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "审计报告" in words and "Over budget: 1" in words and "pre-approved" in words
    assert pia.get("/reports/audit?month=2026-13").status_code == 422
    host = app.test_client()
    login(host, "rita@example.com")
    assert host.get(f"/reports/audit?month={month}").status_code == 403
