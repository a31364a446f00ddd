"""/admin: pre-register expected guests, see upcoming visits, manage kiosks."""

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from server.admin import bp
from server.admin.forms import PreRegisterForm
from server.auth import page_roles
from server.extensions import db, htmx
from server.models import Kiosk, Printer
from server.services import people, tasks, visits
from server.services.errors import ServiceError


def _form(blank: bool = False) -> PreRegisterForm:
    """The form bound to the request, or ``blank`` (after a successful invite)."""
    form = PreRegisterForm(formdata=None) if blank else PreRegisterForm()
    form.host.choices = [(u.email, f"{u.name} <{u.email}>") for u in people.hosts()]
    return form


def _page(form, created=None, status=200, **drinks):
    return render_template(
        "admin/index.html",
        form=form,
        created=created,
        visits=visits.upcoming(),
        kiosks=db.session.scalars(db.select(Kiosk).order_by(Kiosk.name)).all(),
        printers=db.session.scalars(db.select(Printer).order_by(Printer.name)).all(),
        drinks=tasks.menu(active_only=False),
        **{"drink_form": {}, "drink_errors": {}, **drinks},
    ), status


@bp.get("/", strict_slashes=False)
@page_roles("admin")
def index():
    if htmx and request.args.get("part") == "visits":
        return render_template("admin/_visits.html", visits=visits.upcoming())
    return _page(_form())


@bp.post("/visits")
@page_roles("admin")
def create_visit():
    """Pre-register from the htmx form; errors come back in the form, nothing saved."""
    form = _form()
    created = None
    if form.validate_on_submit():
        first = {
            "name": form.name.data,
            "company": form.company.data,
            "email": form.email.data,
            "phone": form.phone.data,
            "language": form.language.data or "",
        }
        booking = dict(
            host_email=form.host.data,
            expected_at=form.expected_at.data.isoformat(),
            purpose=form.purpose.data or "",
            created_by=current_user,
            valid_until=form.valid_until.data.isoformat() if form.valid_until.data else None,
            invite=bool(form.invite.data),
        )
        try:
            others = form.companion_list()
            if others:  # a group: the visitor above first, then the others
                group = visits.pre_register_group(
                    [first, *others], name=form.group_name.data or "", **booking
                )
                created = group.visits[0]
            else:
                created = visits.pre_register(first, **booking)
        except ServiceError as e:
            for field, message in (e.fields or {"name": e.message}).items():
                if field.startswith("visitors."):  # visitors.<i>.<field>: line i of the group
                    index, _, key = field[len("visitors.") :].partition(".")
                    if index != "0":
                        form.companions.errors.append(f"line {index}: {key} {message}")
                        continue
                    field = key
                target = {"host": "host", "group": "group_name"}.get(field, field)
                getattr(form, target if target in form else "name").errors.append(message)
    status = 200 if created or not form.errors else 422
    if htmx:
        fresh = _form(blank=True) if created else form
        resp = render_template("admin/_visit_form.html", form=fresh, created=created)
        # htmx 2 does not swap 4xx by default: the form with its errors is the answer.
        return resp, 200, ({"HX-Trigger": "lobby:refresh"} if created else {})
    if created:
        return redirect(url_for("admin.index"))
    return _page(form, status=status)


@bp.post("/drinks")
@page_roles("admin")
def add_drink():
    """Add a drink to the tea menu (English and Chinese names); errors by field."""
    name, name_zh = request.form.get("name", ""), request.form.get("name_zh", "")
    errors, added = {}, None
    if len(name_zh.strip()) > 80:
        errors["name_zh"] = "at most 80 characters"
    else:
        try:
            added = tasks.add_drink(name, name_zh)
        except ServiceError as e:
            errors = {"name": e.message}
    if htmx:
        return render_template(
            "admin/_drinks.html",
            drinks=tasks.menu(active_only=False),
            drink_errors=errors,
            added=added,
            drink_form={} if added else {"name": name, "name_zh": name_zh},
        )
    if added:
        return redirect(url_for("admin.index"))
    return _page(
        _form(), status=422, drink_errors=errors, drink_form={"name": name, "name_zh": name_zh}
    )


@bp.post("/drinks/<int:drink_id>")
@page_roles("admin")
def update_drink(drink_id: int):
    """Rename a drink, or take it off the menu (``active`` unchecked) and back."""
    form = request.form
    errors: dict[str, str] = {}
    try:
        tasks.update_drink(
            drink_id,
            name=form.get("name", ""),
            name_zh=form.get("name_zh", ""),
            active=bool(form.get("active")),
        )
    except ServiceError as e:
        if e.status == 404:
            raise
        errors = dict(e.fields) or {"name": e.message}
    edited = {"id": drink_id, "errors": errors, "name": form.get("name", "")}
    edited["name_zh"] = form.get("name_zh", "")
    if htmx:
        return render_template(
            "admin/_drinks.html",
            drinks=tasks.menu(active_only=False),
            edited=edited,
            drink_errors={},
            drink_form={},
        )
    if not errors:
        return redirect(url_for("admin.index"))
    return _page(_form(), status=422, edited=edited)
