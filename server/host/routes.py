"""/host: the host's visitors of today by state, and what the host does for them.

One URL per action; each answers htmx with the whole visits fragment (a card moves
between the state groups when its state changes) with the acted-on card's errors or
notice on it, and a plain POST with a redirect (or the whole page with the errors).
Every action goes through a service that checks the visit is this host's
(``Forbidden``, 403) before anything is written; the views never look a visit up
any other way.
"""

from datetime import timedelta

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from server import realtime
from server.auth import page_roles
from server.extensions import htmx
from server.host import bp, forms
from server.models import Visit
from server.services import clock, hosting, tasks, visits
from server.services.errors import ServiceError, ValidationError

# Most urgent first: who is waiting for me, who is with me, who is out on a tour.
GROUPS = (
    ("waiting", "Waiting for you", "等候中"),
    ("with_host", "With me", "接待中"),
    ("on_tour", "On tour", "参观中"),
    ("expected", "Expected", "待到访"),
    ("left", "Left", "已离开"),
    ("cancelled", "Cancelled", "已取消"),
)
REPLY_METHODS = (
    ("email", "Email 邮件"),
    ("phone", "Phone 电话"),
    ("meeting", "Meeting 会面"),
    ("wechat", "WeChat 微信"),
    ("letter", "Letter 信函"),
)
TOUR_NEXT = {
    "planned": [("confirmed", "Confirm 确认"), ("in_progress", "Start 开始")],
    "confirmed": [("in_progress", "Start 开始")],
    "in_progress": [("done", "Finish 结束")],
}


def _context(focus: dict | None = None) -> dict:
    seq = realtime.last_seq()  # before the read: replay from here misses nothing
    today = visits.today(host=current_user)
    groups: dict[str, list[Visit]] = {key: [] for key, _, _ in GROUPS}
    for v in today:
        groups.setdefault(visits.state_today(v), []).append(v)
    return {
        "groups": groups,
        "group_labels": GROUPS,
        "visits": today,
        "last_seq": seq,
        "minutes": {v.id: hosting.waiting_minutes(v) for v in groups["waiting"]},
        "overdue": {v.id for v in groups["waiting"] if hosting.overdue(v)},
        "where": {v.id: hosting.where(v) for v in groups["with_host"] + groups["on_tour"]},
        "warn_after": current_app.config["ACK_WARNING_MINUTES"],
        "drinks": tasks.menu(),
        "reply_methods": REPLY_METHODS,
        "tour_next": TOUR_NEXT,
        "focus": focus or {},
        "stop_rows": forms.stop_rows,
        # A promised answer is due tomorrow at five unless the host says otherwise.
        "default_deadline": (clock.to_local(clock.utcnow()) + timedelta(days=1)).strftime(
            "%Y-%m-%dT17:00"
        ),
    }


def _render(focus: dict | None = None, status: int = 200):
    """htmx: the fragment (200 even with errors: htmx 2 swaps no 4xx, and the form
    with its errors is the answer); a plain request: the page."""
    ctx = _context(focus)
    if htmx:
        return render_template("host/_visits.html", **ctx), 200
    return render_template("host/index.html", **ctx), status


def _done(visit_id: int, notice: str = "", **extra):
    if htmx:
        return _render({"visit_id": visit_id, "notice": notice, **extra})
    return redirect(url_for("host.index"), 303)


def _failed(visit_id: int, form_key: str, e: ServiceError, **extra):
    """A refusal shown on the card: field errors next to their fields, anything else
    (a conflict such as "the visitor has not arrived") above the form."""
    errors = dict(e.fields) if isinstance(e, ValidationError) and e.fields else {}
    focus = {
        "visit_id": visit_id,
        "form": form_key,
        "errors": errors,
        "error": "" if errors else e.message,
        "submitted": request.form,
        **extra,
    }
    return _render(focus, status=e.status)


def _acting(e: ServiceError) -> bool:
    """Refusals of who may act and of what does not exist are real HTTP errors
    (403/404, handled by ``server.errors``); the rest are shown on the form."""
    return e.status in (401, 403, 404)


@bp.get("/", strict_slashes=False)
@page_roles("host")
def index():
    # A live refresh while the farewell step is open keeps it open (host.js says which).
    farewell_id = request.args.get("farewell", type=int)
    if farewell_id:
        try:
            visit = visits.visible_visit(current_user, farewell_id)
        except ServiceError:
            visit = None
        if visit is not None and visit.status == "checked_in":
            return _render(
                {
                    "visit_id": visit.id,
                    "farewell": True,
                    "open_follow_ups": tasks.open_follow_ups(visit),
                }
            )
    return _render()


@bp.post("/visits/<int:visit_id>/ack")
@page_roles("host")
def acknowledge(visit_id: int):
    """ "On my way 我这就来": the kiosk and reception are told at once."""
    try:
        visit = hosting.acknowledge(visit_id, current_user)
    except ServiceError as e:
        if _acting(e):
            raise
        return _failed(visit_id, f"ack-{visit_id}", e)
    return _done(visit_id, f"On your way to {visit.visitor.name}. 已通知访客您正在赶来。")


def _act(visit_id: int, form_id: str, action, done: str):
    """Run one service call for a card's form: refusals of access propagate (403/404),
    any other refusal comes back on the card next to the form, success as a notice."""
    try:
        action()
    except ServiceError as e:
        if _acting(e):
            raise
        return _failed(visit_id, form_id, e)
    return _done(visit_id, done)


@bp.post("/visits/<int:visit_id>/tea")
@page_roles("host")
def request_tea(visit_id: int):
    return _act(
        visit_id,
        f"tea-{visit_id}",
        lambda: tasks.create(visit_id, forms.tea(request.form, tasks.menu()), current_user),
        "Tea requested from reception. 已请前台上茶。",
    )


@bp.post("/visits/<int:visit_id>/tour")
@page_roles("host")
def plan_tour(visit_id: int):
    return _act(
        visit_id,
        f"tour-{visit_id}",
        lambda: tasks.create(visit_id, forms.tour(request.form), current_user),
        "Tour planned; the departments are told. 已安排参观。",
    )


@bp.post("/visits/<int:visit_id>/requirements")
@page_roles("host")
def record_requirements(visit_id: int):
    return _act(
        visit_id,
        f"req-{visit_id}",
        lambda: hosting.record_requirements(
            visit_id, request.form.get("requirements", ""), current_user
        ),
        "Purpose and requirements saved. 已记录需求。",
    )


@bp.post("/visits/<int:visit_id>/follow-ups")
@page_roles("host")
def add_follow_up(visit_id: int):
    return _act(
        visit_id,
        f"fu-{visit_id}",
        lambda: tasks.create(visit_id, forms.follow_up(request.form), current_user),
        "Promised answer noted. 已记录承诺答复。",
    )


@bp.post("/tasks/<int:task_id>/status")
@page_roles("host")
def update_task(task_id: int):
    """Tea served, tour confirmed / started / finished, a promised answer answered."""
    task = tasks.get(task_id, current_user)  # 404 / 403 before anything else
    visit_id = task.visit_id
    data = {"status": request.form.get("status", "")}
    if "answer" in request.form:
        data["answer"] = request.form.get("answer", "")
    try:
        tasks.update(task_id, data, current_user)
    except ServiceError as e:
        if _acting(e):
            raise
        return _failed(visit_id, f"task-{task_id}", e)
    return _done(visit_id)


@bp.route("/visits/<int:visit_id>/farewell", methods=["GET", "POST"])
@page_roles("host")
def farewell(visit_id: int):
    """GET: the confirmation step, with the promised answers still open. POST: see the
    visitor off (a farewell task) and check them out; the thank-you lists what is
    still open, so nothing promised is forgotten."""
    visit: Visit = visits.visible_visit(current_user, visit_id)  # 404 / 403
    if request.method == "GET":
        focus = {
            "visit_id": visit_id,
            "farewell": True,
            "open_follow_ups": tasks.open_follow_ups(visit),
        }
        return _render(focus)
    try:
        visit, still_open = hosting.farewell(visit_id, current_user, request.form.get("note", ""))
    except ServiceError as e:
        if _acting(e):
            raise
        return _failed(
            visit_id,
            f"farewell-{visit_id}",
            e,
            farewell=True,
            open_follow_ups=tasks.open_follow_ups(visit),
        )
    return _done(
        visit_id,
        f"Thank you — {visit.visitor.name} has been seen off and checked out. 已礼送客户。",
        open_follow_ups=still_open,
        thanked=True,
    )
