"""/reception: the desk dashboard. Today's visitors by state (expected, waiting with
minutes and an overdue warning, with host, on tour, left), re-notify / fallback alert,
one-click check-out, the tea queue, walk-in registration, printer health with badge
reprints, and the evacuation roster — all live (``lobby:refresh`` on every event, and
a poll so waiting minutes move on their own).

Every action answers htmx with a small notice fragment (shown in a fixed notice area
outside the refreshed board, so a live refresh does not wipe it) and a plain POST
without htmx with the whole page and the notice on it."""

from datetime import datetime

from flask import current_app, render_template, request
from flask_login import current_user

from server import realtime
from server.auth import page_roles
from server.extensions import db, htmx
from server.models import Visit, VisitGroup, utcnow
from server.reception import bp
from server.reception.desk_requests import REFUSALS
from server.reception.forms import WalkInForm
from server.services import desk, hosting, printing, qr, rules, tasks, visits
from server.services.errors import CheckInError, ServiceError

STATES = ("expected", "waiting", "with_host", "on_tour", "left")
REFRESH = {"HX-Trigger": "lobby:refresh"}


def _groups(expected: list[Visit]) -> list[tuple]:
    """Expected visitors in booking order, a group's members together:
    ``[(group or None, [visits])]``."""
    out: list[tuple] = []
    index: dict[int, list[Visit]] = {}
    for v in expected:
        if v.group_id is None:
            out.append((None, [v]))
        elif v.group_id in index:
            index[v.group_id].append(v)
        else:
            index[v.group_id] = [v]
            out.append((v.group, index[v.group_id]))
    return out


def _board() -> dict:
    today = visits.today()
    by_state: dict[str, list[Visit]] = {s: [] for s in STATES}
    for v in today:
        state = visits.state_today(v)
        if state in by_state:
            by_state[state].append(v)
    # The longest wait first: who has been in the lobby longest is helped first.
    # (A waiting visit is checked in, so it has checked_in_at; min only keeps the key total.)
    waiting = sorted(by_state["waiting"], key=lambda v: v.checked_in_at or datetime.min)
    by_state["waiting"] = waiting
    return {
        **by_state,
        "expected_groups": _groups(by_state["expected"]),
        "needs_rules": {v.id for v in by_state["expected"] if rules.needs_signature(v)},
        # Kept for the older markup and callers: everyone in the building.
        "onsite": waiting + by_state["with_host"] + by_state["on_tour"],
        "overdue_ids": {v.id for v in waiting if hosting.overdue(v)},
        "minutes": {v.id: hosting.waiting_minutes(v) for v in waiting},
        "where": {v.id: hosting.where(v) for v in by_state["on_tour"] + by_state["with_host"]},
        "warn_after": current_app.config["ACK_WARNING_MINUTES"],
        "printers": [printing.printer_dict(p) for p in printing.printers()],
    }


def _tea() -> dict:
    tea_open, tea_served = tasks.tea_of_today()
    return {
        "tea_open": tea_open,
        "tea_served": tea_served,
        "drinks_zh": {d.name: d.name_zh for d in tasks.menu(active_only=False)},
        "where_of": hosting.where,
    }


def _walk_in_form(blank: bool = False) -> WalkInForm:
    form = WalkInForm(formdata=None) if blank else WalkInForm()
    form.rules_version = getattr(rules.current(), "version", None)
    return form


def _hosts_for(form: WalkInForm) -> list:
    """The host choices shown under the search field: the current search, plus the
    chosen host (kept when the form comes back with errors)."""
    found = hosting.search_hosts(form.host_q.data or "") if form.host_q.data else []
    chosen = form.chosen_host()
    if chosen is not None and chosen.id not in {u.id for u in found}:
        found = [chosen] + found
    return found


def _page(
    notice: dict | None = None, form: WalkInForm | None = None, walk_in_ok=None, status: int = 200
):
    form = form or _walk_in_form(blank=True)
    seq = realtime.last_seq()  # before the reads: a replay from here misses nothing
    return render_template(
        "reception/index.html",
        notice=notice,
        form=form,
        last_seq=seq,
        walk_in_ok=walk_in_ok,
        host_results=_hosts_for(form),
        **_board(),
        **_tea(),
    ), status


def _notice(ok: bool, text: str, status: int = 200):
    """An action's answer: the notice fragment to htmx, else the page with it."""
    notice = {"ok": ok, "text": text}
    if htmx:
        # htmx 2 does not swap 4xx answers: a refusal is a 200 with role=alert.
        return (
            render_template("reception/_notice.html", notice=notice),
            200,
            (REFRESH if ok else {}),
        )
    return _page(notice=notice, status=status)


@bp.get("/", strict_slashes=False)
@page_roles("receptionist", "admin")
def index():
    if htmx:
        part = request.args.get("part")
        if part == "tea":
            return render_template("reception/_tea.html", **_tea())
        return render_template("reception/_board.html", **_board())
    return _page()


def _closing(request_id: str) -> None:
    """Close the kiosk's desk request this action answered (a colleague may have)."""
    if request_id.isascii() and request_id.isdigit() and len(request_id) <= 18:
        try:
            desk.handle(int(request_id), current_user)
        except ServiceError:
            pass  # already handled by a colleague, or gone: nothing left to close


@bp.post("/visits/<int:visit_id>/checkin")
@page_roles("receptionist", "admin")
def check_in(visit_id: int):
    """ "Check in 签到" by hand: badge to the desk printer, host alerted, as a kiosk scan.
    ``reason`` lets in a visitor the kiosk turned away; ``paper_rules`` records the
    site rules signed on paper at the desk (witnessed by this receptionist)."""
    try:
        visit = hosting.check_in_at_desk(
            visit_id,
            current_user,
            reason=request.form.get("reason", ""),
            rules_on_paper=request.form.get("paper_rules") == "1",
        )
    except CheckInError as e:
        why = REFUSALS.get(e.code, e.message)
        return _notice(
            False,
            f"Not checked in: {why}. To let the visitor in, give a reason. "
            "如需准许进入，请填写原因。",
            e.status,
        )
    except ServiceError as e:
        if e.code == "rules_unsigned":
            return _notice(
                False,
                f"{e.message}. Tick “Rules signed on paper 已纸质签署须知” once they have "
                "signed the paper copy, or send them to the kiosk to sign. "
                "访客尚未签署来访须知。",
                e.status,
            )
        return _notice(False, f"Could not check in: {e.message}.", e.status)
    _closing(request.form.get("desk_request_id", ""))
    admitted = f" Let in: {visit.admit_reason}. 已准许进入。" if visit.admit_reason else ""
    return _notice(
        True,
        f"{visit.visitor.name} checked in 已签到: the badge is printing at the "
        f"desk and {visit.host.name} has been alerted.{admitted}",
    )


@bp.post("/groups/<int:group_id>/checkin")
@page_roles("receptionist", "admin")
def check_in_group(group_id: int):
    """Check in every expected member of a group booking at once."""
    group = db.get_or_404(VisitGroup, group_id)
    done, problems = [], []
    for v in list(group.visits):
        if v.status != "expected":
            continue
        try:
            hosting.check_in_at_desk(
                v.id, current_user, rules_on_paper=request.form.get("paper_rules") == "1"
            )
            done.append(v.visitor.name)
        except ServiceError as e:
            problems.append(f"{v.visitor.name}: {REFUSALS.get(e.code, e.message)}")
    if problems:
        return _notice(
            False,
            f"Checked in {len(done)} 已签到; not checked in 未签到: " + "; ".join(problems),
            409,
        )
    return _notice(True, f"Group {group.name} checked in 团组已签到: {', '.join(done) or '—'}.")


@bp.post("/visits/<int:visit_id>/badge")
@page_roles("receptionist", "admin")
def reprint(visit_id: int):
    """Reprint a badge from the desk; the reason is required and recorded."""
    try:
        job = printing.reprint(visit_id, request.form.get("reason", ""), requested_by=current_user)
    except ServiceError as e:
        return render_template("reception/_reprint_result.html", error=e.message), 200
    return render_template("reception/_reprint_result.html", job=job), 200, REFRESH


@bp.post("/visits/<int:visit_id>/renotify")
@page_roles("receptionist", "admin")
def renotify(visit_id: int):
    """Tell the host again that their visitor waits; ``fallback=1`` alerts the host's
    fallback contact instead (refused with no_fallback when there is none)."""
    fallback = request.form.get("fallback") == "1"
    try:
        visit = visits.visible_visit(current_user, visit_id)
        name, host = visit.visitor.name, visit.host.name
        target = hosting.renotify(visit_id, current_user, fallback=fallback)
    except ServiceError as e:
        if e.code == "no_fallback":
            return _notice(
                False,
                f"{e.message}, so nobody else can be alerted. 未设置备用联系人。"
                "Call the host, or ask an admin to set a fallback contact.",
                409,
            )
        return _notice(False, f"Could not notify: {e.message}.", e.status)
    if fallback:
        return _notice(
            True,
            f"Fallback contact {target.name} alerted: {name} is waiting for "
            f"{host}. 已通知备用联系人。",
        )
    return _notice(True, f"{target.name} notified again: {name} is waiting. 已再次通知。")


@bp.post("/visits/<int:visit_id>/checkout")
@page_roles("receptionist", "admin")
def check_out(visit_id: int):
    try:
        visit = hosting.check_out_by_id(visit_id, current_user)
    except ServiceError as e:
        return _notice(False, f"Could not check out: {e.message}.", e.status)
    return _notice(True, f"{visit.visitor.name} checked out. 已签出。")


@bp.post("/tasks/<int:task_id>/served")
@page_roles("receptionist", "admin")
def tea_served(task_id: int):
    """Mark a tea request served; the service records who and when."""
    try:
        task = tasks.get(task_id, current_user)
        if task.kind != "tea":
            return _notice(False, "That is not a tea request.", 422)
        tasks.update(task_id, {"status": "served"}, current_user)
    except ServiceError as e:
        return _notice(False, f"Could not mark served: {e.message}.", e.status)
    return _notice(True, f"Tea served by {current_user.name}. 已上茶。")


@bp.get("/hosts")
@page_roles("receptionist", "admin")
def host_search():
    """The walk-in form's host search: radio choices for the typed name."""
    form = _walk_in_form()
    form.host_q.data = request.args.get("host_q", "")
    form.host_id.data = request.args.get("host_id", "")
    return render_template(
        "reception/_host_results.html", form=form, host_results=_hosts_for(form), searched=True
    )


@bp.post("/walk-ins")
@page_roles("receptionist", "admin")
def walk_in():
    """Register and check in a visitor without a booking: the host is told at once and
    a badge prints at the desk printer. Errors come back next to their fields."""
    form = _walk_in_form()
    visit = None
    if form.validate_on_submit():
        try:
            visit = hosting.walk_in(
                form.name.data,
                form.company.data or "",
                form.phone.data or "",
                form.chosen_host_id(),
                current_user,
                rules_step=form.rules_step.data or "",
            )
        except ServiceError as e:
            form.add_service_errors(e)
    if visit is not None:  # the kiosk's "walk-in needs a host" is done now
        _closing(form.desk_request_id.data or "")
    ok = None
    if visit is not None:
        # "Sign at the kiosk": registered, not checked in; the desk shows the QR to scan.
        ok = {
            "name": visit.visitor.name,
            "host": visit.host.name,
            "at_kiosk": visit.status == "expected",
            "qr": qr.data_uri(visit.code) if visit.status == "expected" else None,
        }
    if htmx:
        fresh = _walk_in_form(blank=True) if ok else form
        return (
            render_template(
                "reception/_walk_in.html", form=fresh, walk_in_ok=ok, host_results=_hosts_for(fresh)
            ),
            200,
            (REFRESH if ok else {}),
        )
    return _page(form=None if ok else form, walk_in_ok=ok, status=200 if ok else 422)


@bp.get("/roster")
@page_roles("receptionist", "admin")
def roster():
    """Who is in the building now, for an evacuation: printable on A4."""
    seq = realtime.last_seq()
    people = hosting.roster()
    ctx = {
        "people": people,
        "last_seq": seq,
        "where": {v.id: hosting.where(v) for v in people},
        "printed_at": utcnow(),
    }
    if htmx:
        return render_template("reception/_roster_table.html", **ctx)
    return render_template("reception/roster.html", **ctx)
