"""The reception policy's configuration (REQUIREMENTS.md B and C): departments and
their heads, duties on top of roles, the approval chain's steps, and the star-level
standards.

- ``Department``: a name (matching ``User.department``) and its head, who decides the
  ``dept_head`` step for requests filed by the department's people.
- ``UserDuty``: what a user does for the policy besides their role: ``marketing``,
  ``finance``, ``gm``, ``president_office``, ``auditor``.
- ``ApprovalStep``: one step of the chain, in ``position`` order; ``decider`` is
  ``dept_head`` (the requester's department head) or a duty (everyone with it).
  Seeded as dept_head → marketing → finance → gm.
- ``Standard``: one star level's standard in one ``scheme`` (``policy``: the table of
  C.3; ``alternative``: the business-reception caps 150 / 400 / 500), versioned: an
  edit adds a row with the next ``version``, so a request keeps the row it was
  approved under. Money is CNY; a ``None`` cap means actual cost. Which scheme is in
  force is ``PolicySettings.standard_scheme``.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow

DUTIES = ("marketing", "finance", "gm", "president_office", "auditor")
DECIDERS = ("dept_head", *DUTIES)
SCHEMES = ("policy", "alternative")
LEVELS = (3, 4, 5)
LODGING = ("client_pays", "company_room", "company_all")
VEHICLES = ("none", "business_van", "van_or_premium_car")
EXTRAS = ("none", "local_tour_or_gift")


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    head_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    head = relationship("User", foreign_keys=[head_id])


class UserDuty(Base):
    __tablename__ = "user_duties"
    __table_args__ = (UniqueConstraint("user_id", "duty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    duty: Mapped[str] = mapped_column(String(30), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User")


class ApprovalStep(Base):
    __tablename__ = "approval_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(40), unique=True)
    decider: Mapped[str] = mapped_column(String(40))
    label_en: Mapped[str] = mapped_column(String(120), default="")
    label_zh: Mapped[str] = mapped_column(String(120), default="")


class Standard(Base):
    __tablename__ = "standards"
    __table_args__ = (UniqueConstraint("scheme", "level", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme: Mapped[str] = mapped_column(String(20), default="policy")
    level: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    qualifies_en: Mapped[str] = mapped_column(Text, default="")
    qualifies_zh: Mapped[str] = mapped_column(Text, default="")
    accompanied_en: Mapped[str] = mapped_column(Text, default="")
    accompanied_zh: Mapped[str] = mapped_column(Text, default="")
    meal_cap: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # per person per meal
    lodging: Mapped[str] = mapped_column(String(20), default="client_pays")
    hotel_class: Mapped[str] = mapped_column(String(120), default="")
    lodging_cap: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # per night
    vehicle: Mapped[str] = mapped_column(String(30), default="none")
    transport_cap: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # per trip
    extras: Mapped[str] = mapped_column(String(30), default="none")
    extras_note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PolicySettings(Base):
    """One row: which standard scheme is in force, and the violations' multipliers."""

    __tablename__ = "policy_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_scheme: Mapped[str] = mapped_column(String(20), default="policy")
    # A serious violation's fine is the rule's amount times 2 to 5; the direct manager
    # is jointly liable for a share (20%).
    serious_min: Mapped[int] = mapped_column(default=2)
    serious_max: Mapped[int] = mapped_column(default=5)
    manager_share_percent: Mapped[int] = mapped_column(default=20)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


REQUEST_STATUSES = ("pending", "returned", "rejected", "approved")
ITEM_KINDS = ("meal", "lodging", "vehicle", "pickup", "leisure", "gift")
MATERIALS = (
    "flags",
    "name_plates",
    "company_intro",
    "catalogue",
    "projector",
    "welcome_banner",
    "room_supplies",
)
DECISIONS = ("approve", "return", "reject")


class HospitalityRequest(Base):
    """A client hospitality request (客户招待申请表): who comes, why, when, what the
    company offers them (items with their estimate from the star level's standard), on
    its way through the approval chain (``status``, ``step``), its history append-only
    in ``RequestDecision``. Approved, its visitors become visits (``Visit.request_id``)."""

    __tablename__ = "hospitality_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    step: Mapped[str | None] = mapped_column(String(40))  # the step now due while pending
    client_company: Mapped[str] = mapped_column(String(200))
    star_level: Mapped[int]
    client_background: Mapped[str] = mapped_column(Text, default="")
    visitors: Mapped[list] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(Text, default="")
    arrives_at: Mapped[datetime]
    departs_at: Mapped[datetime]
    attendees: Mapped[int] = mapped_column(default=1)
    president_attends: Mapped[bool] = mapped_column(default=False)
    president_override_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    president_override_reason: Mapped[str] = mapped_column(String(500), default="")
    materials: Mapped[list] = mapped_column(JSON, default=list)
    plan: Mapped[dict] = mapped_column(JSON, default=dict)  # marketing's schedule, venue, dining
    standard_id: Mapped[int] = mapped_column(ForeignKey("standards.id"))
    estimate_total: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None]
    # When the requester and the office were told the arrangement sheet is overdue.
    overdue_notified_at: Mapped[datetime | None]
    # After the visit: the host's reception summary (接待总结) and the materials used;
    # closed once summary, expenses and promised answers are all done.
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_materials: Mapped[list] = mapped_column(JSON, default=list)
    summary_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    requester = relationship("User", foreign_keys=[requester_id])
    standard = relationship("Standard")
    items = relationship(
        "RequestItem",
        order_by="RequestItem.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    history = relationship(
        "RequestDecision",
        order_by="RequestDecision.id",
        lazy="selectin",
        viewonly=True,
        primaryjoin="and_(RequestDecision.request_id == HospitalityRequest.id, "
        "RequestDecision.budget_increase_id.is_(None))",
    )
    arrangement = relationship("ArrangementSheet", uselist=False, viewonly=True)


class RequestItem(Base):
    __tablename__ = "request_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("hospitality_requests.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(default=1)
    unit: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # the standard's cap, if any
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class RequestDecision(Base):
    """One line of a request's history (append-only): ``decision`` is ``submit``,
    ``approve``, ``return``, ``reject``, ``skip`` (a step passed because its only
    decider filed the request) or ``override`` (the GM's president-notice override)."""

    __tablename__ = "request_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("hospitality_requests.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    step: Mapped[str] = mapped_column(String(40), default="")
    # A decision on an over-budget pre-approval of the request, not on the request.
    budget_increase_id: Mapped[int | None] = mapped_column(
        ForeignKey("budget_increases.id"), index=True
    )
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")

    by = relationship("User")


class Room(Base):
    """A meeting room: the office assigns one by head count (REQUIREMENTS.md B.2)."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    capacity: Mapped[int]
    projector: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Booking(Base):
    """A room held from ``starts_at`` to ``ends_at`` (naive UTC, half-open); bookings of
    one room never overlap (server/policy/rooms.py serialises them on the room row)."""

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime] = mapped_column(index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("hospitality_requests.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    room = relationship("Room")


class ArrangementSheet(Base):
    """The reception arrangement sheet (客户接待安排表) of a request, due a day before
    arrival (REQUIREMENTS.md B.2). ``room`` is a ``Booking``; ``tour`` becomes the
    visits' tour task."""

    __tablename__ = "arrangement_sheets"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("hospitality_requests.id", ondelete="CASCADE"), unique=True
    )
    receiving_staff: Mapped[str] = mapped_column(Text, default="")
    attendees: Mapped[int] = mapped_column(default=0)
    visitors: Mapped[int] = mapped_column(default=0)
    background: Mapped[str] = mapped_column(Text, default="")
    arrives_at: Mapped[datetime]
    departs_at: Mapped[datetime]
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"))
    projector: Mapped[dict] = mapped_column(JSON, default=dict)
    tour: Mapped[list] = mapped_column(JSON, default=list)
    welcome_banner: Mapped[str] = mapped_column(String(300), default="")
    materials: Mapped[list] = mapped_column(JSON, default=list)
    filed_at: Mapped[datetime] = mapped_column(default=utcnow)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    booking = relationship("Booking")


EXPENSE_STATES = ("submitted", "approved", "paid", "rejected")
RECEIPT_TYPES = ("image/png", "image/jpeg", "image/webp", "application/pdf")


class Expense(Base):
    """What was actually spent on a request, with its receipt (REQUIREMENTS.md C.4):
    ``submitted`` → ``approved`` → ``paid``, or ``rejected`` with a reason, by finance.
    Money records: retention never purges or anonymises them."""

    __tablename__ = "expenses"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hospitality_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    spent_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(String(500), default="")
    receipt: Mapped[bytes] = mapped_column(LargeBinary)
    receipt_type: Mapped[str] = mapped_column(String(40))
    receipt_name: Mapped[str] = mapped_column(String(200), default="")
    receipt_sha256: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    status_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    created_by = relationship("User", foreign_keys=[created_by_id])


class BudgetIncrease(Base):
    """An over-budget pre-approval: asked before the money is spent, decided by the
    chain's finance and gm steps (history in ``RequestDecision`` rows that name it);
    approved, it raises the request's budget."""

    __tablename__ = "budget_increases"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hospitality_requests.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    step: Mapped[str | None] = mapped_column(String(40))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    requested_by = relationship("User", foreign_keys=[requested_by_id])


class RequestMaterial(Base):
    """A file the host attaches to the reception summary (接待总结): the materials used
    (the agenda, the slides, the welcome banner's photo). Archived with the request:
    retention keeps it as long as the request's money records."""

    __tablename__ = "request_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("hospitality_requests.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Last: SQLite reads a row's columns in order; a listing never reads the bytes.
    data: Mapped[bytes] = mapped_column(LargeBinary)

    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])


class Feedback(Base):
    """The client's rating of a reception (REQUIREMENTS.md C.5): one per visit, asked by
    an unguessable single-use link valid 30 days (``token``), no login."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    welcome: Mapped[int | None]
    hospitality: Mapped[int | None]
    meeting: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="")


class FineRule(Base):
    """A violation's base fine, seeded from the policy (10 or 20 CNY)."""

    __tablename__ = "fine_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_en: Mapped[str] = mapped_column(String(200), default="")
    label_zh: Mapped[str] = mapped_column(String(200), default="")
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))


class Violation(Base):
    """A breach of the policy recorded by an auditor: who, which rule, when, the fine
    (the rule's amount, ×2 to ×5 when serious) and the direct manager's joint share."""

    __tablename__ = "violations"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    occurred_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    multiplier: Mapped[int] = mapped_column(default=1)
    fine: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    manager_share: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("hospitality_requests.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person = relationship("User", foreign_keys=[person_id])
    manager = relationship("User", foreign_keys=[manager_id])
