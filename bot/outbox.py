"""The outbox pass and the reminders, shared by the channels.

A pass sends every new order event's notices for one channel and moves that channel's
cursor after each event (a crash resends at most one event's messages, loses none).

Several instances on one PostgreSQL each run these loops; a pass does its work only while
its instance holds the consumer's lease (`core.lease`: "outbox:telegram", "outbox:wechat",
"reminders"), renewed before each event, so each event's messages and each reminder go out
once. On SQLite the lease is always held."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels import Channels, Sender, channel_of
from bot.engine import DialogueEngine
from bot.notify import Notifier
from bot.state import PROCESSED_TTL
from core.clock import Clock
from core.lease import Lease

RunDb = Callable[..., Awaitable[Any]]


async def flush(
    notifier: Notifier, run_db: RunDb, clock: Clock, send: Sender, channel: str, lease: Lease | None = None
) -> int:
    sent = 0
    while True:
        if lease is not None and not await run_db(lease.acquire):
            return sent  # another instance delivers this channel's events
        batch = await run_db(notifier.pending, clock())
        if not batch:
            return sent
        for item in batch:
            if lease is not None and not await run_db(lease.acquire):
                return sent  # lost the lease (e.g. a long stall): the new holder goes on from the cursor
            for notice in item.notices:
                if channel_of(notice.to) != channel:
                    continue
                if not await send(notice):
                    return sent  # the channel is unreachable: resume from this event later
                sent += 1
            await run_db(notifier.advance, item.event_id)


async def remind(
    notifier: Notifier, engine: DialogueEngine, clock: Clock, channels: Channels, lease: Lease | None = None
) -> None:
    """Reminders before the agreed time, on whichever channel the volunteer uses, and
    forgetting old processed-update keys.  Runs in one front end only (see `xiangyin run`),
    on the instance holding the lease "reminders"."""
    if lease is not None and not await engine.run_db(lease.acquire):
        return
    now = clock()
    for order_id, notice in await engine.run_db(notifier.due_reminders, now):
        if lease is not None and not await engine.run_db(lease.acquire):
            return  # lost the lease meanwhile: the new holder sends the rest
        if channels.handles(notice.to) and await channels.send(notice):
            await engine.run_db(notifier.mark_reminded, order_id, now)
    await engine.run_db(engine.store.prune, now - PROCESSED_TTL)
