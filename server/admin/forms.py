from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from server.services.people import EMAIL_RE


class PreRegisterForm(FlaskForm):
    """Fields mirror POST /api/v1/visits; the service re-checks everything."""

    name = StringField("Visitor name 访客姓名", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company 公司", validators=[Optional(), Length(max=200)])
    email = EmailField(
        "Email 邮箱",
        validators=[Optional(), Length(max=254), Regexp(EMAIL_RE, message="not an email address")],
    )
    phone = StringField("Phone 电话", validators=[Optional(), Length(max=50)])
    host = SelectField("Host 接待人", validators=[DataRequired()], choices=[])
    expected_at = DateTimeLocalField(
        "Expected 预计到访", format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    purpose = TextAreaField("Purpose 来访目的", validators=[Optional(), Length(max=500)])
    valid_until = DateField(
        "Valid until (visits over several days) 有效至（多日来访）", validators=[Optional()]
    )
    # A group booking: the visitor above and these, one per line "name, company, email".
    companions = TextAreaField(
        "Others in the group, one per line: name, company, email "
        "同行访客（每行一位：姓名, 公司, 邮箱）",
        validators=[Optional(), Length(max=20000)],
    )
    group_name = StringField("Group name 团组名称", validators=[Optional(), Length(max=200)])
    # The invitation email (server/notify/invitations.py): sent to visitors with an email.
    invite = BooleanField("Email the invitation 发送邀请邮件", default=True)
    language = SelectField(
        "Invitation language 邀请函语言",
        choices=[("", "Site default 默认"), ("en", "English 英文"), ("zh", "Chinese 中文")],
        validators=[Optional()],
    )

    def companion_list(self) -> list[dict]:
        """The companions as visitor objects for ``visits.pre_register_group``."""
        people = []
        for line in (self.companions.data or "").splitlines():
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if any(parts):
                keys = ("name", "company", "email")
                # Missing trailing fields are blank; anything after the email is ignored.
                values = (parts + ["", ""])[: len(keys)]
                people.append(dict(zip(keys, values, strict=True)))
        return people


# Labels for the roles the pages know by name; a role added later shows as itself.
ROLE_LABELS = {"admin": "Admin 管理员", "receptionist": "Reception 前台", "host": "Host 接待人"}
LANGUAGE_LABELS = {"en": "English 英文", "zh": "Chinese 中文"}
NO_FALLBACK = 0


def role_choices() -> list[tuple[str, str]]:
    from server.models import ROLES

    return [(r, ROLE_LABELS.get(r, r)) for r in ROLES]


class UserDetailsForm(FlaskForm):
    """What an admin may change about a member of staff (the email is their sign-in)."""

    name = StringField("Name 姓名", validators=[DataRequired(), Length(max=200)])
    roles = SelectMultipleField(
        "Roles 角色", validators=[DataRequired(message="choose at least one role 至少选择一个角色")]
    )
    department = StringField("Department 部门", validators=[Optional(), Length(max=120)])
    phone = StringField("Phone 电话", validators=[Optional(), Length(max=50)])
    fallback = SelectField("Fallback contact 备用联系人", coerce=int, choices=[])

    def set_choices(self, fallbacks) -> "UserDetailsForm":
        """Roles from server.models.ROLES; fallbacks are the users who may be chosen."""
        self.roles.choices = role_choices()
        self.fallback.choices = [(NO_FALLBACK, "— none 无 —")] + [
            (u.id, f"{u.name} <{u.email}>") for u in fallbacks
        ]
        return self


class NewUserForm(UserDetailsForm):
    email = EmailField(
        "Email 邮箱",
        validators=[
            DataRequired(),
            Length(max=254),
            Regexp(EMAIL_RE, message="not an email address"),
        ],
    )
    password = PasswordField(
        "Password 密码 (empty: one is generated)",
        validators=[Optional(), Length(min=8, max=200, message="8 to 200 characters 8至200个字符")],
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password 新密码 (empty: one is generated)",
        validators=[Optional(), Length(min=8, max=200, message="8 to 200 characters 8至200个字符")],
    )


class PrinterForm(FlaskForm):
    name = StringField("Name 名称", validators=[DataRequired(), Length(max=120)])
    url = StringField("Printer URL 打印机地址", validators=[DataRequired(), Length(max=500)])


class KioskPrintersForm(FlaskForm):
    """A kiosk's printer, fallback printer and greeting language."""

    printer = SelectField("Printer 打印机", choices=[])
    fallback = SelectField("Fallback printer 备用打印机", choices=[])
    language = SelectField(
        "Language 语言",
        # "": the visitor's browser decides (Accept-Language; kiosk/routes.py).
        choices=[("", "Visitor's browser 按浏览器语言"), *LANGUAGE_LABELS.items()],
    )

    def set_choices(self, printers) -> "KioskPrintersForm":
        names = [(p.name, p.name) for p in printers]
        self.printer.choices = [("", "Default printer 默认打印机")] + names
        self.fallback.choices = [("", "— none 无 —")] + names
        return self


class KioskForm(KioskPrintersForm):
    name = StringField("Name 名称", validators=[DataRequired(), Length(max=120)])
