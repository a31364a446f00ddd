"""/admin/users: staff on a page. List everyone, add a user (a generated password is
shown once), edit roles, department, phone and fallback contact, disable and
re-enable, reset a password. The rules live in server/services/people.py and
accounts.py; refusals come back next to their field."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from server.admin import bp
from server.admin.forms import NO_FALLBACK, ROLE_LABELS, NewUserForm, PasswordForm, UserDetailsForm
from server.auth import page_roles
from server.services import accounts, people
from server.services.errors import ServiceError


def _fallbacks(user=None) -> list:
    """Who may be a fallback contact: active hosts but the user; their current
    fallback stays listed (even if since disabled) so the form shows it."""
    choices = [u for u in people.hosts() if user is None or u.id != user.id]
    current = user.fallback_contact if user is not None else None
    if current is not None and current not in choices:
        choices.append(current)
    return choices


def _apply_errors(form, error: ServiceError, default: str = "name") -> None:
    """Put a service refusal next to its field(s) on the form."""
    for field, message in (error.fields or {default: error.message}).items():
        getattr(form, field if field in form else default).errors.append(message)


def _list_page(form=None, created=None, password=None, status=200):
    form = form or NewUserForm(formdata=None).set_choices(_fallbacks())
    return render_template(
        "admin/users.html",
        users=people.staff(),
        form=form,
        role_labels=ROLE_LABELS,
        created=created,
        password=password,
    ), status


@bp.get("/users")
@page_roles("admin")
def users_page():
    return _list_page()


@bp.post("/users")
@page_roles("admin")
def add_user():
    """Add a member of staff; without a typed password one is generated and shown once."""
    form = NewUserForm().set_choices(_fallbacks())
    if not form.validate_on_submit():
        return _list_page(form, status=422)
    password = form.password.data or people.generate_password()
    try:
        created = people.create_user(
            form.email.data,
            form.name.data,
            form.roles.data,
            password=password,
            department=form.department.data,
            phone=form.phone.data,
            fallback=form.fallback.data or None,
        )
    except ServiceError as e:
        _apply_errors(form, e)
        return _list_page(form, status=e.status)
    fresh = NewUserForm(formdata=None).set_choices(_fallbacks())
    return _list_page(
        fresh, created=created, password=None if form.password.data else password, status=201
    )


def _user_page(user, form=None, password_form=None, status=200, **notices):
    form = form or UserDetailsForm(
        formdata=None,
        name=user.name,
        phone=user.phone,
        department=user.department or "",
        roles=[r for r in user.roles.split(",") if r],
        fallback=user.fallback_contact_id or NO_FALLBACK,
    )
    form.set_choices(_fallbacks(user))
    return render_template(
        "admin/user.html",
        user=user,
        form=form,
        password_form=password_form or PasswordForm(formdata=None),
        is_self=user.id == current_user.id,
        **notices,
    ), status


@bp.get("/users/<int:user_id>")
@page_roles("admin")
def user_page(user_id: int):
    return _user_page(people.user_by_id(user_id), saved=request.args.get("saved"))


@bp.post("/users/<int:user_id>")
@page_roles("admin")
def save_user(user_id: int):
    """Save name, roles, department, phone and fallback at once, or nothing."""
    user = people.user_by_id(user_id)
    form = UserDetailsForm().set_choices(_fallbacks(user))
    if not form.validate_on_submit():
        return _user_page(user, form, status=422)
    fallback = form.fallback.data or None
    try:
        accounts.update_user(
            user.id,
            by=current_user,
            name=form.name.data,
            roles=form.roles.data,
            department=form.department.data,
            phone=form.phone.data or "",
            # Only a changed fallback is checked again: a contact disabled since does
            # not block saving a new phone number (the page shows it as disabled).
            fallback=accounts.UNSET if fallback == user.fallback_contact_id else fallback,
        )
    except ServiceError as e:
        _apply_errors(form, e)
        return _user_page(user, form, status=e.status)
    return redirect(url_for("admin.user_page", user_id=user.id, saved="details"), 303)


@bp.post("/users/<int:user_id>/password")
@page_roles("admin")
def reset_user_password(user_id: int):
    """Set a typed password, or generate one and show it once."""
    user = people.user_by_id(user_id)
    password_form = PasswordForm()
    if not password_form.validate_on_submit():
        return _user_page(user, password_form=password_form, status=422)
    try:
        password = accounts.reset_password(
            user.id, password_form.password.data or None, by=current_user
        )
    except ServiceError as e:
        _apply_errors(password_form, e, default="password")
        return _user_page(user, password_form=password_form, status=e.status)
    generated = None if password_form.password.data else password
    return _user_page(user, saved="password", password=generated)


@bp.post("/users/<int:user_id>/<any(disable, enable):action>")
@page_roles("admin")
def set_user_active(user_id: int, action: str):
    """Disable (signed out at their next request, tokens refused) or re-enable."""
    user = people.user_by_id(user_id)
    try:
        accounts.set_active(user.id, action == "enable", by=current_user)
    except ServiceError as e:
        return _user_page(user, status=e.status, active_error=e.message, error_code=e.code)
    return redirect(url_for("admin.user_page", user_id=user.id, saved=action + "d"), 303)
