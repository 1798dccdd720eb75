"""Village loudspeaker slots: placing announcements, filling the rest with programmes,
reading a day's items in air order, and item state changes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from broadcasts.errors import NotFound
from broadcasts.library import Library, Script, default_library
from broadcasts.models import Announcement, BroadcastAudit, BroadcastItem, ItemKind, ItemState, Priority
from broadcasts.views import ItemView
from core.actors import Actor, ActorKind, staff_roles
from core.app import AppContext
from core.clock import LOCAL_TZ, day_bounds, local_date
from core.config import Village

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
    def __init__(self, ctx: AppContext, library: Library | None = None) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.library = library or default_library()

    # ------------------------------------------------------------ reading
    def day(self, day: date, village_id: str | None = None, actor: Actor | None = None) -> list[ItemView]:
        start, end = day_bounds(day)
        with self.ctx.db.session() as s:
            q = select(BroadcastItem).where(BroadcastItem.air_at >= start, BroadcastItem.air_at < end)
            if village_id:
                q = q.where(BroadcastItem.village_id == village_id)
            items = [ItemView.of(i) for i in s.scalars(q)]
        if actor is not None:
            visible = self.visible_villages(actor)
            items = [i for i in items if visible is None or i.village_id in visible]
        return sorted(items, key=lambda i: (i.village_id, *air_order(i)))

    def item(self, item_id: int) -> ItemView:
        with self.ctx.db.session() as s:
            item = s.get(BroadcastItem, item_id)
            if item is None:
                raise NotFound(f"没有找到第 {item_id} 条广播。", f"broadcast item {item_id} not found")
            return ItemView.of(item)

    def visible_villages(self, actor: Actor) -> set[str] | None:
        """None: everything (system); else the villages of the staff member's areas."""
        if actor.kind is ActorKind.system:
            return None
        if not staff_roles(self.config, actor):
            return set()
        return self.config.staff_villages(self.config.staff_by_id[actor.id])

    def may_operate(self, actor: Actor, village_id: str) -> bool:
        visible = self.visible_villages(actor)
        return visible is None or (village_id in visible and bool(staff_roles(self.config, actor)))

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

    def plan_day(self, day: date, villages: Iterable[str] | None = None) -> int:
        """Fill every slot of the day that has no programme yet; returns how many were added."""
        now = self.ctx.clock()
        added = 0
        for village_id in villages or self.config.villages:
            village = self.config.villages[village_id]
            with self.ctx.db.session() as s:
                added += self._plan_village_day(s, village, day, now)
        return added

    def _plan_village_day(self, s: Session, village: Village, day: date, now: datetime) -> int:
        slots = [t for t in slot_times(village, day) if t > now]
        if not slots:
            return 0
        horizon = self.config.broadcasts.no_repeat_days
        start, end = day_bounds(day)
        rows = s.execute(
            select(BroadcastItem.script_id, BroadcastItem.air_at, BroadcastItem.state).where(
                BroadcastItem.village_id == village.id,
                BroadcastItem.kind == ItemKind.programme,
                BroadcastItem.air_at >= start - timedelta(days=max(horizon, 30)),
            )
        ).all()
        taken = {air for _, air, state in rows if state != ItemState.cancelled and start <= air < end}
        last_aired: dict[str, datetime] = {}
        for script_id, air, state in rows:
            if state != ItemState.cancelled and script_id:
                last_aired[script_id] = max(air, last_aired.get(script_id, air))
        added = 0
        for air_at in slots:
            if air_at in taken:
                continue
            script = self.pick(day, air_at, last_aired, horizon)
            if script is None:
                continue
            s.add(new_airing(village, air_at, PROGRAMME_POSITION, now, script))
            last_aired[script.id] = air_at
            added += 1
        return added

    def pick(self, day: date, air_at: datetime, last_aired: dict[str, datetime], horizon: int) -> Script | None:
        """Festival scripts near their day first, then the month's theme, then the rest;
        never a script aired in this village within `no_repeat_days` (unless none is left)."""
        near = self.library.calendar.festivals_near(day)
        epoch = datetime(2000, 1, 1, tzinfo=UTC)

        def score(sc: Script) -> tuple[int, datetime, str]:
            rank = 0 if sc.festival in near else 1 if day.month in sc.months else 2
            # Least recently aired first; the id keeps the choice the same in every village
            # with the same history (one synthesis serves them all).
            return (rank, last_aired.get(sc.id, epoch), sc.id)

        usable = [sc for sc in self.library.scripts if sc.festival is None or sc.festival in near]
        fresh = [
            sc for sc in usable if sc.id not in last_aired or air_at - last_aired[sc.id] >= timedelta(days=horizon)
        ]
        pool = fresh or usable
        return min(pool, key=score) if pool else None

    # ------------------------------------------------------------ state changes
    def move(self, item_id: int, to: ItemState, expect: Iterable[ItemState], actor: Actor, **fields: object) -> bool:
        """Compare-and-set: only one worker (or instance) wins a transition."""
        now = self.ctx.clock()
        with self.ctx.db.session() as s:
            result = s.execute(
                update(BroadcastItem)
                .where(BroadcastItem.id == item_id, BroadcastItem.state.in_([e.value for e in expect]))
                .values(state=to, updated_at=now, **fields)
            )
            if result.rowcount != 1:
                return False
            audit(s, now, actor, f"item_{to.value}", str(fields.get("error") or ""), item_id=item_id)
            return True
