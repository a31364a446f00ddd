"""/admin/channels: the site's default alert channels (a channel with no person: it
reaches everyone for the kinds they have no channel of), add, "Send test", remove;
and everyone's own channels listed, which an admin may test or remove too. The
forms are the host settings page's (server/host/settings.py); rules in
services/channels.py."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from server.admin import bp
from server.auth import page_roles
from server.host.settings import URL_HINT, ChannelActionForm, ChannelForm, apply_errors
from server.services import channels
from server.services.errors import ServiceError

NOTICES = {
    "added": "Site channel added. 已添加全站默认渠道。",
    "tested": "Test message queued: it is sent within seconds. 测试消息已排队，稍后发送。",
    "removed": "Channel removed. 已删除通知渠道。",
}


def _page(form=None, status=200, new_secret=None):
    site = channels.of(None)
    personal = [c for c in channels.everyone() if c.user_id is not None]
    return render_template(
        "admin/channels.html",
        site=site,
        personal=personal,
        last=channels.last_messages([c.id for c in site + personal]),
        form=form or ChannelForm(formdata=None),
        action=ChannelActionForm(),
        notice=NOTICES.get("added" if new_secret else request.args.get("done", "")),
        new_secret=new_secret,
        url_hint=URL_HINT,
        masked=channels.masked_url,
    ), status


@bp.get("/channels")
@page_roles("admin")
def channels_page():
    return _page()


@bp.post("/channels")
@page_roles("admin")
def add_site_channel():
    form = ChannelForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    kind = form.kind.data or ""
    name = (form.name.data or "").strip() or f"site-{kind}"
    try:
        added = channels.add(
            name, kind, form.url.data or "", form.secret.data or "", None, form.events.data
        )
    except ServiceError as e:
        apply_errors(form, e, "url")
        return _page(form, e.status)
    if added.kind == "webhook" and not form.secret.data:
        return _page(new_secret={"name": added.name, "secret": added.secret})
    return redirect(url_for("admin.channels_page", done="added"), 303)


@bp.post("/channels/<int:channel_id>/test")
@page_roles("admin")
def test_site_channel(channel_id: int):
    channels.send_test(channel_id, current_user)
    return redirect(url_for("admin.channels_page", done="tested"), 303)


@bp.post("/channels/<int:channel_id>/remove")
@page_roles("admin")
def remove_site_channel(channel_id: int):
    channels.remove_by(channel_id, current_user)
    return redirect(url_for("admin.channels_page", done="removed"), 303)
