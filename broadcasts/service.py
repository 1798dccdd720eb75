"""The one door of the broadcasts room: every front end (web console and API, CLI, bot)
calls `BroadcastService`, never the tables or the room's inner modules.

Besides the door, front ends use the room's vocabulary only: the views (`broadcasts.views`),
the enums (`broadcasts.models`), the errors (`broadcasts.errors`) and `AnnouncementDraft`;
`xiangyin run` starts `broadcasts.runtime.BroadcastRuntime`. Every query is scoped to what
the actor may see; every command checks the actor's role and the state it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from broadcasts.announcements import AnnouncementDraft, AnnouncementService
from broadcasts.errors import NotFound
from broadcasts.models import AnnouncementStatus, ItemState
from broadcasts.output import audio_dir, playlist_path
from broadcasts.planner import CalendarDay, Planner
from broadcasts.schedule import ScheduleService
from broadcasts.views import AnnouncementView, BroadcastSummary, ItemView
from core.actors import Actor, visible_villages
from core.app import AppContext
from core.clock import local_date

__all__ = ["AnnouncementDraft", "BroadcastService", "DayGenerated"]

HEARD = (ItemState.ready, ItemState.aired)  # states whose recording exists
PUBLIC = Actor.system("public")  # reads only what every villager hears on the loudspeaker


class BroadcastService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._announcements = AnnouncementService(ctx)
        self._schedule = ScheduleService(ctx)
        self._planner = Planner(ctx)

    # ------------------------------------------------------------ announcements: commands
    def draft(self, draft: AnnouncementDraft, actor: Actor) -> AnnouncementView:
        """An admin covering every audience village drafts; nothing airs before approval."""
        return self._announcements.draft(draft, actor)

    def edit(self, announcement_id: int, actor: Actor, **changes: Any) -> AnnouncementView:
        """Change a draft, an approved or a rejected announcement: it goes back to review
        (draft) and its pending airings are cancelled until it is approved again."""
        return self._announcements.edit(announcement_id, actor, **changes)

    def approve(self, announcement_id: int, actor: Actor) -> AnnouncementView:
        return self._announcements.approve(announcement_id, actor)

    def reject(self, announcement_id: int, actor: Actor, reason: str) -> AnnouncementView:
        return self._announcements.reject(announcement_id, actor, reason)

    def withdraw(self, announcement_id: int, actor: Actor) -> AnnouncementView:
        return self._announcements.withdraw(announcement_id, actor)

    # ------------------------------------------------------------ announcements: queries
    def announcement(self, announcement_id: int, actor: Actor) -> AnnouncementView:
        """With its airings and audit trail; NotFound outside the actor's villages."""
        return self._announcements.get(announcement_id, actor)

    def announcements(
        self, actor: Actor, status: AnnouncementStatus | None = None, limit: int = 100
    ) -> list[AnnouncementView]:
        return self._announcements.list(actor, status, limit)

    def may_approve(self, view: AnnouncementView, actor: Actor) -> bool:
        return self._announcements.may_approve(view, actor)

    def may_edit(self, view: AnnouncementView, actor: Actor) -> bool:
        return self._announcements.may_edit(view, actor)

    # ------------------------------------------------------------ the loudspeakers' days
    def today(self) -> date:
        """Today in Asia/Shanghai, by the injected clock."""
        return local_date(self.ctx.clock())

    def day(self, day: date, actor: Actor, village_id: str | None = None) -> list[ItemView]:
        """The day's items in air order (by village), only in the actor's villages."""
        self._known(village_id)
        return self._schedule.day(day, actor, village_id)

    def programme(self, day: date, village_id: str) -> list[ItemView]:
        """What a village's loudspeaker airs that day, in air order: public (anybody in the
        square hears it), so no actor; cancelled airings are left out."""
        return [i for i in self._schedule.day(day, PUBLIC, village_id) if i.state is not ItemState.cancelled]

    def item(self, item_id: int, actor: Actor) -> ItemView:
        return self._schedule.item(item_id, actor)

    def summary(self, actor: Actor, day: date | None = None) -> BroadcastSummary | None:
        """The dashboard's figures for the day (default today) in the actor's villages."""
        return self._schedule.summary(day or self.today(), actor)

    def week(self, village_id: str, first: date, actor: Actor, days: int = 7) -> list[CalendarDay]:
        """The 节目表: the village's coming days as they will air, with the month's theme,
        the festivals, and the programmes the planner will put in slots still empty."""
        visible = visible_villages(self.ctx.config, actor)
        if village_id not in self.ctx.config.villages or (visible is not None and village_id not in visible):
            raise NotFound("没有找到这个村。", f"village {village_id!r} not visible to {actor.label}")
        return self._planner.week(village_id, first, days)

    def _known(self, village_id: str | None) -> None:
        if village_id is not None and village_id not in self.ctx.config.villages:
            raise NotFound(f"没有这个村:{village_id}", f"unknown village {village_id!r}")

    def may_operate(self, actor: Actor, village_id: str) -> bool:
        """May the actor mark the village's clips as aired (operator or admin there)."""
        return self._schedule.may_operate(actor, village_id)

    def mark_aired(self, item_id: int, actor: Actor) -> ItemView:
        """An operator (or the player) says the clip went out: ready → aired, once."""
        return self._schedule.mark_aired(item_id, actor)

    # ------------------------------------------------------------ files
    def recording(self, item: ItemView) -> Path | None:
        """The MP3 of a ready or aired item, if it is on disk."""
        if item.state not in HEARD or not item.audio_path:
            return None
        path = audio_dir(self.ctx.config) / item.audio_path
        return path if path.is_file() else None

    def playlist(self, village_id: str, day: date) -> Path | None:
        """The village's M3U of the day, if one has been written."""
        path = playlist_path(self.ctx.config, village_id, day)
        return path if path.is_file() else None

    @property
    def audio_root(self) -> Path:
        return audio_dir(self.ctx.config)

    # ------------------------------------------------------------ making the day's files now
    async def generate_day(
        self, day: date, village_id: str | None = None, progress: Callable[[int, int], None] | None = None
    ) -> DayGenerated:
        """Plan the day's programmes and voice every scheduled clip now (what the runtime
        does ahead of each slot)."""
        self._known(village_id)
        # Imported here: voicing and mastering pull in scipy and edge-tts (~1 s), which no
        # other command of the CLI or the console needs at start.
        from broadcasts.generate import Generator

        generator = Generator(self.ctx)
        counts = await generator.generate_day(day, village_id, progress)
        return DayGenerated(
            counts=counts,
            offline_voice=bool(generator.speech.stats.by_engine.get("espeak")),
            slots_left=self._schedule.slots_left(day, village_id),
        )


@dataclass(frozen=True)
class DayGenerated:
    counts: dict[str, int]  # items by the state they ended in
    offline_voice: bool  # the offline engine stood in for the online voice
    slots_left: int  # the day's slots still ahead of the clock (0: the day is over)
