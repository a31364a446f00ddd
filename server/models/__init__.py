"""SQLAlchemy models, one module per noun. Import them from here."""

from server.models.badge_layout import BadgeLayout
from server.models.base import Base, utcnow
from server.models.device import (
    JOB_STATES,
    PRINTABLE_STATES,
    Kiosk,
    Printer,
    PrintJob,
    WorkerHeartbeat,
)
from server.models.event import Event
from server.models.kiosk_flow import (
    DESK_REQUEST_KINDS,
    LANGUAGES,
    DeskRequest,
    KioskSettings,
    Signature,
    SiteRules,
    VisitPhoto,
)
from server.models.notify import (
    CHANNEL_KINDS,
    OUTBOX_STATES,
    Channel,
    NotifyCursor,
    OutboxMessage,
)
from server.models.person import ROLES, ApiToken, User, Visitor, hash_token
from server.models.policy import (
    DECIDERS,
    DUTIES,
    ApprovalStep,
    ArrangementSheet,
    Booking,
    BudgetIncrease,
    Department,
    Expense,
    Feedback,
    FineRule,
    HospitalityRequest,
    PolicySettings,
    RequestDecision,
    RequestItem,
    Room,
    Standard,
    UserDuty,
    Violation,
)
from server.models.security import AuditEntry, LoginSession, RetentionSettings, WatchlistEntry
from server.models.task import FINAL as TASK_FINAL
from server.models.task import KINDS as TASK_KINDS
from server.models.task import STATUSES as TASK_STATUSES
from server.models.task import Drink, Task, TourStop
from server.models.visit import KINDS, STATUSES, Visit, VisitGroup, new_code

__all__ = [
    "CHANNEL_KINDS",
    "Channel",
    "OUTBOX_STATES",
    "NotifyCursor",
    "OutboxMessage",
    "ApiToken",
    "ApprovalStep",
    "ArrangementSheet",
    "Booking",
    "BudgetIncrease",
    "Expense",
    "Feedback",
    "FineRule",
    "DECIDERS",
    "DUTIES",
    "Department",
    "HospitalityRequest",
    "PolicySettings",
    "RequestDecision",
    "RequestItem",
    "Room",
    "Standard",
    "UserDuty",
    "Violation",
    "AuditEntry",
    "LoginSession",
    "RetentionSettings",
    "WatchlistEntry",
    "BadgeLayout",
    "Base",
    "DESK_REQUEST_KINDS",
    "DeskRequest",
    "Drink",
    "Event",
    "JOB_STATES",
    "KINDS",
    "Kiosk",
    "KioskSettings",
    "LANGUAGES",
    "PRINTABLE_STATES",
    "PrintJob",
    "Printer",
    "ROLES",
    "STATUSES",
    "Signature",
    "SiteRules",
    "TASK_FINAL",
    "TASK_KINDS",
    "TASK_STATUSES",
    "Task",
    "TourStop",
    "User",
    "Visit",
    "VisitGroup",
    "VisitPhoto",
    "Visitor",
    "WorkerHeartbeat",
    "hash_token",
    "new_code",
    "utcnow",
]
