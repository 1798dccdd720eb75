"""The content library (broadcasts/library/*.yml): pre-reviewed scripts and the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import yaml

from broadcasts.textnorm import check_text
from core.festivals import lunar_to_solar, qingming

LIBRARY_DIR = Path(__file__).resolve().parent / "library"


@dataclass(frozen=True)
class Script:
    id: str
    title: str
    category: str
    text: str
    months: tuple[int, ...] = ()  # months whose theme it fits (一月一主题)
    festival: str | None = None  # festival key: aired only in the days before it


@dataclass(frozen=True)
class Festival:
    key: str
    name: str
    lead_days: int  # its scripts air in the days before it
    lunar: tuple[int, int] | None = None  # lunar (month, day)
    solar_term: str | None = None  # "qingming"

    def on(self, year: int) -> date | None:
        """Its Gregorian date in `year` (the lunar year, for lunar festivals)."""
        if self.lunar is not None:
            return lunar_to_solar(year, *self.lunar)
        return qingming(year) if self.solar_term == "qingming" else None


@dataclass(frozen=True)
class Calendar:
    month_themes: dict[int, str]
    festivals: dict[str, Festival]

    def festivals_near(self, day: date) -> set[str]:
        """Festivals whose date is `day` or within their lead days after it."""
        near = set()
        for festival in self.festivals.values():
            for year in (day.year - 1, day.year, day.year + 1):  # a lunar year straddles two
                when = festival.on(year)
                if when is not None and when - timedelta(days=festival.lead_days) <= day <= when:
                    near.add(festival.key)
        return near

    def festivals_between(self, first: date, last: date) -> list[tuple[date, Festival]]:
        """The festivals falling on the days from `first` to `last`, in date order."""
        found = {
            (when, f.key): f
            for f in self.festivals.values()
            for year in range(first.year - 1, last.year + 1)
            if (when := f.on(year)) is not None and first <= when <= last
        }
        return [(when, found[(when, key)]) for when, key in sorted(found)]


@dataclass(frozen=True)
class Library:
    scripts: tuple[Script, ...]
    calendar: Calendar

    @property
    def by_id(self) -> dict[str, Script]:
        return {s.id: s for s in self.scripts}


def load_library(directory: Path = LIBRARY_DIR) -> Library:
    scripts: list[Script] = []
    cal = yaml.safe_load((directory / "calendar.yml").read_text(encoding="utf-8"))
    calendar = Calendar(
        month_themes={int(k): v for k, v in cal["month_themes"].items()},
        festivals={key: _festival(key, raw) for key, raw in cal["festivals"].items()},
    )
    for path in sorted(directory.glob("*.yml")):
        if path.name == "calendar.yml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["scripts"]:
            festival = raw.get("festival")
            if festival is not None and festival not in calendar.festivals:
                raise ValueError(f"{path.name}: script {raw['id']}: unknown festival {festival!r}")
            scripts.append(
                Script(
                    id=raw["id"],
                    title=raw["title"],
                    category=data["category"],
                    text=check_text("".join(raw["text"].split()), 2000),  # Chinese: no spaces
                    months=tuple(raw.get("months", ())),
                    festival=festival,
                )
            )
    ids = [s.id for s in scripts]
    if len(set(ids)) != len(ids):
        raise ValueError("library: duplicate script ids")
    return Library(tuple(scripts), calendar)


def _festival(key: str, raw: dict[str, object]) -> Festival:
    lunar, term = raw.get("lunar"), raw.get("solar_term")
    if (lunar is None) == (term is None) or term not in (None, "qingming"):
        raise ValueError(f"calendar.yml: festival {key}: give either lunar: [month, day] or solar_term: qingming")
    month_day = tuple(int(n) for n in lunar) if isinstance(lunar, list) else None
    if month_day is not None and (len(month_day) != 2 or not (1 <= month_day[0] <= 12 and 1 <= month_day[1] <= 30)):
        raise ValueError(f"calendar.yml: festival {key}: lunar must be [month 1-12, day 1-30]")
    return Festival(key, str(raw["name"]), int(raw["lead_days"]), month_day, term)  # type: ignore[arg-type]


@cache
def default_library() -> Library:
    return load_library()
