"""Read-only order queries the bot needs (lists and counts), as OrderViews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from core.clock import LOCAL_TZ
from core.db import Database
from orders.models import Order, OrderStatus
from orders.views import OrderView

OPEN = (OrderStatus.submitted, OrderStatus.dispatched, OrderStatus.accepted, OrderStatus.expired)
CANCELLABLE = OPEN


def resident_orders(db: Database, resident_key: str, limit: int = 5) -> list[OrderView]:
    with db.session() as s:
        rows = s.scalars(
            select(Order).where(Order.resident_key == resident_key).order_by(Order.id.desc()).limit(limit)
        ).all()
        return [OrderView.of(o) for o in rows]


def resident_orders_in(db: Database, resident_key: str, statuses: tuple[OrderStatus, ...]) -> list[OrderView]:
    with db.session() as s:
        rows = s.scalars(
            select(Order)
            .where(Order.resident_key == resident_key, Order.status.in_([x.value for x in statuses]))
            .order_by(Order.id.desc())
            .limit(10)
        ).all()
        return [OrderView.of(o) for o in rows]


def order_by_id(db: Database, order_id: int) -> OrderView | None:
    with db.session() as s:
        order = s.get(Order, order_id)
        return OrderView.of(order) if order else None


def open_orders(db: Database, villages: set[str], now: datetime, limit: int = 10) -> list[OrderView]:
    """Open orders in these villages, the ones needing a hand first (flagged, expired, overdue)."""
    with db.session() as s:
        rows = s.scalars(
            select(Order)
            .where(Order.village_id.in_(villages), Order.status.in_([x.value for x in OPEN]))
            .order_by(Order.id)
        ).all()
        views = [OrderView.of(o) for o in rows]
    views.sort(key=lambda o: (not needs_hand(o, now), o.id))
    return views[:limit]


def needs_hand(order: OrderView, now: datetime) -> bool:
    overdue = order.status is OrderStatus.dispatched and order.accept_deadline is not None
    overdue = overdue and order.accept_deadline <= now  # type: ignore[operator]
    return bool(order.flagged) or order.status is OrderStatus.expired or overdue


@dataclass(frozen=True)
class Stats:
    placed: int
    done: int
    people_served: int
    rated: int
    average_rating: float | None
    open_now: int


def stats(db: Database, villages: set[str], since: datetime) -> Stats:
    with db.session() as s:
        base = select(Order).where(Order.village_id.in_(villages), Order.created_at >= since).subquery()
        placed = s.scalar(select(func.count()).select_from(base)) or 0
        done_statuses = [OrderStatus.done.value, OrderStatus.rated.value]
        done = s.scalar(select(func.count()).select_from(base).where(base.c.status.in_(done_statuses))) or 0
        served = s.scalar(select(func.coalesce(func.sum(base.c.people_served), 0)).select_from(base)) or 0
        rated = s.scalar(select(func.count()).select_from(base).where(base.c.rating.is_not(None))) or 0
        average = s.scalar(select(func.avg(base.c.rating)).select_from(base))
        open_now = s.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.village_id.in_(villages), Order.status.in_([x.value for x in OPEN]))
        )
    average_rating = float(average) if average is not None else None
    return Stats(placed, done, int(served), rated, average_rating, open_now or 0)


def day_start(now: datetime) -> datetime:
    local = now.astimezone(LOCAL_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def month_start(now: datetime) -> datetime:
    return day_start(now).replace(day=1)
