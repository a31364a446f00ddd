"""Alerts where people are: each vendor's message and signature, checked by a loopback
receiver that recomputes the signature the way the vendor documents it; retries with
a stable idempotency key; the worker's fan-out from the event log (arrivals, waiting
too long, tea, tours); who gets which channel; the ``lobby channel`` commands."""

import base64
import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote_plus, urlsplit

import pytest
from sqlalchemy import select

from server.cli import main
from server.extensions import db
from server.models import Event, utcnow
from server.models.notify import Channel, NotifyCursor, OutboxMessage
from server.notify import alerts, outbox
from server.notify import channels as senders
from server.services import channels, checkin, clock, hosting, people, tasks
from server.services.errors import ServiceError
from server.services.tx import write
from tests.conftest import on_menu
from tests.test_invitations import received, smtp  # noqa: F401  (loopback SMTP)


class Receiver:
    """A loopback HTTP endpoint: keeps each request (path, query, headers, raw body) and
    answers from ``answers`` (status, body) in turn, the last one for ever after."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, bytes]] = [(200, b'{"errcode":0,"errmsg":"ok"}')]
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                receiver.requests.append(
                    {
                        "path": parts.path,
                        "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                        "raw_query": parts.query,
                        "headers": dict(self.headers),
                        "body": body,
                    }
                )
                time.sleep(receiver.delay)
                status, answer = (
                    receiver.answers.pop(0) if len(receiver.answers) > 1 else receiver.answers[0]
                )
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def json(self, n: int = -1) -> dict:
        return json.loads(self.requests[n]["body"])


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def messages() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_due() -> None:
    with write() as tx:
        for m in tx.scalars(select(OutboxMessage).where(OutboxMessage.status == "queued")):
            m.next_attempt_at = utcnow() - timedelta(seconds=1)


def arrive(make_visit, **visitor):
    """Check a visitor in, as the kiosk does, and run the worker's alerts pass."""
    visit = make_visit(**visitor)
    checkin.check_in(visit.code)
    return visit, alerts.run()


def add(name, kind, url, secret="", owner=None, events=None) -> Channel:
    return channels.add(name, kind, url, secret, owner, events)


# --- each vendor, verified as it documents it --------------------------------------------


def test_check_in_queues_nothing_the_worker_pass_alerts_the_hosts_signed_webhook(
    app, staff, make_visit, receiver
):
    hook = add("grace-hook", "webhook", receiver.url + "/in", "s3cret", staff["host"])
    visit = make_visit(name="Ada Lovelace", company="Analytical Engines")
    checkin.check_in(visit.code)
    assert messages() == []  # the check-in wrote its event and returned: nothing else
    assert alerts.run() == 1
    assert outbox.send_due() == 1
    [req] = receiver.requests
    raw, headers = req["body"], req["headers"]
    # the receiver's side: HMAC-SHA256 of the raw body with the shared secret, in hex
    expected = hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
    assert headers["X-Lobby-Signature"] == f"sha256={expected}"
    body = json.loads(raw)
    assert headers["X-Lobby-Event"] == body["event"] == "visitor_arrived"
    assert headers["X-Lobby-Timestamp"] == str(body["timestamp"])
    assert abs(body["timestamp"] - time.time()) < 60
    assert headers["Idempotency-Key"] == body["id"] == f"alert:{body['seq']}:{hook.id}"
    assert body["data"]["visit_id"] == visit.id
    assert body["data"]["visitor"] == {"name": "Ada Lovelace", "company": "Analytical Engines"}
    assert body["text"].startswith("Ada Lovelace (Analytical Engines) is here")
    assert messages()[0].status == "sent"
    assert alerts.run() == 0 and outbox.send_due() == 0  # once


def test_webhook_retries_a_500_with_the_same_idempotency_key_then_is_sent(
    app, staff, make_visit, receiver
):
    receiver.answers = [(500, b"boom"), (503, b"later"), (204, b"")]
    add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    arrive(make_visit)
    outbox.send_due()
    [m] = messages()
    assert (m.status, m.attempts) == ("queued", 1) and "HTTP 500" in m.last_error
    assert m.next_attempt_at > utcnow()  # backed off: not sent again at once
    assert outbox.send_due() == 0
    make_due()
    outbox.send_due()
    make_due()
    outbox.send_due()
    assert messages()[0].status == "sent" and messages()[0].attempts == 3
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and keys == {m.dedupe_key}
    # each try is signed afresh (its own timestamp), and verifies
    for r in receiver.requests:
        mac = hmac.new(b"k", r["body"], hashlib.sha256).hexdigest()
        assert r["headers"]["X-Lobby-Signature"] == "sha256=" + mac


def test_a_receiver_that_does_not_answer_in_time_is_a_failure_to_retry(
    app, staff, make_visit, receiver, monkeypatch
):
    monkeypatch.setattr(senders, "TIMEOUT", 0.3)
    receiver.delay = 1.0
    add("slow", "webhook", receiver.url, "k", staff["host"])
    arrive(make_visit)
    started = time.monotonic()
    outbox.send_due()
    assert time.monotonic() - started < 3
    [m] = messages()
    assert m.status == "queued" and m.attempts == 1 and "timed out" in m.last_error


def test_dingtalk_robot_is_signed_as_dingtalk_documents(app, staff, make_visit, receiver):
    secret = "SECabc123dingtalk"
    add("desk-ding", "dingtalk", receiver.url + "/robot/send?access_token=T0K", secret)
    arrive(make_visit, name="Ada [click](http://evil.example)", company="**Bold** <@all>")
    outbox.send_due()
    [req] = receiver.requests
    q = req["query"]
    assert q["access_token"] == "T0K"
    ts = int(q["timestamp"])
    assert abs(ts / 1000 - time.time()) < 3600  # milliseconds, within the hour DingTalk allows
    # DingTalk: Base64(HmacSHA256(secret, timestamp + "\n" + secret)), URL-encoded
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert q["sign"] == base64.b64encode(mac).decode()  # parse_qs undid the URL-encoding
    assert f"sign={quote_plus(q['sign'])}" in req["raw_query"]  # it was URL-encoded ("=": %3D)
    body = json.loads(req["body"])
    assert body["msgtype"] == "markdown"
    text = body["markdown"]["text"]
    assert "Ada" in text and "Analytical" not in text
    # the visitor's text makes no link, emphasis or mention
    assert "](" not in text.replace("#### ", "") and "**" not in text and "<@" not in text
    assert messages()[0].status == "sent"


def test_feishu_bot_is_signed_as_feishu_documents(app, staff, make_visit, receiver):
    receiver.answers = [(200, b'{"code":0,"msg":"success","data":{}}')]
    secret = "feishu-secret"
    add("desk-feishu", "feishu", receiver.url + "/open-apis/bot/v2/hook/abc", secret)
    app.config["SITE_LANGUAGE"] = "zh"
    arrive(make_visit)
    outbox.send_due()
    body = receiver.json()
    ts = int(body["timestamp"])
    assert abs(ts - time.time()) < 3600  # seconds
    # Feishu: Base64(HmacSHA256 keyed with timestamp + "\n" + secret, of an empty message)
    mac = hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert body["sign"] == base64.b64encode(mac).decode()
    post = body["content"]["post"]["zh_cn"]
    assert (
        body["msg_type"] == "post" and post["title"] == "Ada Lovelace（Analytical Engines）已到达"
    )
    assert {e["tag"] for row in post["content"] for e in row} == {"text"}
    assert messages()[0].status == "sent"


def test_feishu_code_not_zero_is_a_failure_with_the_reason(app, staff, make_visit, receiver):
    receiver.answers = [(200, b'{"code":19021,"msg":"sign match fail"}')]
    add("desk-feishu", "feishu", receiver.url, "wrong")
    arrive(make_visit)
    outbox.send_due()
    [m] = messages()
    assert m.status == "queued" and "19021" in m.last_error and "sign match fail" in m.last_error


def test_wecom_markdown_and_its_errcode(app, staff, make_visit, receiver):
    receiver.answers = [(200, b'{"errcode":93000,"errmsg":"invalid webhook url"}')]
    add("desk-wecom", "wecom", receiver.url + "/cgi-bin/webhook/send?key=K-1")
    arrive(make_visit, company='<font color="warning">R&D</font>')
    outbox.send_due()
    [m] = messages()
    assert m.status == "queued" and "errcode 93000" in m.last_error
    assert "K-1" not in m.last_error  # the key in the URL is a credential
    req = receiver.requests[0]
    assert req["query"]["key"] == "K-1"
    body = json.loads(req["body"])
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith("**Ada Lovelace (")
    assert '<font color="warning">R&D' not in content  # no tag from a visitor's text
    receiver.answers = [(200, b'{"errcode":0,"errmsg":"ok"}')]
    make_due()
    outbox.send_due()
    assert messages()[0].status == "sent"


def test_slack_escapes_visitor_text_and_wants_ok(app, staff, make_visit, receiver):
    receiver.answers = [(200, b"ok")]
    add("desk-slack", "slack", receiver.url + "/services/T/B/X")
    arrive(make_visit, name="<!channel> & <http://evil.example|click>", company="")
    outbox.send_due()
    body = receiver.json()
    assert body["text"].startswith(
        "&lt;!channel&gt; &amp; &lt;http://evil.example|click&gt; is here"
    )
    section = body["blocks"][0]["text"]
    assert section["type"] == "mrkdwn" and "<!channel>" not in section["text"]
    assert messages()[0].status == "sent"
    receiver.answers = [(404, b"no_service")]
    alerts.send_test(channels.by_name("desk-slack").id)
    outbox.send_due()
    assert messages()[-1].status == "queued" and "no_service" in messages()[-1].last_error


def test_an_email_channel_goes_through_smtp(smtp, app, staff, make_visit):  # noqa: F811
    people_lang = staff["host"]
    with write() as tx:
        tx.get(type(people_lang), people_lang.id).language = "zh"
    add("grace-mail", "email", "grace.pager@example.com", owner=staff["host"])
    arrive(make_visit)
    assert outbox.send_due() == 1
    message = received(smtp)
    assert smtp.messages[0][1] == ["grace.pager@example.com"]
    assert message["Subject"] == "Ada Lovelace（Analytical Engines）已到达"
    assert "来访：Grace Hopper" in message.get_content()


# --- who gets what -------------------------------------------------------------------------


def test_own_channels_replace_the_site_default_of_their_kind_only(app, staff, make_visit, receiver):
    site_wecom = add("site-wecom", "wecom", receiver.url + "/site?key=S")
    site_hook = add("site-hook", "webhook", receiver.url + "/site-hook", "k")
    own = add("grace-wecom", "wecom", receiver.url + "/grace?key=G", owner=staff["host"])
    other = add("linus-wecom", "wecom", receiver.url + "/linus?key=L", owner=staff["other_host"])
    _, queued = arrive(make_visit, host="grace@example.com")
    assert queued == 2
    assert {m.channel_id for m in messages()} == {own.id, site_hook.id}
    _, queued = arrive(make_visit, name="Bob", host="linus@example.com")
    assert queued == 2
    assert {m.channel_id for m in messages()[2:]} == {other.id, site_hook.id}
    assert site_wecom.id not in {m.channel_id for m in messages()}


def test_a_group_arriving_together_is_one_chat_message_but_one_webhook_event_each(
    app, staff, make_visit, receiver
):
    wecom = add("grace-wecom", "wecom", receiver.url + "/w?key=G", owner=staff["host"])
    hook = add("grace-hook", "webhook", receiver.url + "/h", "k", staff["host"])
    for name in ("Ada Lovelace", "Charles Babbage", "Mary Somerville"):
        checkin.check_in(make_visit(name=name).code)
    assert alerts.run() == 4
    chat = [m for m in messages() if m.channel_id == wecom.id]
    assert len(chat) == 1 and chat[0].subject == "3 visitors are here"
    assert chat[0].payload["alert"]["lines"][1] == (
        "Charles Babbage (Analytical Engines), to see Grace Hopper"
    )
    assert len([m for m in messages() if m.channel_id == hook.id]) == 3
    assert outbox.send_due() == 4
    [robot] = [r for r in receiver.requests if r["path"] == "/w"]
    content = json.loads(robot["body"])["markdown"]["content"]
    assert "Mary Somerville" in content


def test_a_channel_carries_only_the_events_it_names_and_inactive_ones_nothing(
    app, staff, make_visit, receiver
):
    add("tours-only", "webhook", receiver.url, "k", staff["host"], events=["tour"])
    add("arrivals", "webhook", receiver.url, "k", staff["host"], events=["arrival"])
    off = add("off", "webhook", receiver.url, "k", staff["host"])
    with write() as tx:
        tx.get(Channel, off.id).active = False
    _, queued = arrive(make_visit)
    assert queued == 1 and messages()[0].recipient == "arrivals"


def test_a_fresh_cursor_starts_at_the_newest_event_and_old_events_are_not_replayed(
    app, staff, make_visit, receiver
):
    visit = make_visit()
    checkin.check_in(visit.code)  # before any channel: history
    assert db.session.get(NotifyCursor, alerts.CURSOR) is None
    add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    cursor = db.session.get(NotifyCursor, alerts.CURSOR)
    assert cursor is not None
    assert cursor.last_seq == db.session.scalar(select(db.func.max(Event.seq)))
    assert alerts.run() == 0 and messages() == []
    _, queued = arrive(make_visit, name="Bob")
    assert queued == 1


def test_events_older_than_max_age_are_skipped(app, staff, make_visit, receiver):
    add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    visit = make_visit()
    checkin.check_in(visit.code)
    late = utcnow() + alerts.MAX_AGE + timedelta(minutes=1)
    assert alerts.run(now=late, escalate=False) == 0  # (a wait so long is escalated apart)
    assert messages() == []
    assert alerts.run(escalate=False) == 0  # the cursor moved past it


def test_renotify_is_a_waiting_alert_to_whom_reception_asked(app, staff, make_visit, receiver):
    hook = add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    visit, _ = arrive(make_visit)
    hosting.renotify(visit.id, staff["reception"])
    assert alerts.run() == 1
    last = messages()[-1]
    assert last.purpose == "alert_waiting" and last.channel_id == hook.id
    assert last.payload["alert"]["title"] == "Ada Lovelace (Analytical Engines) is still waiting"
    assert "Reception (Rita Desk) asks again" in last.payload["alert"]["lines"]


def test_a_visitor_waiting_too_long_is_escalated_once(app, staff, make_visit, receiver):
    add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    visit, _ = arrive(make_visit)
    channel_list = list(db.session.scalars(select(Channel)))
    assert alerts.escalate_waiting(channel_list) == 0  # just arrived
    later = utcnow() + timedelta(minutes=app.config["ACK_WARNING_MINUTES"] + 1)
    assert alerts.escalate_waiting(channel_list, later) == 1
    assert alerts.escalate_waiting(channel_list, later) == 0  # once per visit
    m = messages()[-1]
    assert m.dedupe_key == f"waiting:{visit.id}:{channel_list[0].id}"
    assert "has waited" in m.subject
    outbox.send_due()
    assert receiver.json()["event"] == "visitor_waiting"
    # acknowledged: nobody is escalated any more
    visit2, _ = arrive(make_visit, name="Bob")
    hosting.acknowledge(visit2.id, staff["host"])
    assert alerts.escalate_waiting(channel_list, later) == 0


def test_tea_goes_to_the_receptionists_channels(app, staff, make_visit, receiver):
    desk = add("desk-hook", "webhook", receiver.url, "k", staff["reception"])
    add("grace-hook", "webhook", receiver.url, "k", staff["host"], events=["tea"])
    visit, _ = arrive(make_visit)
    on_menu("Green tea", "绿茶")
    with write() as tx:
        tx.get(type(staff["reception"]), staff["reception"].id).language = "zh"
    tasks.create(
        visit.id,
        {"kind": "tea", "items": [{"drink": "Green tea", "count": 2}], "note": "no sugar"},
        staff["host"],
    )
    assert alerts.run() == 1
    m = messages()[-1]
    assert m.channel_id == desk.id and m.purpose == "alert_tea"
    alert = m.payload["alert"]
    assert alert["title"] == "为 Ada Lovelace（Analytical Engines）备茶"
    assert "2 × 绿茶" in alert["lines"] and "备注：no sugar" in alert["lines"]


def test_a_tour_reminder_reaches_the_host(app, staff, make_visit, receiver):
    hook = add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    visit, _ = arrive(make_visit)
    starts = utcnow() + timedelta(minutes=30)
    tasks.create(
        visit.id,
        {
            "kind": "tour",
            "title": "Factory floor",
            "starts_at": starts.isoformat() + "+00:00",
            "stops": [{"place": "Line 1", "department": "Production"}],
        },
        staff["host"],
    )
    assert tasks.send_tour_reminders() == 1
    assert alerts.run() == 1
    m = messages()[-1]
    assert m.channel_id == hook.id and m.purpose == "alert_tour"
    assert m.payload["alert"]["title"].startswith("Tour “Factory floor” for Ada Lovelace")
    assert "Route: Line 1" in m.payload["alert"]["lines"]


def test_the_running_worker_queues_and_sends_an_arrival(app, staff, make_visit, receiver):
    from server.services.print_worker import PrintWorker

    add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    visit = make_visit()
    checkin.check_in(visit.code)
    worker = PrintWorker(app, interval=0.05, poll_seconds=0).start()
    try:
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert receiver.json()["data"]["visit_id"] == visit.id


# --- the service and the CLI ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "url", "code"),
    [
        ("ok", "telegram", "https://x.example", "invalid_kind"),
        ("ok", "wecom", "ftp://x.example/", "invalid_url"),
        ("ok", "slack", "https:///nohost", "invalid_url"),
        ("ok", "webhook", "https://x.example:99999/", "invalid_url"),
        ("ok", "email", "not-an-address", "invalid_url"),
        ("has space", "slack", "https://hooks.slack.com/x", "invalid_name"),
        ("", "slack", "https://hooks.slack.com/x", "invalid_name"),
    ],
)
def test_channel_fields_are_checked(app, name, kind, url, code):
    with pytest.raises(ServiceError) as e:
        channels.add(name, kind, url)
    assert e.value.code == code and e.value.status == 422


def test_a_webhook_without_a_secret_gets_a_strong_one_and_names_are_unique(app):
    hook = channels.add("hook", "webhook", "https://example.com/in")
    assert len(hook.secret) >= 40
    with pytest.raises(ServiceError) as e:
        channels.add("hook", "slack", "https://hooks.slack.com/x")
    assert e.value.code == "channel_exists" and e.value.status == 409
    assert channels.masked_url(hook) == "https://example.com/…"


def test_removing_a_channel_fails_its_unsent_messages(app, staff, make_visit, receiver):
    add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    arrive(make_visit)
    channels.remove("grace-hook")
    [m] = messages()
    assert m.status == "failed" and m.last_error == "the channel was removed"


@pytest.fixture
def cli(app, tmp_path, monkeypatch, capsys):
    """``lobby`` in this process, on the app's database."""
    monkeypatch.setenv("LOBBY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LOBBY_DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])

    def run(*args):
        code = main(list(args))
        out = capsys.readouterr()
        db.session.rollback()
        return code, out.out, out.err

    return run


def test_channel_commands(cli, staff):
    code, out, _ = cli(
        "channel", "add", "grace-ding", "dingtalk",
        "https://oapi.dingtalk.com/robot/send?access_token=T", "--secret", "SEC1234567890abc",
        "--for", "grace@example.com",
    )  # fmt: skip
    assert code == 0 and "added dingtalk channel grace-ding for grace@example.com" in out
    code, out, _ = cli("channel", "add", "hook", "webhook", "https://example.com/lobby")
    assert code == 0 and "everyone (site default)" in out
    secret = out.strip().splitlines()[-1].split(": ")[-1]
    assert channels.by_name("hook").secret == secret and len(secret) >= 40
    code, out, _ = cli("channel", "list")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 2
    assert any(
        line.split("\t")[:5]
        == ["grace-ding", "dingtalk", "https://oapi.dingtalk.com/…", "grace@example.com", "signed"]
        for line in lines
    )
    assert "access_token" not in out and "SEC1234567890abc" not in out
    code, out, _ = cli("channel", "remove", "hook")
    assert code == 0 and "removed channel hook" in out
    assert [c.name for c in channels.everyone()] == ["grace-ding"]


BAD_COMMANDS = [
    (("add", "x", "sms", "https://a.example"), "kind must be one of"),
    (("add", "x", "slack", "hooks.slack.com/x"), "http(s)://"),
    (("add", "x", "email", "nobody"), "email channel"),
    (("add", "x", "slack", "https://a.example", "--for", "ghost@example.com"), "no active user"),
    (("remove", "nope"), "no channel named nope"),
]


def test_channel_commands_refuse_bad_input_in_one_line(cli, staff):
    for args, says in BAD_COMMANDS:
        code, out, err = cli("channel", *args)
        assert code != 0 and says in err and len(err.strip().splitlines()) == 1, args
    assert channels.everyone() == []


def test_the_language_of_a_persons_messages(app, staff):
    channels.set_language(staff["host"].id, "zh")
    assert people.user_by_id(staff["host"].id).language == "zh"
    with pytest.raises(ServiceError) as e:
        channels.set_language(staff["host"].id, "fr")
    assert e.value.code == "invalid_language"


def test_two_workers_on_postgresql_queue_each_alert_once(pg_app):
    from server.services import visits

    host = people.create_user("grace@example.com", "Grace Hopper", ["host"], "x" * 12)
    add("grace-hook", "webhook", "https://example.com/in", "k", host)
    _, end = clock.today_bounds()
    when = min(utcnow() + timedelta(minutes=5), end - timedelta(seconds=1))
    for i in range(6):
        visit = visits.pre_register(
            {"name": f"Guest {i}"}, host.email, when.isoformat() + "+00:00", "Visit"
        )
        checkin.check_in(visit.code)
    later = utcnow() + alerts.SETTLE + timedelta(seconds=1)  # the events have settled
    counts: list[int] = []

    def work():
        with pg_app.app_context():
            counts.append(alerts.run(now=later))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    keys = [m.dedupe_key for m in messages()]
    assert len(counts) == 4  # every worker finished its pass without an error
    assert len(keys) == 6 == len(set(keys)) and sum(counts) == 6


def test_an_away_hosts_delegate_hears_of_the_arrival_and_the_wait(app, staff, make_visit, receiver):
    from server.services import away

    own = add("grace-hook", "webhook", receiver.url, "k", staff["host"])
    theirs = add("linus-hook", "webhook", receiver.url, "k", staff["other_host"])
    until = clock.to_local(utcnow() + timedelta(hours=4)).strftime("%Y-%m-%d %H:%M")
    away.set_away(staff["host"].id, away_until=until, delegate="linus@example.com")
    visit, queued = arrive(make_visit)
    assert queued == 2 and {m.channel_id for m in messages()} == {own.id, theirs.id}
    lines = messages()[-1].payload["alert"]["lines"]
    assert "Grace Hopper is away: Linus T meets them" in lines
    later = utcnow() + timedelta(minutes=app.config["ACK_WARNING_MINUTES"] + 1)
    assert alerts.escalate_waiting(list(db.session.scalars(select(Channel))), later) == 2
    waiting = [m for m in messages() if m.purpose == "alert_waiting"]
    assert {m.channel_id for m in waiting} == {own.id, theirs.id}
    assert "Grace Hopper is away: Linus T meets them" in waiting[0].payload["alert"]["lines"]


def test_private_and_loopback_destinations_are_refused_unless_the_site_allows_them(
    app, staff, make_visit, receiver
):
    """SSRF: any member of staff may add a channel, and the worker POSTs wherever it
    points. Without LOBBY_CHANNELS_PRIVATE_NETWORKS=1 a loopback, private or
    link-local address is refused when added, and again before each send (a name's
    DNS may change after it was added): nothing reaches the receiver."""
    hook = add("grace-hook", "webhook", receiver.url + "/in", "s3cret", staff["host"])
    app.config["CHANNELS_PRIVATE_NETWORKS"] = False
    for url in (
        receiver.url,
        "http://localhost:8080/x",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/",
        "http://192.168.0.10/",
    ):
        with pytest.raises(ServiceError) as refused:
            add("inside", "webhook", url, "k", staff["host"])
        assert refused.value.code == "private_address" and refused.value.fields == {
            "url": refused.value.message
        }, url
    add("outside", "webhook", "https://hooks.example.com/lobby", "k")  # public, or unknown here
    checkin.check_in(make_visit().code)
    alerts.run()
    outbox.send_due()
    mine = [m for m in messages() if m.channel_id == hook.id]
    assert mine and "refused:" in mine[0].last_error and "private or loopback" in mine[0].last_error
    assert receiver.requests == []
    app.config["CHANNELS_PRIVATE_NETWORKS"] = True
    db.session.rollback()
