"""Service hours of one delivery: what the volunteer declared at 完成, else accept → done
capped at `points.max_hours_per_order` (an order accepted in the evening and done next morning
did not take a night's work)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from core.config import PointsSettings
from orders.models import OrderEvent, OrderStatus

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # "accepted before anything we read": the cap applies
_CHUNK = 500


def measured_hours(accepted_at: datetime | None, done_at: datetime, rules: PointsSettings) -> float:
    if accepted_at is None:
        return 0.0
    hours = max((done_at - accepted_at).total_seconds(), 0) / 3600
    return round(min(hours, rules.max_hours_per_order), 2)


def delivery_hours(
    accepted_at: datetime | None, done_at: datetime, declared: float | None, rules: PointsSettings
) -> float:
    return declared if declared is not None else measured_hours(accepted_at, done_at, rules)


def hour_points(hours: float, rules: PointsSettings) -> int:
    """Points for hours, rounded half up (2.5 h × 5 = 12.5 → 13)."""
    return math.floor(hours * rules.per_hour + 0.5)


def last_accepts(conn: Connection, order_ids: Iterable[int]) -> dict[int, datetime]:
    """The last 接单 of each order. By order id (the history's order_id index), the kind
    filtered here: a `to_status` condition lets SQLite's planner pick the by-kind index and
    read every 接单 ever made for each order asked about."""
    ids = sorted(set(order_ids))
    found: dict[int, datetime] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            select(OrderEvent.order_id, OrderEvent.to_status, OrderEvent.at).where(
                OrderEvent.order_id.in_(ids[start : start + _CHUNK])
            )
        )
        for order_id, status, at in rows:
            if status == OrderStatus.accepted and (order_id not in found or at > found[order_id]):
                found[order_id] = at
    return found
