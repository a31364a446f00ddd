from flask_wtf import FlaskForm
from wtforms import (
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
