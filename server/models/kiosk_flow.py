"""What the kiosk keeps beyond a visit: the site's kiosk settings (branding, photo,
rules validity), the site rules visitors sign, their signatures, visitor photos, and
requests the kiosk leaves for the reception desk."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, utcnow

LANGUAGES = ("zh", "en")
# ``turned_away``: the kiosk refused a known code (cancelled, another day, already left);
# reception may let the visitor in with a reason.
# ``watchlist_match``: a check-in or walk-in matched the watchlist; no badge was printed.
DESK_REQUEST_KINDS = (
    "route_walk_in",
    "rules_declined",
    "badge_failed",
    "help",
    "turned_away",
    "watchlist_match",
)


class KioskSettings(Base):
    """One row: how every kiosk greets visitors (company name, logo, welcome message
    per language), whether it takes photos, and how long a rules signature lasts."""

    __tablename__ = "kiosk_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_name: Mapped[str] = mapped_column(String(200), default="")
    welcome_en: Mapped[str] = mapped_column(String(500), default="")
    welcome_zh: Mapped[str] = mapped_column(String(500), default="")
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    photo_enabled: Mapped[bool] = mapped_column(default=True)
    rules_valid_days: Mapped[int] = mapped_column(default=365)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SiteRules(Base):
    """One published version of the site rules / NDA, in both languages. The newest
    version is the one visitors sign; older versions stay for the signatures on them."""

    __tablename__ = "site_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    text_en: Mapped[str] = mapped_column(Text, default="")
    text_zh: Mapped[str] = mapped_column(Text, default="")
    # The privacy notice the kiosk shows with this version (what is kept, how long, why).
    privacy_en: Mapped[str] = mapped_column(Text, default="")
    privacy_zh: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Signature(Base):
    """A visitor's signature on one version of the rules, in the language they read.
    ``visitor_key`` (email, phone or name+company, normalised) finds it again on a
    later visit while it is still valid."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    rules_id: Mapped[int] = mapped_column(ForeignKey("site_rules.id"))
    version: Mapped[int]
    language: Mapped[str] = mapped_column(String(10))
    visitor_key: Mapped[str] = mapped_column(String(300), index=True)
    # The drawn signature; None for rules signed on paper at the desk.
    image_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Signed on paper at the desk: who at the desk witnessed it.
    on_paper: Mapped[bool] = mapped_column(default=False)
    witnessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    attempt_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    rules: Mapped[SiteRules] = relationship()
    witnessed_by = relationship("User", foreign_keys=[witnessed_by_id])


class VisitPhoto(Base):
    """The photo the kiosk took of a visitor; it lives and dies with its visit."""

    __tablename__ = "visit_photos"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visits.id", ondelete="CASCADE"), primary_key=True
    )
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeskRequest(Base):
    """Something the kiosk asks reception to handle: a walk-in with no host to route,
    a visitor who declined the rules, a badge that did not print."""

    __tablename__ = "desk_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    attempt_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    visit = relationship("Visit")
    kiosk = relationship("Kiosk")
