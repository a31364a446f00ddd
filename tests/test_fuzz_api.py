"""schemathesis against /api/v1/openapi.json, in-process (WSGI) on a real SQLite app
with an admin token: every operation, valid and invalid input, a fixed seed. No answer
may be a 5xx, and every answer must have a documented status, content type and shape.

Cases: POSITIVE + NEGATIVE for each operation, CASES each, half of the valid ones on
the ids of real objects (a visit, a task, a desk request) so the fuzzer gets past the
404s. Budget: about a minute on 2 cores (it prints its count and time)."""

import time
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.api import openapi
from server.extensions import db
from server.models import utcnow
from server.policy import requests, rooms
from server.services import checkin, desk, tasks, watchlist
from tests.conftest import auth, make_visit, staff, tokens  # noqa: F401

CASES = 15  # per operation and mode: ~60 operations x 2 modes x 15 = about 1,800 requests
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def isolated(app):
    """The app as WSGI, each request in its own app context (own ``g`` and database
    session), as in production: the test holds an app context that Flask would
    otherwise reuse for every request."""

    def wsgi(environ, start_response):
        db.session.commit()
        with app.app_context():
            answer = app.wsgi_app(environ, start_response)
            try:
                return list(answer)
            finally:
                if hasattr(answer, "close"):
                    answer.close()

    return wsgi


@pytest.fixture
def real_ids(app, staff, make_visit):  # noqa: F811
    """Objects for the path ids: visits expected and arrived, a task, a desk request, a
    watchlist entry, a room, a hospitality request (other ids: the strategy's, or 1)."""
    arrived = make_visit(name="Grace Arrived")
    checkin.check_in(arrived.code)
    expected = make_visit(name="Ada Expected")
    deadline = (utcnow() + timedelta(days=2)).isoformat() + "+00:00"
    task = tasks.create(
        arrived.id,
        {"kind": "follow_up", "question": "Price?", "reply_method": "email", "deadline": deadline},
        staff["host"],
    )
    request = desk.open_request("help", visit=expected)
    entry = watchlist.add({"name": "Mallory Black", "reason": "Banned"}, by=staff["admin"])
    room = rooms.add_room("Board room", 10)
    when = utcnow() + timedelta(days=5)
    hospitality = requests.create(
        {
            "client": {"company": "Acme", "star_level": 3},
            "purpose": "Plant tour",
            "visitors": [{"name": "Ann Client"}],
            "arrives_at": when.isoformat() + "+00:00",
            "departs_at": (when + timedelta(hours=3)).isoformat() + "+00:00",
        },
        staff["host"],
    )
    return {
        "visit_id": [arrived.id, expected.id],
        "task_id": [task.id],
        "request_id": [request.id, hospitality.id],  # a desk request, a hospitality one
        "entry_id": [entry.id],
        "room_id": [room.id],
    }


def operation_strategy(operation, mode: GenerationMode, real_ids: dict):
    strategy = operation.as_strategy(generation_mode=mode)
    names = {p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"}
    if mode is GenerationMode.POSITIVE and names:
        fixed = st.fixed_dictionaries(
            {name: st.sampled_from(real_ids.get(name) or [1]) for name in names}
        )
        strategy = st.one_of(
            strategy,
            fixed.flatmap(
                lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids)
            ),
        )
    return strategy


def _has_input(operation) -> bool:
    raw = operation.definition.raw
    return bool(raw.get("parameters") or raw.get("requestBody"))


def test_fuzzed_api_answers_no_5xx_and_keeps_to_its_schema(app, tokens, real_ids):  # noqa: F811
    schema = schemathesis.openapi.from_dict(openapi.document())
    wsgi = isolated(app)
    headers = auth(tokens["admin"])
    sent = 0
    failures: list[str] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=CASES,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation_strategy(operation, mode, real_ids))
            def run(case):
                nonlocal sent
                sent += 1
                response = case.call(app=wsgi, headers=headers)
                case.validate_response(response, checks=CHECKS)

            if mode is GenerationMode.NEGATIVE and not _has_input(operation):
                continue  # nothing to make invalid
            before, op_started = sent, time.monotonic()
            try:
                run()
            except (Exception, BaseExceptionGroup) as e:  # every operation's failure, at once
                failures.append(f"{operation.label} [{mode.value}]: {e}")
            took_op = time.monotonic() - op_started
            print(f"  {operation.label} [{mode.value}]: {sent - before} in {took_op:.1f} s")
    took = time.monotonic() - started
    print(f"schemathesis: {sent} requests in {took:.1f} s")
    assert sent >= 1000
    assert not failures, "\n\n".join(failures)


def test_a_scanned_broken_url_is_an_unknown_code_not_a_server_error(client, tokens):  # noqa: F811
    """Found by tests/test_properties.py: urlsplit raises on 'http://[x/...'."""
    for path in ("/api/v1/checkins", "/api/v1/checkouts"):
        resp = client.post(
            path, json={"code": "http://[x/abcdefghij"}, headers=auth(tokens["admin"])
        )
        assert resp.status_code == 404, path
        assert resp.get_json()["error"]["code"] == "unknown_code"
