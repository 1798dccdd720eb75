"""Read side of the workflow: lists, overdue orders, monthly figures and satisfaction,
each scoped to what the actor may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import Select, func, select

from core.actors import Actor, ActorKind, visible_villages
from core.clock import LOCAL_TZ, Clock, system_clock
from core.config import AppConfig
from core.db import Database
from orders.models import Activity, Order, OrderStatus
from orders.views import OrderView

OPEN_STATUSES = (OrderStatus.submitted, OrderStatus.dispatched, OrderStatus.accepted, OrderStatus.expired)


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
    """What a monthly bulletin (月报) counts."""

    orders_by_status: dict[str, int]
    orders_by_service: dict[str, int]
    activities: int
    people_served: int
    average_rating: float | None


class OrderQueries:
    def __init__(self, db: Database, config: AppConfig, clock: Clock = system_clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock

    def _scoped(self, stmt: Select, actor: Actor) -> Select:  # type: ignore[type-arg]
        if actor.kind is ActorKind.resident:
            return stmt.where(Order.resident_key == actor.id)
        if actor.kind is ActorKind.volunteer:
            teams = [t.id for t, m in self.config.members() if m.id == actor.id]
            return stmt.where(Order.team_id.in_(teams))
        villages = visible_villages(self.config, actor)
        return stmt if villages is None else stmt.where(Order.village_id.in_(villages))

    def list(self, actor: Actor, f: OrderFilter | None = None) -> list[OrderView]:
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
        """Waiting past the acceptance deadline, expired, or never matched (flagged)."""
        now = self.clock()
        stmt = self._scoped(select(Order), actor).where(
            ((Order.status == OrderStatus.dispatched) & (Order.accept_deadline <= now))
            | (Order.status == OrderStatus.expired)
            | ((Order.status == OrderStatus.submitted) & Order.flagged.is_not(None))
        )
        with self.db.session() as s:
            return [OrderView.of(o) for o in s.scalars(stmt.order_by(Order.created_at))]

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

    def today_and_month(self, actor: Actor) -> tuple[Figures, Figures]:
        """Figures for today and this calendar month, in local (Asia/Shanghai) days."""
        now_local = self.clock().astimezone(LOCAL_TZ)
        today = datetime.combine(now_local.date(), time(0), LOCAL_TZ)
        month = today.replace(day=1)
        tomorrow = today + timedelta(days=1)
        return self.figures(actor, today, tomorrow), self.figures(actor, month, tomorrow)

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
