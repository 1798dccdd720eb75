"""The broadcast runtime started by `xiangyin run`: APScheduler 3.x with its job store in the
project database, so generation jobs survive restarts.

- every item gets a job `gen:<id>` at air time − lead_minutes that voices and masters it;
  its misfire grace lasts until air time + air_grace_minutes, so a job missed while the
  process was down still runs at start when the clip can still air, else APScheduler
  reports it missed and the item is marked `missed`;
- `broadcasts:sync` (every 30 s and at start) plans programmes for today and the next
  days, adds jobs for new items (approved from the CLI or the web console in another
  process), marks ready items `aired` once their time has come, and late ones `missed`.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from broadcasts.generate import Generator
from broadcasts.models import BroadcastItem, ItemState
from broadcasts.output import audio_dir, clean_temporaries
from broadcasts.schedule import ScheduleService
from broadcasts.tts import SpeechService
from core.actors import Actor
from core.app import AppContext
from core.clock import local_date, system_clock

log = logging.getLogger(__name__)
SYSTEM = Actor.system("scheduler")
SYNC_SECONDS = 30
_active: BroadcastRuntime | None = None


def poke() -> None:
    """Something changed (an approval in this process): sync now instead of within 30 s."""
    runtime = _active
    if runtime is not None and runtime.scheduler is not None and runtime.scheduler.running:
        runtime.scheduler.modify_job("broadcasts:sync", next_run_time=datetime.now(UTC))


# Job functions are referenced by name in the persistent store ("module:function").
async def generate_job(item_id: int) -> None:
    if _active is not None:
        await _active.generate(item_id)


async def sync_job() -> None:
    if _active is not None:
        await _active.sync()


class BroadcastRuntime:
    name = "broadcasts"

    def __init__(self, ctx: AppContext, speech: SpeechService | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.config.broadcasts
        self.schedule = ScheduleService(ctx)
        self.generator = Generator(ctx, speech)
        self.scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        global _active
        if self.ctx.clock is not system_clock:
            log.warning("broadcast runtime uses wall-clock time for its jobs")
        _active = self
        removed = clean_temporaries(audio_dir(self.ctx.config))
        if removed:
            log.info("removed %d temporary files left by an interrupted write", removed)
        self.reset_interrupted()
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.ctx.db.engine)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.start()
        self.scheduler.add_job(
            sync_job,
            "interval",
            seconds=SYNC_SECONDS,
            id="broadcasts:sync",
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=SYNC_SECONDS,
        )
        log.info("broadcast runtime started")

    async def stop(self) -> None:
        global _active
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if _active is self:
            _active = None
        log.info("broadcast runtime stopped")

    # ------------------------------------------------------------ jobs
    async def generate(self, item_id: int) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)  # type: ignore[arg-type]
        try:
            state = await self.generator.generate(item_id)
            log.info("broadcast item %s: %s", item_id, state.value)
        finally:
            if task is not None:
                self._tasks.discard(task)  # type: ignore[arg-type]

    async def sync(self) -> None:
        now = datetime.now(UTC)
        today = local_date(now)
        for n in range(self.settings.plan_days_ahead + 1):
            self.schedule.plan_day(today + timedelta(days=n))
        self.settle(now)
        self.ensure_jobs(now)

    def ensure_jobs(self, now: datetime) -> int:
        assert self.scheduler is not None
        lead = timedelta(minutes=self.settings.lead_minutes)
        grace = timedelta(minutes=self.settings.air_grace_minutes)
        with self.ctx.db.session() as s:
            rows = s.execute(
                select(BroadcastItem.id, BroadcastItem.air_at).where(
                    BroadcastItem.state == ItemState.scheduled, BroadcastItem.air_at >= now - grace
                )
            ).all()
        added = 0
        for item_id, air_at in rows:
            job_id = f"gen:{item_id}"
            if self.scheduler.get_job(job_id) is not None:
                continue
            run_at = max(now, air_at - lead)
            self.scheduler.add_job(
                generate_job,
                "date",
                run_date=run_at,
                args=[item_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=max(1, int((air_at + grace - run_at).total_seconds())),
            )
            added += 1
        return added

    def settle(self, now: datetime) -> None:
        """Ready clips whose time has come count as aired (they are in the playlist the
        operator plays); clips not ready past their grace are missed."""
        grace = timedelta(minutes=self.settings.air_grace_minutes)
        with self.ctx.db.session() as s:
            due = s.execute(
                select(BroadcastItem.id, BroadcastItem.state).where(
                    BroadcastItem.air_at <= now,
                    BroadcastItem.state.in_([ItemState.ready, ItemState.scheduled]),
                )
            ).all()
            late = s.scalars(
                select(BroadcastItem.id).where(
                    BroadcastItem.air_at < now - grace, BroadcastItem.state == ItemState.scheduled
                )
            ).all()
        for item_id, state in due:
            if state == ItemState.ready:
                self.schedule.move(item_id, ItemState.aired, [ItemState.ready], SYSTEM)
        for item_id in late:
            self.schedule.move(item_id, ItemState.missed, [ItemState.scheduled], SYSTEM, error="未能按时生成")

    def reset_interrupted(self) -> None:
        """Items left `generating` by a crash go back to `scheduled` (their job reruns)."""
        with self.ctx.db.session() as s:
            stuck = s.scalars(select(BroadcastItem.id).where(BroadcastItem.state == ItemState.generating)).all()
        for item_id in stuck:
            self.schedule.move(item_id, ItemState.scheduled, [ItemState.generating], SYSTEM)

    def _on_missed(self, event: JobExecutionEvent) -> None:
        if not event.job_id.startswith("gen:"):
            return
        item_id = int(event.job_id.split(":", 1)[1])
        log.warning("generation job for item %s missed its window", item_id)
        self.schedule.move(item_id, ItemState.missed, [ItemState.scheduled], SYSTEM, error="程序停止期间错过了生成时间")
