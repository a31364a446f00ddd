"""SQLAlchemy models, one module per noun. Import them from here."""
from server.models.badge_layout import BadgeLayout
from server.models.base import Base, utcnow
from server.models.device import JOB_STATES, PRINTABLE_STATES, Kiosk, Printer, PrintJob
from server.models.event import Event
from server.models.person import ROLES, ApiToken, User, Visitor, hash_token
from server.models.visit import KINDS, STATUSES, Visit, new_code

__all__ = ["BadgeLayout", "JOB_STATES", "PRINTABLE_STATES", "Base", "utcnow", "Kiosk", "Printer", "PrintJob", "Event", "ROLES", "ApiToken",
           "User", "Visitor", "hash_token", "KINDS", "STATUSES", "Visit", "new_code"]
