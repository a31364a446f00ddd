"""The badge layout a site prints with, kept as data (``printers.layout.Layout``
as JSON) plus an optional logo image (PNG bytes)."""

from datetime import datetime

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow


class BadgeLayout(Base):
    __tablename__ = "badge_layouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True, default="default")
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
