"""Service hours of one delivery: what the volunteer declared at 完成, else accept → done
capped at `points.max_hours_per_order` (an order accepted in the evening and done next morning
did not take a night's work)."""

from __future__ import annotations

import math
from datetime import datetime

from core.config import PointsSettings


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
