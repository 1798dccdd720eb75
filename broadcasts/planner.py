"""The programme planner: fills each village slot that has no programme with one script of
the library, and previews the coming days the same way before anything is stored.

Choice per slot: festival scripts in the days before their festival, then the month's theme
(一月一主题), then the least recently aired; never a script aired in the village within
`no_repeat_days` (unless none is left). Ties go by script id, so villages with the same
history air the same script (one synthesis serves them all).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcasts.events import PLANNED
from broadcasts.library import Festival, Library, Script, default_library
from broadcasts.models import BroadcastItem, ItemKind, ItemState
from broadcasts.schedule import PROGRAMME_POSITION, audit, new_airing, slot_times
from broadcasts.views import ItemView
from core.actors import Actor
from core.app import AppContext
from core.clock import day_bounds, local
from core.config import Village

PLANNER = Actor.system("planner")
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
History = list[tuple[str | None, datetime, str]]  # programme items: script id, air time, state


@dataclass(frozen=True)
class CalendarEntry:
    """One airing on the calendar: stored (`item`), or a programme the planner will put
    there (`item` None: 预排, not stored yet)."""

    air_at: datetime
    title: str
    kind: ItemKind
    item: ItemView | None = None

    @property
    def hhmm(self) -> str:
        return local(self.air_at).strftime("%H:%M")


@dataclass(frozen=True)
class CalendarDay:
    day: date
    theme: str  # the month's theme
    festivals: tuple[Festival, ...]  # falling on this day
    entries: tuple[CalendarEntry, ...]  # air order


class Planner:
    def __init__(self, ctx: AppContext, library: Library | None = None) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.library = library or default_library()
        self.horizon = ctx.config.broadcasts.no_repeat_days

    def plan_day(self, day: date, villages: Iterable[str] | None = None, actor: Actor = PLANNER) -> int:
        """Fill every slot of the day that has no programme yet; returns how many were added.
        Each village's day is one transaction with its audit row (the outbox's "planned")."""
        now = self.ctx.clock()
        added = 0
        for village_id in villages or self.config.villages:
            village = self.config.villages[village_id]
            with self.ctx.db.session() as s:
                picks = self.choose(village, day, now, self._history(s, village.id, day))
                for air_at, script in picks:
                    s.add(new_airing(village, air_at, PROGRAMME_POSITION, now, script))
                if picks:
                    audit(s, now, actor, PLANNED, f"{village_id} {day.isoformat()}: {len(picks)} programmes")
            added += len(picks)
        return added

    def week(self, village_id: str, first: date, days: int = 7) -> list[CalendarDay]:
        """The village's coming days as they will air: what is stored (announcements and
        programmes, cancelled ones left out) and, for the slots still empty, the programme
        the planner will choose, by the same rules and the history so far."""
        village = self.config.villages[village_id]
        now = self.ctx.clock()
        last = first + timedelta(days=days - 1)
        start, end = day_bounds(first)[0], day_bounds(last)[1]
        with self.ctx.db.session() as s:
            history = self._history(s, village_id, first)
            stored = [
                ItemView.of(i)
                for i in s.scalars(
                    select(BroadcastItem).where(
                        BroadcastItem.village_id == village_id,
                        BroadcastItem.air_at >= start,
                        BroadcastItem.air_at < end,
                        BroadcastItem.state != ItemState.cancelled,
                    )
                )
            ]
        festivals = self.library.calendar.festivals_between(first, last)
        out = []
        for n in range(days):
            day = first + timedelta(days=n)
            lo, hi = day_bounds(day)
            entries = [CalendarEntry(i.air_at, i.title, i.kind, i) for i in stored if lo <= i.air_at < hi]
            for air_at, script in self.choose(village, day, now, history):
                entries.append(CalendarEntry(air_at, script.title, ItemKind.programme))
                history.append((script.id, air_at, ItemState.scheduled.value))
            entries.sort(key=lambda e: (e.air_at, e.kind == ItemKind.programme, e.item.position if e.item else 0))
            out.append(
                CalendarDay(
                    day=day,
                    theme=self.library.calendar.month_themes.get(day.month, ""),
                    festivals=tuple(f for when, f in festivals if when == day),
                    entries=tuple(entries),
                )
            )
        return out

    def _history(self, s: Session, village_id: str, day: date) -> History:
        """The village's programme items from a month (at least the no-repeat horizon)
        before `day` onwards: what the choice must not repeat, and the slots taken."""
        since = day_bounds(day)[0] - timedelta(days=max(self.horizon, 30))
        rows = s.execute(
            select(BroadcastItem.script_id, BroadcastItem.air_at, BroadcastItem.state).where(
                BroadcastItem.village_id == village_id,
                BroadcastItem.kind == ItemKind.programme,
                BroadcastItem.air_at >= since,
            )
        ).all()
        return [(script_id, air_at, state) for script_id, air_at, state in rows]

    def choose(self, village: Village, day: date, now: datetime, history: History) -> list[tuple[datetime, Script]]:
        """A programme for each of the day's slots still ahead of `now` that has none."""
        live = [(script_id, air) for script_id, air, state in history if state != ItemState.cancelled]
        start, end = day_bounds(day)
        taken = {air for _, air in live if start <= air < end}
        last_aired: dict[str, datetime] = {}
        for script_id, air in live:
            if script_id:
                last_aired[script_id] = max(air, last_aired.get(script_id, air))
        picks = []
        for air_at in slot_times(village, day):
            if air_at <= now or air_at in taken:
                continue
            script = self.pick(day, air_at, last_aired)
            if script is not None:
                picks.append((air_at, script))
                last_aired[script.id] = air_at
        return picks

    def pick(self, day: date, air_at: datetime, last_aired: dict[str, datetime]) -> Script | None:
        near = self.library.calendar.festivals_near(day)

        def score(sc: Script) -> tuple[int, datetime, str]:
            rank = 0 if sc.festival in near else 1 if day.month in sc.months else 2
            return (rank, last_aired.get(sc.id, EPOCH), sc.id)

        usable = [sc for sc in self.library.scripts if sc.festival is None or sc.festival in near]
        gap = timedelta(days=self.horizon)
        fresh = [sc for sc in usable if sc.id not in last_aired or air_at - last_aired[sc.id] >= gap]
        pool = fresh or usable
        return min(pool, key=score) if pool else None
