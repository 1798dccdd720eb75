"""Plain snapshots handed to front ends (CLI, bot, web console): no ORM session needed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broadcasts.models import (
    Announcement,
    AnnouncementStatus,
    BroadcastAudit,
    BroadcastItem,
    ItemKind,
    ItemState,
    PlanKind,
    Priority,
)
from core.clock import local


@dataclass(frozen=True)
class AuditView:
    at: datetime
    actor: str
    action: str
    item_id: int | None
    detail: str

    @classmethod
    def of(cls, a: BroadcastAudit) -> AuditView:
        return cls(a.at, a.actor, a.action, a.item_id, a.detail)


@dataclass(frozen=True)
class ItemView:
    id: int
    village_id: str
    air_at: datetime  # aware UTC; `local_air_at` for people
    position: int
    kind: ItemKind
    priority: Priority
    announcement_id: int | None
    script_id: str | None
    title: str
    text: str
    voice: str
    state: ItemState
    engine: str | None  # "edge" | "espeak" once voiced
    fallback_voice: bool  # True: voiced by the offline engine (shown as 备用语音)
    audio_path: str | None  # relative to broadcasts.audio_dir
    duration_seconds: float | None
    error: str | None

    @property
    def local_air_at(self) -> datetime:
        return local(self.air_at)

    @property
    def hhmm(self) -> str:
        return self.local_air_at.strftime("%H:%M")

    @classmethod
    def of(cls, i: BroadcastItem) -> ItemView:
        return cls(
            id=i.id,
            village_id=i.village_id,
            air_at=i.air_at,
            position=i.position,
            kind=ItemKind(i.kind),
            priority=Priority(i.priority),
            announcement_id=i.announcement_id,
            script_id=i.script_id,
            title=i.title,
            text=i.text,
            voice=i.voice,
            state=ItemState(i.state),
            engine=i.engine,
            fallback_voice=i.fallback_voice,
            audio_path=i.audio_path,
            duration_seconds=i.duration_seconds,
            error=i.error,
        )


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    title: str
    text: str
    audience: tuple[str, ...]
    villages: tuple[str, ...]  # the audience resolved to village ids
    plan_kind: PlanKind
    plan_at: datetime | None
    plan_count: int
    priority: Priority
    voice: str | None
    status: AnnouncementStatus
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    reject_reason: str | None
    version: int
    items: tuple[ItemView, ...] = ()
    audit: tuple[AuditView, ...] = ()

    @classmethod
    def of(
        cls,
        a: Announcement,
        villages: list[str],
        items: list[BroadcastItem] | None = None,
        audit: list[BroadcastAudit] | None = None,
    ) -> AnnouncementView:
        return cls(
            id=a.id,
            title=a.title,
            text=a.text,
            audience=tuple(a.audience),
            villages=tuple(villages),
            plan_kind=PlanKind(a.plan_kind),
            plan_at=a.plan_at,
            plan_count=a.plan_count,
            priority=Priority(a.priority),
            voice=a.voice,
            status=AnnouncementStatus(a.status),
            created_by=a.created_by,
            created_at=a.created_at,
            updated_at=a.updated_at,
            approved_by=a.approved_by,
            approved_at=a.approved_at,
            reject_reason=a.reject_reason,
            version=a.version,
            items=tuple(ItemView.of(i) for i in items or []),
            audit=tuple(AuditView.of(x) for x in audit or []),
        )
