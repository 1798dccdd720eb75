"""Colloquial time phrases → a concrete window [start, end) in Asia/Shanghai.

Resolved against the moment the message was received.  The conventions (documented in
docs/nlu.md, relied on by the held-out set):

- a day (明天, 下周三, 6月3号, 重阳节) is the whole day [00:00, next 00:00);
- a part of the day narrows it: 早上 06–09, 上午 08–12, 中午 11–13, 下午 13–18, 傍晚 17–19,
  晚上 18–22, 白天 08–18; a part of today that is already over means tomorrow's;
- a clock time is a one-hour window (下午三点 → 15:00–16:00; 三点半 → 15:30–16:30);
  1–6 o'clock without a part of the day is afternoon (nobody orders a haircut for 3 a.m.);
  三点到五点 is 15:00–17:00;
- 前/之前/以前 after a phrase means from now until it starts (重阳节前, 周五之前), 月底(前)
  means from now to the end of the month; 后/以后 means from its end for a week (a day) or to
  the end of that day (a clock time);
- a weekday without 这/下 is the next one that has not passed (today counts);
- 这周/本周 is from today to Sunday, 下周 Monday to Sunday, 周末 Saturday and Sunday;
- 过两天/过几天 is the next three days from tomorrow, 这两天/最近 the next three from today;
- 马上/立刻 is the next two hours, 尽快 the next 24 hours; 上午好 (a greeting) and 一上午
  (a duration) are not times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from lunardate import LunarDate

from core.clock import LOCAL_TZ
from nlu.numbers import CN_DIGITS, to_int
from nlu.result import TimeWindow

_N = rf"(?:\d{{1,2}}|[{CN_DIGITS}]{{1,3}})"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAYS.update({str(i + 1): i for i in range(7)})

_RELATIVE_DAYS = [
    (r"大后天|大后儿", 3),
    (r"后天|后儿个?|後天", 2),
    (r"明天|明儿个?|明个|明日|明早|明晚|明晌午|明上午|明下午", 1),
    (r"今天|今儿个?|今个|今日|今早|今晚|今晌午|今上午|今下午|当天|今天个", 0),
    (r"大前天", -3),
    (r"前天|前儿个?", -2),
    (r"昨天|昨儿个?|昨日|昨晚|昨个", -1),
]

_PARTS = [
    (r"一大早|大清早|清早|早上|早晨|早起|明早|今早|大早上|一早", (6, 9)),
    (r"上午|上半天|前晌|头午|明上午|今上午", (8, 12)),
    (r"中午|晌午|晌午头|饭点", (11, 13)),
    (r"下午|后晌|过晌|下半天|午后|晌午后", (13, 18)),
    (r"傍晚|擦黑|黄昏|天黑前", (17, 19)),
    (r"晚上|黑了|夜里|晚间|夜里头|今晚|明晚|昨晚|晚黑", (18, 22)),
    (r"白天", (8, 18)),
]

_FESTIVALS_LUNAR = {
    "春节|过年|大年初一": (1, 1),
    "元宵节?|正月十五": (1, 15),
    "端午节?|端阳": (5, 5),
    "七夕": (7, 7),
    "中秋节?|八月十五": (8, 15),
    "重阳节?|九月九|九九": (9, 9),
    "腊八节?": (12, 8),
    "小年": (12, 23),
}
_FESTIVALS_SOLAR = {
    "元旦": (1, 1),
    "清明节?": (4, 5),
    "五一|劳动节": (5, 1),
    "六一|儿童节": (6, 1),
    "七一|建党节": (7, 1),
    "八一|建军节": (8, 1),
    "国庆节?|十一长假|十一假期": (10, 1),
}


@dataclass
class _Found:
    start: datetime
    end: datetime
    span_end: int  # where the phrase ended in the text (for a following 前/后)
    is_clock: bool = False


def _day(d: date) -> tuple[datetime, datetime]:
    start = datetime.combine(d, time(0), LOCAL_TZ)
    return start, start + timedelta(days=1)


def _days(d0: date, d1: date) -> tuple[datetime, datetime]:
    return datetime.combine(d0, time(0), LOCAL_TZ), datetime.combine(d1, time(0), LOCAL_TZ)


def _month_start(year: int, month: int) -> date:
    return date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def _festival(today: date, month: int, day: int, *, lunar: bool) -> date | None:
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            d = LunarDate(year, month, day).to_solar_date() if lunar else date(year, month, day)
        except ValueError:
            continue
        if d >= today:
            return d
    return None


def _find_day(text: str, now: datetime) -> _Found | None:
    """The earliest day-level phrase in the text."""
    today = now.date()
    candidates: list[tuple[int, _Found]] = []

    def add(m: re.Match[str], window: tuple[datetime, datetime]) -> None:
        candidates.append((m.start(), _Found(window[0], window[1], m.end())))

    for pattern, offset in _RELATIVE_DAYS:
        for m in re.finditer(pattern, text):
            add(m, _day(today + timedelta(days=offset)))
    for m in re.finditer(r"(下下|下|这|本|这个|上)?个?(?:周|礼拜|星期)([一二三四五六日天七1-7])", text):
        which, weekday = m.group(1) or "", _WEEKDAYS[m.group(2)]
        monday = today - timedelta(days=today.weekday())
        weeks = {"下下": 2, "下": 1, "上": -1}.get(which, 0)
        d = monday + timedelta(days=7 * weeks + weekday)
        if not which and d < today:
            d += timedelta(days=7)
        add(m, _day(d))
    for m in re.finditer(r"(下下|下|这|本|这个)?个?(?:周末|礼拜天礼拜六|星期六星期天)", text):
        weeks = {"下下": 2, "下": 1}.get(m.group(1) or "", 0)
        sat = today - timedelta(days=today.weekday()) + timedelta(days=7 * weeks + 5)
        add(m, _days(max(sat, today), sat + timedelta(days=2)))
    for m in re.finditer(r"(下下|下|这|本)个?(?:周|礼拜|星期)(?![一二三四五六日天七1-7末])", text):
        monday = today - timedelta(days=today.weekday())
        weeks = {"下下": 2, "下": 1}.get(m.group(1), 0)
        start = max(monday + timedelta(days=7 * weeks), today)
        add(m, _days(start, monday + timedelta(days=7 * weeks + 7)))
    for m in re.finditer(rf"({_N})\s*月\s*({_N})\s*[号日]?", text):
        month, day_n = to_int(m.group(1)), to_int(m.group(2))
        if month and day_n and 1 <= month <= 12:
            try:
                d = date(today.year, month, day_n)
            except ValueError:
                continue
            if d < today - timedelta(days=1):
                d = d.replace(year=today.year + 1)
            add(m, _day(d))
    for m in re.finditer(rf"(?<![月\d{CN_DIGITS}单编])({_N})\s*[号日](?![楼院人])", text):
        day_n = to_int(m.group(1))
        if not day_n or not 1 <= day_n <= 31:
            continue
        d = None
        for k in range(0, 3):
            first = _month_start(today.year, today.month + k)
            try:
                cand = first.replace(day=day_n)
            except ValueError:
                continue
            if cand >= today:
                d = cand
                break
        if d:
            add(m, _day(d))
    for m in re.finditer(r"月底|月末|这个月|本月", text):
        nxt = _month_start(today.year, today.month + 1)
        candidates.append((m.start(), _Found(now, _days(today, nxt)[1], m.end())))
    for m in re.finditer(r"下个?月", text):
        add(m, _days(_month_start(today.year, today.month + 1), _month_start(today.year, today.month + 2)))
    for m in re.finditer(r"月中", text):
        first = _month_start(today.year, today.month)
        add(m, _days(first.replace(day=11), first.replace(day=21)))
    for m in re.finditer(r"月初", text):
        first = _month_start(today.year, today.month + (1 if today.day > 5 else 0))
        add(m, _days(max(first, today), first.replace(day=6)))
    for m in re.finditer(r"过两天|过几天|过两日|隔两天", text):
        add(m, _days(today + timedelta(days=1), today + timedelta(days=4)))
    for m in re.finditer(r"这两天|这几天|最近|近两天|这阵子", text):
        add(m, _days(today, today + timedelta(days=3)))
    for m in re.finditer(rf"({_N})\s*天(?:以后|之后|后)", text):
        n = to_int(m.group(1))
        if n is not None and n <= 366:
            add(m, _day(today + timedelta(days=n)))
    # 现在/赶紧 are too often "how is it now" or plain urgency to be read as a time.
    for m in re.finditer(r"马上|立刻|立马", text):
        candidates.append((m.start(), _Found(now, now + timedelta(hours=2), m.end())))
    for m in re.finditer(r"尽快|越快越好|抓紧", text):
        candidates.append((m.start(), _Found(now, now + timedelta(hours=24), m.end())))
    for table, lunar in ((_FESTIVALS_LUNAR, True), (_FESTIVALS_SOLAR, False)):
        for pattern, (month, day_n) in table.items():
            for m in re.finditer(pattern, text):
                if pattern.startswith("清明"):
                    day_n = 4 if today.year % 4 == 0 else 5  # 清明 falls on Apr 4 in leap years
                d = _festival(today, month, day_n, lunar=lunar)
                if d:
                    add(m, _day(d))
    for m in re.finditer(r"除夕|大年三十|年三十", text):
        d = _festival(today, 1, 1, lunar=True)
        if d:
            add(m, _day(d - timedelta(days=1)))
    for m in re.finditer(r"年前|过年前|年底", text):
        d = _festival(today, 1, 1, lunar=True)
        if d:
            candidates.append((m.start(), _Found(now, _day(d)[0], m.end())))
    if not candidates:
        return None
    # Earliest phrase; on a tie the longest (下周三 over 周三).
    candidates.sort(key=lambda c: (c[0], -c[1].span_end))
    return candidates[0][1]


def _find_part(text: str) -> tuple[tuple[int, int], int] | None:
    best: tuple[int, tuple[int, int], int] | None = None
    for pattern, hours in _PARTS:
        # 上午好 is a greeting, 等了一上午 a duration: neither is a time to come.
        for m in re.finditer(rf"(?<!一)(?:{pattern})(?!好)", text):
            if best is None or m.start() < best[0]:
                best = (m.start(), hours, m.end())
    return (best[1], best[2]) if best else None


# 快一点/早点儿 are "a bit", not one o'clock.
_CLOCK = rf"(?<![快早慢好多少大小有差稍])({_N})\s*(?:点钟?)(?![儿点])\s*(半|一刻|三刻|({_N})\s*分?)?"


def _clock_hm(m: re.Match[str], offset: int = 0) -> tuple[int, int] | None:
    hour = to_int(m.group(1 + offset))
    if hour is None or hour > 24:
        return None
    extra = m.group(2 + offset)
    minute = 0
    if extra == "半":
        minute = 30
    elif extra == "一刻":
        minute = 15
    elif extra == "三刻":
        minute = 45
    elif extra:
        minute = to_int(m.group(3 + offset)) or 0
    return (hour, minute) if minute < 60 else None


def _to_24h(hour: int, part: tuple[int, int] | None) -> int:
    if part and part[0] >= 13 and hour < 12:
        return hour + 12
    if part is None and 1 <= hour <= 6:
        return hour + 12
    return hour % 24


def resolve_time(text: str, now: datetime) -> TimeWindow | None:
    """The time window a message talks about, or None."""
    now = now.astimezone(LOCAL_TZ)
    day = _find_day(text, now)
    part = _find_part(text)
    span_end = max(day.span_end if day else 0, part[1] if part else 0)
    hours = part[0] if part else None

    clock_range = re.search(rf"{_CLOCK}\s*(?:到|至|-|~|—)\s*{_CLOCK}", text)
    clock = re.search(_CLOCK, text)
    if day is None and part is None and clock is None:
        return None

    base = day.start if day else datetime.combine(now.date(), time(0), LOCAL_TZ)
    single_day = day is None or day.end - day.start == timedelta(days=1)
    if day is not None and not single_day and part is None and clock is None:
        window = _Found(day.start, day.end, day.span_end)
    elif clock is not None and single_day:
        hm = _clock_hm(clock)
        if hm is None:
            return _finish(text, day, now) if day else None
        start = base + timedelta(hours=_to_24h(hm[0], hours), minutes=hm[1])
        end = start + timedelta(hours=1)
        if clock_range:
            hm2 = _clock_hm(clock_range, offset=3)
            if hm2:
                end2 = base + timedelta(hours=_to_24h(hm2[0], hours), minutes=hm2[1])
                end = end2 if end2 > start else end2 + timedelta(hours=12)
        if day is None and end <= now:
            start, end = start + timedelta(days=1), end + timedelta(days=1)
        span = (clock_range or clock).end()
        window = _Found(start, end, max(span_end, span), is_clock=True)
    elif hours is not None and single_day:
        start = base + timedelta(hours=hours[0])
        end = base + timedelta(hours=hours[1])
        if day is None and end <= now:
            start, end = start + timedelta(days=1), end + timedelta(days=1)
        window = _Found(start, end, span_end)
    elif day is not None:
        window = day
    else:
        return None
    return _finish(text, window, now)


def _finish(text: str, found: _Found, now: datetime) -> TimeWindow:
    """Apply a 前/之前 (before) or 后/以后 (after) that follows the phrase."""
    tail = text[found.span_end : found.span_end + 3]
    if re.match(r"(之前|以前|前)", tail) and found.start > now:
        return TimeWindow(now, found.start)
    if re.match(r"(以后|之后|后)", tail):
        if found.is_clock:
            day_end = datetime.combine(found.start.date(), time(0), LOCAL_TZ) + timedelta(days=1)
            return TimeWindow(found.start, day_end)
        return TimeWindow(found.end, found.end + timedelta(days=7))
    return TimeWindow(found.start, found.end)
