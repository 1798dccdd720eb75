"""End to end: the real PTB Application polling a local fake Bot API server, the real Rasa
sidecar, the real database.  Several residents and volunteers at once."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from bot.telegram import TelegramFrontend
from core.app import AppContext
from core.config import AppConfig
from nlu.sidecar import free_port
from orders.models import Order, OrderEvent, OrderStatus
from orders.sweeper import DeadlineSweeper
from tests.bot.conftest import ShiftClock, start_frontend, telegram_config
from tests.peers.telegram_api import FakeBotApi, Sent

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.rasa]

RESIDENT_A, RESIDENT_B = 700001, 700002
ZHANG, LI = 900001, 900002  # 金剪子理发队 (dongshan haircuts)


async def said(api: FakeBotApi, user: int, text: str, expect: str) -> Sent:
    mark = len(api.log)
    api.send_text(user, text)
    return await api.wait_text(user, expect, after=mark)


async def pressed(api: FakeBotApi, user: int, sent: Sent, label: str, expect: str, *, chat: int | None = None) -> Sent:
    mark = len(api.log)
    api.press_label(user, sent, label)
    return await api.wait_text(chat or user, expect, after=mark)


def db_orders(ctx: AppContext) -> list[Order]:
    with ctx.db.session() as s:
        return list(s.scalars(select(Order).order_by(Order.id)))


async def place_haircut(api: FakeBotApi, user: int, count_label: str = "2人") -> Sent:
    """A resident orders a haircut in 东山村 the day after tomorrow, mostly by typing."""
    question = await said(api, user, "后天上午能不能派人来东山村给俺娘理个发", "几个人")
    summary = await pressed(api, user, question, count_label, "请您核对")
    assert "义务理发" in summary.text and "东山村" in summary.text
    return await pressed(api, user, summary, "对,就这样", "单子下好了")


async def test_full_round_trip(frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext) -> None:
    api = fake_api
    # Two residents at once: A orders a haircut, B only chats.
    done, greeting = await asyncio.gather(place_haircut(api, RESIDENT_A), said(api, RESIDENT_B, "你好", "乡音"))
    assert greeting.buttons
    (order,) = db_orders(bot_ctx)
    number = f"{order.number[:3]}-{order.number[3:]}"
    assert number in done.text and order.status == OrderStatus.dispatched and order.team_id == "jinjianzi"

    # 配单 → both team members get an offer with a 接单 button (from the outbox).
    offer_zhang = await api.wait_text(ZHANG, "有新单子")
    offer_li = await api.wait_text(LI, "有新单子")
    assert number in offer_zhang.text and offer_zhang.labels == ["接单"] and offer_li.labels == ["接单"]

    # 接单 by 张师傅: his offer turns into the job card; 李大姐 and the resident are told.
    job = await pressed(api, ZHANG, offer_zhang, "接单", "归您了")
    assert job.edited and job.message_id == offer_zhang.message_id and "完成了" in job.labels
    assert "张师傅" in (await api.wait_text(LI, "已经被张师傅接了")).text
    assert "后天上午" in (await api.wait_text(RESIDENT_A, "好消息")).text

    # 完成 asks for people served.
    question = await pressed(api, ZHANG, job, "完成了", "几个人")
    await pressed(api, ZHANG, question, "2人", "登记完成")

    # 评单: stars are sent automatically, then an optional comment.
    stars = await api.wait_text(RESIDENT_A, "请点星星")
    ask_comment = await pressed(api, RESIDENT_A, stars, "⭐⭐⭐⭐⭐", "还想说两句")
    await said(api, RESIDENT_A, "师傅手艺很好,俺娘很满意", "打了 5 颗星")
    await api.wait_text(ZHANG, "打了 5 颗星")
    assert ask_comment.labels == ["不写了"]

    (order,) = db_orders(bot_ctx)
    assert order.status == OrderStatus.rated and order.rating == 5 and order.people_served == 2
    assert order.volunteer_id == "jjz_zhang" and order.rating_comment == "师傅手艺很好,俺娘很满意"
    with bot_ctx.db.session() as s:
        path = [e.to_status for e in s.scalars(select(OrderEvent).order_by(OrderEvent.id))]
    assert path == ["submitted", "dispatched", "accepted", "done", "rated"]
    methods = {m for m, _ in api.calls}
    assert {"getMe", "getUpdates", "setMyCommands", "answerCallbackQuery", "editMessageText"} <= methods
    # Staff with telegram ids get the staff command menu in their own chat scope.
    scoped = [p for m, p in api.calls if m == "setMyCommands" and "chat" in str(p.get("scope"))]
    assert scoped and all("announce" in str(p["commands"]) for p in scoped)
    # Nobody was told about order 2 that does not exist; B got no order messages.
    assert not [s for s in api.to(RESIDENT_B) if "单号" in s.text or "单子" in s.text]


async def test_two_volunteers_press_accept_together(
    frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext
) -> None:
    api = fake_api
    await place_haircut(api, RESIDENT_A, "1人")
    offer_zhang = await api.wait_text(ZHANG, "有新单子")
    offer_li = await api.wait_text(LI, "有新单子")
    mark = len(api.log)
    # Both presses are queued before the bot polls again: they arrive in one batch.
    api.press_label(ZHANG, offer_zhang, "接单")
    api.press_label(LI, offer_li, "接单")
    won = await api.wait_for(lambda: [s for s in api.log[mark:] if "归您了" in s.text])
    lost = await api.wait_for(lambda: [s for s in api.log[mark:] if "来晚了一步" in s.text])
    assert len(won) == 1 and len(lost) == 1 and won[0].chat_id != lost[0].chat_id
    winner = "张师傅" if won[0].chat_id == ZHANG else "李大姐"
    assert winner in lost[0].text
    (order,) = db_orders(bot_ctx)
    assert order.status == OrderStatus.accepted
    assert order.volunteer_id == ("jjz_zhang" if won[0].chat_id == ZHANG else "jjz_li")
    await api.settle()
    assert sum("好消息" in s.text for s in api.to(RESIDENT_A)) == 1


async def test_restart_in_the_middle_of_a_conversation(
    fake_api: FakeBotApi, bot_ctx: AppContext, real_nlu: object
) -> None:
    api = fake_api
    first = await start_frontend(bot_ctx, api, real_nlu)
    try:
        question = await said(api, RESIDENT_A, "我想理个发", "哪个村")
        time_question = await pressed(api, RESIDENT_A, question, "东山村", "什么时候")
    finally:
        await first.stop()
    second = await start_frontend(bot_ctx, api, real_nlu)
    try:
        # The button of a message sent before the restart still works.
        label = next(x for x in time_question.labels if x.startswith(("明天", "后天")))
        count_question = await pressed(api, RESIDENT_A, time_question, label, "几个人")
        summary = await pressed(api, RESIDENT_A, count_question, "3人", "请您核对")
        await pressed(api, RESIDENT_A, summary, "对,就这样", "单子下好了")
    finally:
        await second.stop()
    (order,) = db_orders(bot_ctx)
    assert order.people_count == 3 and order.village_id == "dongshan"


async def test_same_update_delivered_twice_creates_one_order(
    frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext
) -> None:
    api = fake_api
    question = await said(api, RESIDENT_B, "后天下午来东山村理发", "几个人")
    summary = await pressed(api, RESIDENT_B, question, "1人", "请您核对")
    mark = len(api.log)
    api.press_label(RESIDENT_B, summary, "对,就这样")
    api.redeliver_last(times=2)
    await api.wait_text(RESIDENT_B, "单子下好了", after=mark)
    await api.settle()
    assert len(db_orders(bot_ctx)) == 1
    assert sum("单子下好了" in s.text for s in api.log[mark:]) == 1
    # Pressing the old confirmation again later does not make a second order either.
    api.press_label(RESIDENT_B, summary, "对,就这样")
    await api.settle()
    assert len(db_orders(bot_ctx)) == 1


async def test_deadline_sweep_escalates_and_tells_everyone(
    frontend: TelegramFrontend,
    fake_api: FakeBotApi,
    bot_ctx: AppContext,
    shift_clock: ShiftClock,
    deadline_sweeper: DeadlineSweeper,
) -> None:
    api = fake_api
    await place_haircut(api, RESIDENT_A, "1人")
    await api.wait_text(ZHANG, "有新单子")
    shift_clock.advance(hours=5)  # past the 240-minute accept deadline
    escalated = await api.wait_text(900011, "有新单子")  # 青石镇便民服务队
    assert escalated.labels == ["接单"]
    await api.wait_text(RESIDENT_A, "现在转给“青石镇便民服务队”")
    (order,) = db_orders(bot_ctx)
    assert order.team_id == "qingshi_volunteers" and order.tier == "institute"
    # 张师傅's old offer no longer lets him take it.
    old = api.with_button(ZHANG, "接单")
    await pressed(api, ZHANG, old, "接单", "不是派给您的服务队")
    assert db_orders(bot_ctx)[0].volunteer_id is None


async def test_webhook_mode(fake_api: FakeBotApi, bot_ctx: AppContext, real_nlu: object) -> None:
    """mode: webhook registers the URL with a secret and answers updates POSTed to it."""
    port = free_port()
    base = telegram_config(bot_ctx.config, fake_api)
    telegram = base.telegram.model_copy(
        update={"mode": "webhook", "webhook_port": port, "webhook_url": f"http://127.0.0.1:{port}/telegram"}
    )
    config: AppConfig = base.model_copy(update={"telegram": telegram})
    frontend = TelegramFrontend(AppContext(config, bot_ctx.db, bot_ctx.clock), real_nlu)  # type: ignore[arg-type]
    await frontend.start()
    try:
        hook = fake_api.webhook
        assert hook is not None and hook["url"] == telegram.webhook_url and hook["secret_token"]
        url, update = hook["url"], fake_api.text_update(RESIDENT_A, "你好")
        async with httpx.AsyncClient(trust_env=False) as client:
            forged = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            assert forged.status_code == 403
            ok = await client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]})
            assert ok.status_code == 200
        await fake_api.wait_text(RESIDENT_A, "乡音")
    finally:
        await frontend.stop()
