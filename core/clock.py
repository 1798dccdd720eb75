"""Time: aware datetimes everywhere, an injectable clock so tests control deadlines."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def system_clock() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC by construction."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(LOCAL_TZ)


class ManualClock:
    """A clock that only moves when told (tests, benchmarks, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = as_utc(start or datetime(2026, 6, 1, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
