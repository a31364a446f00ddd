"""The policy's admin pages: /admin/organisation (departments and heads, duties, the
approval chain) and /admin/standards (the star-level standards and which scheme is in
force). Admins only; every form has CSRF; refusals come back next to their field
(422), successes redirect (303) back with what was saved."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from server.auth import page_roles
from server.models import DECIDERS, DUTIES
from server.models.policy import EXTRAS, LEVELS, LODGING, SCHEMES, VEHICLES
from server.policy import organisation, rooms, standards
from server.services import people
from server.services.errors import ServiceError

bp = Blueprint("policy", __name__)

DUTY_LABELS = {
    "marketing": "Marketing 市场部",
    "finance": "Finance 财务部",
    "gm": "General manager 总经理",
    "president_office": "President's office 总裁办",
    "auditor": "Auditor 审计",
}
DECIDER_LABELS = {"dept_head": "Requester's department head 申请人部门负责人", **DUTY_LABELS}


def _organisation_page(errors: dict | None = None, saved: str = "", status: int = 200):
    return render_template(
        "policy/organisation.html",
        departments=organisation.departments(),
        users=people.staff(),
        held=organisation.duty_holders(),
        steps=organisation.steps(),
        duties=DUTIES,
        duty_labels=DUTY_LABELS,
        deciders=DECIDERS,
        decider_labels=DECIDER_LABELS,
        errors=errors or {},
        form=request.form if errors else {},
        saved=saved or request.args.get("saved", ""),
    ), status


def _back(saved: str):
    return redirect(url_for("policy.organisation_page", saved=saved), code=303)


def _refused(error: ServiceError, default: str):
    fields = error.fields or {default: error.message}
    return _organisation_page(errors=fields, status=422 if error.status < 500 else 400)


@bp.get("/organisation")
@page_roles("admin")
def organisation_page():
    return _organisation_page()


@bp.post("/departments")
@page_roles("admin")
def add_department():
    head = request.form.get("head", "").strip() or None
    try:
        dept = organisation.add_department(request.form.get("name", ""), head, by=current_user)
    except ServiceError as e:
        return _refused(e, "name")
    return _back(f"department:{dept.name}")


@bp.post("/departments/<int:department_id>/head")
@page_roles("admin")
def set_department_head(department_id: int):
    dept = next((d for d in organisation.departments() if d.id == department_id), None)
    if dept is None:
        return _organisation_page(errors={"head": "no such department"}, status=404)
    head = request.form.get("head", "").strip() or None
    try:
        organisation.set_head(dept.name, head, by=current_user)
    except ServiceError as e:
        return _refused(e, "head")
    return _back(f"head:{dept.name}")


@bp.post("/users/<int:user_id>/duties")
@page_roles("admin")
def set_duties(user_id: int):
    try:
        user = people.user_by_id(user_id)
        wanted = set(request.form.getlist("duty"))
        unknown = wanted - set(DUTIES)
        if unknown:
            return _organisation_page(errors={"duty": "unknown duty"}, status=422)
        have = organisation.duties_of(user)
        for duty in sorted(wanted - have):
            organisation.add_duty(user.email, duty, by=current_user)
        for duty in sorted(have - wanted):
            organisation.remove_duty(user.email, duty, by=current_user)
    except ServiceError as e:
        return _refused(e, "duty")
    return _back(f"duties:{user.email}")


@bp.post("/approval-chain")
@page_roles("admin")
def add_step():
    position = request.form.get("position", "").strip()
    try:
        organisation.add_step(
            request.form.get("decider", ""),
            label_en=request.form.get("label_en", "").strip(),
            label_zh=request.form.get("label_zh", "").strip(),
            position=int(position) if position.isascii() and position.isdigit() else None,
            by=current_user,
        )
    except ServiceError as e:
        return _refused(e, "decider")
    return _back("chain")


@bp.post("/approval-chain/<name>/move")
@page_roles("admin")
def move_step(name: str):
    delta = -1 if request.form.get("direction") == "up" else 1
    try:
        organisation.move_step(name, delta, by=current_user)
    except ServiceError as e:
        return _refused(e, "decider")
    return _back("chain")


@bp.post("/approval-chain/<name>/remove")
@page_roles("admin")
def remove_step(name: str):
    try:
        organisation.remove_step(name, by=current_user)
    except ServiceError as e:
        return _refused(e, "decider")
    return _back("chain")


def _standards_page(errors: dict | None = None, saved: bool = False, status: int = 200):
    scheme = request.values.get("scheme_view") or standards.scheme_in_force()
    if scheme not in SCHEMES:
        scheme = standards.scheme_in_force()
    return render_template(
        "policy/standards.html",
        in_force=standards.scheme_in_force(),
        scheme=scheme,
        schemes=SCHEMES,
        rows=standards.current(scheme),
        lodging=LODGING,
        vehicles=VEHICLES,
        extras=EXTRAS,
        labels=standards.LABELS,
        errors=errors or {},
        saved=saved or bool(request.args.get("saved")),
    ), status


@bp.get("/standards")
@page_roles("admin")
def standards_page():
    return _standards_page()


@bp.post("/standards")
@page_roles("admin")
def save_standards():
    """One form: the scheme in force and every level of the scheme shown. Empty caps
    mean actual cost."""
    form = request.form
    scheme = form.get("scheme_view", "")
    levels = []
    for level in LEVELS:
        prefix = f"l{level}_"
        if not any(key.startswith(prefix) for key in form):
            continue
        entry: dict = {"level": level, "scheme": scheme}
        for field in (*standards.TEXT_FIELDS, *standards.CHOICE_FIELDS):
            if prefix + field in form:
                entry[field] = form.get(prefix + field, "")
        for field in standards.MONEY_FIELDS:
            if prefix + field in form:
                entry[field] = form.get(prefix + field, "").strip() or None
        levels.append(entry)
    changes: dict = {"levels": levels}
    if form.get("in_force"):
        changes["scheme"] = form.get("in_force")
    try:
        standards.update(changes, by=current_user)
    except ServiceError as e:
        return _standards_page(errors=e.fields or {"levels": e.message}, status=422)
    return redirect(url_for("policy.standards_page", saved=1, scheme_view=scheme), code=303)


def _rooms_page(errors: dict | None = None, status: int = 200):
    from datetime import timedelta

    from sqlalchemy import select

    from server.extensions import db
    from server.models import Booking, utcnow

    now = utcnow()
    upcoming = db.session.scalars(
        select(Booking)
        .where(
            Booking.cancelled_at.is_(None),
            Booking.ends_at > now,
            Booking.starts_at < now + timedelta(days=14),
        )
        .order_by(Booking.starts_at)
    ).all()
    return render_template(
        "policy/rooms.html",
        rooms=rooms.rooms(),
        bookings=upcoming,
        errors=errors or {},
        form=request.form if errors else {},
        saved=request.args.get("saved", ""),
    ), status


@bp.get("/rooms")
@page_roles("admin")
def rooms_page():
    return _rooms_page()


@bp.post("/rooms")
@page_roles("admin")
def add_room():
    capacity = request.form.get("capacity", "").strip()
    try:
        room = rooms.add_room(
            request.form.get("name", ""),
            int(capacity) if capacity.isascii() and capacity.isdigit() else capacity,
            projector=request.form.get("projector") == "1",
            by=current_user,
        )
    except ServiceError as e:
        return _rooms_page(errors=e.fields or {"name": e.message}, status=422)
    return redirect(url_for("policy.rooms_page", saved=room.name), code=303)
