"""Village loudspeaker slots and items: where announcements go, reading a day's items in air
order, the dashboard's counts, marking aired, and every item state change (compare-and-set)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from broadcasts.errors import IllegalTransition, NotFound, PermissionDenied
from broadcasts.library import Script
from broadcasts.models import Announcement, BroadcastAudit, BroadcastItem, ItemKind, ItemState, Priority
from broadcasts.views import BroadcastSummary, ItemView
from core.actors import Actor, ActorKind, staff_covers, visible_villages
from core.app import AppContext
from core.clock import LOCAL_TZ, as_utc, day_bounds, local_date
from core.config import Role, Village

PROGRAMME_POSITION = 100
LIVE = (ItemState.scheduled, ItemState.generating, ItemState.ready, ItemState.aired)


def slot_times(village: Village, day: date) -> list[datetime]:
    """The village's slots on a local date, as aware UTC datetimes."""
    return [datetime.combine(day, time.fromisoformat(s), tzinfo=LOCAL_TZ).astimezone(UTC) for s in village.slots]


def next_slots(village: Village, after: datetime, count: int) -> list[datetime]:
    out: list[datetime] = []
    day = local_date(after)
    while len(out) < count:
        out += [t for t in slot_times(village, day) if t > after][: count - len(out)]
        day += timedelta(days=1)
    return out


def air_order(item: BroadcastItem | ItemView) -> tuple[datetime, int, int, int]:
    """Within a slot: urgent announcements, other announcements, then the programme."""
    return (item.air_at, item.kind == ItemKind.programme, item.priority != Priority.urgent, item.position)


def audit(s: Session, now: datetime, actor: Actor, action: str, detail: str = "", **ids: int | None) -> None:
    s.add(BroadcastAudit(at=now, actor=actor.label, action=action, detail=detail, **ids))


def new_airing(
    village: Village, air_at: datetime, position: int, now: datetime, source: Announcement | Script
) -> BroadcastItem:
    """An item waiting to be voiced: an announcement (in its own voice, if it has one) or a
    programme script, in the village's voice."""
    origin: dict[str, Any]
    if isinstance(source, Announcement):
        origin = {"kind": ItemKind.announcement, "priority": source.priority, "announcement_id": source.id}
        voice = source.voice or village.voice
    else:
        origin = {"kind": ItemKind.programme, "priority": Priority.normal, "script_id": source.id}
        voice = village.voice
    return BroadcastItem(
        village_id=village.id,
        air_at=air_at,
        position=position,
        title=source.title,
        text=source.text,
        voice=voice,
        state=ItemState.scheduled,
        fallback_voice=False,
        created_at=now,
        updated_at=now,
        **origin,
    )


class ScheduleService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.config = ctx.config

    # ------------------------------------------------------------ reading
    def day(self, day: date, actor: Actor, village_id: str | None = None) -> list[ItemView]:
        """The day's items in the villages the actor may see, by village and air order."""
        start, end = day_bounds(day)
        q = select(BroadcastItem).where(BroadcastItem.air_at >= start, BroadcastItem.air_at < end)
        if village_id:
            q = q.where(BroadcastItem.village_id == village_id)
        visible = visible_villages(self.config, actor)
        if visible is not None:
            q = q.where(BroadcastItem.village_id.in_(visible))
        with self.ctx.db.session() as s:
            items = [ItemView.of(i) for i in s.scalars(q)]
        return sorted(items, key=lambda i: (i.village_id, *air_order(i)))

    def item(self, item_id: int, actor: Actor) -> ItemView:
        """One item; another village's item is not found (its existence is not told)."""
        with self.ctx.db.session() as s:
            item = s.get(BroadcastItem, item_id)
            view = ItemView.of(item) if item is not None else None
        visible = visible_villages(self.config, actor)
        if view is None or (visible is not None and view.village_id not in visible):
            raise NotFound("没有找到这条广播。", f"broadcast item {item_id} not found for {actor.label}")
        return view

    def summary(self, day: date, actor: Actor) -> BroadcastSummary | None:
        """The day's airings in the actor's villages by state (None: nothing scheduled)."""
        start, end = day_bounds(day)
        q = select(BroadcastItem.state, BroadcastItem.fallback_voice, func.count()).where(
            BroadcastItem.air_at >= start, BroadcastItem.air_at < end
        )
        visible = visible_villages(self.config, actor)
        if visible is not None:
            q = q.where(BroadcastItem.village_id.in_(visible))
        with self.ctx.db.session() as s:
            rows = s.execute(q.group_by(BroadcastItem.state, BroadcastItem.fallback_voice)).all()
        return BroadcastSummary.of_counts([(ItemState(state), bool(fallback), n) for state, fallback, n in rows])

    def slots_left(self, day: date, village_id: str | None = None) -> int:
        """How many of the day's slots (one village or all) are still ahead of the clock."""
        now = self.ctx.clock()
        villages = [village_id] if village_id else list(self.config.villages)
        return sum(1 for v in villages for t in slot_times(self.config.villages[v], day) if t > now)

    def may_operate(self, actor: Actor, village_id: str) -> bool:
        """Who may say a clip went out on the village's loudspeaker: the system (the player,
        the runtime) or an operator or admin of that village."""
        if actor.kind is ActorKind.system:
            return True
        return any(staff_covers(self.config, actor, village_id, role) for role in (Role.operator, Role.admin))

    # ------------------------------------------------------------ airing
    def mark_aired(self, item_id: int, actor: Actor) -> ItemView:
        """ready → aired, checked: the actor must operate the village and the clip be ready."""
        item = self.item(item_id, actor)
        if not self.may_operate(actor, item.village_id):
            raise PermissionDenied("只有这个村的广播员能登记播出。", f"{actor.label} may not operate {item.village_id}")
        if item.state is not ItemState.ready:
            message = (
                "这条已经登记播出了。"
                if item.state is ItemState.aired
                else f"这条现在是“{item.state.label}”,还不能登记播出。"
            )
            raise IllegalTransition(message, f"item {item_id} is {item.state.value}, not ready")
        if not self._air([item_id], actor):
            raise IllegalTransition("这条广播刚刚被别人改过,请刷新。", f"item {item_id} changed concurrently")
        return self.item(item_id, actor)

    def air_due(self, now: datetime, actor: Actor) -> int:
        """Every ready clip whose air time has come counts as aired: it is in the playlist the
        loudspeaker plays. Returns how many moved."""
        with self.ctx.db.session() as s:
            due = s.scalars(
                select(BroadcastItem.id).where(BroadcastItem.air_at <= now, BroadcastItem.state == ItemState.ready)
            ).all()
        return len(self._air(list(due), actor)) if due else 0

    def _air(self, item_ids: list[int], actor: Actor) -> list[int]:
        """The one ready → aired move (compare-and-set: an item airs once)."""
        return self.move_many(item_ids, ItemState.aired, [ItemState.ready], actor)

    # ------------------------------------------------------------ the runtime's reads and moves
    def due_for_voicing(self, now: datetime) -> list[tuple[int, datetime]]:
        """Scheduled items whose air time is within the lead time and still worth making
        (not past their grace), earliest first: (item id, air time)."""
        lead = timedelta(minutes=self.config.broadcasts.lead_minutes)
        grace = timedelta(minutes=self.config.broadcasts.air_grace_minutes)
        with self.ctx.db.session() as s:
            rows = s.execute(
                select(BroadcastItem.id, BroadcastItem.air_at)
                .where(
                    BroadcastItem.state == ItemState.scheduled,
                    BroadcastItem.air_at <= now + lead,
                    BroadcastItem.air_at >= now - grace,
                )
                .order_by(BroadcastItem.air_at, BroadcastItem.id)
            ).all()
        return [(item_id, as_utc(air_at)) for item_id, air_at in rows]

    def miss_late(self, now: datetime, actor: Actor) -> int:
        """Items not voiced by the end of their grace can no longer air: missed."""
        grace = timedelta(minutes=self.config.broadcasts.air_grace_minutes)
        with self.ctx.db.session() as s:
            late = s.scalars(
                select(BroadcastItem.id).where(
                    BroadcastItem.state == ItemState.scheduled, BroadcastItem.air_at < now - grace
                )
            ).all()
        if not late:
            return 0
        return len(self.move_many(list(late), ItemState.missed, [ItemState.scheduled], actor, error="未能按时生成"))

    def reset_generating(self, actor: Actor) -> int:
        """Items a crash left `generating` are scheduled again (voiced on the next pass)."""
        with self.ctx.db.session() as s:
            stuck = s.scalars(select(BroadcastItem.id).where(BroadcastItem.state == ItemState.generating)).all()
        if not stuck:
            return 0
        return len(self.move_many(list(stuck), ItemState.scheduled, [ItemState.generating], actor))

    # ------------------------------------------------------------ placing
    def next_position(self, s: Session, village_id: str, air_at: datetime) -> int:
        top = s.scalar(
            select(func.max(BroadcastItem.position)).where(
                BroadcastItem.village_id == village_id,
                BroadcastItem.air_at == air_at,
                BroadcastItem.position < PROGRAMME_POSITION,
            )
        )
        return (top or 0) + 1

    # ------------------------------------------------------------ state changes
    def move(self, item_id: int, to: ItemState, expect: Iterable[ItemState], actor: Actor, **fields: object) -> bool:
        """Compare-and-set: only one worker (or instance) wins a transition."""
        return bool(self.move_many([item_id], to, expect, actor, **fields))

    def claim(self, item_id: int, actor: Actor) -> BroadcastItem | None:
        """scheduled → generating (compare-and-set) and the item as it is now, detached, in one
        transaction; None when another worker or instance has it, or it is no longer scheduled."""
        now = self.ctx.clock()
        with self.ctx.db.session() as s:
            item = s.scalars(
                update(BroadcastItem)
                .where(BroadcastItem.id == item_id, BroadcastItem.state == ItemState.scheduled)
                .values(state=ItemState.generating, updated_at=now)
                .returning(BroadcastItem),
                execution_options={"synchronize_session": False},
            ).one_or_none()
            if item is None:
                return None
            audit(s, now, actor, f"item_{ItemState.generating.value}", item_id=item_id)
            s.flush()
            s.expunge(item)
            return item

    def move_many(
        self, item_ids: list[int], to: ItemState, expect: Iterable[ItemState], actor: Actor, **fields: object
    ) -> list[int]:
        """Compare-and-set on several items in one transaction; returns the ids that moved."""
        now = self.ctx.clock()
        detail = str(fields.get("error") or "")
        with self.ctx.db.session() as s:
            moved = s.scalars(
                update(BroadcastItem)
                .where(BroadcastItem.id.in_(item_ids), BroadcastItem.state.in_([e.value for e in expect]))
                .values(state=to, updated_at=now, **fields)
                .returning(BroadcastItem.id)
            ).all()
            for item_id in moved:
                audit(s, now, actor, f"item_{to.value}", detail, item_id=item_id)
            return list(moved)
