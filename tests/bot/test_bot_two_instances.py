"""Two instances' outbox and reminder passes on the real PostgreSQL server, run at the same
moment over the same orders: each event's messages and each reminder go out once (the
leases "outbox:telegram" and "reminders", which may go to different instances), and the other
instance carries on once the outbox holder's lease has run out."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from bot import outbox
from bot.channels import Channels
from bot.engine import DialogueEngine
from bot.messages import Notice
from bot.notify import Notifier
from core.actors import Actor
from core.app import AppContext
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from core.lease import lease_for
from orders.service import OrderRequest, OrderService
from tests.peers.keyword_nlu import KeywordNlu

VOLUNTEER = Actor.volunteer("jjz_zhang")
REMINDER = "提醒您"  # how a reminder starts; every other message is the outbox's


class Instance:
    """What one `xiangyin run` holds for these loops: its engine, notifier, leases, sends."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.engine = DialogueEngine(ctx, KeywordNlu(ctx.config))
        self.notifier = Notifier(ctx.db, ctx.config, self.engine.signer)
        self.outbox_lease = lease_for(ctx, self.notifier.cursor_key)
        self.reminder_lease = lease_for(ctx, "reminders")
        self.sent: list[Notice] = []
        self.channels = Channels()
        self.channels.register("tg", self.send)

    async def send(self, notice: Notice) -> bool:
        self.sent.append(notice)
        await asyncio.sleep(0)  # let the other instance run in between
        return True

    def reminders_sent(self) -> list[Notice]:
        return [n for n in self.sent if n.reply.text.startswith(REMINDER)]

    def outbox_sent(self) -> list[Notice]:
        return [n for n in self.sent if not n.reply.text.startswith(REMINDER)]

    async def flush(self) -> int:
        return await outbox.flush(self.notifier, self.engine.run_db, self.ctx.clock, self.send, "tg", self.outbox_lease)

    async def remind(self) -> None:
        await outbox.remind(self.notifier, self.engine, self.ctx.clock, self.channels, self.reminder_lease)


async def test_outbox_and_reminders_once_across_two_instances(config: AppConfig, pg_db: Database) -> None:
    clock = ManualClock()
    other = Database(pg_db.url)
    a = Instance(AppContext(config, pg_db, clock, instance="a"))
    b = Instance(AppContext(config, other, clock, instance="b"))
    try:
        service = OrderService(pg_db, config, clock)
        soon = clock() + timedelta(minutes=40)  # within the hour: a reminder is due

        def accepted_orders(first_resident: int, count: int) -> list[int]:
            """Orders placed by `count` residents from tg:<first_resident> on, each accepted."""
            made = []
            for n in range(count):
                resident = f"tg:{first_resident + n}"
                request = OrderRequest(resident, "haircut", "dongshan", soon, soon + timedelta(hours=1))
                order = service.create(request, Actor.resident(resident))
                service.accept(order.id, VOLUNTEER)
                made.append(order.id)
            return made

        ids = accepted_orders(7300, 6)
        clock.advance(seconds=5)  # past the outbox's settle window on PostgreSQL
        await asyncio.gather(a.flush(), b.flush(), a.remind(), b.remind())
        # Each pass ran on one instance (the two leases may go to different instances).
        assert [len([i for i in (a, b) if i.outbox_sent()]), len([i for i in (a, b) if i.reminders_sent()])] == [1, 1]
        # The outbox's holder dies; more orders are accepted; once its lease ran out the other
        # instance delivers them.
        holder, standby = (a, b) if a.outbox_sent() else (b, a)
        ids += accepted_orders(7400, 3)
        clock.advance(seconds=5)
        await asyncio.gather(standby.flush(), standby.remind())
        assert standby.outbox_sent() == []  # the holder's outbox lease still runs
        clock.advance(seconds=config.cluster.lease_seconds)
        await asyncio.gather(standby.flush(), standby.remind())
        assert standby.outbox_sent()
    finally:
        a.engine.close()
        b.engine.close()
        other.dispose()
    every = [(n.to, n.reply.text) for n in holder.sent + standby.sent]
    assert [pair for pair, k in Counter(every).items() if k > 1] == [], "a message went out twice"
    reminders = [text for to, text in every if to == "tg:900001" and text.startswith(REMINDER)]
    assert len(reminders) == len(ids)  # one reminder per accepted order, whoever sent it
    accepted = [to for to, text in every if "好消息" in text]
    assert sorted(accepted) == sorted(f"tg:{7300 + n}" for n in range(6)) + sorted(f"tg:{7400 + n}" for n in range(3))
