"""The broadcast outbox: the audit trail's schedule changes, read in order by the runtime.

Every command writes its audit row in the transaction that makes the change, so whichever
process approved, withdrew or edited an announcement, or planned a day's programmes, the
runtime sees it and passes at once instead of at its next tick. A reaction is a pass over
the items table, which holds the whole truth: an event seen twice, or one seen late (on
PostgreSQL a row can commit after a higher id), costs at most one extra or later pass, and
the cursor need not survive a restart (the first pass after a start catches up anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from broadcasts.models import BroadcastAudit
from core.db import Database
from core.snapshot import Snapshot

APPROVED, WITHDRAWN, EDITED, PLANNED = "approved", "withdrawn", "edited", "programmes_planned"
SCHEDULE_CHANGES = (APPROVED, WITHDRAWN, EDITED, PLANNED)


@dataclass(frozen=True)
class BroadcastEvent(Snapshot):
    id: int
    at: datetime
    actor: str
    action: str
    announcement_id: int | None
    detail: str

    def describe(self) -> str:
        subject = f"announcement {self.announcement_id}" if self.announcement_id else self.detail
        return f"{self.action} {subject} by {self.actor}"


class BroadcastOutbox:
    def __init__(self, db: Database) -> None:
        self.db = db

    def latest(self) -> int:
        """The newest audit row's id (the primary key's maximum: one index lookup)."""
        with self.db.session() as s:
            return int(s.scalar(select(func.max(BroadcastAudit.id))) or 0)

    def poll(self, cursor: int) -> tuple[int, list[BroadcastEvent]]:
        """The schedule changes after `cursor`, oldest first, and the new cursor: the newest
        row read, whatever it was (the item moves in between are passed over, not re-read)."""
        with self.db.session() as s:
            top = int(s.scalar(select(func.max(BroadcastAudit.id))) or 0)
            if top <= cursor:
                return cursor, []
            rows = s.scalars(
                select(BroadcastAudit)
                .where(
                    BroadcastAudit.id > cursor, BroadcastAudit.id <= top, BroadcastAudit.action.in_(SCHEDULE_CHANGES)
                )
                .order_by(BroadcastAudit.id)
            )
            return top, [BroadcastEvent.of(row) for row in rows]
