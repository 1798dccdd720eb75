"""The traditional festivals' Gregorian dates, computed: lunar ones with `lunardate`
(1900–2099), 清明 (a solar term, not a lunar date) with the 寿星 formula for 2000–2099."""

from __future__ import annotations

from datetime import date

from lunardate import LunarDate

QINGMING_C = 4.81  # the formula's constant for 清明 in the 21st century


def lunar_to_solar(year: int, month: int, day: int) -> date | None:
    """The Gregorian date of the lunar `month`/`day` in lunar `year` (None outside 1900–2099)."""
    try:
        return LunarDate(year, month, day).to_solar_date()
    except ValueError:
        return None


def qingming(year: int) -> date | None:
    """清明, when the sun reaches 15° ecliptic longitude: 4 or 5 April (None outside 2000–2099)."""
    if not 2000 <= year <= 2099:
        return None
    y = year % 100
    return date(year, 4, int(y * 0.2422 + QINGMING_C) - y // 4)
