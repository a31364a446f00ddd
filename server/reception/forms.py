from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SearchField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from server.extensions import db
from server.models import User

NO_HOST = (
    "Choose who the visitor came to see. 请选择接待人。 There is no customer-service "
    "account to route walk-ins to, so a host is required — search by name, e-mail or "
    "department."
)


class WalkInForm(FlaskForm):
    """A visitor without a booking (REQUIREMENTS A.8). Fields mirror hosting.walk_in;
    the service re-checks everything."""

    name = StringField(
        "Visitor name 访客姓名",
        validators=[
            DataRequired(message="Enter the visitor's name. 请填写访客姓名。"),
            Length(max=200),
        ],
    )
    company = StringField("Company 公司", validators=[Optional(), Length(max=200)])
    phone = StringField(
        "Phone 电话",
        validators=[
            Optional(),
            Length(max=50),
            Regexp(r"^[0-9+\-(). ]*$", message="Digits, spaces and + - ( ) only. 仅限数字。"),
        ],
    )
    host_q = SearchField("Host 接待人", validators=[Optional(), Length(max=100)])
    # The radio buttons of the search results post ``host_id``; a plain field keeps it.
    host_id = HiddenField()
    # Set when the form came from a kiosk walk-in waiting at the desk ("Find host"):
    # registering the visitor closes that request.
    desk_request_id = HiddenField(
        validators=[
            Optional(),
            # ASCII digits: "²" (isdigit(), yet no int) is refused before anything is
            # written; a stale or unknown number still registers the walk-in.
            Regexp(r"^[0-9]{1,64}\Z", message="Not a desk request. 无效的请求编号。"),
        ]
    )
    # How a walk-in signs the site rules (asked only when rules are published).
    rules_step = RadioField(
        "Site rules 来访须知",
        choices=[
            ("paper", "Signed on paper, witnessed by me 已纸质签署（本人见证）"),
            ("kiosk", "Sign at the kiosk: show a QR to scan there 到自助机签署（显示二维码）"),
        ],
        validate_choice=False,
    )
    # The published rules' version (None: nothing to sign); set by the view.
    rules_version = None

    def validate_rules_step(self, field):
        if self.rules_version is not None and field.data not in ("paper", "kiosk"):
            raise ValidationError("Say how the visitor signs the site rules. 请选择签署方式。")

    def chosen_host_id(self) -> int | None:
        raw = (self.host_id.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None

    def chosen_host(self) -> User | None:
        host_id = self.chosen_host_id()
        user = db.session.get(User, host_id) if host_id is not None else None
        return user if user is not None and user.active else None

    def validate_host_id(self, field):
        if self.chosen_host() is None:
            raise ValidationError(NO_HOST)

    def add_service_errors(self, error) -> None:
        """Put a ServiceError's field problems next to the fields they belong to."""
        fields = error.fields or {"name": error.message}
        for key, message in fields.items():
            target = {"host": "host_id", "email": "name", "expected_at": "name"}.get(key, key)
            if target not in self:
                target = "name"
            field = self[target]
            if target == "host_id":
                message = NO_HOST
            field.errors = list(field.errors or []) + [message]
