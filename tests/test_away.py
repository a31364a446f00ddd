"""A host away with a delegate (issue 16 item 5): the delegate is alerted too, the
kiosk and the API say who comes instead, the delegate acts for the host while they
are away; set from the API (PATCH /api/v1/me) and the CLI (lobby user update)."""

from datetime import timedelta

import pytest

from server import realtime
from server.extensions import db
from server.models import Event, User, Visit, utcnow
from server.services import away, checkin, hosting, people, visits
from tests.conftest import PASSWORD, auth, login, staff_socket
from tests.kiosk_helpers import KioskClient


def arrivals(sock) -> list[dict]:
    return [m["args"][0] for m in sock.get_received() if m["name"] == "visitor_arrived"]


@pytest.fixture
def lina(staff):
    return people.create_user("lina@example.com", "李娜", ["host"], PASSWORD)


def go_away(user_email: str, delegate: str | None, hours: float = 2) -> User:
    user = people.user_by_email(user_email)
    until = (utcnow() + timedelta(hours=hours)).isoformat() + "+00:00"
    return away.set_away(user.id, away_until=until, delegate=delegate)


def back_in_the_past(user_email: str) -> None:
    """``away_until`` passed (as it does by itself: nothing clears it)."""
    user = people.user_by_email(user_email)
    user.away_until = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_arrival_for_an_away_host_alerts_the_delegate_and_the_host(app, make_visit, lina):
    go_away("grace@example.com", "lina@example.com")
    visit = make_visit()
    grace, delegate = staff_socket(app, "grace@example.com"), staff_socket(app, "lina@example.com")
    other = staff_socket(app, "linus@example.com")
    for sock in (grace, delegate, other):
        sock.get_received()

    result = checkin.check_in(visit.code)

    (to_host,) = arrivals(grace)
    (to_delegate,) = arrivals(delegate)
    assert to_host == to_delegate
    assert to_delegate["delegate"] == {"id": lina.id, "name": "李娜"}
    assert to_delegate["for_host"] == "Grace Hopper"
    assert to_delegate["visitor"]["name"] == "Ada Lovelace"
    assert arrivals(other) == []
    assert result.as_dict()["delegate"] == {"id": lina.id, "name": "李娜"}
    (event,) = db.session.query(Event).filter_by(kind="visitor_arrived").all()
    assert f"host:{lina.id}" in event.rooms


def test_host_whose_away_until_passed_is_alerted_alone(app, make_visit, lina):
    go_away("grace@example.com", "lina@example.com")
    back_in_the_past("grace@example.com")
    visit = make_visit()
    grace, delegate = staff_socket(app, "grace@example.com"), staff_socket(app, "lina@example.com")
    grace.get_received(), delegate.get_received()

    result = checkin.check_in(visit.code)

    (to_host,) = arrivals(grace)
    assert to_host["delegate"] is None and "for_host" not in to_host
    assert arrivals(delegate) == []
    assert result.as_dict()["delegate"] is None


def test_away_host_without_delegate_is_alerted_as_usual(app, make_visit):
    go_away("grace@example.com", None)
    visit = make_visit()
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    checkin.check_in(visit.code)
    (to_host,) = arrivals(grace)
    assert to_host["delegate"] is None


def test_delegate_away_too_is_still_the_one_alerted_one_hop(app, make_visit, lina, staff):
    go_away("lina@example.com", "linus@example.com")
    go_away("grace@example.com", "lina@example.com")
    visit = make_visit()
    delegate, second = staff_socket(app, "lina@example.com"), staff_socket(app, "linus@example.com")
    delegate.get_received(), second.get_received()
    checkin.check_in(visit.code)
    assert [a["delegate"]["name"] for a in arrivals(delegate)] == ["李娜"]
    assert arrivals(second) == []  # one hop: the delegate's own delegate is not alerted


def test_disabled_delegate_is_nobody(app, make_visit, lina):
    go_away("grace@example.com", "lina@example.com")
    lina.active = False
    db.session.commit()
    visit = make_visit()
    assert checkin.check_in(visit.code).as_dict()["delegate"] is None


def test_desk_check_in_alerts_the_delegate_too(app, make_visit, lina, staff):
    go_away("grace@example.com", "lina@example.com")
    visit = make_visit()
    delegate = staff_socket(app, "lina@example.com")
    delegate.get_received()
    hosting.check_in_at_desk(visit.id, staff["reception"])
    (alert,) = arrivals(delegate)
    assert alert["for_host"] == "Grace Hopper"


def test_api_answer_and_alert_with_a_delegate_are_those_of_the_visit_as_stored(
    app, tokens, make_visit, lina
):
    """The Core check-in builds its answer and alert from the row it read; with a
    delegate they must still be ``visits.as_dict`` / ``arrival_payload`` of the visit."""
    go_away("grace@example.com", "lina@example.com")
    visit_id, code, lina_id = (v := make_visit()).id, v.code, lina.id
    db.session.remove()
    resp = app.test_client().post(
        "/api/v1/checkins", json={"code": code}, headers=auth(tokens["reception"])
    )
    assert resp.status_code == 201, resp.get_json()
    db.session.remove()
    stored = db.session.get(Visit, visit_id)
    assert resp.get_json() == visits.as_dict(stored)
    assert resp.get_json()["delegate"] == {"id": lina_id, "name": "李娜"}
    (event,) = db.session.query(Event).filter_by(kind="visitor_arrived").all()
    assert event.payload == realtime.arrival_payload(stored)


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Grace Hopper", "is away;", "李娜", "is coming to meet you."]),
        ("zh", ["Grace Hopper", " 不在，", "李娜", " 将来接您。"]),
    ],
)
def test_kiosk_welcome_says_the_host_is_away_and_who_comes(app, make_visit, lina, language, texts):
    go_away("grace@example.com", "lina@example.com")
    visit = make_visit()
    kiosk = KioskClient(app, language=language)
    html = kiosk.skip_photo(kiosk.scan(visit.code).get_data(as_text=True))
    assert 'data-outcome="welcome"' in html
    told = html.split('class="told away">', 1)[1].split("</p>", 1)[0]
    for text in texts:
        assert text in told
    assert "has been told" not in html and "已通知" not in html
    # "on my way" names the delegate, who is the one coming
    assert 'data-text="李娜' in html


def test_kiosk_welcome_after_the_host_is_back_names_the_host(app, make_visit, lina):
    go_away("grace@example.com", "lina@example.com")
    back_in_the_past("grace@example.com")
    visit = make_visit()
    kiosk = KioskClient(app)
    html = kiosk.skip_photo(kiosk.scan(visit.code).get_data(as_text=True))
    assert "has been told you are here" in html and "is away" not in html


def test_kiosk_escapes_the_names_in_the_away_line(app, make_visit, staff):
    people.create_user("evil@example.com", "<b>Eve</b>", ["host"], PASSWORD)
    go_away("grace@example.com", "evil@example.com")
    kiosk = KioskClient(app)
    html = kiosk.skip_photo(kiosk.scan(make_visit().code).get_data(as_text=True))
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html and "<b>Eve</b>" not in html


def test_delegate_sees_and_acts_on_the_away_hosts_visitors_until_the_host_is_back(
    app, make_visit, lina
):
    go_away("grace@example.com", "lina@example.com")
    visit = make_visit(name="Ada Lovelace")
    checkin.check_in(visit.code)
    web = app.test_client()
    login(web, "lina@example.com")
    page = web.get("/host").get_data(as_text=True)
    assert "Ada Lovelace" in page and "For Grace Hopper (away)" in page
    token = people.create_token("lina@example.com")
    resp = web.post(f"/api/v1/visits/{visit.id}/acknowledge", headers=auth(token))
    assert resp.status_code == 200, resp.get_json()

    back_in_the_past("grace@example.com")
    assert "Ada Lovelace" not in web.get("/host").get_data(as_text=True)
    resp = web.get(f"/api/v1/visits/{visit.id}", headers=auth(token))
    assert resp.status_code == 403


def test_another_host_does_not_see_an_away_hosts_visitors(app, make_visit, lina, staff):
    go_away("grace@example.com", "lina@example.com")
    visit = make_visit()
    web = app.test_client()
    login(web, "linus@example.com")
    assert "Ada Lovelace" not in web.get("/host").get_data(as_text=True)
    token = people.create_token("linus@example.com")
    assert web.get(f"/api/v1/visits/{visit.id}", headers=auth(token)).status_code == 403


# --- PATCH /api/v1/me ---------------------------------------------------------------


def test_api_sets_shows_and_clears_away_and_delegate(client, tokens, lina):
    until = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    resp = client.patch(
        "/api/v1/me",
        json={"away_until": until.isoformat() + "Z", "delegate": "LiNa@example.com"},
        headers=auth(tokens["host"]),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["away"] is True and body["away_until"] == until.isoformat() + "+00:00"
    assert body["delegate"] == {"id": lina.id, "name": "李娜", "email": "lina@example.com"}
    assert client.get("/api/v1/me", headers=auth(tokens["host"])).get_json() == body

    resp = client.patch("/api/v1/me", json={"away_until": None}, headers=auth(tokens["host"]))
    assert resp.get_json()["away"] is False and resp.get_json()["away_until"] is None
    assert resp.get_json()["delegate"]["email"] == "lina@example.com"  # kept for next time
    resp = client.patch("/api/v1/me", json={"delegate": ""}, headers=auth(tokens["host"]))
    assert resp.get_json()["delegate"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"delegate": "grace@example.com"}, "delegate_is_self"),
        ({"delegate": "nobody@example.com"}, "unknown_delegate"),
        ({"delegate": "desk@example.com"}, "delegate_not_host"),
        ({"delegate": "gone@example.com"}, "delegate_inactive"),
        ({"delegate": 2**62}, "unknown_delegate"),
        ({"delegate": 1.5}, "invalid_delegate"),
        ({"delegate": True}, "invalid_delegate"),
        ({"away_until": "2001-01-01 10:00"}, "away_until_past"),
        ({"away_until": "next tuesday"}, "invalid_away_until"),
        ({"away_until": 12}, "invalid_away_until"),
        ({"away_until": "9999-12-31T23:59:59-14:00"}, "invalid_away_until"),
        ({"away": True}, "invalid_field"),
        ([], "invalid_json"),
    ],
)
def test_api_refuses_a_bad_delegate_or_time_and_changes_nothing(client, tokens, lina, body, code):
    people.create_user("gone@example.com", "Gone", ["host"], PASSWORD)
    gone = people.user_by_email("gone@example.com")
    gone.active = False
    db.session.commit()
    if isinstance(body, dict) and "away_until" in body:  # with a good delegate beside it
        body = {**body, "delegate": "lina@example.com"}
    resp = client.patch("/api/v1/me", json=body, headers=auth(tokens["host"]))
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"]["code"] == code
    db.session.remove()
    grace = people.user_by_email("grace@example.com")
    assert grace.away_until is None and grace.delegate_id is None


def test_api_me_needs_a_token(client):
    assert client.patch("/api/v1/me", json={}).status_code == 401


# --- lobby user update --away-until / --delegate / --back ----------------------------


def test_cli_sets_away_and_delegate_and_back(app, lina, capsys, monkeypatch):
    from server.cli import main

    lina_id = lina.id
    monkeypatch.setenv("LOBBY_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("LOBBY_DATA_DIR", str(app.config["DATA_DIR"]))
    db.session.commit()
    args = ["user", "update", "grace@example.com"]
    assert main([*args, "--away-until", "2999-05-01 18:00", "--delegate", "lina@example.com"]) == 0
    out = capsys.readouterr().out
    assert "away: until 2999-05-01 18:00; delegate lina@example.com" in out
    db.session.remove()
    grace = people.user_by_email("grace@example.com")
    assert away.is_away(grace) and grace.delegate_id == lina_id

    assert main([*args, "--delegate", "grace@example.com"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "own delegate" in err
    assert main([*args, "--away-until", "yesterday"]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert main([*args, "--back", "--away-until", "2999-05-01 18:00"]) == 2
    capsys.readouterr()

    assert main([*args, "--back"]) == 0
    assert "away: no; delegate lina@example.com" in capsys.readouterr().out
    db.session.remove()
    grace = people.user_by_email("grace@example.com")
    assert not away.is_away(grace) and grace.away_until is None
