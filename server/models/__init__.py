"""SQLAlchemy models, one module per noun. Import them from here."""
from server.models.base import Base, utcnow
from server.models.device import Kiosk, Printer, PrintJob
from server.models.event import Event
from server.models.person import ROLES, ApiToken, User, Visitor, hash_token
from server.models.visit import STATUSES, Visit, new_code

__all__ = ["Base", "utcnow", "Kiosk", "Printer", "PrintJob", "Event", "ROLES", "ApiToken",
           "User", "Visitor", "hash_token", "STATUSES", "Visit", "new_code"]
