"""Periods and areas of a report: local (Asia/Shanghai) days, a month by default; the county
(centre), a township (institute) or a village, as the station tree in config.yml has them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.actors import Actor, ActorKind
from core.clock import day_bounds, local_date
from core.config import AppConfig, Role, Tier
from core.errors import InvalidInput, NotFound, PermissionDenied

MONTH_RE = re.compile(r"^\s*(\d{4})\s*[-/年.]\s*(\d{1,2})\s*月?\s*$")
MAX_DAYS = 400  # a range longer than a year and a bit is a typo, not a report


@dataclass(frozen=True)
class Period:
    """Local days [start, end): `end` is the day after the last day counted."""

    start: date
    end: date

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise InvalidInput("月份不对,请写成 2026-11 这样。", f"bad month {year}-{month}")
        first = date(year, month, 1)
        return cls(first, _next_month(first))

    @classmethod
    def parse_month(cls, text: str) -> Period:
        match = MONTH_RE.match(text or "")
        if not match:
            raise InvalidInput("月份写法不对,请写成 2026-11 这样。", f"cannot read month {text!r}")
        return cls.month(int(match.group(1)), int(match.group(2)))

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        """From `first` to `last`, both days included."""
        if last < first:
            raise InvalidInput("结束日期不能早于开始日期。", f"range {first}..{last} is reversed")
        if (last - first).days >= MAX_DAYS:
            raise InvalidInput(f"时间段太长了,最多 {MAX_DAYS} 天。", f"range {first}..{last} too long")
        return cls(first, last + timedelta(days=1))

    @classmethod
    def parse_days(cls, first: str, last: str) -> Period:
        try:
            return cls.days(date.fromisoformat(first.strip()), date.fromisoformat(last.strip()))
        except ValueError:
            raise InvalidInput("日期写法不对,请写成 2026-11-03 这样。", f"bad dates {first!r}..{last!r}") from None

    @classmethod
    def pick(cls, month: str, first: str, last: str, now: datetime) -> Period:
        """What a form asked for: a day range if both days are given, else a month, else this month."""
        if first.strip() and last.strip():
            return cls.parse_days(first, last)
        return cls.parse_month(month) if month.strip() else cls.month_of(now)

    @classmethod
    def month_of(cls, moment: datetime) -> Period:
        day = local_date(moment)
        return cls.month(day.year, day.month)

    @classmethod
    def previous_month(cls, moment: datetime) -> Period:
        first = local_date(moment).replace(day=1)
        before = first - timedelta(days=1)
        return cls.month(before.year, before.month)

    @property
    def is_month(self) -> bool:
        return self.start.day == 1 and self.end == _next_month(self.start)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def label(self) -> str:
        if self.is_month:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}"

    @property
    def slug(self) -> str:
        """For file names: 2026-11 or 2026-11-03_2026-11-20."""
        return f"{self.start:%Y-%m}" if self.is_month else f"{self.start}_{self.last_day}"

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as aware UTC datetimes [from, to)."""
        return day_bounds(self.start)[0], day_bounds(self.end)[0]

    def months_back(self, count: int) -> list[Period]:
        """The `count` calendar months ending with the month this period ends in, oldest first."""
        last = self.last_day.replace(day=1)
        months = [last]
        while len(months) < count:
            months.append((months[-1] - timedelta(days=1)).replace(day=1))
        return [Period(m, _next_month(m)) for m in reversed(months)]


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@dataclass(frozen=True)
class Area:
    id: str
    name: str
    tier: Tier
    villages: tuple[str, ...]

    @classmethod
    def of(cls, config: AppConfig, area_id: str) -> Area:
        if area_id == config.centre.id:
            return cls(area_id, config.centre.name, Tier.centre, tuple(config.villages))
        if area_id in config.institutes:
            institute = config.institutes[area_id]
            return cls(area_id, institute.name, Tier.institute, tuple(v.id for v in institute.villages))
        if area_id in config.villages:
            return cls(area_id, config.villages[area_id].name, Tier.station, (area_id,))
        raise NotFound("没有这个地方(县、镇或村)。", f"unknown area {area_id!r}")


def report_areas(config: AppConfig, actor: Actor) -> list[Area]:
    """The areas whose reports the actor may read: every area inside an admin's own areas
    (the county admin: the county, each township, each village). Nobody else reads reports."""
    if actor.kind is ActorKind.system:
        return [Area.of(config, a) for a in _all_area_ids(config)]
    staff = config.staff_by_id.get(actor.id) if actor.kind is ActorKind.staff else None
    if staff is None or Role.admin not in staff.roles:
        return []
    mine = config.staff_villages(staff)
    return [area for a in _all_area_ids(config) if set((area := Area.of(config, a)).villages) <= mine]


def resolve_area(config: AppConfig, actor: Actor, area_id: str | None) -> Area:
    """The area asked for, if the actor may read it; without one, the actor's widest area."""
    allowed = report_areas(config, actor)
    if not allowed:
        raise PermissionDenied("只有管理员能看统计报表。", f"{actor.label} may not read reports")
    if area_id is None:
        return allowed[0]
    area = Area.of(config, area_id)
    if area.id not in {a.id for a in allowed}:
        raise PermissionDenied("这个地方不归您管,看不了它的报表。", f"{actor.label} may not read {area_id}")
    return area


def _all_area_ids(config: AppConfig) -> list[str]:
    """Widest first: the county, then each township followed by its villages."""
    ids = [config.centre.id]
    for institute in config.centre.institutes:
        ids += [institute.id, *(v.id for v in institute.villages)]
    return ids
