"""Everything the console needs from broadcasts/, in one place: the services, today's counts
for the dashboard, and marking an item as aired."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from core.app import AppContext
from core.clock import day_bounds, local_date
from web.auth import User

if TYPE_CHECKING:
    from broadcasts.announcements import AnnouncementService
    from broadcasts.schedule import ScheduleService


@dataclass(frozen=True)
class BroadcastSummary:
    ready: int
    fallback: int
    failed: int
    aired: int
    scheduled: int


def announcement_service(ctx: AppContext) -> AnnouncementService:
    from broadcasts.announcements import AnnouncementService

    return AnnouncementService(ctx)


def schedule_service(ctx: AppContext) -> ScheduleService:
    from broadcasts.schedule import ScheduleService

    return ScheduleService(ctx)


def today(ctx: AppContext) -> date:
    return local_date(ctx.clock())


def broadcast_summary(ctx: AppContext, user: User) -> BroadcastSummary | None:
    """Today's airings in the person's villages by state; fallback = voiced offline."""
    from broadcasts.models import BroadcastItem, ItemState

    start, end = day_bounds(today(ctx))
    base = select(BroadcastItem.state, BroadcastItem.fallback_voice, func.count()).where(
        BroadcastItem.village_id.in_(user.villages), BroadcastItem.air_at >= start, BroadcastItem.air_at < end
    )
    with ctx.db.session() as s:
        rows = s.execute(base.group_by(BroadcastItem.state, BroadcastItem.fallback_voice)).all()
    if not rows:
        return None
    count: dict[str, int] = {}
    fallback = 0
    for state, is_fallback, n in rows:
        count[state] = count.get(state, 0) + n
        if is_fallback and state in (ItemState.ready, ItemState.aired):
            fallback += n
    return BroadcastSummary(
        ready=count.get(ItemState.ready, 0),
        fallback=fallback,
        failed=count.get(ItemState.failed, 0) + count.get(ItemState.missed, 0),
        aired=count.get(ItemState.aired, 0),
        scheduled=count.get(ItemState.scheduled, 0) + count.get(ItemState.generating, 0),
    )


class NotAirable(Exception):
    def __init__(self, message_zh: str, status: int = 409) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh
        self.status = status


def mark_aired(ctx: AppContext, item_id: int, user: User) -> None:
    """An operator confirms the loudspeaker played it: ready → aired, once (compare-and-set)."""
    from broadcasts.errors import NotFound
    from broadcasts.models import ItemState
    from core.config import Role

    sched = schedule_service(ctx)
    try:
        item = sched.item(item_id)
    except NotFound:
        raise NotAirable("没有找到这条广播。", 404) from None
    if item.village_id not in user.villages:
        raise NotAirable("没有找到这条广播。", 404)
    if not (user.can(Role.operator, item.village_id) or user.can(Role.admin, item.village_id)):
        raise NotAirable("只有这个村的广播员能登记播出。", 403)
    if item.state == ItemState.aired:
        raise NotAirable("这条已经登记播出了。")
    if item.state != ItemState.ready:
        raise NotAirable(f"这条现在是“{item.state.label}”,还不能登记播出。")
    if not sched.move(item_id, ItemState.aired, [ItemState.ready], user.actor):
        raise NotAirable("这条广播刚刚被别人改过,请刷新。")
