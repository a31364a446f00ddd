"""The durable event log behind every live push.

``seq`` is the primary key and grows with every event; ``rooms`` lists the
Socket.IO rooms the event goes to (a JSON list of room names, never parsed out of a
joined string: a department named "R and D" is one room), so a reconnecting client
can replay exactly what it would have received.
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
    rooms: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    def message(self) -> dict:
        """The payload as clients see it: always with ``seq``."""
        return {**self.payload, "seq": self.seq}
