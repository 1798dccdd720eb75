"""Broadcast tables: announcements, the items that fill loudspeaker slots (they are the
schedule: the runtime reads what is due from them) and the audit trail (also the outbox).

Lifecycles (see DESIGN.md):
- Announcement: draft → approved → (items scheduled); draft → rejected; any → withdrawn.
  Editing an approved announcement sends it back to draft (it must be approved again).
- BroadcastItem (one clip in one village's slot): scheduled → generating → ready →
  aired | missed | failed; cancelled when its announcement is edited or withdrawn.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class AnnouncementStatus(StrEnum):
    draft = "draft"  # 待审核
    approved = "approved"  # 已审核, items are scheduled
    rejected = "rejected"  # 未通过
    withdrawn = "withdrawn"  # 已撤回

    @property
    def label(self) -> str:
        return {"draft": "待审核", "approved": "已通过", "rejected": "未通过", "withdrawn": "已撤回"}[self]


class Priority(StrEnum):
    normal = "normal"
    urgent = "urgent"  # e.g. a flood warning: airs at once, then in the next slots

    @property
    def label(self) -> str:
        return {"normal": "普通", "urgent": "紧急"}[self]


class PlanKind(StrEnum):
    once = "once"  # once, at `plan_at` (any time, not only a slot)
    next_slots = "next_slots"  # the next `plan_count` slots of each village
    daily = "daily"  # every slot of each day for `plan_count` days

    @property
    def label(self) -> str:
        return {"once": "定时播一次", "next_slots": "接下来几档", "daily": "每天播"}[self]


class ItemState(StrEnum):
    scheduled = "scheduled"  # 已排播
    generating = "generating"  # 正在生成
    ready = "ready"  # MP3 ready, in the day's playlist
    aired = "aired"  # 已播出
    missed = "missed"  # not ready at air time (process down, too late)
    failed = "failed"  # generation failed (both voices)
    cancelled = "cancelled"  # its announcement was edited or withdrawn

    @property
    def label(self) -> str:
        return ITEM_STATE_LABELS[self]


ITEM_STATE_LABELS = {
    ItemState.scheduled: "已排播",
    ItemState.generating: "生成中",
    ItemState.ready: "已就绪",
    ItemState.aired: "已播出",
    ItemState.missed: "错过",
    ItemState.failed: "失败",
    ItemState.cancelled: "已取消",
}


class ItemKind(StrEnum):
    announcement = "announcement"  # 通知公告
    programme = "programme"  # 节目 from the content library


class Announcement(Base):
    __tablename__ = "announcements"
    __table_args__ = (Index("ix_announcements_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    # Area ids: the centre id (all villages), institute ids, village ids.
    audience: Mapped[list[str]] = mapped_column(JSON)
    plan_kind: Mapped[PlanKind] = mapped_column(String(16))
    plan_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # once: when; else: not before
    plan_count: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[Priority] = mapped_column(String(8), default=Priority.normal)
    voice: Mapped[str | None] = mapped_column(String(64))  # None: each village's own voice
    status: Mapped[AnnouncementStatus] = mapped_column(String(16), default=AnnouncementStatus.draft)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class BroadcastItem(Base):
    """One clip aired in one village at one time (an announcement airing or a programme)."""

    __tablename__ = "broadcast_items"
    __table_args__ = (
        UniqueConstraint("village_id", "air_at", "position", name="uq_broadcast_items_slot"),
        Index("ix_broadcast_items_air_state", "air_at", "state"),
        Index("ix_broadcast_items_village_air", "village_id", "air_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[str] = mapped_column(String(48))
    air_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Order inside one slot: announcements 1..99 (urgent first when sorting), programme 100.
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ItemKind] = mapped_column(String(16))
    priority: Mapped[Priority] = mapped_column(String(8), default=Priority.normal)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    script_id: Mapped[str | None] = mapped_column(String(64), index=True)  # library script id
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)  # snapshot of the approved text: what is voiced
    voice: Mapped[str] = mapped_column(String(64))
    state: Mapped[ItemState] = mapped_column(String(16), default=ItemState.scheduled)
    engine: Mapped[str | None] = mapped_column(String(16))  # "edge" or "espeak" once voiced
    fallback_voice: Mapped[bool] = mapped_column(Boolean, default=False)
    audio_path: Mapped[str | None] = mapped_column(Text)  # relative to broadcasts.audio_dir
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BroadcastAudit(Base):
    """Every step: drafted, edited, approved, rejected, withdrawn, scheduled, generated…"""

    __tablename__ = "broadcast_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))  # Actor.label, never a name
    action: Mapped[str] = mapped_column(String(32))
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast_items.id", ondelete="CASCADE"))
    detail: Mapped[str] = mapped_column(Text, default="")
