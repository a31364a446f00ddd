"""Socket.IO: authenticated connections, rooms per host/reception/kiosk, replay."""

import pytest

from server.extensions import socketio
from server.services import checkin, people
from tests.conftest import staff_socket


def names(sock, event="visitor_arrived"):
    return [m["args"][0]["visitor"]["name"] for m in sock.get_received() if m["name"] == event]


def test_anonymous_socket_is_refused(app):
    sock = socketio.test_client(app)
    assert not sock.is_connected()


def test_bad_token_is_refused_and_good_token_connects(app, tokens):
    assert not socketio.test_client(app, auth={"token": "lby_wrong"}).is_connected()
    sock = staff_socket(app, auth={"token": tokens["reception"]})
    assert sock.is_connected()
    hello = [m for m in sock.get_received() if m["name"] == "hello"][0]["args"][0]
    # Reception's room, and the user's own (approvals, their requests' progress).
    assert hello["rooms"] == [f"user:{people.user_by_email('desk@example.com').id}", "reception"]


def test_arrival_reaches_own_host_and_reception_but_not_other_hosts(app, staff, make_visit):
    visit = make_visit()
    grace = staff_socket(app, "grace@example.com")
    linus = staff_socket(app, "linus@example.com")
    desk = staff_socket(app, "desk@example.com")
    for s in (grace, linus, desk):
        s.get_received()
    checkin.check_in(visit.code)
    got = grace.get_received()
    arrived = [m["args"][0] for m in got if m["name"] == "visitor_arrived"]
    assert len(arrived) == 1
    msg = arrived[0]
    assert msg["visitor"] == {"name": "Ada Lovelace", "company": "Analytical Engines"}
    assert msg["host"] == {"id": visit.host_id, "name": "Grace Hopper"}
    assert isinstance(msg["seq"], int) and msg["arrived_at"]
    assert names(desk) == ["Ada Lovelace"]
    assert names(linus) == []


def test_no_event_leaves_for_a_refused_checkin(app, staff, make_visit):
    from server.services.errors import CheckInError

    desk = staff_socket(app, "desk@example.com")
    desk.get_received()
    with pytest.raises(CheckInError):
        checkin.check_in("Z" * 32)
    assert desk.get_received() == []


def test_replay_sends_missed_events_of_own_rooms_in_order(app, staff, make_visit):
    mine = [make_visit(f"Guest {i}") for i in range(3)]
    other = make_visit("Not yours", host="linus@example.com")
    grace = staff_socket(app, "grace@example.com")
    since = [m for m in grace.get_received() if m["name"] == "hello"][0]["args"][0]["last_seq"]
    grace.disconnect()
    for v in mine + [other]:
        checkin.check_in(v.code)
    grace = staff_socket(app, "grace@example.com")
    grace.get_received()
    ack = grace.emit("replay", {"since": since}, callback=True)
    replayed = [m["args"][0] for m in grace.get_received() if m["name"] == "visitor_arrived"]
    assert [m["visitor"]["name"] for m in replayed] == ["Guest 0", "Guest 1", "Guest 2"]
    assert [m["seq"] for m in replayed] == sorted(m["seq"] for m in replayed)
    assert ack["last_seq"] >= replayed[-1]["seq"]


def test_replay_with_a_bad_since_is_refused_with_a_code(app, staff):
    grace = staff_socket(app, "grace@example.com")
    ack = grace.emit("replay", {"since": "abc"}, callback=True)
    assert ack["error"]["code"] == "invalid_since"
