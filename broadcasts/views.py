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
from core.snapshot import Snapshot

AUDIT_LABELS = {
    "drafted": "起草",
    "edited": "修改(要重新审核)",
    "approved": "审核通过",
    "rejected": "退回",
    "withdrawn": "撤回",
    "item_cancelled": "取消一次播出",
    "item_scheduled": "重新排播",
    "item_generating": "开始生成",
    "item_ready": "生成好了",
    "item_aired": "已播出",
    "item_missed": "错过",
    "item_failed": "生成失败",
    "programmes_planned": "排节目",
}


@dataclass(frozen=True)
class AuditView(Snapshot):
    at: datetime
    actor: str
    action: str
    item_id: int | None
    detail: str

    @property
    def label(self) -> str:
        return AUDIT_LABELS.get(self.action, self.action)


@dataclass(frozen=True)
class ItemView(Snapshot):
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


@dataclass(frozen=True)
class AnnouncementView(Snapshot):
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
    def of(  # type: ignore[override]  # the villages are worked out by the service, not stored
        cls,
        a: Announcement,
        villages: list[str],
        items: list[BroadcastItem] | None = None,
        audit: list[BroadcastAudit] | None = None,
    ) -> AnnouncementView:
        return super().of(
            a,
            villages=tuple(villages),
            items=tuple(ItemView.of(i) for i in items or []),
            audit=tuple(AuditView.of(x) for x in audit or []),
        )


@dataclass(frozen=True)
class BroadcastSummary:
    """A day's airings by state, for the dashboard: `fallback` counts the ready or aired
    clips voiced offline; `failed` counts failed and missed ones."""

    ready: int
    fallback: int
    failed: int
    aired: int
    scheduled: int

    @classmethod
    def of_counts(cls, rows: list[tuple[ItemState, bool, int]]) -> BroadcastSummary | None:
        if not rows:
            return None
        count: dict[ItemState, int] = {}
        for state, _, n in rows:
            count[state] = count.get(state, 0) + n
        return cls(
            ready=count.get(ItemState.ready, 0),
            fallback=sum(n for state, fallback, n in rows if fallback and state in (ItemState.ready, ItemState.aired)),
            failed=count.get(ItemState.failed, 0) + count.get(ItemState.missed, 0),
            aired=count.get(ItemState.aired, 0),
            scheduled=count.get(ItemState.scheduled, 0) + count.get(ItemState.generating, 0),
        )
