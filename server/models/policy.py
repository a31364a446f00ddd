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

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
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
    """One row: which standard scheme is in force."""

    __tablename__ = "policy_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_scheme: Mapped[str] = mapped_column(String(20), default="policy")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
