"""Volunteer sign-ups (当志愿者) collected by the bot, reviewed by admins in the console.

The bot owns the table (bot.models.VolunteerSignup); the console reads it and records the
decision. Approved people are then added to a team in config.yml by the admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.models import VolunteerSignup
from core.app import AppContext
from core.config import Role
from core.snapshot import Snapshot
from web.auth import User

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUS_LABELS = {PENDING: "待审核", APPROVED: "已同意", REJECTED: "未同意"}


class SignupError(Exception):
    def __init__(self, message_zh: str, status: int) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.status = status


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
        return STATUS_LABELS.get(self.status, self.status)


def _may_review(ctx: AppContext, user: User, village_id: str | None) -> bool:
    if not user.has(Role.admin):
        return False
    if village_id in ctx.config.villages:
        return village_id in user.villages
    # No (or an unknown) village: only staff covering the whole county decide.
    return user.villages >= set(ctx.config.villages)


def list_signups(ctx: AppContext, user: User, status: str | None = None, limit: int = 200) -> list[SignupView]:
    stmt = select(VolunteerSignup).order_by(VolunteerSignup.created_at.desc(), VolunteerSignup.id.desc())
    if status:
        stmt = stmt.where(VolunteerSignup.status == status)
    with ctx.db.session() as s:
        rows = [SignupView.of(r) for r in s.scalars(stmt.limit(limit * 4))]
    return [r for r in rows if _may_review(ctx, user, r.village_id)][:limit]


def decide(ctx: AppContext, user: User, signup_id: int, approve: bool) -> SignupView:
    with ctx.db.session() as s:
        row = s.get(VolunteerSignup, signup_id)
        if row is None or not _may_review(ctx, user, row.village_id):
            raise SignupError("没有找到这条报名。", 404)
        if row.status != PENDING:
            raise SignupError(f"这条报名已经处理过了({STATUS_LABELS.get(row.status, row.status)})。", 409)
        row.status = APPROVED if approve else REJECTED
        row.decided_by = user.actor.label
        row.decided_at = ctx.clock()
        return SignupView.of(row)
