"""The one definition of a local day and month (Asia/Shanghai, UTC+8, no DST)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.clock import day_bounds, local_date, month_bounds


def test_a_local_day_starts_at_midnight_in_shanghai() -> None:
    start, end = day_bounds(date(2026, 6, 1))
    assert start == datetime(2026, 5, 31, 16, 0, tzinfo=UTC) and end == datetime(2026, 6, 1, 16, 0, tzinfo=UTC)
    assert local_date(datetime(2026, 5, 31, 15, 59, tzinfo=UTC)) == date(2026, 5, 31)
    assert local_date(datetime(2026, 5, 31, 16, 0, tzinfo=UTC)) == date(2026, 6, 1)


def test_month_bounds_cover_the_calendar_month() -> None:
    assert month_bounds(date(2026, 12, 31)) == (day_bounds(date(2026, 12, 1))[0], day_bounds(date(2027, 1, 1))[0])
    start, end = month_bounds(date(2028, 2, 10))
    assert (end - start).days == 29  # a leap February
