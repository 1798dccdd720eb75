"""Background asyncio work shared by the runtime services: a job repeated on an interval,
and stopping tasks so that nothing is left running after `stop()`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def repeat(
    work: Callable[[], Awaitable[object]],
    interval: float,
    *,
    what: str,
    wake: asyncio.Event | None = None,
    min_gap: float = 0.0,
) -> None:
    """Run `work` every `interval` seconds until cancelled; a failed pass is logged and the
    next one runs.  With `wake`, setting the event starts the next pass early, but no sooner
    than `min_gap` after the last one."""
    while True:
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception:  # a database or network hiccup must not end the job for good
            log.exception("%s failed; retrying", what)
        if wake is None:
            await asyncio.sleep(interval)
            continue
        await asyncio.sleep(min_gap)
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that
        # arrives just as the event fires, and stop() would then hang.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(interval):
                await wake.wait()
        wake.clear()


async def cancel_and_wait(*tasks: asyncio.Task[object] | None) -> None:
    """Cancel the tasks and wait until each has finished."""
    live = [task for task in tasks if task is not None]
    for task in live:
        task.cancel()
    for task in live:
        with contextlib.suppress(asyncio.CancelledError):
            await task
