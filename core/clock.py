"""Time: aware datetimes everywhere, an injectable clock so tests control deadlines, and the
one definition of a local day and month (Asia/Shanghai) that every room counts by."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
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


def local_date(moment: datetime) -> date:
    """The day a person in the station sees on the calendar at that moment."""
    return local(moment).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A local day as aware UTC datetimes: [00:00, next 00:00) in Asia/Shanghai."""
    start = datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)
    return start, start + timedelta(days=1)


def month_bounds(day: date) -> tuple[datetime, datetime]:
    """The local calendar month holding `day`, as aware UTC datetimes [1st 00:00, next 1st 00:00)."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_bounds(first)[0], day_bounds(following)[0]


class ManualClock:
    """A clock that only moves when told (tests, benchmarks, simulations)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = as_utc(start or datetime(2026, 6, 1, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
