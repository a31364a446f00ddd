"""/admin/watchlist: people who may not enter without reception's word (issue 13 item 4).

Admins see the list (and what was removed), add an entry (name, company, phone,
e-mail, reason) and remove one (kept, inactive). The rules, the matching and the
audit trail live in server/services/watchlist.py; refusals come back next to their
field."""

from flask import redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from server.admin import bp
from server.auth import page_roles
from server.services import watchlist
from server.services.errors import ServiceError


class WatchlistForm(FlaskForm):
    """Mirrors POST /api/v1/watchlist; the service checks everything again."""

    name = StringField("Name 姓名", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company 公司", validators=[Optional(), Length(max=200)])
    phone = StringField("Phone 电话", validators=[Optional(), Length(max=50)])
    email = EmailField("Email 邮箱", validators=[Optional(), Length(max=254)])
    reason = TextAreaField("Reason 原因", validators=[DataRequired(), Length(max=1000)])


class RemoveForm(FlaskForm):
    """Only the CSRF token: removing needs no input."""


def _page(form=None, added=None, removed=None, status=200):
    return render_template(
        "admin/watchlist.html",
        entries=watchlist.entries(include_removed=True),
        form=form or WatchlistForm(formdata=None),
        remove_form=RemoveForm(),
        added=added,
        removed=removed,
    ), status


@bp.get("/watchlist")
@page_roles("admin")
def watchlist_page():
    return _page()


@bp.post("/watchlist")
@page_roles("admin")
def watchlist_add():
    form = WatchlistForm()
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        entry = watchlist.add(
            {key: form[key].data or "" for key in watchlist.LIMITS}, by=current_user
        )
    except ServiceError as e:
        for key, message in (e.fields or {"name": e.message}).items():
            form[key if key in form else "name"].errors.append(message)
        return _page(form, status=e.status)
    return _page(added=entry, status=201)


@bp.post("/watchlist/<int:entry_id>/remove")
@page_roles("admin")
def watchlist_remove(entry_id: int):
    if not RemoveForm().validate_on_submit():  # CSRF
        return redirect(url_for("admin.watchlist_page"))
    try:
        entry = watchlist.remove(entry_id, by=current_user)
    except ServiceError as e:
        return _page(removed={"error": e.message}, status=e.status)
    return _page(removed={"entry": entry})
