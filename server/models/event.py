"""The durable event log behind every live push.

``seq`` is the primary key and grows with every event; ``audience`` lists the
Socket.IO rooms the event goes to (space-separated), so a reconnecting client can
replay exactly what it would have received.
"""

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, utcnow


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def rooms(self) -> list[str]:
        return self.audience.split()

    def message(self) -> dict:
        """The payload as clients see it: always with ``seq``."""
        return {**self.payload, "seq": self.seq}
