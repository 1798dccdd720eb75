"""Half-day time choices for people who don't type (今天下午, 明天上午…) and their labels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.clock import LOCAL_TZ

DAY_NAMES = ("今天", "明天", "后天")
# Half days offered as buttons; the hours match the NLU's reading of 上午/下午 (nlu.timeparse).
PARTS = {"am": ("上午", time(8), time(12)), "pm": ("下午", time(13), time(18))}
# Other parts of a day the NLU resolves, so a typed "明天晚上" reads back the same way.
NAMED_PARTS = {
    (time(6), time(9)): "早上",
    (time(8), time(12)): "上午",
    (time(11), time(13)): "中午",
    (time(13), time(18)): "下午",
    (time(17), time(19)): "傍晚",
    (time(18), time(22)): "晚上",
    (time(8), time(18)): "白天",
}
# A window must leave a volunteer at least this long to get there.
MIN_LEAD = timedelta(minutes=30)


@dataclass(frozen=True)
class Slot:
    code: str  # "d1am": day offset + part
    label: str
    start: datetime
    end: datetime


def slot(code: str, now: datetime) -> Slot | None:
    """The window a button code stands for, relative to `now`; None if malformed."""
    if len(code) != 4 or code[0] != "d" or not code[1].isdigit() or code[2:] not in PARTS:
        return None
    days = int(code[1])
    if days >= len(DAY_NAMES):
        return None
    name, begin, finish = PARTS[code[2:]]
    day = now.astimezone(LOCAL_TZ).date() + timedelta(days=days)
    start = datetime.combine(day, begin, LOCAL_TZ)
    end = datetime.combine(day, finish, LOCAL_TZ)
    return Slot(code, f"{DAY_NAMES[days]}{name}", start, end)


def choices(now: datetime) -> list[Slot]:
    """The next half days that are still reachable."""
    found = [slot(f"d{d}{p}", now) for d in range(len(DAY_NAMES)) for p in PARTS]
    return [s for s in found if s is not None and s.end - MIN_LEAD > now][:4]


def describe(start: datetime, end: datetime, now: datetime) -> str:
    """'明天下午' / '6月3日 上午' / '6月3日 9点到11点': what a person would say."""
    start, end = start.astimezone(LOCAL_TZ), end.astimezone(LOCAL_TZ)
    offset = (start.date() - now.astimezone(LOCAL_TZ).date()).days
    day = DAY_NAMES[offset] if 0 <= offset < len(DAY_NAMES) else f"{start.month}月{start.day}日"
    name = NAMED_PARTS.get((start.time(), end.time())) if end.date() == start.date() else None
    if name:
        return f"{day}{name}"
    if end - start >= timedelta(hours=23):
        return f"{day}(全天)"
    return f"{day} {_clock(start)}到{_clock(end)}"


def _clock(moment: datetime) -> str:
    return f"{moment.hour}点" if moment.minute == 0 else f"{moment.hour}点{moment.minute:02d}"
