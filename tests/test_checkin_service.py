"""The check-in service: one transaction, stable codes, idempotent, safe in parallel."""

from datetime import timedelta

import pytest

from server.extensions import db
from server.models import Event, PrintJob, Visit, utcnow
from server.services import checkin
from server.services.errors import CheckInError
from tests.conftest import parallel_checkins, staff_socket


def host_socket(app, email="grace@example.com"):
    return staff_socket(app, email)


def arrivals(sock):
    return [m for m in sock.get_received() if m["name"] == "visitor_arrived"]


def test_check_in_marks_visit_queues_one_badge_and_logs_one_event(app, make_visit):
    visit = make_visit()
    result = checkin.check_in(visit.code)
    assert result.created is True
    assert result.visit.status == "checked_in" and result.visit.checked_in_at is not None
    assert db.session.query(PrintJob).filter_by(visit_id=visit.id, status="queued").count() == 1
    events = db.session.query(Event).filter_by(kind="visitor_arrived").all()
    assert len(events) == 1
    assert events[0].payload["visitor"] == {"name": "Ada Lovelace", "company": "Analytical Engines"}
    assert set(events[0].rooms) >= {f"host:{visit.host_id}", "reception"}


def test_second_scan_does_not_alert_host_again_nor_print_again(app, staff, make_visit):
    visit = make_visit()
    sock = host_socket(app)
    sock.get_received()
    first = checkin.check_in(visit.code)
    again = checkin.check_in(visit.code)
    assert (first.created, again.created) == (True, False)
    assert again.visit.checked_in_at == first.visit.checked_in_at
    assert len(arrivals(sock)) == 1
    assert db.session.query(PrintJob).count() == 1


@pytest.mark.parametrize(
    "status,code", [("cancelled", "cancelled"), ("checked_out", "already_checked_out")]
)
def test_refusals_have_stable_codes(app, make_visit, status, code):
    visit = make_visit()
    db.session.get(Visit, visit.id).status = status
    db.session.commit()
    with pytest.raises(CheckInError) as err:
        checkin.check_in(visit.code)
    assert err.value.code == code
    assert db.session.query(Event).filter(Event.kind != "visit_updated").count() == 0
    assert db.session.query(PrintJob).count() == 0


@pytest.mark.parametrize("days", [-1, 1])
def test_a_visit_for_another_day_is_not_today(app, make_visit, days):
    visit = make_visit(when=utcnow() + timedelta(days=days))
    with pytest.raises(CheckInError) as err:
        checkin.check_in(visit.code)
    assert err.value.code == "not_today"
    assert db.session.get(Visit, visit.id).status == "expected"


def test_unknown_code_is_404(app):
    with pytest.raises(CheckInError) as err:
        checkin.check_in("A" * 32)
    assert (err.value.code, err.value.status) == ("unknown_code", 404)


def test_a_url_ending_in_the_code_checks_in(app, make_visit):
    visit = make_visit()
    assert checkin.check_in(f"https://lobby.example.com/i/{visit.code}/").created


def test_event_seq_grows_by_one_per_event(app, make_visit):
    codes = [make_visit(f"Guest {i}").code for i in range(3)]
    for code in codes:
        checkin.check_in(code)
    checkin.check_out(codes[0])
    log = [(e.seq, e.kind) for e in db.session.query(Event).order_by(Event.seq)]
    seqs = [seq for seq, _ in log]
    assert seqs == list(range(seqs[0], seqs[0] + 7))  # 3 invited, 3 arrived, 1 left
    assert [kind for _, kind in log][-4:] == ["visitor_arrived"] * 3 + ["visitor_left"]


def test_badge_scan_after_grace_checks_out_with_goodbye(app, make_visit):
    visit = make_visit()
    outcome, _ = checkin.scan(visit.code)
    assert outcome == "welcome"
    outcome, again = checkin.scan(visit.code)  # a scanner double-read: same check-in
    assert outcome == "welcome" and again.created is False
    db.session.get(Visit, visit.id).checked_in_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    outcome, result = checkin.scan(visit.code)
    assert outcome == "goodbye" and result.visit.status == "checked_out"
    assert db.session.query(Event).filter_by(kind="visitor_left").count() == 1


def test_fifty_parallel_checkins_of_one_code_give_one_checkin_alert_and_badge(
    app, staff, make_visit
):
    code = make_visit().code  # read once here: ORM objects stay in this thread
    sock = host_socket(app)
    sock.get_received()
    results = parallel_checkins(app, code, 50)
    assert sorted(results) == [False] * 49 + [True]
    assert db.session.query(PrintJob).count() == 1
    assert db.session.query(Event).filter_by(kind="visitor_arrived").count() == 1
    assert len(arrivals(sock)) == 1


def test_a_check_in_alerts_only_after_its_transaction_committed(
    app, staff, make_visit, monkeypatch
):
    """The host's alert leaves after the commit: whoever hears it can read the check-in
    (and its queued badge) from another connection at that moment."""
    import sqlite3

    from server.extensions import socketio

    visit = make_visit()
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    seen = []
    real_emit = socketio.emit

    def looking_emit(kind, *args, **kwargs):  # the Socket.IO server's own emit, observed
        if kind == "visitor_arrived":
            with sqlite3.connect(path) as other:
                seen.append(
                    (
                        other.execute(
                            "SELECT status FROM visits WHERE id = ?", (visit.id,)
                        ).fetchone()[0],
                        other.execute("SELECT count(*) FROM print_jobs").fetchone()[0],
                    )
                )
        return real_emit(kind, *args, **kwargs)

    monkeypatch.setattr(socketio, "emit", looking_emit)
    checkin.check_in(visit.code)
    assert seen == [("checked_in", 1)]


@pytest.mark.postgres
def test_fifty_parallel_checkins_on_postgres_give_one_checkin_alert_and_badge(pg_app):
    from server.services import people, visits
    from tests.conftest import PASSWORD

    people.create_user("grace@example.com", "Grace Hopper", ["host"], PASSWORD)
    code = visits.pre_register(
        {"name": "Ada Lovelace", "company": "Analytical Engines"}, "grace@example.com"
    ).code
    sock = host_socket(pg_app)
    sock.get_received()
    results = parallel_checkins(pg_app, code, 50)
    assert sorted(results) == [False] * 49 + [True]
    assert db.session.query(PrintJob).count() == 1
    assert db.session.query(Event).filter_by(kind="visitor_arrived").count() == 1
    (alert,) = arrivals(sock)
    assert alert["args"][0]["visitor"] == {"name": "Ada Lovelace", "company": "Analytical Engines"}


@pytest.mark.parametrize("grouped", [False, True])
def test_api_answer_and_alert_of_a_check_in_are_those_of_the_visit_as_stored(
    app, staff, tokens, grouped
):
    """The check-in answers from the row it read, not a reloaded Visit: its answer must
    be ``visits.as_dict`` of the visit as stored, key by key, and its alert
    ``realtime.arrival_payload`` of it (every field the row carries set to a value)."""
    from datetime import date

    from server import realtime
    from server.services import devices, visits
    from tests.conftest import auth

    devices.add_printer("Desk printer", "emulator:///tmp/lobby-test-badges")
    devices.add_kiosk("Lobby East", printer="Desk printer")
    people = [
        {
            "name": "Ada Lovelace",
            "company": "Analytical Engines",
            "title": "Countess",
            "email": "ada@example.com",
            "phone": "+44 20 7946 0000",
        }
    ]
    if grouped:
        group = visits.pre_register_group(
            people + [{"name": "Charles Babbage"}], "grace@example.com", name="Engine review"
        )
        visit_id = group.visits[0].id
    else:
        visit_id = visits.pre_register(people[0], "grace@example.com", purpose="Review").id
    visit = db.session.get(Visit, visit_id)
    visit.meeting_room, visit.requirements, visit.stars = "Room 4", "Tea, no milk", 3
    visit.acknowledged_at, visit.valid_until = utcnow(), date.today() + timedelta(days=2)
    visit.cancel_reason, visit.admit_reason, visit.kind = "", "known", "client"
    db.session.commit()
    code = visit.code
    db.session.remove()

    resp = app.test_client().post(
        "/api/v1/checkins",
        json={"code": code, "kiosk": "Lobby East"},
        headers=auth(tokens["reception"]),
    )
    assert resp.status_code == 201, resp.get_json()
    db.session.remove()
    stored = db.session.get(Visit, visit_id)
    assert stored.status == "checked_in"
    expected = visits.as_dict(stored)
    answer = resp.get_json()
    assert answer.keys() == expected.keys()
    for key in expected:
        assert answer[key] == expected[key], key
    (event,) = db.session.query(Event).filter_by(kind="visitor_arrived").all()
    assert event.payload == realtime.arrival_payload(stored)


def test_a_check_in_on_sqlite_is_one_read_and_one_write_transaction(app, make_visit):
    """The hot path's statements (bench/README.md): the read begins no transaction of its
    own (one SELECT is its own snapshot), the write takes the lock up front; nothing else."""
    from sqlalchemy import event

    first, second = make_visit(), make_visit(name="Grace Murray")
    code = second.code
    checkin.check_in(first.code)  # the caches warm (the watchlist's "any active?")
    db.session.commit()
    sent: list[str] = []

    def record(conn, cursor, statement, *_):
        sent.append(statement.split()[0].upper() + " " + statement.split()[1].upper())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert checkin.check_in(code).created
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert sent == [
        "SELECT VISITS.ID,",
        "BEGIN IMMEDIATE",
        "UPDATE VISITS",
        "INSERT INTO",
        "INSERT INTO",
    ]
