"""The deadline sweep as a runtime service: `xiangyin run` starts it whatever front ends run.

Every `interval` seconds it calls `OrderService.expire_overdue` (escalate a tier up, or flag
to admins) on a worker thread.  The sweep reads its work from the orders table, so it needs
no persistent job: after a crash or a stop the first pass catches up on every missed deadline.
Several processes may sweep at once (`xiangyin orders sweep` from cron, say): each move is a
compare-and-set, so an order is escalated once.
"""

from __future__ import annotations

import asyncio
import logging

from core.app import AppContext
from core.tasks import cancel_and_wait, repeat
from orders.service import OrderService

log = logging.getLogger(__name__)
SWEEP_SECONDS = 60.0


class DeadlineSweeper:
    name = "deadline-sweep"

    def __init__(self, ctx: AppContext, interval: float = SWEEP_SECONDS) -> None:
        self.orders = OrderService(ctx.db, ctx.config, ctx.clock)
        self.interval = interval
        self.passes = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        job = repeat(self.sweep_once, self.interval, what="deadline sweep")
        self._task = asyncio.create_task(job, name="deadline-sweep")

    async def stop(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)

    async def sweep_once(self) -> int:
        """One pass; returns how many orders were escalated or expired."""
        changed = await asyncio.to_thread(self.orders.expire_overdue)
        self.passes += 1
        if changed:
            log.info("deadline sweep: %d orders escalated or expired", len(changed))
        return len(changed)


__all__ = ["SWEEP_SECONDS", "DeadlineSweeper"]
