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


@pytest.mark.parametrize("status,code", [("cancelled", "cancelled"),
                                         ("checked_out", "already_checked_out")])
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


def test_fifty_parallel_checkins_of_one_code_give_one_checkin_alert_and_badge(app, staff, make_visit):
    code = make_visit().code  # read once here: ORM objects stay in this thread
    sock = host_socket(app)
    sock.get_received()
    results = parallel_checkins(app, code, 50)
    assert sorted(results) == [False] * 49 + [True]
    assert db.session.query(PrintJob).count() == 1
    assert db.session.query(Event).filter_by(kind="visitor_arrived").count() == 1
    assert len(arrivals(sock)) == 1


def test_the_fast_read_of_a_check_in_gives_what_the_orm_loads(app, make_visit):
    """On SQLite the check-in reads its visit straight from the driver: every column
    of the visit, its visitor and its host must come back as the ORM loads them
    (types included), detached, with the photo flag."""
    from sqlalchemy import inspect

    from server.models import User, Visitor
    from server.services import photos
    from tests.test_badge_language import jpeg_of
    visit = make_visit("张伟", company="华为", email="zw@example.cn", phone="+86 10 1234")
    for has_photo in (False, True):
        fast = checkin._read_visit_sqlite(visit.code)
        db.session.expire_all()
        loaded = db.session.get(Visit, visit.id)
        for model, a, b in ((Visit, fast, loaded), (Visitor, fast.visitor, loaded.visitor),
                            (User, fast.host, loaded.host)):
            assert inspect(a).detached and not inspect(a).expired_attributes
            for column in model.__table__.c:
                key = model.__mapper__.get_property_by_column(column).key
                assert getattr(a, key) == getattr(b, key), key
                assert type(getattr(a, key)) is type(getattr(b, key)), key
        assert fast.has_photo is has_photo
        assert fast.expected_at is not None and fast.visitor.name == "张伟"
        photos.save(visit.id, jpeg_of((200, 40, 40)))
    with pytest.raises(CheckInError) as e:
        checkin._read_visit_sqlite("no-such-code-123")
    assert e.value.code == "unknown_code"
