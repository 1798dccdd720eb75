"""The outbox pass and the reminders, shared by the channels.

A pass sends every new order event's notices for one channel and moves that channel's
cursor after each event (a crash resends at most one event's messages, loses none)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.channels import Channels, Sender, channel_of
from bot.engine import DialogueEngine
from bot.notify import Notifier
from bot.state import PROCESSED_TTL
from core.clock import Clock

RunDb = Callable[..., Awaitable[Any]]


async def flush(notifier: Notifier, run_db: RunDb, clock: Clock, send: Sender, channel: str) -> int:
    sent = 0
    while True:
        batch = await run_db(notifier.pending, clock())
        if not batch:
            return sent
        for item in batch:
            for notice in item.notices:
                if channel_of(notice.to) != channel:
                    continue
                if not await send(notice):
                    return sent  # the channel is unreachable: resume from this event later
                sent += 1
            await run_db(notifier.advance, item.event_id)


async def remind(notifier: Notifier, engine: DialogueEngine, clock: Clock, channels: Channels) -> None:
    """Reminders before the agreed time, on whichever channel the volunteer uses, and
    forgetting old processed-update keys.  Runs in one front end only (see `xiangyin run`)."""
    now = clock()
    for order_id, notice in await engine.run_db(notifier.due_reminders, now):
        if channels.handles(notice.to) and await channels.send(notice):
            await engine.run_db(notifier.mark_reminded, order_id, now)
    await engine.run_db(engine.store.prune, now - PROCESSED_TTL)
