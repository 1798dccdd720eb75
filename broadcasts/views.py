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


@dataclass(frozen=True)
class AuditView(Snapshot):
    at: datetime
    actor: str
    action: str
    item_id: int | None
    detail: str


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
