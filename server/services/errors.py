"""Errors with stable codes. Tests and clients match on ``code``, never on text."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.models import Visit


class ServiceError(Exception):
    """A refusal a client can act on. ``status`` is the HTTP status the API uses."""

    status = 400

    def __init__(
        self, code: str, message: str = "", status: int | None = None, fields: dict | None = None
    ):
        super().__init__(message or code)
        self.code = code
        self.message = message or code.replace("_", " ")
        self.fields = fields or {}
        if status is not None:
            self.status = status


class ValidationError(ServiceError):
    """Malformed or missing input; ``fields`` maps a field name to what is wrong."""

    status = 422


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class CheckInError(ServiceError):
    """A scan that cannot check anyone in: unknown_code (404), cancelled, not_today,
    already_checked_out (409). ``visit`` is the visit refused, when the code is known
    (the kiosk tells reception who was turned away)."""

    status = 409
    visit: "Visit | None" = None
