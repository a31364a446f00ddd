"""The pages of alert channels: a person's own /host/settings (channels, language, away
and delegate) and the admin's /admin/channels (the site's defaults): roles, CSRF,
errors next to their field, nobody manages another's channels, visitor text escaped."""

from datetime import timedelta

from sqlalchemy import select

from server.extensions import db
from server.models import User, utcnow
from server.models.notify import Channel, OutboxMessage
from server.notify import alerts
from server.services import channels, checkin, clock
from tests.conftest import csrf_from, login

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET-KEY-1"


def page(client, path="/host/settings"):
    resp = client.get(path)
    return resp, resp.get_data(as_text=True)


def outbox_rows() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_host_adds_tests_and_removes_their_own_channel(client, staff):
    login(client, "grace@example.com")
    resp, html = page(client)
    assert resp.status_code == 200
    assert (
        "My notifications <small>我的通知设置</small>" in html and 'id="nav-notifications"' in html
    )
    form = {"kind": "wecom", "url": WECOM, "secret": "", "name": "", "events": ["arrival", "tea"]}
    assert client.post("/host/settings/channels", data=form).status_code == 400  # no CSRF
    resp = client.post("/host/settings/channels", data={**form, "csrf_token": csrf_from(html)})
    assert resp.status_code == 303
    [channel] = channels.of(staff["host"])
    assert (channel.name, channel.kind, channel.url) == ("grace-wecom", "wecom", WECOM)
    assert channel.events == ["arrival", "tea"]
    resp, html = page(client, resp.headers["Location"])
    assert "Channel added. 已添加通知渠道。" in html and 'data-channel="grace-wecom"' in html
    assert "https://qyapi.weixin.qq.com/…" in html and "SECRET-KEY-1" not in html  # masked
    token = csrf_from(html)
    resp = client.post(f"/host/settings/channels/{channel.id}/test", data={"csrf_token": token})
    assert resp.status_code == 303
    [test] = outbox_rows()
    assert (test.kind, test.channel_id, test.purpose) == ("wecom", channel.id, "alert_test")
    assert test.subject == "Test message from Lobby"
    _, html = page(client)
    assert 'data-status="queued"' in html  # the test's fate shows on the channel's row
    resp = client.post(f"/host/settings/channels/{channel.id}/remove", data={"csrf_token": token})
    assert resp.status_code == 303 and channels.of(staff["host"]) == []


def test_errors_show_next_to_their_field_and_nothing_is_saved(client, staff):
    login(client, "grace@example.com")
    _, html = page(client)
    bad = {"kind": "dingtalk", "url": "oapi.dingtalk.com/robot", "csrf_token": csrf_from(html)}
    resp = client.post("/host/settings/channels", data=bad)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert 'data-field="url"' in html and "http(s)://" in html
    assert 'value="oapi.dingtalk.com/robot"' in html  # what they typed, to correct
    taken = {**bad, "url": WECOM, "kind": "wecom", "name": "desk"}
    channels.add("desk", "slack", "https://hooks.slack.com/services/x")
    resp = client.post("/host/settings/channels", data=taken)
    assert resp.status_code == 409 and 'data-field="name"' in resp.get_data(as_text=True)
    assert channels.of(staff["host"]) == []


def test_a_webhook_made_on_the_page_shows_its_new_secret_once(client, staff):
    login(client, "grace@example.com")
    _, html = page(client)
    data = {"kind": "webhook", "url": "https://example.com/lobby", "csrf_token": csrf_from(html)}
    resp = client.post("/host/settings/channels", data=data)
    html = resp.get_data(as_text=True)
    [hook] = channels.of(staff["host"])
    assert resp.status_code == 200 and 'id="new-secret"' in html and hook.secret in html
    assert hook.secret not in page(client)[1]  # never again


def test_nobody_tests_or_removes_anothers_channel(client, staff):
    theirs = channels.add(
        "linus-slack", "slack", "https://hooks.slack.com/x", "", staff["other_host"]
    )
    site = channels.add("site-slack", "slack", "https://hooks.slack.com/y")
    login(client, "grace@example.com")
    _, html = page(client)
    assert "linus-slack" not in html and "site-slack" not in html
    token = csrf_from(html)
    for channel in (theirs, site):
        for action in ("test", "remove"):
            url = f"/host/settings/channels/{channel.id}/{action}"
            assert client.post(url, data={"csrf_token": token}).status_code == 403
    assert (
        client.post("/host/settings/channels/999/test", data={"csrf_token": token}).status_code
        == 404
    )
    assert outbox_rows() == [] and len(channels.everyone()) == 2
    # the host may not use the admin's page either
    assert client.get("/admin/channels").status_code == 403
    url = f"/admin/channels/{theirs.id}/remove"
    assert client.post(url, data={"csrf_token": token}).status_code == 403


def test_settings_need_a_sign_in_and_reception_has_them_too(client, staff):
    assert client.get("/host/settings").status_code == 302
    login(client, "desk@example.com")
    resp, html = page(client)
    assert resp.status_code == 200 and "My alert channels" in html
    assert 'name="away_until"' not in html  # away and delegate are a host's


def test_language_away_and_delegate(client, staff):
    login(client, "grace@example.com")
    _, html = page(client)
    assert 'value="linus@example.com"' in html  # another host may be the delegate
    assert 'value="grace@example.com"' not in html  # not oneself
    assert 'value="desk@example.com"' not in html  # not a non-host
    token = csrf_from(html)
    past = clock.to_local(utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "language": "zh",
        "away_until": past,
        "delegate": "linus@example.com",
        "csrf_token": token,
    }
    resp = client.post("/host/settings/preferences", data=data)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and 'data-field="away_until"' in html
    db.session.rollback()
    grace = db.session.get(User, staff["host"].id)
    assert grace.language == "" and grace.away_until is None  # nothing saved
    resp = client.post("/host/settings/preferences", data={**data, "delegate": "desk@example.com"})
    assert resp.status_code == 422  # not a choice offered
    until = clock.to_local(utcnow() + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post("/host/settings/preferences", data={**data, "away_until": until})
    assert resp.status_code == 303
    db.session.rollback()
    grace = db.session.get(User, staff["host"].id)
    assert grace.language == "zh" and grace.delegate_id == staff["other_host"].id
    assert grace.away_until is not None and grace.away_until > utcnow() + timedelta(hours=2)
    _, html = page(client, resp.headers["Location"])
    assert "Settings saved" in html and 'id="away-state"' in html and "Linus T" in html
    assert f'value="{until}"' in html  # the form shows what is set
    resp = client.post(
        "/host/settings/preferences",
        data={"language": "", "away_until": "", "delegate": "", "csrf_token": token},
    )
    assert resp.status_code == 303
    db.session.rollback()
    grace = db.session.get(User, staff["host"].id)
    assert grace.away_until is None and grace.delegate_id is None and grace.language == ""


def test_the_admin_keeps_the_site_defaults_and_sees_everyones(client, staff):
    channels.add(
        "grace-slack", "slack", "https://hooks.slack.com/services/T/B/X", "", staff["host"]
    )
    login(client, "admin@example.com")
    resp, html = page(client, "/admin/channels")
    assert resp.status_code == 200 and "Alert channels <small>通知渠道</small>" in html
    assert 'id="admin-channels-link"' in page(client, "/admin")[1]  # linked from /admin
    assert 'id="personal"' in html and "grace-slack" in html and "Grace Hopper" in html
    data = {
        "kind": "feishu",
        "url": "https://open.feishu.cn/open-apis/bot/v2/hook/abc",
        "secret": "fs-secret",
        "csrf_token": csrf_from(html),
    }
    resp = client.post("/admin/channels", data=data)
    assert resp.status_code == 303
    [site] = channels.of(None)
    assert (site.name, site.kind, site.secret, site.user_id) == (
        "site-feishu",
        "feishu",
        "fs-secret",
        None,
    )
    _, html = page(client, resp.headers["Location"])
    assert "fs-secret" not in html and "signed" in html
    token = csrf_from(html)
    assert (
        client.post(f"/admin/channels/{site.id}/test", data={"csrf_token": token}).status_code
        == 303
    )
    assert outbox_rows()[0].channel_id == site.id
    grace_slack = channels.by_name("grace-slack")
    resp = client.post(f"/admin/channels/{grace_slack.id}/remove", data={"csrf_token": token})
    assert resp.status_code == 303 and [c.name for c in channels.everyone()] == ["site-feishu"]


def test_visitor_text_on_the_settings_page_is_escaped(client, staff, make_visit):
    channels.add("grace-slack", "slack", "https://hooks.slack.com/x", "", staff["host"])
    visit = make_visit(name="<script>alert(1)</script>", company="<b>Evil</b>")
    checkin.check_in(visit.code)
    assert alerts.run() == 1
    login(client, "grace@example.com")
    _, html = page(client)
    assert "<script>alert(1)</script>" not in html and "<b>Evil</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert db.session.scalar(select(Channel.id)) is not None


def test_channels_over_the_api(client, tokens, staff):
    from tests.conftest import auth

    admin = auth(tokens["admin"])
    body = {"name": "ops-hook", "kind": "webhook", "url": "https://ops.example.com/lobby"}
    resp = client.post("/api/v1/channels", json=body, headers=admin)
    assert resp.status_code == 201
    made = resp.get_json()
    assert made["for"] is None and made["signed"] and len(made["secret"]) >= 40
    assert made["url"] == "https://ops.example.com/…"
    resp = client.post(
        "/api/v1/channels",
        json={**body, "name": "g", "kind": "slack", "for": "grace@example.com", "events": ["x"]},
        headers=admin,
    )
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "invalid_events"
    assert client.post("/api/v1/channels", json=body, headers=admin).status_code == 409
    bad = client.post("/api/v1/channels", json={**body, "name": 5}, headers=admin)
    assert bad.status_code == 422
    listed = client.get("/api/v1/channels", headers=admin).get_json()
    assert listed["count"] == 1 and "secret" not in listed["channels"][0]
    assert client.get("/api/v1/channels", headers=auth(tokens["host"])).status_code == 403
    resp = client.post(f"/api/v1/channels/{made['id']}/test", headers=admin)
    assert resp.status_code == 202 and resp.get_json()["purpose"] == "alert_test"
    assert client.delete(f"/api/v1/channels/{made['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/channels/{made['id']}", headers=admin).status_code == 404
