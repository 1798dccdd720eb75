"""Plain snapshots of sign-ups and hand-offs handed to front ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.config import Staff
from core.snapshot import Snapshot

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
SIGNUP_LABELS = {PENDING: "待审核", APPROVED: "已同意", REJECTED: "未同意"}


@dataclass(frozen=True)
class SignupView(Snapshot):
    id: int
    village_id: str | None
    skills: str | None
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None

    @property
    def status_label(self) -> str:
        return SIGNUP_LABELS.get(self.status, self.status)


@dataclass(frozen=True)
class Handoff:
    """A chat handed to staff: the record's id and whom to tell."""

    id: int
    village_id: str
    staff: tuple[Staff, ...]
