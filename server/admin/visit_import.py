"""/admin/import: bulk pre-registration from a CSV or XLSX sheet (issue 16 item 3),
for admins and receptionists.

Upload (POST /admin/import, CSRF) → the preview: every row checked, each problem
shown at its row and field, counts of valid and invalid rows; nothing is written.
A file without errors offers "Import N visits": that POST names the kept upload's
token (services/import_jobs.py), never the data. The import runs in a background
thread; /admin/import/<token> shows its progress bar, polled by htmx every second
(/admin/import/<token>/progress), and ends on the counts and a link to the visits.
/admin/import/template.csv and .xlsx are the sheet to fill in.
"""

from flask import Response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField

from server.admin import bp
from server.auth import page_roles
from server.extensions import htmx
from server.limits import upload_limit
from server.services import import_jobs, visit_import, visit_sheet
from server.services.errors import ServiceError

ROLES = ("admin", "receptionist")
SHOW_ROWS = 300  # rows in the preview table (all rows with errors come first)
# The checks' reasons (services/visits.py, in English) as the page also says them.
REASONS_ZH = {
    "required": "必填",
    "not an email address": "邮箱格式不正确",
    "no such host": "无此接待人（按邮箱查找）",
    visit_import.DATE_REASON: "时间格式应为 YYYY-MM-DD HH:MM",
    "zh or en": "应为 zh 或 en",
    "digits, spaces and + - ( ) only": "只能包含数字、空格和 + - ( )",
    "not valid text": "含无效字符",
}


def reason_zh(reason: str) -> str:
    if reason.startswith("at most ") and reason.endswith(" characters"):
        return f"最多 {reason.split()[2]} 个字符"
    return REASONS_ZH.get(reason, "")


class UploadForm(FlaskForm):
    file = FileField("Sheet 表格")
    invite = BooleanField("Email invitations 发送邀请函", default=True)


class ConfirmForm(FlaskForm):
    token = HiddenField()
    invite = HiddenField()


def _page(form=None, result=None, token=None, error=None, status=200):
    shown = []
    if result is not None:
        bad = [r for r in result.rows if r.errors]
        shown = (bad + [r for r in result.rows if not r.errors])[:SHOW_ROWS]
        shown.sort(key=lambda r: r.number)
    confirm = ConfirmForm(formdata=None)
    if token:
        confirm.token.data = token
        confirm.invite.data = "1" if (form is None or form.invite.data) else "0"
    return render_template(
        "admin/import.html",
        form=form or UploadForm(formdata=None),
        confirm=confirm,
        result=result,
        shown=shown,
        token=token,
        error=error,
        columns=visit_sheet.COLUMNS,
        max_rows=visit_sheet.MAX_ROWS,
        max_mb=visit_sheet.MAX_BYTES // 1024 // 1024,
        reason_zh=reason_zh,
    ), status


@bp.get("/import")
@page_roles(*ROLES)
def import_page():
    import_jobs.sweep()
    return _page()


@bp.post("/import")
# Twice the file limit: a file somewhat too large gets the page's own clear refusal
# (the service reads at most MAX_BYTES + 1 of it), a far larger one the 413 page.
@upload_limit(2 * visit_sheet.MAX_BYTES)
@page_roles(*ROLES)
def import_upload():
    form = UploadForm()
    if not form.validate_on_submit():  # CSRF
        return _page(form, error="The form expired; try again. 表单已过期，请重试。", status=400)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page(form, error="Choose a CSV or XLSX file. 请选择 CSV 或 XLSX 文件。", status=400)
    data = upload.stream.read(visit_sheet.MAX_BYTES + 1)
    try:
        result = visit_import.preview(data, upload.filename, current_user)
    except ServiceError as e:
        return _page(form, error=e.message, status=e.status)
    token = import_jobs.keep(data, upload.filename, current_user) if result.ok else None
    return _page(form, result=result, token=token)


@bp.post("/import/confirm")
@page_roles(*ROLES)
def import_confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _page(error="The form expired; upload again. 表单已过期，请重新上传。", status=400)
    try:
        import_jobs.start(form.token.data or "", current_user, invite=form.invite.data != "0")
    except ServiceError as e:
        return _page(error=e.message, status=e.status)
    return redirect(url_for("admin.import_progress", token=form.token.data), 303)


@bp.get("/import/<token>")
@page_roles(*ROLES)
def import_progress(token: str):
    """The import's progress: the page, or (htmx, polled every second) its fragment."""
    try:
        state = import_jobs.state(token, current_user)
    except ServiceError as e:
        return _page(error=e.message, status=e.status)
    template = "admin/_import_progress.html" if htmx else "admin/import_progress.html"
    resp = Response(render_template(template, token=token, state=state))
    resp.vary.add("HX-Request")
    return resp


@bp.get("/import/template.csv")
@page_roles(*ROLES)
def import_template_csv():
    return Response(
        visit_sheet.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=lobby-visits.csv"},
    )


@bp.get("/import/template.xlsx")
@page_roles(*ROLES)
def import_template_xlsx():
    return Response(
        visit_sheet.template_xlsx(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=lobby-visits.xlsx"},
    )
