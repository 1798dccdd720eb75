"""Read side of the workflow: lists, the work needing a hand, the figures of a day and a
month, satisfaction, and the outbox reads front ends turn into messages — each figure
defined once here, each list scoped to what the actor may see."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select

from core.actors import Actor, ActorKind, visible_villages
from core.clock import Clock, day_bounds, local_date, month_bounds, system_clock
from core.config import AppConfig
from core.db import Database
from orders.models import OPEN_STATUSES, Activity, Order, OrderEvent, OrderStatus
from orders.views import OrderView

S = OrderStatus

# PostgreSQL hands out event ids before commit, so an event can become visible after one with
# a higher id that committed first; an outbox cursor that moved past it would skip it for good.
# So there the outbox only hands out events older than this (a transition's transaction lasts
# milliseconds).  SQLite commits one writer at a time, in id order: no wait there.
OUTBOX_SETTLE = timedelta(seconds=3)


def needs_hand(now: datetime) -> ColumnElement[bool]:
    """The one definition of an order needing a hand from staff: waiting past its acceptance
    deadline, expired (no tier left), or never matched to a team (flagged)."""
    return (
        ((Order.status == S.dispatched) & (Order.accept_deadline <= now))
        | (Order.status == S.expired)
        | ((Order.status == S.submitted) & Order.flagged.is_not(None))
    )


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    service_id: str | None = None
    village_id: str | None = None
    team_id: str | None = None
    open_only: bool = False
    limit: int = 200


@dataclass(frozen=True)
class Satisfaction:
    key: str  # team id or service id
    ratings: int
    average: float


@dataclass(frozen=True)
class Figures:
    """The orders placed in a period (a local day or month) and what became of them."""

    orders_by_status: dict[str, int]
    orders_by_service: dict[str, int]
    activities: int
    people_served: int
    average_rating: float | None

    @property
    def placed(self) -> int:
        return sum(self.orders_by_status.values())

    @property
    def done(self) -> int:
        """Delivered: done, whether rated yet or not."""
        return self.orders_by_status.get(S.done, 0) + self.orders_by_status.get(S.rated, 0)

    @property
    def rated(self) -> int:
        return self.orders_by_status.get(S.rated, 0)


@dataclass(frozen=True)
class Stats:
    """What staff see at a glance (the bot's /stats, the console's dashboard, /api/stats)."""

    today: Figures
    month: Figures
    open_now: int  # not yet at an end, whenever placed
    needs_hand: int  # of those, the ones needing a hand now


@dataclass(frozen=True)
class WorkItem:
    order: OrderView
    needs_hand: bool


@dataclass(frozen=True)
class OrderChange:
    """One order event for the outbox, with the order as it is now."""

    event_id: int
    actor: str
    from_status: str | None
    to_status: str
    order: OrderView


class OrderQueries:
    def __init__(self, db: Database, config: AppConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    def _scoped(self, stmt: Select[Any], actor: Actor) -> Select[Any]:
        if actor.kind is ActorKind.resident:
            return stmt.where(Order.resident_key == actor.id)
        if actor.kind is ActorKind.volunteer:
            teams = [t.id for t, m in self.config.members() if m.id == actor.id]
            return stmt.where(Order.team_id.in_(teams))
        villages = visible_villages(self.config, actor)
        return stmt if villages is None else stmt.where(Order.village_id.in_(villages))

    # ------------------------------------------------------------ lists
    def list(self, actor: Actor, f: OrderFilter | None = None) -> list[OrderView]:
        """Newest first; a resident sees their own orders, a volunteer their teams', staff their areas'."""
        f = f or OrderFilter()
        stmt = self._scoped(select(Order), actor)
        if f.status:
            stmt = stmt.where(Order.status == f.status)
        if f.open_only:
            stmt = stmt.where(Order.status.in_(OPEN_STATUSES))
        if f.service_id:
            stmt = stmt.where(Order.service_id == f.service_id)
        if f.village_id:
            stmt = stmt.where(Order.village_id == f.village_id)
        if f.team_id:
            stmt = stmt.where(Order.team_id == f.team_id)
        stmt = stmt.order_by(Order.created_at.desc(), Order.id.desc()).limit(max(1, min(f.limit, 1000)))
        with self.db.session() as s:
            return [OrderView.of(o) for o in s.scalars(stmt)]

    def overdue(self, actor: Actor) -> list[OrderView]:
        """The orders needing a hand (see `needs_hand`), oldest first."""
        stmt = self._scoped(select(Order), actor).where(needs_hand(self.clock()))
        with self.db.session() as s:
            return [OrderView.of(o) for o in s.scalars(stmt.order_by(Order.created_at))]

    def worklist(self, actor: Actor, limit: int = 10) -> list[WorkItem]:
        """Open orders, the ones needing a hand first, oldest first within each."""
        hand = case((needs_hand(self.clock()), 1), else_=0)
        stmt = self._scoped(select(Order, hand), actor).where(Order.status.in_(OPEN_STATUSES))
        stmt = stmt.order_by(hand.desc(), Order.id).limit(max(1, limit))
        with self.db.session() as s:
            return [WorkItem(OrderView.of(o), bool(h)) for o, h in s.execute(stmt)]

    # ------------------------------------------------------------ figures
    def figures(self, actor: Actor, since: datetime, until: datetime) -> Figures:
        base = self._scoped(select(Order), actor).where(Order.created_at >= since, Order.created_at < until)
        sub = base.subquery()
        with self.db.session() as s:
            by_status = dict(s.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all())
            by_service = dict(s.execute(select(sub.c.service_id, func.count()).group_by(sub.c.service_id)).all())
            activities = s.scalar(
                select(func.count(func.distinct(sub.c.activity_id))).where(sub.c.activity_id.is_not(None))
            )
            served = s.scalar(select(func.coalesce(func.sum(sub.c.people_served), 0)))
            avg = s.scalar(select(func.avg(sub.c.rating)).where(sub.c.rating.is_not(None)))
        return Figures(
            orders_by_status={str(k): int(v) for k, v in by_status.items()},
            orders_by_service={str(k): int(v) for k, v in by_service.items()},
            activities=int(activities or 0),
            people_served=int(served or 0),
            average_rating=round(float(avg), 2) if avg is not None else None,
        )

    def stats(self, actor: Actor) -> Stats:
        """Today and this calendar month (local days, Asia/Shanghai), and the open work now."""
        now = self.clock()
        today = local_date(now)
        day, month = day_bounds(today), month_bounds(today)
        base = self._scoped(select(func.count()).select_from(Order), actor).where(Order.status.in_(OPEN_STATUSES))
        with self.db.session() as s:
            open_now = int(s.scalar(base) or 0)
            waiting = int(s.scalar(base.where(needs_hand(now))) or 0)
        return Stats(self.figures(actor, *day), self.figures(actor, *month), open_now, waiting)

    def satisfaction(self, actor: Actor, by: str = "team") -> list[Satisfaction]:
        """Average rating per team or per service (评单 is the yardstick)."""
        column = Order.team_id if by == "team" else Order.service_id
        stmt = self._scoped(select(column, func.count(), func.avg(Order.rating)), actor)
        stmt = stmt.where(Order.rating.is_not(None)).group_by(column).order_by(column)
        with self.db.session() as s:
            return [Satisfaction(str(k), int(n), round(float(a), 2)) for k, n, a in s.execute(stmt)]

    def activity_count(self, actor: Actor) -> int:
        villages = visible_villages(self.config, actor)
        stmt = select(func.count(Activity.id))
        if villages is not None:
            stmt = stmt.where(Activity.village_id.in_(villages))
        with self.db.session() as s:
            return int(s.scalar(stmt) or 0)

    # ------------------------------------------------------------ outbox reads (for messages)
    @property
    def outbox_settle(self) -> timedelta:
        return timedelta() if self.db.is_sqlite else OUTBOX_SETTLE

    def changes_after(self, event_id: int, now: datetime | None = None, limit: int = 100) -> list[OrderChange]:
        """Order events after `event_id`, oldest first, for a front end's outbox cursor.  Stops
        at the first event still settling, so a cursor moved to the last one never passes a gap."""
        settled_before = (now or self.clock()) - self.outbox_settle
        stmt = (
            select(OrderEvent, Order)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(OrderEvent.id > event_id)
            .order_by(OrderEvent.id)
            .limit(limit)
        )
        with self.db.session() as s:
            rows = itertools.takewhile(lambda row: row[0].at <= settled_before, s.execute(stmt).all())
            return [OrderChange(e.id, e.actor, e.from_status, e.to_status, OrderView.of(o)) for e, o in rows]

    def starting_soon(self, now: datetime, within: timedelta) -> list[OrderView]:
        """Accepted orders whose agreed time starts within `within` and has not ended (reminders)."""
        stmt = select(Order).where(
            Order.status == S.accepted, Order.window_start <= now + within, Order.window_end > now
        )
        with self.db.session() as s:
            return [OrderView.of(o) for o in s.scalars(stmt.order_by(Order.window_start, Order.id))]
