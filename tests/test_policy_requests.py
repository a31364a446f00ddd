"""Issue 14 items 3-5 through the JSON API on a real SQLite file: a host files a
hospitality request priced from the star level's standard; it passes department head
→ marketing → finance → general manager (a return and a resubmit on the way); the
deciders and the requester hear it live; approved, its visitors become visits with
codes and the star level; nobody decides their own request; the president needs two
days' notice."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEntry, Visit
from server.policy import organisation
from server.services import audit, checkin, people
from tests.conftest import PASSWORD, auth, staff_socket


@pytest.fixture
def office(app, staff):
    """Rita (Sales) files; Grace heads Sales; Mark is marketing, Fay finance, Gus the GM,
    Pia the president's office."""
    people.create_user("rita@example.com", "Rita Sales", ["host"], PASSWORD, department="Sales")
    for email, name, duty in (
        ("mark@example.com", "Mark Marketing", "marketing"),
        ("fay@example.com", "Fay Finance", "finance"),
        ("gus@example.com", "Gus GM", "gm"),
        ("pia@example.com", "Pia Office", "president_office"),
    ):
        people.create_user(email, name, ["host"], PASSWORD)
        organisation.add_duty(email, duty)
    organisation.add_department("Sales", "grace@example.com")
    return {
        e.split("@")[0]: people.create_token(e)
        for e in (
            "rita@example.com",
            "grace@example.com",
            "mark@example.com",
            "fay@example.com",
            "gus@example.com",
            "linus@example.com",
        )
    }


def when(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


def body(**over):
    data = {
        "client": {"company": "华为技术", "star_level": 4, "background": "Key account"},
        "visitors": [
            {"name": "张伟", "title": "VP", "email": "zhang@example.cn"},
            {"name": "Ada Lovelace"},
        ],
        "purpose": "Plant tour and contract talks",
        "arrives_at": when(5),
        "departs_at": when(5.3),
        "attendees": 3,
        "items": [
            {"kind": "meal", "quantity": 6},
            {"kind": "lodging", "quantity": 2, "amount": 1200},
            {"kind": "gift", "quantity": 2, "amount": 300},
        ],
        "materials": ["flags", "welcome_banner"],
    }
    data.update(over)
    return data


def test_a_request_is_priced_from_its_standard_and_walks_the_chain(client, office, app):
    head = staff_socket(app, "grace@example.com")
    rita = staff_socket(app, "rita@example.com")
    r = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"]))
    assert r.status_code == 201, r.get_json()
    req = r.get_json()
    assert (req["status"], req["step"]) == ("pending", "dept_head")
    assert req["estimate"]["items"][0] == {
        "kind": "meal",
        "quantity": 6,
        "unit": 152.0,
        "amount": 912.0,
    }
    assert req["estimate"]["total"] == 912.0 + 1200 + 300
    assert req["visitors"][0]["name"] == "张伟"
    needed = [m for m in head.get_received() if m["name"] == "approval_needed"]
    assert [m["args"][0]["request_id"] for m in needed] == [req["id"]]
    rid = req["id"]

    def decide(who, decision, **extra):
        return client.post(
            f"/api/v1/requests/{rid}/decision",
            json={"decision": decision, **extra},
            headers=auth(office[who]),
        )

    # Only the step's deciders decide; a comment is needed to return or reject.
    assert decide("mark", "approve").get_json()["error"]["code"] == "not_your_step"
    assert decide("grace", "return").status_code == 422
    assert decide("grace", "approve", comment="ok").get_json()["step"] == "marketing"
    approvals = client.get("/api/v1/approvals", headers=auth(office["mark"])).get_json()
    assert [a["id"] for a in approvals["requests"]] == [rid]
    assert client.get("/api/v1/approvals", headers=auth(office["fay"])).get_json()["count"] == 0
    plan = {"schedule": "10:00 tour", "venue": "Room 3", "dining": "Canteen VIP room"}
    r = decide("mark", "return", comment="Add the dinner", plan=plan)
    assert r.get_json()["status"] == "returned" and r.get_json()["step"] is None
    assert decide("fay", "approve").get_json()["error"]["code"] == "not_pending"
    # The requester edits and resubmits: the chain starts again.
    edited = body(items=[{"kind": "meal", "quantity": 9}])
    r = client.put(f"/api/v1/requests/{rid}", json=edited, headers=auth(office["rita"]))
    assert r.status_code == 200 and r.get_json()["estimate"]["total"] == 9 * 152.0
    r = client.post(f"/api/v1/requests/{rid}/submit", headers=auth(office["rita"]))
    assert r.get_json()["step"] == "dept_head"
    decide("grace", "approve")
    assert decide("mark", "approve", plan=plan).get_json()["plan"] == plan
    assert decide("fay", "approve").get_json()["step"] == "gm"
    final = decide("gus", "approve", comment="Welcome them").get_json()
    assert final["status"] == "approved" and final["step"] is None
    assert [v["visitor"]["name"] for v in final["visits"]] == ["张伟", "Ada Lovelace"]
    assert [(h["step"], h["decision"]) for h in final["history"]] == [
        ("", "submit"),
        ("dept_head", "approve"),
        ("marketing", "return"),
        ("", "submit"),
        ("dept_head", "approve"),
        ("marketing", "approve"),
        ("finance", "approve"),
        ("gm", "approve"),
    ]
    updates = [
        m["args"][0]["decision"] for m in rita.get_received() if m["name"] == "request_updated"
    ]
    assert updates == [
        "submit",
        "approve",
        "return",
        "submit",
        "approve",
        "approve",
        "approve",
        "approve",
    ]
    # The visits are real: star level on the visit, a code that checks in.
    visit = db.session.get(Visit, final["visits"][0]["id"])
    assert (visit.stars, visit.kind, visit.request_id) == (4, "vip", rid)
    assert visit.host.email == "rita@example.com"
    assert decide("gus", "approve").get_json()["error"]["code"] == "not_pending"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("request.approve") == 5 and "request.return" in actions
    assert audit.verify(db.session) is None


def test_amounts_over_the_cap_and_bad_input_are_refused_with_fields(client, office):
    h = auth(office["rita"])
    r = client.post(
        "/api/v1/requests",
        json=body(items=[{"kind": "meal", "quantity": 2, "amount": 400}]),
        headers=h,
    )
    assert r.status_code == 422
    assert "items.0.amount" in r.get_json()["error"]["fields"]
    three = body(
        client={"company": "Small Co", "star_level": 3},
        items=[{"kind": "lodging", "quantity": 1, "amount": 300}, {"kind": "meal", "quantity": 2}],
    )
    r = client.post("/api/v1/requests", json=three, headers=h)
    assert r.get_json()["error"]["fields"] == {"items.0.kind": "at 3 stars the client pays lodging"}
    five = body(
        client={"company": "Big Co", "star_level": 5}, items=[{"kind": "meal", "quantity": 2}]
    )
    r = client.post("/api/v1/requests", json=five, headers=h)
    assert "items.0.amount" in r.get_json()["error"]["fields"]  # actual cost: say how much
    r = client.post(
        "/api/v1/requests",
        json={"client": {"star_level": 7}, "visitors": [], "arrives_at": "soon", "items": "x"},
        headers=h,
    )
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "invalid_request"
    assert {
        "client.company",
        "client.star_level",
        "visitors",
        "arrives_at",
        "departs_at",
        "purpose",
    } <= set(r.get_json()["error"]["fields"])
    for junk in ([], "x", {"client": "x"}, {"visitors": [{"name": "\ud800"}]}):
        assert client.post("/api/v1/requests", json=junk, headers=h).status_code == 422


def test_nobody_decides_their_own_request(client, office, staff):
    # Grace heads Sales and files for Sales herself: her step passes to the next one.
    people.user_by_email("grace@example.com").department = "Sales"
    db.session.commit()
    r = client.post("/api/v1/requests", json=body(), headers=auth(office["grace"]))
    req = r.get_json()
    assert req["step"] == "marketing"
    assert req["history"][-1]["decision"] == "skip"
    assert "filed the request" in req["history"][-1]["comment"]


def test_the_president_needs_two_days_notice_unless_the_gm_overrides(client, office, app):
    pia = staff_socket(app, "pia@example.com")
    soon = body(president_attends=True, arrives_at=when(1), departs_at=when(1.2))
    r = client.post("/api/v1/requests", json=soon, headers=auth(office["rita"]))
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "president_notice"
    with_reason = {**soon, "president_override": {"reason": "The minister asked"}}
    r = client.post("/api/v1/requests", json=with_reason, headers=auth(office["rita"]))
    assert r.get_json()["error"]["code"] == "president_notice"  # only a GM may override
    r = client.post("/api/v1/requests", json=with_reason, headers=auth(office["gus"]))
    assert r.status_code == 201
    assert r.get_json()["history"][0]["decision"] == "override"
    told = [m for m in pia.get_received() if m["name"] == "president_notice"]
    assert [m["args"][0]["request_id"] for m in told] == [r.get_json()["id"]]
    early = body(president_attends=True)
    assert (
        client.post("/api/v1/requests", json=early, headers=auth(office["rita"])).status_code == 201
    )


def test_requests_are_private_to_the_people_on_them(client, office):
    rid = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"])).get_json()[
        "id"
    ]
    assert client.get(f"/api/v1/requests/{rid}", headers=auth(office["linus"])).status_code == 404
    assert client.get(f"/api/v1/requests/{rid}", headers=auth(office["grace"])).status_code == 200
    assert client.get(f"/api/v1/requests/{rid}", headers=auth(office["fay"])).status_code == 200
    r = client.put(f"/api/v1/requests/{rid}", json=body(), headers=auth(office["grace"]))
    assert r.get_json()["error"]["code"] == "not_your_request"
    r = client.put(f"/api/v1/requests/{rid}", json=body(), headers=auth(office["rita"]))
    assert r.get_json()["error"]["code"] == "not_editable"
    assert client.get("/api/v1/requests/999999", headers=auth(office["rita"])).status_code == 404
    mine = client.get("/api/v1/requests", headers=auth(office["rita"])).get_json()
    assert [x["id"] for x in mine["requests"]] == [rid]


def test_an_approved_requests_visitor_checks_in(client, office):
    rid = client.post(
        "/api/v1/requests",
        json=body(arrives_at=when(0), departs_at=when(0.2)),
        headers=auth(office["rita"]),
    ).get_json()["id"]
    for who in ("grace", "mark", "fay", "gus"):
        r = client.post(
            f"/api/v1/requests/{rid}/decision",
            json={"decision": "approve"},
            headers=auth(office[who]),
        )
        assert r.status_code == 200, r.get_json()
    code = r.get_json()["visits"][0]["code"]
    done = checkin.check_in(code)
    assert done.created and done.visit.stars == 4
