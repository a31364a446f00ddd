"""The JSON API contract (DESIGN.md): visits, checkins, checkouts, onsite, errors."""

import pytest

from server.extensions import db
from server.models import Visit
from tests.conftest import auth


def test_create_visit_returns_201_with_a_long_random_code(client, tokens):
    resp = client.post(
        "/api/v1/visits",
        headers=auth(tokens["admin"]),
        json={
            "visitor": {
                "name": "Ada Lovelace",
                "company": "Analytical Engines",
                "email": "ada@example.com",
                "phone": "+44 20 1234",
            },
            "host": "grace@example.com",
            "expected_at": "2030-01-02T10:00:00+08:00",
            "purpose": "Engine review",
        },
    )
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["status"] == "expected"
    assert body["visitor"]["name"] == "Ada Lovelace"
    assert body["host"]["email"] == "grace@example.com"
    assert body["expected_at"] == "2030-01-02T02:00:00+00:00"
    # at least 128 random bits: 24 bytes of token_urlsafe are 32 characters
    assert len(body["code"]) >= 22


def test_codes_are_unique_per_visit(client, tokens):
    codes = set()
    for i in range(20):
        resp = client.post(
            "/api/v1/visits",
            headers=auth(tokens["admin"]),
            json={"visitor": {"name": f"Guest {i}"}, "host": "grace@example.com"},
        )
        codes.add(resp.get_json()["code"])
    assert len(codes) == 20


@pytest.mark.parametrize(
    "body,code",
    [
        (None, "invalid_json"),
        ([1, 2], "invalid_json"),
        ({"visitor": "Ada", "host": "grace@example.com"}, "invalid_visitor"),
        ({"visitor": {"name": ""}, "host": "grace@example.com"}, "invalid_visit"),
        ({"visitor": {"name": "Ada"}, "host": "nobody@example.com"}, "invalid_visit"),
        (
            {"visitor": {"name": "Ada"}, "host": "grace@example.com", "expected_at": "tomorrow"},
            "invalid_visit",
        ),
        (
            {"visitor": {"name": "Ada", "email": "not-an-email"}, "host": "grace@example.com"},
            "invalid_visit",
        ),
        ({"visitor": {"name": "A" * 201}, "host": "grace@example.com"}, "invalid_visit"),
        ({"visitor": {"name": 42}, "host": "grace@example.com"}, "invalid_visit"),
        ({"visitor": {"name": "Ada"}, "host": ["grace@example.com"]}, "invalid_visit"),
    ],
)
def test_malformed_visit_is_422_with_a_stable_code_and_writes_nothing(client, tokens, body, code):
    from server.extensions import db
    from server.models import Visit, Visitor

    kwargs = (
        {"data": "{not json", "content_type": "application/json"}
        if body is None
        else {"json": body}
    )
    resp = client.post("/api/v1/visits", headers=auth(tokens["admin"]), **kwargs)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["code"] == code
    assert db.session.query(Visit).count() == 0
    assert db.session.query(Visitor).count() == 0


def test_api_refuses_missing_or_revoked_tokens(client, tokens, staff):
    assert client.get("/api/v1/onsite").status_code == 401
    assert (
        client.get("/api/v1/onsite", headers=auth("lby_nonsense")).get_json()["error"]["code"]
        == "unauthorized"
    )
    from server.extensions import db
    from server.models import ApiToken
    from server.services import people

    tok = db.session.query(ApiToken).filter_by(user_id=staff["reception"].id).one()
    people.revoke_token(tok.id)
    assert client.get("/api/v1/onsite", headers=auth(tokens["reception"])).status_code == 401


def test_checkin_is_201_then_200_for_the_same_checkin(client, tokens, make_visit):
    visit = make_visit()
    first = client.post(
        "/api/v1/checkins", headers=auth(tokens["reception"]), json={"code": visit.code}
    )
    again = client.post(
        "/api/v1/checkins", headers=auth(tokens["reception"]), json={"code": visit.code}
    )
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()["checked_in_at"] == again.get_json()["checked_in_at"]
    assert again.get_json()["status"] == "checked_in"


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"code": "x" * 30}, 404, "unknown_code"),
        ({"code": 12345}, 422, "invalid_code"),
        ({}, 422, "invalid_code"),
        ({"code": "../../etc/passwd"}, 404, "unknown_code"),
    ],
)
def test_bad_checkins_get_clear_4xx(client, tokens, body, status, code):
    resp = client.post("/api/v1/checkins", headers=auth(tokens["reception"]), json=body)
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code


def test_checkin_with_unknown_printer_or_kiosk_is_404_and_visit_stays_expected(
    client, tokens, make_visit
):
    visit = make_visit()
    for extra, code in [
        ({"printer": "nope"}, "unknown_printer"),
        ({"kiosk": "nope"}, "unknown_kiosk"),
    ]:
        resp = client.post(
            "/api/v1/checkins",
            headers=auth(tokens["reception"]),
            json={"code": visit.code, **extra},
        )
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == code
    assert (
        client.get(f"/api/v1/visits/{visit.id}", headers=auth(tokens["reception"])).get_json()[
            "status"
        ]
        == "expected"
    )


def test_checkin_at_a_kiosk_then_again_answers_the_same_checkin_with_its_kiosk(
    client, tokens, make_visit
):
    from server.services import devices

    devices.add_kiosk("Front door")
    visit, h = make_visit("张伟"), auth(tokens["reception"])
    first = client.post(
        "/api/v1/checkins", headers=h, json={"code": visit.code, "kiosk": "Front door"}
    )
    again = client.post("/api/v1/checkins", headers=h, json={"code": visit.code})
    assert (first.status_code, again.status_code) == (201, 200)
    for resp in (first, again):
        body = resp.get_json()
        assert body["kiosk"] == "Front door" and body["visitor"]["name"] == "张伟"
        assert body["status"] == "checked_in" and body["state"] == "waiting"
    assert again.get_json()["checked_in_at"] == first.get_json()["checked_in_at"]


def test_checkout_and_onsite(client, tokens, make_visit):
    a, b = make_visit("Ada"), make_visit("Bob")
    h = auth(tokens["reception"])
    client.post("/api/v1/checkins", headers=h, json={"code": a.code})
    client.post("/api/v1/checkins", headers=h, json={"code": b.code})
    assert client.get("/api/v1/onsite", headers=h).get_json()["count"] == 2
    resp = client.post("/api/v1/checkouts", headers=h, json={"code": a.code})
    assert resp.status_code == 200 and resp.get_json()["status"] == "checked_out"
    onsite = client.get("/api/v1/onsite", headers=h).get_json()
    assert [v["visitor"]["name"] for v in onsite["visits"]] == ["Bob"]
    refused = client.post("/api/v1/checkins", headers=h, json={"code": a.code})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "already_checked_out"


def test_checkout_of_a_visitor_not_checked_in_is_409(client, tokens, make_visit):
    visit = make_visit()
    resp = client.post(
        "/api/v1/checkouts", headers=auth(tokens["reception"]), json={"code": visit.code}
    )
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "not_checked_in"


def test_host_sees_only_their_own_visits(client, tokens, make_visit):
    mine = make_visit(host="grace@example.com")
    theirs = make_visit(host="linus@example.com")
    h = auth(tokens["host"])
    assert client.get(f"/api/v1/visits/{mine.id}", headers=h).status_code == 200
    resp = client.get(f"/api/v1/visits/{theirs.id}", headers=h)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/visits/99999", headers=h).status_code == 404


def test_host_may_invite_only_for_themselves_and_may_not_check_in(client, tokens, make_visit):
    h = auth(tokens["host"])
    own = client.post(
        "/api/v1/visits", headers=h, json={"visitor": {"name": "Ada"}, "host": "grace@example.com"}
    )
    other = client.post(
        "/api/v1/visits", headers=h, json={"visitor": {"name": "Ada"}, "host": "linus@example.com"}
    )
    assert own.status_code == 201 and other.status_code == 403
    assert (
        client.post(
            "/api/v1/checkins", headers=h, json={"code": own.get_json()["code"]}
        ).status_code
        == 403
    )


def test_unknown_api_route_and_wrong_method_use_the_envelope(client, tokens):
    resp = client.get("/api/v1/nothing-here", headers=auth(tokens["admin"]))
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    resp = client.get("/api/v1/checkins", headers=auth(tokens["admin"]))
    assert resp.status_code == 405 and resp.get_json()["error"]["code"] == "method_not_allowed"


def test_an_id_too_large_for_the_database_is_404_not_500(client, tokens):
    huge = "9" * 25
    for method, url in [
        ("get", f"/api/v1/visits/{huge}"),
        ("post", f"/api/v1/visits/{huge}/badge"),
        ("post", f"/api/v1/tasks/{huge}"),
    ]:
        resp = getattr(client, method)(url, headers=auth(tokens["reception"]), json={"reason": "x"})
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"


def test_checkin_takes_the_visitors_language_for_the_badge(client, tokens, make_visit):
    visit = make_visit()
    bad = client.post(
        "/api/v1/checkins",
        headers=auth(tokens["reception"]),
        json={"code": visit.code, "language": "fr"},
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid_language"
    assert db.session.get(Visit, visit.id).status == "expected"
    ok = client.post(
        "/api/v1/checkins",
        headers=auth(tokens["reception"]),
        json={"code": visit.code, "language": "zh"},
    )
    assert ok.status_code == 201
    assert db.session.get(Visit, visit.id).language == "zh"
