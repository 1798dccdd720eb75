"""Bad input through the real adapter: stickers, photos, voice, locations, edits, 4,096+
characters, forged/stale/foreign callback data, and people pressing buttons not theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.telegram import TelegramFrontend
from core.actors import Actor
from core.app import AppContext
from orders.models import Order, OrderEvent, OrderStatus
from orders.service import OrderRequest, OrderService
from orders.sweeper import DeadlineSweeper
from tests.bot.test_bot_telegram import LI, RESIDENT_A, ZHANG, place_haircut, pressed, said
from tests.peers.telegram_api import FakeBotApi

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.rasa]

ADMIN_DONGSHAN = 800003


def event_count(ctx: AppContext) -> int:
    with ctx.db.session() as s:
        return s.scalar(select(func.count()).select_from(OrderEvent)) or 0


async def test_media_edits_and_long_text_get_polite_replies(frontend: TelegramFrontend, fake_api: FakeBotApi) -> None:
    api = fake_api
    for kind in ("sticker", "photo", "voice", "location"):
        mark = len(api.log)
        api.send_other(RESIDENT_A, kind)
        reply = await api.wait_text(RESIDENT_A, "只认得文字和按钮", after=mark)
        assert reply.labels  # the menu buttons, so nobody is stuck
    mark = len(api.log)
    api.edit_text(RESIDENT_A, "明天上午来东山村理发")  # edits are ignored on purpose
    await said(api, RESIDENT_A, "这" * 5000, "字太多")
    assert not [s for s in api.log[mark:] if "几个人" in s.text or "哪个村" in s.text]


async def test_forged_and_stale_callback_data(frontend: TelegramFrontend, fake_api: FakeBotApi) -> None:
    api = fake_api
    question = await said(api, RESIDENT_A, "我想理个发", "哪个村")
    for data in ("a:1", "a:1.AAAAAAAAAA", "", "x" * 64, "menu:order.", "💥"):
        mark = len(api.log)
        api.press(RESIDENT_A, question, data)
        await api.wait_text(RESIDENT_A, "过期", after=mark)
    await pressed(api, RESIDENT_A, question, "东山村", "什么时候")
    await pressed(api, RESIDENT_A, question, "西河村", "过期")  # the question was answered already
    assert frontend.engine.store.load(f"tg:{RESIDENT_A}").draft.village == "dongshan"


async def test_buttons_pressed_by_the_wrong_person(
    frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext
) -> None:
    api = fake_api
    await place_haircut(api, RESIDENT_A, "1人")
    offer = await api.wait_text(ZHANG, "有新单子")
    before = event_count(bot_ctx)
    own = api.last_to(RESIDENT_A)  # forged presses happen in the presser's own chat
    # The resident replays the volunteer's 接单 data (signed for 张师傅, not for them).
    mark = len(api.log)
    api.press(RESIDENT_A, own, offer.button("接单"))
    await api.wait_text(RESIDENT_A, "过期", after=mark)
    # A volunteer of another team with validly signed data of their own still cannot take it.
    foreign = frontend.engine.signer.sign("tg:900031", "a", db_order(bot_ctx).id)
    greeting = await said(api, 900031, "/start", "乡音")
    mark = len(api.log)
    api.press(900031, greeting, foreign)
    await api.wait_text(900031, "不是派给您的服务队", after=mark)
    # A resident cannot use the admin's reassign button data either, even signed for them.
    reassign = frontend.engine.signer.sign(f"tg:{RESIDENT_A}", "ra", db_order(bot_ctx).id, "county_repair")
    mark = len(api.log)
    api.press(RESIDENT_A, own, reassign)
    await api.wait_text(RESIDENT_A, "只有工作人员", after=mark)
    assert event_count(bot_ctx) == before and db_order(bot_ctx).status == OrderStatus.dispatched
    # 李大姐 takes it; 张师傅 may not record it as done.
    await pressed(api, LI, await api.wait_text(LI, "有新单子"), "接单", "归您了")
    done = frontend.engine.signer.sign(f"tg:{ZHANG}", "d", db_order(bot_ctx).id)
    mark = len(api.log)
    api.press(ZHANG, api.last_to(ZHANG), done)
    await api.wait_text(ZHANG, "只有接这个单的志愿者", after=mark)
    assert db_order(bot_ctx).status == OrderStatus.accepted


async def test_volunteer_cannot_rate_an_order_they_served(
    frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext
) -> None:
    api = fake_api
    # 张师傅 orders a haircut for his own family, then takes and completes it himself.
    await place_haircut(api, ZHANG, "1人")
    offer = await api.wait_text(ZHANG, "有新单子")
    job = await pressed(api, ZHANG, offer, "接单", "归您了")
    question = await pressed(api, ZHANG, job, "完成了", "几个人")
    await pressed(api, ZHANG, question, "1人", "登记完成")
    stars = await api.wait_text(ZHANG, "请点星星")
    await pressed(api, ZHANG, stars, "⭐⭐⭐⭐⭐", "不能给自己打分")
    await said(api, ZHANG, "五颗星,服务真不错", "没有要评价的单子")
    order = db_order(bot_ctx)
    assert order.status == OrderStatus.done and order.rating is None


async def test_admin_sees_expired_orders_and_reassigns(
    frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext, deadline_sweeper: DeadlineSweeper
) -> None:
    api = fake_api
    await said(api, RESIDENT_A, "/orders", "只有工作人员")
    service = OrderService(bot_ctx.db, bot_ctx.config, bot_ctx.clock)
    now = bot_ctx.clock()
    request = OrderRequest(
        resident_key=f"tg:{RESIDENT_A}", service_id="elderly_visit", village_id="dongshan",
        window_start=now + timedelta(days=2), window_end=now + timedelta(days=2, hours=4),
    )  # fmt: skip
    order = service.create(request, Actor.resident(f"tg:{RESIDENT_A}"))
    await api.wait_text(900021, "有新单子")  # 东山村关爱帮扶队 (station)
    # Nobody accepts at any tier: station → institute → centre → expired, all by the sweep.
    for team_member in (900011, 900101):
        frontend.ctx.clock.advance(hours=5)  # type: ignore[attr-defined]
        await api.wait_text(team_member, "有新单子")
    frontend.ctx.clock.advance(hours=5)  # type: ignore[attr-defined]
    await api.wait_text(ADMIN_DONGSHAN, "超时没人接")
    await api.wait_text(RESIDENT_A, "暂时没人接")
    assert db_order(bot_ctx).status == OrderStatus.expired

    stats = await said(api, ADMIN_DONGSHAN, "/stats", "今天")
    assert "点单 1 个" in stats.text
    await said(api, ADMIN_DONGSHAN, "/orders", "未完成的单子")
    card = await api.wait_for(lambda: api.find_button(ADMIN_DONGSHAN, "改派给"))
    assert order.display_number in card.text
    assert "改派给东山村关爱帮扶队" in card.labels and "改派给县家电维修志愿队" not in card.labels
    await pressed(api, ADMIN_DONGSHAN, card, "改派给东山村关爱帮扶队", "已经改派")
    offer = await api.wait_text(900022, "有新单子", after=len(api.log) - 10)
    assert order.display_number in offer.text
    latest = db_order(bot_ctx)
    assert latest.status == OrderStatus.dispatched and latest.team_id == "dongshan_care"


def db_order(ctx: AppContext) -> Order:
    with ctx.db.session() as s:
        return s.scalars(select(Order).order_by(Order.id.desc())).first()  # type: ignore[return-value]
