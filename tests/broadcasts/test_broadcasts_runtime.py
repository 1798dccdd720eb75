"""The runtime on a moved clock: a whole broadcast day without waiting, a restart after a
crash, and the outbox waking the running loop when an announcement is approved."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from bc_support import make_ctx

from broadcasts.models import ItemKind, ItemState, PlanKind, Priority
from broadcasts.runtime import BroadcastRuntime
from broadcasts.service import AnnouncementDraft, BroadcastService
from broadcasts.views import ItemView
from core.actors import Actor
from core.app import AppContext
from core.clock import LOCAL_TZ, ManualClock
from core.config import AppConfig
from core.db import Database

ADMIN, APPROVER = Actor.staff("dongshan_staffer"), Actor.staff("qingshi_head")
COUNTY = Actor.staff("county_admin")  # admin and approver everywhere
SYSTEM = Actor.system("test")
DAY = date(2026, 6, 1)


def at(hhmm: str, day: date = DAY) -> datetime:
    return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), tzinfo=LOCAL_TZ)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at("05:00"))


@pytest.fixture
def ctx(config: AppConfig, sqlite_db: Database, tmp_path: Path, clock: ManualClock) -> AppContext:
    return make_ctx(config, sqlite_db, tmp_path, clock, edge_enabled=False)


async def run_until(runtime: BroadcastRuntime, clock: ManualClock, until: datetime, minutes: int = 5) -> None:
    """What the runtime's loop does, pass by pass, with the clock moved instead of waited for."""
    while clock() < until:
        clock.advance(minutes=minutes)
        await runtime.tick()
        await runtime.drain()


def day_items(ctx: AppContext, day: date = DAY) -> list[ItemView]:
    return BroadcastService(ctx).day(day, SYSTEM)


def states(items: list[ItemView]) -> Counter[str]:
    return Counter(i.state.value for i in items)


def announce(ctx: AppContext, text: str, villages: list[str], **plan: object) -> int:
    svc = BroadcastService(ctx)
    a = svc.draft(AnnouncementDraft(text, villages, **plan), COUNTY)  # type: ignore[arg-type]
    svc.approve(a.id, COUNTY)
    return a.id


async def test_a_whole_broadcast_day_on_a_moved_clock(ctx: AppContext, clock: ManualClock) -> None:
    runtime = BroadcastRuntime(ctx)
    svc = BroadcastService(ctx)
    slots = sum(len(v.slots) for v in ctx.config.villages.values())
    await runtime.recover()
    try:
        # 05:00: the first pass plans today and tomorrow; nothing is due yet.
        await runtime.tick()
        today = day_items(ctx)
        assert len(today) == slots and states(today) == {"scheduled": slots}
        assert len(day_items(ctx, DAY + timedelta(days=1))) == slots
        # 05:30: shimen's 06:00 slot is within the lead time (30 min): voiced ahead.
        await run_until(runtime, clock, at("05:30"))
        by_time = Counter((i.hhmm, i.state.value) for i in day_items(ctx))
        assert by_time[("06:00", "ready")] == 1 and by_time[("06:30", "scheduled")] == 4
        # 06:05: on air at 06:00 → aired; the 06:30 clips are ready ahead of their slot.
        await run_until(runtime, clock, at("06:05"))
        by_time = Counter((i.hhmm, i.state.value) for i in day_items(ctx))
        assert by_time[("06:00", "aired")] == 1 and by_time[("06:30", "ready")] == 4

        # 09:00 a flood warning: urgent, on air two minutes after approval, and at the next slot.
        await run_until(runtime, clock, at("09:00"))
        urgent = announce(ctx, "河水上涨,请沿河住户马上转移到村委会。", ["dongshan"], priority=Priority.urgent)
        await runtime.tick()  # what the outbox's "approved" does to the running loop
        await runtime.drain()
        await run_until(runtime, clock, at("09:05"))
        airings = svc.announcement(urgent, COUNTY).items
        assert [(i.hhmm, i.state) for i in sorted(airings, key=lambda i: i.air_at)] == [
            ("09:02", ItemState.aired), ("12:00", ItemState.scheduled)
        ]  # fmt: skip

        # 10:55 → 12:30 the process is down: the 11:30 and 12:00 slots pass unvoiced.
        await run_until(runtime, clock, at("10:55"))
        clock.now = at("12:30")
        await runtime.tick()
        missed = [i for i in day_items(ctx) if i.state is ItemState.missed]
        assert sorted({i.hhmm for i in missed}) == ["11:30", "12:00"]
        assert len(missed) == 5 + 1  # five villages' programmes and the urgent notice's second airing
        assert all(i.audio_path is None and i.error for i in missed)

        # 13:00 an announcement for xihe's evening slot, withdrawn at 14:00: never voiced.
        withdrawn = announce(ctx, "今晚七点在村委会开会。", ["xihe"], plan=PlanKind.next_slots, count=1)
        await run_until(runtime, clock, at("14:00"))
        svc.withdraw(withdrawn, COUNTY)
        # 15:00 one for dongshan's 18:30 slot, voiced at 18:00, then edited at 18:10: its file
        # goes, it is a draft again, and approved again its airing moves to tomorrow morning.
        await run_until(runtime, clock, at("15:00"))
        edited = announce(ctx, "明天上午九点开展义诊。", ["dongshan"], plan=PlanKind.next_slots, count=1)
        await run_until(runtime, clock, at("18:10"))
        (voiced,) = svc.announcement(edited, COUNTY).items
        recording = svc.recording(voiced)
        assert voiced.state is ItemState.ready and recording is not None
        view = svc.edit(edited, COUNTY, text="后天上午九点开展义诊。")
        assert view.status.value == "draft" and not recording.exists()
        svc.approve(edited, COUNTY)
        await run_until(runtime, clock, at("23:55"))
    finally:
        await runtime.stop()

    today = day_items(ctx)
    assert states(today) == {"aired": slots - 5 + 1, "missed": 6, "cancelled": 2}
    assert all(svc.recording(i) is not None for i in today if i.state is ItemState.aired)
    cancelled = [i for i in today if i.state is ItemState.cancelled]
    assert {i.announcement_id for i in cancelled} == {withdrawn, edited}
    assert next(i for i in cancelled if i.announcement_id == withdrawn).audio_path is None
    again = [i for i in svc.announcement(edited, COUNTY).items if i.state is not ItemState.cancelled]
    assert [(i.local_air_at.date(), i.hhmm) for i in again] == [(DAY + timedelta(days=1), "06:30")]
    # The playlists list exactly the clips that aired, in air order.
    playlist = svc.playlist("dongshan", DAY)
    assert playlist is not None
    lines = [line for line in playlist.read_text(encoding="utf-8").splitlines() if line.endswith(".mp3")]
    aired = [i for i in today if i.village_id == "dongshan" and i.state is ItemState.aired]
    assert len(aired) == 3 and lines == [f"dongshan/{Path(i.audio_path or '').name}" for i in aired]
    # A programme aired in several villages in the same voice was mastered once.
    voiced = [i for i in today if i.kind is ItemKind.programme and i.engine]
    assert runtime.generator.stats.masters_made < len(voiced) and runtime.generator.stats.masters_reused > 0


async def test_a_restart_after_a_crash_voices_what_was_interrupted(ctx: AppContext, clock: ManualClock) -> None:
    first = BroadcastRuntime(ctx)
    await first.recover()
    await first.tick()  # plans the day
    await first.stop()
    item = next(i for i in day_items(ctx) if i.village_id == "shimen" and i.hhmm == "06:00")
    svc = BroadcastService(ctx)
    # The process died while voicing it: the row says generating, a temporary file is left.
    assert first.schedule.move(item.id, ItemState.generating, [ItemState.scheduled], SYSTEM)
    leftover = svc.audio_root / "2026-06-01" / "shimen" / ".0600_x.mp3.123.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"half")
    clock.now = at("05:45")
    second = BroadcastRuntime(ctx)
    await second.recover()
    try:
        assert svc.item(item.id, SYSTEM).state is ItemState.scheduled and not leftover.exists()
        await second.tick()
        await second.drain()
    finally:
        await second.stop()
    assert svc.item(item.id, SYSTEM).state is ItemState.ready


async def test_an_approval_wakes_the_running_loop_through_the_outbox(ctx: AppContext, clock: ManualClock) -> None:
    """The loop's own tick is an hour; the approval (made as the web console would, through
    the door) is seen in the outbox within a poll and its urgent airing voiced at once."""
    clock.now = at("09:00")
    runtime = BroadcastRuntime(ctx, tick_seconds=3600, poll_seconds=0.05)
    await runtime.start()
    try:
        await asyncio.sleep(0.3)  # the first pass has run and the loop sleeps
        urgent = announce(ctx, "停水通知:今天下午两点到五点停水。", ["xihe"], priority=Priority.urgent)
        item = next(i for i in BroadcastService(ctx).announcement(urgent, COUNTY).items if i.hhmm == "09:02")
        for _ in range(300):
            if BroadcastService(ctx).item(item.id, SYSTEM).state is ItemState.ready:
                break
            await asyncio.sleep(0.1)
    finally:
        await runtime.stop()
    assert BroadcastService(ctx).item(item.id, SYSTEM).state is ItemState.ready
