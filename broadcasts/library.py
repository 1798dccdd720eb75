"""The content library (broadcasts/library/*.yml): pre-reviewed scripts and the calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import yaml

from broadcasts.textnorm import check_text

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
class Calendar:
    month_themes: dict[int, str]
    festivals: dict[str, tuple[str, int]]  # key → (name, lead days)
    dates: dict[int, dict[str, date]]

    def festivals_near(self, day: date) -> set[str]:
        """Festivals whose date is `day` or within their lead days after it."""
        near = set()
        for year in (day.year, day.year + 1):
            for key, when in self.dates.get(year, {}).items():
                lead = self.festivals[key][1]
                if when - timedelta(days=lead) <= day <= when:
                    near.add(key)
        return near


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
        festivals={k: (v["name"], int(v["lead_days"])) for k, v in cal["festivals"].items()},
        dates={
            int(y): {k: d if isinstance(d, date) else date.fromisoformat(d) for k, d in ds.items()}
            for y, ds in cal["festival_dates"].items()
        },
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


@cache
def default_library() -> Library:
    return load_library()
