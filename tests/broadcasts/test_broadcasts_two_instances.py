"""Two broadcast runtimes (two instances, each with its own connection pool) on the real
PostgreSQL server, one shared moved clock: only the lease holder plans, voices and airs; the
holder dies mid-voicing at 11:30 and the other takes over within the lease time; over the
whole day every item is voiced once and aired once, none is missed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from bc_support import make_ctx
from sqlalchemy import func, select

from broadcasts.models import BroadcastAudit, ItemState, Priority
from broadcasts.runtime import BroadcastRuntime
from broadcasts.service import AnnouncementDraft, BroadcastService
from core.actors import Actor
from core.app import AppContext
from core.clock import LOCAL_TZ, ManualClock
from core.config import AppConfig
from core.db import Database

COUNTY, SYSTEM = Actor.staff("county_admin"), Actor.system("test")
DAY = date(2026, 6, 1)
LEASE_SECONDS = 600  # ten minutes: the simulation moves the clock five at a time
STEP = timedelta(minutes=5)


def at(hhmm: str) -> datetime:
    return datetime.combine(DAY, datetime.strptime(hhmm, "%H:%M").time(), tzinfo=LOCAL_TZ)


@pytest.fixture
def instances(config: AppConfig, pg_db: Database, tmp_path: Path) -> Iterator[tuple[AppContext, AppContext]]:
    clock = ManualClock(at("05:00"))
    config = config.model_copy(update={"cluster": config.cluster.model_copy(update={"lease_seconds": LEASE_SECONDS})})
    other = Database(pg_db.url)  # the second instance's own engine and pool
    a = make_ctx(config, pg_db, tmp_path, clock, edge_enabled=False)
    b = make_ctx(config, other, tmp_path, clock, edge_enabled=False)
    yield AppContext(a.config, a.db, clock, instance="a"), AppContext(b.config, b.db, clock, instance="b")
    other.dispose()


async def step(clock: ManualClock, *runtimes: BroadcastRuntime) -> list[int]:
    """One loop turn of each live instance at the clock's time, then the clock moves on."""
    queued = []
    for runtime in runtimes:
        queued.append(await runtime.tick())
        await runtime.drain()
    clock.now += STEP
    return queued


def audit_counts(ctx: AppContext, action: str) -> Counter[int]:
    with ctx.db.session() as s:
        rows = s.execute(
            select(BroadcastAudit.item_id, func.count())
            .where(BroadcastAudit.action == action)
            .group_by(BroadcastAudit.item_id)
        ).all()
    return Counter({item_id: n for item_id, n in rows})


async def test_one_holder_runs_the_day_and_the_other_takes_over_when_it_dies(
    instances: tuple[AppContext, AppContext],
) -> None:
    ctx_a, ctx_b = instances
    clock = ctx_a.clock
    assert isinstance(clock, ManualClock)
    a, b = BroadcastRuntime(ctx_a), BroadcastRuntime(ctx_b)
    svc = BroadcastService(ctx_a)
    try:
        # 05:00–11:30: a took the lease first and does everything; b only stands by.
        while clock() < at("11:30"):
            _, queued_b = await step(clock, a, b)
            assert a.holding and not b.holding and queued_b == 0
        assert a.generator.stats.items > 0 and b.generator.stats.items == 0
        # 11:30 a dies (kill -9: no release, no more renewals) while voicing a 12:00 clip.
        doomed = next(i for i in svc.day(DAY, SYSTEM) if i.state is ItemState.scheduled and i.hhmm == "12:00")
        assert a.schedule.move(doomed.id, ItemState.generating, [ItemState.scheduled], SYSTEM)
        died = clock()
        await a.stop_workers()
        # b takes the schedule over within the lease time, resets the interrupted clip, goes on.
        while not b.holding:
            await step(clock, b)
            assert clock() <= died + timedelta(seconds=LEASE_SECONDS) + STEP, "b did not take over in time"
        # An urgent notice approved after the takeover is voiced by b.
        urgent = BroadcastService(ctx_b).draft(
            AnnouncementDraft("停电通知:今天下午两点到四点停电检修。", ["dongshan"], priority=Priority.urgent), COUNTY
        )
        BroadcastService(ctx_b).approve(urgent.id, COUNTY)
        while clock() < at("23:55"):
            await step(clock, b)
    finally:
        await b.stop()
        await a.stop_workers()

    items = svc.day(DAY, SYSTEM)
    slots = sum(len(v.slots) for v in ctx_a.config.villages.values())
    assert len(items) == slots + 2  # the programmes and the urgent notice's two airings
    assert Counter(i.state for i in items) == {ItemState.aired: slots + 2}, "a slot was missed or failed"
    assert all(svc.recording(i) is not None for i in items)
    ids = {i.id for i in items}
    voiced, aired, claimed = (audit_counts(ctx_a, f"item_{s}") for s in ("ready", "aired", "generating"))
    assert {i: voiced[i] for i in ids} == dict.fromkeys(ids, 1), "an item was voiced twice or never"
    assert {i: aired[i] for i in ids} == dict.fromkeys(ids, 1)
    # Only the clip a was voicing when it died was claimed twice (by a, then by b).
    assert [i for i in ids if claimed[i] != 1] == [doomed.id] and claimed[doomed.id] == 2
    assert a.generator.stats.items + b.generator.stats.items == len(ids)
    # The day was planned once per village (b's takeover found every slot filled).
    with ctx_a.db.session() as s:
        planned = s.scalars(select(BroadcastAudit.detail).where(BroadcastAudit.action == "programmes_planned")).all()
    today = [d for d in planned if DAY.isoformat() in d]
    assert len(today) == len(ctx_a.config.villages) == len(set(today))
