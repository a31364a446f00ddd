"""Issue 15 items 1, 2 and 8 through the JSON API on real databases: an approved
request's estimate is its budget; expenses with receipts checked for what they really
are; one past the budget is refused until an over-budget pre-approval passes finance
and the general manager; finance moves expenses to approved, paid or rejected; money
records survive the retention purge."""

import io
import threading
import traceback
from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from server.extensions import db
from server.models import Expense, utcnow
from server.policy import expenses
from server.services import people, retention
from server.services.errors import Conflict
from tests.conftest import auth, staff_socket
from tests.test_policy_requests import body, office, when  # noqa: F401  (fixture)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, format="PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def approved(client, office, **over) -> int:  # noqa: F811
    rid = client.post(
        "/api/v1/requests", json=body(**over), headers=auth(office["rita"])
    ).get_json()["id"]
    for who in ("grace", "mark", "fay", "gus"):
        r = client.post(
            f"/api/v1/requests/{rid}/decision",
            json={"decision": "approve"},
            headers=auth(office[who]),
        )
        assert r.status_code == 200, r.get_json()
    return rid


def spend(client, token, rid, amount, receipt=None, kind="meal", name="receipt.png"):
    return client.post(
        f"/api/v1/requests/{rid}/expenses",
        data={
            "kind": kind,
            "amount": str(amount),
            "spent_at": when(0),
            "note": "晚宴 dinner",
            "receipt": (io.BytesIO(png() if receipt is None else receipt), name),
        },
        headers=auth(token),
        content_type="multipart/form-data",
    )


def test_over_budget_is_refused_until_a_pre_approval_passes_finance_and_gm(client, office, app):  # noqa: F811
    rid = approved(client, office, items=[{"kind": "meal", "quantity": 6}])  # 6 x 152 = 912
    req = client.get(f"/api/v1/requests/{rid}", headers=auth(office["rita"])).get_json()
    assert req["budget"]["total"] == {
        "kind": "total",
        "budget": 912.0,
        "spent": 0.0,
        "left": 912.0,
        "percent": 0.0,
    }
    r = spend(client, office["rita"], rid, 800)
    assert r.status_code == 201, r.get_json()
    assert isinstance(r.get_json()["id"], int)
    over = spend(client, office["rita"], rid, 200, receipt=PDF, name="taxi.pdf")
    assert over.status_code == 409 and over.get_json()["error"]["code"] == "over_budget"

    fay = staff_socket(app, "fay@example.com")
    inc = client.post(
        f"/api/v1/requests/{rid}/budget-increase",
        json={"amount": 300, "reason": "客户临时增加两人 two more guests"},
        headers=auth(office["rita"]),
    )
    assert inc.status_code == 201
    iid = inc.get_json()["id"]
    assert (inc.get_json()["status"], inc.get_json()["step"]) == ("pending", "finance")
    assert [
        m["args"][0]["budget_increase"]
        for m in fay.get_received()
        if m["name"] == "approval_needed"
    ] == [iid]
    waiting = client.get("/api/v1/approvals", headers=auth(office["fay"])).get_json()
    assert [b["id"] for b in waiting["budget_increases"]] == [iid]

    def decide(who, decision, comment=""):
        return client.post(
            f"/api/v1/budget-increases/{iid}/decision",
            json={"decision": decision, "comment": comment},
            headers=auth(office[who]),
        )

    assert decide("gus", "approve").get_json()["error"]["code"] == "not_your_step"
    assert decide("fay", "reject").status_code == 422  # a comment is needed
    assert decide("fay", "approve").get_json()["step"] == "gm"
    assert spend(client, office["rita"], rid, 200, receipt=PDF).status_code == 409  # not yet
    done = decide("gus", "approve", "OK")
    assert done.get_json()["status"] == "approved"
    assert [h["decision"] for h in done.get_json()["history"]] == ["submit", "approve", "approve"]
    assert decide("gus", "approve").get_json()["error"]["code"] == "not_pending"
    r = spend(client, office["rita"], rid, 200, receipt=PDF, name="taxi.pdf", kind="vehicle")
    assert r.status_code == 201
    budget = client.get(f"/api/v1/requests/{rid}", headers=auth(office["rita"])).get_json()[
        "budget"
    ]
    assert budget["total"]["budget"] == 1212.0 and budget["total"]["spent"] == 1000.0
    assert {k["kind"]: k["spent"] for k in budget["kinds"]} == {"meal": 800.0, "vehicle": 200.0}
    vehicle = next(k for k in budget["kinds"] if k["kind"] == "vehicle")
    assert vehicle["budget"] == 0.0 and vehicle["percent"] == 100.0  # past its kind's line


def test_a_receipt_is_checked_for_what_it_really_is(client, office):  # noqa: F811
    rid = approved(client, office)
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    for data, name in (
        (elf, "receipt.png"),
        (b"MZ\x90\x00" + b"\x00" * 100, "scan.pdf"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "broken.png"),
        (b"%PDF-1.7 truncated", "cut.pdf"),
    ):
        r = spend(client, office["rita"], rid, 10, receipt=data, name=name)
        assert r.status_code == 422, name
        assert r.get_json()["error"]["code"] == "invalid_receipt"
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024) + b"\n%%EOF\n"
    r = spend(client, office["rita"], rid, 10, receipt=big, name="huge.pdf")
    assert r.status_code == 422 and r.get_json()["error"]["fields"]["receipt"] == "at most 10 MB"
    nothing = client.post(
        f"/api/v1/requests/{rid}/expenses", data={"kind": "meal"}, headers=auth(office["rita"])
    )
    assert nothing.status_code == 422 and {"amount", "spent_at", "receipt"} <= set(
        nothing.get_json()["error"]["fields"]
    )
    assert db.session.scalars(select(Expense)).all() == []
    # An expense of a request that is not approved yet, or of someone else's request:
    pending = client.post("/api/v1/requests", json=body(), headers=auth(office["rita"])).get_json()[
        "id"
    ]
    assert spend(client, office["rita"], pending, 10).get_json()["error"]["code"] == "not_approved"
    assert spend(client, office["linus"], rid, 10).status_code == 404


def test_finance_moves_expenses_and_reads_receipts(client, office):  # noqa: F811
    rid = approved(client, office)
    eid = spend(client, office["rita"], rid, 100).get_json()["id"]

    def move(who, status, reason=None):
        return client.post(
            f"/api/v1/expenses/{eid}/status",
            json={"status": status, "reason": reason},
            headers=auth(office[who]),
        )

    assert move("rita", "approved").get_json()["error"]["code"] == "not_finance"
    assert move("fay", "paid").get_json()["error"]["code"] == "invalid_transition"
    assert move("fay", "approved").get_json()["status"] == "approved"
    assert move("fay", "rejected").get_json()["error"]["code"] == "reason_required"
    assert move("fay", "paid").get_json()["status"] == "paid"
    assert move("fay", "rejected", "duplicate").get_json()["error"]["code"] == "invalid_transition"
    listing = client.get("/api/v1/expenses?status=paid", headers=auth(office["fay"])).get_json()
    assert [e["id"] for e in listing["expenses"]] == [eid]
    assert client.get("/api/v1/expenses", headers=auth(office["linus"])).status_code == 403
    receipt = client.get(f"/api/v1/expenses/{eid}/receipt", headers=auth(office["fay"]))
    assert receipt.status_code == 200 and receipt.mimetype == "image/png" and receipt.data == png()
    assert (
        client.get(f"/api/v1/expenses/{eid}/receipt", headers=auth(office["linus"])).status_code
        == 404
    )


def test_two_expenses_at_once_cannot_both_slip_under_the_budget(app, client, office):  # noqa: F811
    rid = approved(client, office, items=[{"kind": "meal", "quantity": 6}])  # 912
    rita = people.user_by_email("rita@example.com")
    barrier = threading.Barrier(2)
    won, refused, errors = [], [], []

    def add():
        with app.app_context():
            try:
                barrier.wait()
                expenses.add(rid, rita, "meal", 600, utcnow(), "", png(), "r.png")
                won.append(1)
            except Conflict:
                refused.append(1)
            except Exception:
                errors.append(traceback.format_exc())
            finally:
                db.session.remove()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [], errors[0]
    assert (len(won), len(refused)) == (1, 1)


def test_money_records_survive_the_retention_purge(client, office):  # noqa: F811
    rid = approved(client, office, arrives_at=when(0), departs_at=when(0.1))
    eid = spend(client, office["rita"], rid, 100).get_json()["id"]
    retention.purge(now=utcnow() + timedelta(days=4000), actor_label="test")
    db.session.rollback()
    expense = db.session.get(Expense, eid)
    assert expense is not None and expense.receipt == png() and float(expense.amount) == 100.0
    assert expense.note == "晚宴 dinner"
