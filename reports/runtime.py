"""The reports' background work as a runtime service of `xiangyin run`: every few minutes the
award pass (points for new 完成/评单) and the 1st-of-month job (`monthly_bulletins`), which
fills in last month's bulletins when they are missing — on the 1st, or at the first start
after it if the station was switched off. Both are safe on several instances at once (awards
once per event and rule, a bulletin archived once per area and month); the lease "reports"
(`core.lease`) besides keeps a second instance from spending the same seconds of CPU on a
bulletin another one is making."""

from __future__ import annotations

import asyncio
import logging

from core.app import AppContext
from core.lease import lease_for
from core.tasks import cancel_and_wait, repeat
from reports.archive import monthly_bulletins
from reports.points import PointsLedger

log = logging.getLogger(__name__)
PASS_SECONDS = 300.0
FIRST_AFTER = 120.0


class ReportsRuntime:
    name = "reports"

    def __init__(self, ctx: AppContext, interval: float = PASS_SECONDS, first_after: float = FIRST_AFTER) -> None:
        self.ctx = ctx
        self.interval = interval
        self.first_after = first_after
        self.lease = lease_for(ctx, "reports")
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="reports")

    async def _loop(self) -> None:
        # Not at once: a bulletin is seconds of CPU, and the start-up of the other parts
        # (console, Rasa) comes first.
        await asyncio.sleep(self.first_after)
        await repeat(self.run_once, self.interval, what="reports pass")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await asyncio.to_thread(self.lease.release)

    async def run_once(self) -> None:
        await asyncio.to_thread(self._work)

    def _work(self) -> None:
        if not self.lease.acquire():
            return  # another instance does this pass
        awarded = PointsLedger(self.ctx.db, self.ctx.config, self.ctx.clock).award_pass()
        if awarded:
            log.info("reports: %d points awards booked", awarded)
        monthly_bulletins(self.ctx, self.ctx.clock())


__all__ = ["PASS_SECONDS", "ReportsRuntime"]
