from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    EmailField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp

from server.services.people import EMAIL_RE


class PreRegisterForm(FlaskForm):
    """Fields mirror POST /api/v1/visits; the service re-checks everything."""

    name = StringField("Visitor name 访客姓名", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company 公司", validators=[Optional(), Length(max=200)])
    email = EmailField("Email 邮箱", validators=[Optional(), Length(max=254),
                                                      Regexp(EMAIL_RE, message="not an email address")])
    phone = StringField("Phone 电话", validators=[Optional(), Length(max=50)])
    host = SelectField("Host 接待人", validators=[DataRequired()], choices=[])
    expected_at = DateTimeLocalField("Expected 预计到访", format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired()])
    purpose = TextAreaField("Purpose 来访目的", validators=[Optional(), Length(max=500)])
    valid_until = DateField("Valid until (visits over several days) 有效至（多日来访）",
                            validators=[Optional()])
    # A group booking: the visitor above and these, one per line "name, company, email".
    companions = TextAreaField("Others in the group, one per line: name, company, email "
                               "同行访客（每行一位：姓名, 公司, 邮箱）",
                               validators=[Optional(), Length(max=20000)])
    group_name = StringField("Group name 团组名称", validators=[Optional(), Length(max=200)])

    def companion_list(self) -> list[dict]:
        """The companions as visitor objects for ``visits.pre_register_group``."""
        people = []
        for line in (self.companions.data or "").splitlines():
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if any(parts):
                keys = ("name", "company", "email")
                people.append({k: v for k, v in zip(keys, parts + ["", ""])})
        return people
