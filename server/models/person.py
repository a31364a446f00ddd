"""People: staff users with roles and API tokens, and visitors from outside."""

import hashlib
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from server.models.base import Base, utcnow

ROLES = ("admin", "receptionist", "host")


class User(UserMixin, Base):
    """A member of staff. ``roles`` is a comma-separated subset of ROLES."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(120))
    # Where reception calls the host (and what the fallback alert shows).
    phone: Mapped[str] = mapped_column(String(50), default="")
    roles: Mapped[str] = mapped_column(String(200), default="host")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    fallback_contact_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Away until then: arrivals alert the delegate instead (and the kiosk says so).
    away_until: Mapped[datetime | None]
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The language of messages to this person ("zh", "en"; "" = the site's).
    language: Mapped[str] = mapped_column(String(10), default="")

    fallback_contact = relationship("User", remote_side=[id], foreign_keys=[fallback_contact_id])
    delegate = relationship("User", remote_side=[id], foreign_keys=[delegate_id])

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set & set(roles))

    @property
    def is_staff_desk(self) -> bool:
        """Reception and admins see every visit; hosts only their own."""
        return self.has_role("admin", "receptionist")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:  # no password set: nothing can match
            return False
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active


def hash_token(token: str) -> str:
    """Tokens are stored as SHA-256: they are long random strings, not passwords."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Visitor(Base):
    """A person from outside the company."""

    __tablename__ = "visitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    language: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When retention (or a "forget") blanked this person's name and contact details.
    anonymised_at: Mapped[datetime | None]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "company": self.company,
            "email": self.email,
            "phone": self.phone,
        }
