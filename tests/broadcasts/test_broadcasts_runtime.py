"""The runtime with APScheduler's SQLAlchemy job store: restart mid-day, missed jobs."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from bc_fakes import make_ctx

from broadcasts.announcements import AnnouncementDraft, AnnouncementService
from broadcasts.models import ItemState, PlanKind
from broadcasts.output import audio_dir, playlist_path
from broadcasts.runtime import BroadcastRuntime
from broadcasts.schedule import ScheduleService
from core.actors import Actor
from core.clock import local, system_clock
from core.config import AppConfig
from core.db import Database

ADMIN, APPROVER = Actor.staff("dongshan_staffer"), Actor.staff("qingshi_head")


def ctx_for(config: AppConfig, db: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    # Jobs run on wall-clock time; lead 1 minute, no planning of programmes (one item only).
    ctx = make_ctx(config, db, tmp_path, edge_enabled=False, lead_minutes=1, air_grace_minutes=1)
    ctx.clock = system_clock
    return ctx


async def wait_for(predicate, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached")


def approve_once(ctx, at: datetime) -> int:  # type: ignore[no-untyped-def]
    svc = AnnouncementService(ctx)
    a = svc.draft(AnnouncementDraft("今晚八点在村委会开会。", ["dongshan"], plan=PlanKind.once, at=at), ADMIN)
    svc.approve(a.id, APPROVER)
    return svc.get(a.id, ADMIN).items[0].id


async def test_restart_in_the_middle_of_the_day(config: AppConfig, sqlite_db: Database, tmp_path: Path) -> None:
    ctx = ctx_for(config, sqlite_db, tmp_path)
    item_id = approve_once(ctx, datetime.now(UTC) + timedelta(seconds=63))  # generation due in ~3 s
    first = BroadcastRuntime(ctx)
    await first.start()
    await wait_for(lambda: first.scheduler.get_job(f"gen:{item_id}") is not None)  # type: ignore[union-attr]
    await first.stop()  # the process goes down before the job is due …
    await asyncio.sleep(4)  # … and the job's time passes while it is down
    assert ScheduleService(ctx).item(item_id).state is ItemState.scheduled
    second = BroadcastRuntime(ctx)  # a new process: the job comes back from the database
    await second.start()
    try:
        await wait_for(lambda: ScheduleService(ctx).item(item_id).state is ItemState.ready)
    finally:
        await second.stop()
    item = ScheduleService(ctx).item(item_id)
    assert (audio_dir(ctx.config) / (item.audio_path or "")).exists() and item.fallback_voice
    day = local(item.air_at).date()
    assert Path(item.audio_path or "").name in playlist_path(ctx.config, "dongshan", day).read_text()


async def test_job_missed_while_down_marks_the_item_missed(
    config: AppConfig, sqlite_db: Database, tmp_path: Path
) -> None:
    ctx = ctx_for(config, sqlite_db, tmp_path)
    item_id = approve_once(ctx, datetime.now(UTC) + timedelta(hours=2))
    first = BroadcastRuntime(ctx)
    await first.start()
    await wait_for(lambda: first.scheduler.get_job(f"gen:{item_id}") is not None)  # type: ignore[union-attr]
    await first.stop()
    # Down for hours: the air time and its grace are over when the process comes back.
    store = SQLAlchemyJobStore(engine=sqlite_db.engine)
    job = store.lookup_job(f"gen:{item_id}")
    assert job is not None
    job.next_run_time = datetime.now(UTC) - timedelta(hours=3)
    job.misfire_grace_time = 60
    store.update_job(job)
    second = BroadcastRuntime(ctx)
    await second.start()
    try:
        await wait_for(lambda: ScheduleService(ctx).item(item_id).state is ItemState.missed)
    finally:
        await second.stop()
    assert ScheduleService(ctx).item(item_id).audio_path is None
