"""The outbox: messages queued in the transaction that caused them, sent by the
worker's pass (never in the request), retried with backoff, failed with the reason,
resent by hand; the admin page and the API; claims on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import utcnow
from server.models.notify import OutboxMessage
from server.notify import mail, outbox
from server.services import checkin
from server.services.tx import write
from tests.conftest import auth, csrf_from, free_port, login
from tests.test_invitations import smtp  # noqa: F401  (the loopback SMTP server fixture)


def rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def make_due(message_id: int) -> None:
    with write() as tx:
        tx.get(OutboxMessage, message_id).next_attempt_at = utcnow() - timedelta(seconds=1)


def test_invitation_waits_in_the_outbox_and_check_in_sends_nothing(smtp, make_visit):  # noqa: F811
    visit = make_visit(email="ada@example.org")
    [message] = rows()
    assert (message.status, message.kind, message.visit_id) == ("queued", "email", visit.id)
    assert message.purpose == "invitation" and message.recipient == "ada@example.org"
    checkin.check_in(visit.code)
    assert not smtp.messages  # neither the booking nor the check-in sent anything
    assert outbox.send_due() == 1 and len(smtp.messages) == 1
    assert rows()[0].status == "sent" and rows()[0].sent_at is not None
    assert outbox.send_due() == 0  # sent once


def test_without_smtp_the_message_stays_queued_with_the_reason(app, make_visit):
    app.config["SMTP_URL"] = None
    make_visit(email="ada@example.org")
    # Not claimed, not built: a worker without SMTP spends nothing on email.
    assert outbox.send_due() == 0
    [message] = rows()
    assert message.status == "queued" and message.attempts == 0
    assert "SMTP not configured" in outbox.as_dict(message)["last_error"]


def test_failures_back_off_then_fail_with_the_reason_and_never_show_the_password(app, make_visit):
    app.config["SMTP_URL"] = f"smtp://reception:s3cret-pw@127.0.0.1:{free_port()}"  # nobody
    make_visit(email="ada@example.org")
    [message] = rows()
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        make_due(message.id)
        before = utcnow()
        outbox.send_due()
        message = rows()[0]
        waits.append(round((message.next_attempt_at - before).total_seconds() / 60))
    assert message.status == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    assert waits[:4] == [1, 5, 25, 125]
    assert "refused" in message.last_error.lower() or "errno" in message.last_error.lower()
    assert "s3cret-pw" not in message.last_error
    make_due(message.id)
    assert outbox.send_due() == 0  # failed stays failed until a person resends it


def test_resend_by_api_and_list_per_visit(smtp, app, client, tokens, make_visit):  # noqa: F811
    first = make_visit(email="ada@example.org")
    make_visit(name="Bob", email="bob@example.org")
    outbox.send_due()
    with write() as tx:  # as if it had failed for good
        tx.get(OutboxMessage, 1).status = "failed"
    resp = client.get(f"/api/v1/outbox?visit={first.id}", headers=auth(tokens["admin"]))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["count"] == 1 and body["messages"][0]["status"] == "failed"
    assert body["messages"][0]["visit_id"] == first.id
    assert client.get("/api/v1/outbox", headers=auth(tokens["reception"])).status_code == 403
    for visit in ("abc", "²", "-1", "9" * 30):  # "²".isdigit(), but int() refuses it
        bad = client.get(f"/api/v1/outbox?visit={visit}", headers=auth(tokens["admin"]))
        assert bad.status_code == 422, visit
    assert client.get("/admin/outbox?visit=²").status_code in (200, 302, 403)
    resp = client.post("/api/v1/outbox/1/resend", headers=auth(tokens["admin"]))
    assert resp.status_code == 200 and resp.get_json()["status"] == "queued"
    assert (
        client.post("/api/v1/outbox/999/resend", headers=auth(tokens["admin"])).status_code == 404
    )
    assert outbox.send_due() == 1
    assert len(smtp.messages) == 3 and rows()[0].status == "sent"


def test_admin_page_lists_messages_and_resends_with_csrf(smtp, client, staff, make_visit):  # noqa: F811
    make_visit(email="ada@example.org", name="<i>Ada</i>")
    outbox.send_due()
    login(client, "admin@example.com")
    page = client.get("/admin/outbox")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Outbox 发件箱" in html
    assert "ada@example.org" in html and "Sent 已发送" in html
    assert "<i>Ada</i>" not in html  # the subject names no visitor; escaped anyway
    assert client.post("/admin/outbox/1/resend").status_code == 400  # no CSRF token
    assert rows()[0].status == "sent"
    resp = client.post("/admin/outbox/1/resend", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 200 and 'id="resent"' in resp.get_data(as_text=True)
    assert rows()[0].status == "queued"
    assert (
        client.post("/admin/outbox/77/resend", data={"csrf_token": csrf_from(html)}).status_code
        == 404
    )


def test_queue_is_idempotent_by_dedupe_key(app, staff):
    with write() as tx:
        assert outbox.queue(tx, "email", "a@b.c", "Hi", {"mime": ""}, dedupe_key="k1")
        assert outbox.queue(tx, "email", "a@b.c", "Hi", {"mime": ""}, dedupe_key="k1") is None
    assert len(rows()) == 1


def test_a_sender_that_died_mid_send_gives_the_message_back_after_its_lease(app, staff):
    with write() as tx:
        outbox.queue(tx, "test", "x", "s", {})
    seen = []
    outbox.SENDERS["test"] = seen.append
    try:
        message_id = outbox.claim_next(lease=0.0)  # claimed, then its worker died
        assert outbox.claim_next() is None  # nobody else takes a message being sent
        assert outbox.send_due() == 1  # the lease ran out: back in the queue, sent
        assert [m.id for m in seen] == [message_id]
        assert rows()[0].status == "sent"
    finally:
        del outbox.SENDERS["test"]


def test_smtp_urls():
    t = mail.parse_url("smtp://user%40x:p%3Ass@mail.example.com:587?starttls=1")
    assert (t.host, t.port, t.ssl, t.starttls, t.user, t.password) == (
        "mail.example.com",
        587,
        False,
        True,
        "user@x",
        "p:ss",
    )
    t = mail.parse_url("smtps://u:p@mail.example.com")
    assert (t.port, t.ssl, t.starttls) == (465, True, False)
    assert mail.parse_url("smtp://localhost").port == 25
    with pytest.raises(ValueError):
        mail.parse_url("http://mail.example.com")


def test_two_workers_on_postgresql_send_each_message_once(pg_app):
    from server.services import people

    people.create_user("admin@example.com", "Alex Admin", ["admin"], "x" * 12)
    with write() as tx:
        for i in range(60):
            outbox.queue(tx, "test", f"r{i}", "s", {})
    sent: list[int] = []
    lock = threading.Lock()

    def record(message):
        with lock:
            sent.append(message.id)

    outbox.SENDERS["test"] = record

    def work():
        with pg_app.app_context():
            outbox.send_due(limit=100)
            db.session.remove()

    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        del outbox.SENDERS["test"]
    assert sorted(sent) == sorted(set(sent)) and len(sent) == 60
    assert {m.status for m in rows()} == {"sent"}


def test_the_visits_invitation_page_says_whether_it_was_emailed(app, client, staff, make_visit):
    app.config["SMTP_URL"] = None
    visit = make_visit(email="ada@example.org")
    login(client, "admin@example.com")
    html = client.get(f"/admin/visits/{visit.id}/invitation").get_data(as_text=True)
    assert 'id="invitation-emails"' in html and 'data-status="queued"' in html
    assert f"/admin/outbox?visit={visit.id}" in html


def test_the_running_worker_sends_the_invitation(smtp, app, make_visit):  # noqa: F811
    from server.services.print_worker import PrintWorker

    worker = PrintWorker(app, interval=0.1, poll_seconds=0).start()
    try:
        make_visit(email="ada@example.org")
        assert smtp.got.wait(20), "the worker sent nothing"
    finally:
        worker.stop()
    assert rows()[0].status == "sent"


@pytest.mark.parametrize("scheme", ["starttls", "smtps"])
def test_tls_with_login_and_a_certificate_the_system_trusts(
    app, make_visit, tmp_path, monkeypatch, scheme
):
    """STARTTLS on a plain port and TLS from the first byte, both verifying the server's
    certificate (trusted here through SSL_CERT_FILE), with AUTH LOGIN over TLS."""
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.stack import self_signed
    from tests.test_invitations import Inbox

    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, data):
        logins.append((data.login, data.password))
        return AuthResult(success=(data.login, data.password) == (b"desk", b"p@ss:w"))

    inbox, port = Inbox(), free_port()
    # aiosmtpd offers AUTH only after STARTTLS unless told otherwise; with TLS from the
    # first byte (smtps) it does not know the line is encrypted
    options = dict(authenticator=authenticator, auth_require_tls=scheme == "starttls")
    if scheme == "smtps":
        controller = Controller(
            inbox, hostname="127.0.0.1", port=port, ssl_context=context, **options
        )
        app.config["SMTP_URL"] = f"smtps://desk:p%40ss%3Aw@127.0.0.1:{port}"
    else:
        controller = Controller(
            inbox,
            hostname="127.0.0.1",
            port=port,
            tls_context=context,
            require_starttls=True,
            **options,
        )
        app.config["SMTP_URL"] = f"smtp://desk:p%40ss%3Aw@127.0.0.1:{port}?starttls=1"
    controller.start()
    try:
        make_visit(email="ada@example.org")
        outbox.send_due()
    finally:
        controller.stop()
    assert rows()[0].status == "sent", rows()[0].last_error
    assert logins == [(b"desk", b"p@ss:w")] and len(inbox.messages) == 1
