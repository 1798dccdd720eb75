"""The outbox (order history → messages) with its persistent cursor, reminders, and
/announce into the broadcast approval flow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from bot.callbacks import CallbackSigner
from bot.engine import DialogueEngine
from bot.notify import Notifier
from core.actors import Actor
from core.app import AppContext
from core.clock import ManualClock
from core.config import AppConfig
from core.db import Database
from orders.models import OrderEvent
from orders.service import OrderRequest, OrderService
from tests.bot.conftest import ChatDriver, ShiftClock, text_of


def place(ctx: AppContext, start_in: timedelta, resident: str = "tg:555001") -> int:
    now = ctx.clock()
    request = OrderRequest(
        resident_key=resident, service_id="haircut", village_id="dongshan",
        window_start=now + start_in, window_end=now + start_in + timedelta(hours=4),
    )  # fmt: skip
    return OrderService(ctx.db, ctx.config, ctx.clock).create(request, Actor.resident(resident)).id


def test_outbox_cursor_survives_a_new_notifier(bot_ctx: AppContext) -> None:
    signer = CallbackSigner.from_db(bot_ctx.db)
    first = Notifier(bot_ctx.db, bot_ctx.config, signer)
    order_id = place(bot_ctx, timedelta(days=1))
    batch = first.pending(bot_ctx.clock())
    assert [len(b.notices) for b in batch] == [0, 2]  # placed (told in chat), dispatched (2 offers)
    offers = batch[1].notices
    assert {n.to for n in offers} == {"tg:900001", "tg:900002"}
    assert all(signer.verify(n.to, n.reply.buttons[0][0].data) == ["a", str(order_id)] for n in offers)
    first.advance(batch[0].event_id)
    # "Crash" before the second event's messages were confirmed: a new process resends them.
    second = Notifier(bot_ctx.db, bot_ctx.config, CallbackSigner.from_db(bot_ctx.db))
    again = second.pending(bot_ctx.clock())
    assert [b.event_id for b in again] == [batch[1].event_id]
    second.advance(again[0].event_id)
    assert second.pending(bot_ctx.clock()) == []


def test_reminder_once_before_the_agreed_time(bot_ctx: AppContext, shift_clock: ShiftClock) -> None:
    service = OrderService(bot_ctx.db, bot_ctx.config, bot_ctx.clock)
    order_id = place(bot_ctx, timedelta(hours=3))
    service.accept(order_id, Actor.volunteer("jjz_li"))
    notifier = Notifier(bot_ctx.db, bot_ctx.config, CallbackSigner.from_db(bot_ctx.db))
    assert notifier.due_reminders(bot_ctx.clock()) == []  # three hours ahead: not yet
    shift_clock.advance(hours=2, minutes=10)
    due = notifier.due_reminders(bot_ctx.clock())
    assert [(oid, n.to) for oid, n in due] == [(order_id, "tg:900002")]
    assert "提醒" in due[0][1].reply.text and "完成了" in due[0][1].reply.buttons[0][0].label
    notifier.mark_reminded(order_id, bot_ctx.clock())
    assert notifier.due_reminders(bot_ctx.clock()) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_announce_drafts_for_approval(engine: DialogueEngine, bot_ctx: AppContext) -> None:
    from broadcasts.announcements import AnnouncementService

    admin = ChatDriver(engine, "tg:800003")  # 东山村专干 (admin of dongshan)
    out = await admin.say("/announce")
    assert "要广播的内容" in text_of(out)
    out = await admin.say("明天上午九点在村委会开展义诊,请需要量血压的老人按时参加。")
    assert "审核" in text_of(out)
    (drafted,) = AnnouncementService(bot_ctx).list(Actor.staff("county_admin"))
    assert drafted.status.value == "draft" and list(drafted.villages) == ["dongshan"]
    operator = ChatDriver(engine, "tg:800004")  # 西河村广播员: operator only
    out = await operator.say("/announce 今晚停电")
    assert "只有工作人员" in text_of(out)


@pytest.mark.postgres
def test_outbox_never_skips_an_event_that_commits_late(pg_db: Database, config: AppConfig, clock: ManualClock) -> None:
    """PostgreSQL hands out an event id before commit, so a lower id can commit last.  The
    outbox only takes events older than the settle window, stopping at the first younger one,
    so the cursor does not pass an event that is still being committed.  (SQLite has one
    writer at a time.)"""
    db = pg_db
    ctx = AppContext(config, db, clock)
    notifier = Notifier(db, config, CallbackSigner.from_db(db))
    first = place(ctx, timedelta(days=1))
    late = db.engine.connect()  # a writer whose event gets its id now and commits later
    late_tx = late.begin()
    late.execute(
        insert(OrderEvent).values(order_id=first, at=clock(), actor="staff:test", to_status="dispatched", reason="late")
    )
    late_id = late.execute(select(OrderEvent.id).where(OrderEvent.reason == "late")).scalar_one()
    clock.advance(seconds=1)
    place(ctx, timedelta(days=1), resident="tg:555002")  # commits first, with higher ids
    # Without the settle window this pass would deliver the newer events and move the cursor
    # past the late one for good.
    assert notifier.pending(clock()) == []
    late_tx.commit()  # a transition's transaction lasts milliseconds, well inside the window
    late.close()
    clock.advance(seconds=notifier.settle.total_seconds())
    delivered = [item.event_id for item in notifier.pending(clock())]
    assert late_id in delivered and delivered == sorted(delivered) and len(delivered) == 5
