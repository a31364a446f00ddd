"""/host/settings: a person's own notification settings (issue 16 items 4 and 5).

Their alert channels (add, "Send test", remove: ``services/channels.py``), the
language of their messages, and, for hosts, "away until" and the delegate who meets
their visitors meanwhile (``services/away.py`` checks both: a delegate is another
active host). Every member of staff has the page: receptionists get tea requests
where they are, too. A person manages only their own channels (another's id is a
403); the site's defaults are on /admin/channels. Every form is a POST with CSRF;
errors show next to their field (422), success redirects (303) with a notice.
"""

from datetime import datetime

from flask import redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from server.auth import page_roles
from server.extensions import db
from server.host import bp
from server.services import away, channels, clock, people
from server.services.errors import ServiceError

STAFF = ("host", "receptionist", "admin")
NOTICES = {
    "added": "Channel added. 已添加通知渠道。",
    "tested": "Test message queued: it is sent within seconds. 测试消息已排队，稍后发送。",
    "removed": "Channel removed. 已删除通知渠道。",
    "saved": "Settings saved. 设置已保存。",
}
URL_HINT = (  # where each vendor's robot URL comes from: shown under the field
    ("WeCom 企业微信", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"),
    ("DingTalk 钉钉", "https://oapi.dingtalk.com/robot/send?access_token=…"),
    ("Feishu 飞书", "https://open.feishu.cn/open-apis/bot/v2/hook/…"),
    ("Slack", "https://hooks.slack.com/services/…"),
    ("Email 邮件", "name@example.com"),
)


class ChannelForm(FlaskForm):
    """A new channel; the service checks the URL for the kind (``invalid_url``)."""

    kind = SelectField(
        "Where 渠道", choices=list(channels.KIND_LABELS.items()), validators=[DataRequired()]
    )
    url = StringField(
        "Robot or webhook URL, or email address 机器人/Webhook 地址或邮箱",
        validators=[DataRequired(), Length(max=1000)],
    )
    secret = StringField(
        "Signing secret (DingTalk SEC…, Feishu, webhook) 签名密钥（可选）",
        validators=[Optional(), Length(max=300)],
    )
    name = StringField("Name (optional) 名称（可选）", validators=[Optional(), Length(max=120)])
    events = SelectMultipleField(
        "Send 发送", choices=list(channels.TOPIC_LABELS.items()), validators=[Optional()]
    )


class PreferencesForm(FlaskForm):
    language = SelectField(
        "Language of my messages 消息语言",
        choices=[("", "Site default 默认"), ("en", "English 英文"), ("zh", "Chinese 中文")],
        validators=[Optional()],
    )
    away_until = DateTimeLocalField(
        "Away until 外出至", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    delegate = SelectField("Delegate 代理接待人", choices=[], validators=[Optional()])


class ChannelActionForm(FlaskForm):
    """Test and remove: only the CSRF token."""


def preferences_form(formdata=None) -> PreferencesForm:
    user = current_user
    if formdata is None:
        delegate = people.user_by_id(user.delegate_id).email if user.delegate_id else ""
        form = PreferencesForm(
            formdata=None,
            language=user.language or "",
            away_until=clock.to_local(user.away_until).replace(tzinfo=None)
            if away.is_away(user)
            else None,
            delegate=delegate,
        )
    else:
        form = PreferencesForm()
    choices = [(h.email, f"{h.name} <{h.email}>") for h in people.hosts() if h.id != user.id]
    current = people.user_by_id(user.delegate_id) if user.delegate_id else None
    if current is not None and current.email not in dict(choices):  # disabled since
        choices.append((current.email, f"{current.name} <{current.email}>"))
    form.delegate.choices = [("", "Nobody 无"), *choices]
    return form


def apply_errors(form, error: ServiceError, default: str) -> None:
    for field, message in (error.fields or {default: error.message}).items():
        getattr(form, field if field in form else default).errors.append(message)


def last_messages(rows) -> dict:
    return channels.last_messages([c.id for c in rows])


def _page(channel_form=None, prefs=None, status=200, new_secret=None):
    own = channels.of(current_user)
    return render_template(
        "host/settings.html",
        channels=own,
        last=last_messages(own),
        form=channel_form or ChannelForm(formdata=None),
        prefs=prefs or preferences_form(),
        action=ChannelActionForm(),
        notice=NOTICES.get("added" if new_secret else request.args.get("done", "")),
        new_secret=new_secret,
        url_hint=URL_HINT,
        is_host=current_user.has_role("host"),
        away_now=away.is_away(current_user),
        local=clock.to_local,
        masked=channels.masked_url,
    ), status


@bp.get("/settings")
@page_roles(*STAFF)
def settings():
    return _page()


@bp.post("/settings/channels")
@page_roles(*STAFF)
def add_channel():
    form = ChannelForm()
    if not form.validate_on_submit():
        return _page(channel_form=form, status=422)
    kind = form.kind.data or ""
    name = (form.name.data or "").strip() or channels.free_name(current_user, kind)
    try:
        added = channels.add(
            name, kind, form.url.data or "", form.secret.data or "", current_user, form.events.data
        )
    except ServiceError as e:
        apply_errors(form, e, "url")
        return _page(channel_form=form, status=e.status)
    if added.kind == "webhook" and not form.secret.data:  # made here: shown this once
        return _page(new_secret={"name": added.name, "secret": added.secret})
    return redirect(url_for("host.settings", done="added"), 303)


@bp.post("/settings/channels/<int:channel_id>/test")
@page_roles(*STAFF)
def test_channel(channel_id: int):
    if not ChannelActionForm().validate_on_submit():
        return _page(status=400)
    channels.send_test(channel_id, current_user, own_only=True)
    return redirect(url_for("host.settings", done="tested"), 303)


@bp.post("/settings/channels/<int:channel_id>/remove")
@page_roles(*STAFF)
def remove_channel(channel_id: int):
    if not ChannelActionForm().validate_on_submit():
        return _page(status=400)
    channels.remove_by(channel_id, current_user, own_only=True)
    return redirect(url_for("host.settings", done="removed"), 303)


@bp.post("/settings/preferences")
@page_roles(*STAFF)
def save_preferences():
    form = preferences_form(request.form)
    if not form.validate_on_submit():
        return _page(prefs=form, status=422)
    when: datetime | None = form.away_until.data
    until = when.strftime("%Y-%m-%d %H:%M") if when else ""
    try:
        if current_user.has_role("host"):  # checked before anything is saved
            away.parse_away_until(until)
            away.resolve_delegate(db.session, form.delegate.data or "", current_user.id)
        channels.set_language(current_user.id, form.language.data or "")
        if current_user.has_role("host"):
            away.set_away(current_user.id, away_until=until, delegate=form.delegate.data or "")
    except ServiceError as e:
        apply_errors(form, e, "away_until")
        return _page(prefs=form, status=e.status)
    return redirect(url_for("host.settings", done="saved"), 303)
