"""The broadcast runtime started by `xiangyin run`. The items table is the schedule.

Every item row says when it airs and how far it has got, so the runtime keeps no job store of
its own: each pass (`tick`) looks at the injected clock and the table and
- plans the programmes of today and the next `plan_days_ahead` days (on its first pass and
  when the local day changes);
- voices the items whose air time is less than `lead_minutes` away, earliest first,
  `WORKERS` at a time (the voicing runs in the background; `drain()` waits for it);
- counts ready clips whose time has come as aired, and items still not voiced
  `air_grace_minutes` after their time as missed.
A pass runs every `tick_seconds`, and sooner when the broadcast outbox (`broadcasts.events`)
shows an approval, a withdrawal, an edit or a planned day made by any process: the web
console, the bot, the CLI. Nothing is lost by a crash or a stop: the first pass after a start
catches up from the table (items left `generating` go back to `scheduled` first).

Several instances on one PostgreSQL: only the holder of the lease "broadcasts"
(`core.lease`) plans, voices and marks items; the others try to take it every third of the
lease time. The holder renews it in the background; when it dies, another instance takes it
over once it has expired and starts with the same catch-up as after a crash. Every item move
is a compare-and-set besides, so even a holder that lost its lease unawares cannot air or
voice an item twice. On SQLite (one instance) the lease is always held.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

from broadcasts.events import BroadcastOutbox
from broadcasts.generate import Generator
from broadcasts.output import audio_dir, clean_temporaries
from broadcasts.planner import Planner
from broadcasts.schedule import ScheduleService
from broadcasts.tts import SpeechService
from core.actors import Actor
from core.app import AppContext
from core.clock import local_date
from core.lease import Lease, lease_for
from core.tasks import cancel_and_wait, repeat

log = logging.getLogger(__name__)
SYSTEM = Actor.system("scheduler")
TICK_SECONDS = 15.0  # the latest a due clip waits for its pass
POLL_SECONDS = 1.0  # how often the outbox is looked at between passes
WORKERS = 4  # items voiced at once (synthesis waits on edge-tts or espeak-ng)
LEASE = "broadcasts"


class BroadcastRuntime:
    name = "broadcasts"

    def __init__(
        self,
        ctx: AppContext,
        speech: SpeechService | None = None,
        *,
        tick_seconds: float = TICK_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        lease: Lease | None = None,
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.config.broadcasts
        self.schedule = ScheduleService(ctx)
        self.planner = Planner(ctx)
        self.generator = Generator(ctx, speech)
        self.outbox = BroadcastOutbox(ctx.db)
        self.tick_seconds = tick_seconds
        self.poll_seconds = poll_seconds
        self.cursor = 0  # the last outbox event seen
        self.planned_on: date | None = None  # the local day the plan was last made on
        self._queue: asyncio.PriorityQueue[tuple[float, int]] = asyncio.PriorityQueue()
        self._queued: set[int] = set()
        self._workers: list[asyncio.Task[None]] = []
        self._loop: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self.lease = lease or lease_for(ctx, LEASE)
        self.holding = False  # this instance runs the schedule (it holds the lease)

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Pass every `tick_seconds` in the background; the first pass that holds the lease
        recovers from an interrupted run first."""
        self._loop = asyncio.create_task(self._run(), name="broadcasts")
        renew = repeat(self.renew_lease, self.lease.ttl_seconds / 3, what="broadcast lease")
        self._keeper = asyncio.create_task(renew, name="broadcasts-lease")
        log.info("broadcast runtime started")

    async def stop(self) -> None:
        loop, keeper, self._loop, self._keeper = self._loop, self._keeper, None, None
        await cancel_and_wait(loop, keeper)
        await self.stop_workers()
        if self.holding:
            self.holding = False
            await asyncio.to_thread(self.lease.release)  # another instance takes over at once
        log.info("broadcast runtime stopped")

    # ------------------------------------------------------------ the lease
    async def take_lease(self) -> bool:
        """Whether this instance runs the schedule now. Taking it over (at the first pass, or
        from an instance that died) starts with the catch-up after a crash."""
        held = await asyncio.to_thread(self.lease.acquire)
        if held and not self.holding:
            await self.recover()
            self.planned_on = None
            self.holding = True
        elif not held and self.holding:
            await self._lost()
        return held

    async def renew_lease(self) -> None:
        """The holder's renewal, every third of the lease time (a long pass keeps it too)."""
        if self.holding and not await asyncio.to_thread(self.lease.acquire):
            await self._lost()

    async def _lost(self) -> None:
        """Another instance holds the schedule now: stop voicing, forget what was queued."""
        log.warning("broadcast scheduler lease lost; this instance stands by")
        self.holding = False
        self.planned_on = None
        await self.stop_workers()

    async def recover(self) -> None:
        """What a crash may have left: temporary files, items stuck in `generating`."""
        removed = await asyncio.to_thread(clean_temporaries, audio_dir(self.ctx.config))
        if removed:
            log.info("removed %d temporary files left by an interrupted write", removed)
        reset = await asyncio.to_thread(self.schedule.reset_generating, SYSTEM)
        if reset:
            log.info("%d items interrupted while being voiced are scheduled again", reset)
        self.cursor = await asyncio.to_thread(self.outbox.latest)
        self.start_workers()

    def start_workers(self) -> None:
        while len(self._workers) < WORKERS:
            self._workers.append(asyncio.create_task(self._voice(), name=f"broadcasts-voice-{len(self._workers)}"))

    async def stop_workers(self) -> None:
        workers, self._workers = self._workers, []
        await cancel_and_wait(*workers)
        self._queue = asyncio.PriorityQueue()
        self._queued.clear()

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the runtime for good
                log.exception("broadcast pass failed; retrying")
            await self._wait_for_news()

    async def _wait_for_news(self) -> None:
        """Sleep until the next pass, or until the outbox shows a change. An instance standing
        by tries the lease again after a third of the lease time."""
        waited = 0.0
        limit = self.tick_seconds if self.holding else min(self.tick_seconds, self.lease.ttl_seconds / 3)
        while waited < limit:
            await asyncio.sleep(self.poll_seconds)
            waited += self.poll_seconds
            if self.holding and await self.read_outbox():
                return

    async def read_outbox(self) -> bool:
        """Move the cursor over the outbox; True when it held a schedule change."""
        self.cursor, events = await asyncio.to_thread(self.outbox.poll, self.cursor)
        for event in events:
            log.info("broadcast outbox: %s", event.describe())
        return bool(events)

    # ------------------------------------------------------------ one pass
    async def tick(self) -> int:
        """One pass at the clock's time; returns how many items it queued for voicing
        (none when another instance holds the schedule)."""
        if not await self.take_lease():
            return 0
        now = self.ctx.clock()
        await self.read_outbox()
        today = local_date(now)
        if self.planned_on != today:
            await asyncio.to_thread(self.plan, today)
            self.planned_on = today
        await asyncio.to_thread(self.schedule.air_due, now, SYSTEM)
        await asyncio.to_thread(self.schedule.miss_late, now, SYSTEM)
        due = await asyncio.to_thread(self.schedule.due_for_voicing, now)
        queued = 0
        for item_id, air_at in due:
            if item_id not in self._queued:
                self._queued.add(item_id)
                self._queue.put_nowait((air_at.timestamp(), item_id))
                queued += 1
        return queued

    def plan(self, today: date) -> int:
        days = range(self.settings.plan_days_ahead + 1)
        return sum(self.planner.plan_day(today + timedelta(days=n)) for n in days)

    async def drain(self) -> None:
        """Wait until every queued item has been voiced (tests, a clean stop)."""
        await self._queue.join()

    async def _voice(self) -> None:
        while True:
            _, item_id = await self._queue.get()
            try:
                if not self.lease.held():  # lost meanwhile: the new holder voices it
                    continue
                state = await self.generator.generate(item_id)
                log.info("broadcast item %s: %s", item_id, state.value)
            except asyncio.CancelledError:
                raise
            except Exception:  # one broken item must not stop the others
                log.exception("voicing broadcast item %s failed", item_id)
            finally:
                self._queued.discard(item_id)
                self._queue.task_done()
