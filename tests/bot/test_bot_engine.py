"""The dialogue engine on its own (deterministic NLU): 点单 by text and by buttons, fixing a
field, phone-requiring villages, NLU down, restarts, 查单/撤单, sign-ups and hand-offs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.engine import DialogueEngine
from core.app import AppContext
from orders.models import Order, OrderStatus
from people.models import StaffHandoff, VolunteerSignup
from tests.bot.conftest import ChatDriver, text_of
from tests.peers.keyword_nlu import KeywordNlu

pytestmark = pytest.mark.asyncio(loop_scope="session")


def orders(ctx: AppContext) -> list[Order]:
    with ctx.db.session() as s:
        return list(s.scalars(select(Order).order_by(Order.id)))


async def test_free_text_order_asks_only_what_is_missing(chat: ChatDriver, bot_ctx: AppContext) -> None:
    out = await chat.say("后天上午来东山村给俺娘理个发")
    assert "几个人" in text_of(out)  # service, village and time were understood
    out = await chat.say("就1个")
    assert "请您核对" in text_of(out) and "义务理发" in text_of(out) and "东山村" in text_of(out)
    assert "后天上午" in text_of(out)
    out = await chat.say("对的")
    (order,) = orders(bot_ctx)
    assert order.service_id == "haircut" and order.village_id == "dongshan" and order.people_count == 1
    assert order.status == OrderStatus.dispatched and order.team_id == "jinjianzi"
    assert order.resident_key == "tg:555001" and order.request_key.startswith("tg:555001|")
    assert f"{order.number[:3]}-{order.number[3:]}" in text_of(out)


async def test_an_answer_to_how_many_keeps_the_service(chat: ChatDriver, bot_ctx: AppContext) -> None:
    # "就一个人 独居老人" answers 几个人?; it is not a new request for a visit (elderly_visit).
    out = await chat.say("后天上午来东山村给俺娘理个发")
    assert "几个人" in text_of(out)
    out = await chat.say("就一个人 独居老人")
    assert "请您核对" in text_of(out) and "义务理发" in text_of(out) and "1人" in text_of(out)
    await chat.say("对的")
    (order,) = orders(bot_ctx)
    assert (order.service_id, order.people_count) == ("haircut", 1)


async def test_deny_at_confirmation_fixes_one_field(chat: ChatDriver, bot_ctx: AppContext) -> None:
    await chat.say("明天下午来东山村理发,2个人")
    out = await chat.say("不对")
    assert "哪一项不对" in text_of(out)
    out = await chat.press("时间")
    assert "什么时候" in text_of(out)
    out = await chat.press("后天上午")
    assert "后天上午" in text_of(out) and "2人" in text_of(out) and "东山村" in text_of(out)
    await chat.press("对,就这样")
    (order,) = orders(bot_ctx)
    assert order.people_count == 2 and order.village_id == "dongshan"


async def test_typed_correction_at_confirmation(chat: ChatDriver, bot_ctx: AppContext) -> None:
    await chat.say("明天下午来东山村理发,2个人")
    out = await chat.say("不对,改成3个人")
    assert "3人" in text_of(out) and "请您核对" in text_of(out)


async def test_menu_by_buttons_only(chat: ChatDriver, bot_ctx: AppContext) -> None:
    await chat.say("/start")
    await chat.press("我要点服务")
    await chat.press("生活服务")
    await chat.press("家电维修")
    out = await chat.press("西河村")
    assert "什么时候" in text_of(out)
    labels = [b.label for r in out.replies for row in r.buttons for b in row]
    await chat.press(next(label for label in labels if label.startswith(("明天", "后天"))))
    out = await chat.press("3人")
    assert "家电维修" in text_of(out) and "西河村" in text_of(out)
    await chat.press("对,就这样")
    (order,) = orders(bot_ctx)
    assert (order.service_id, order.village_id, order.people_count) == ("appliance_repair", "xihe", 3)
    # The village is remembered for next time: only the service and the rest are asked.
    out = await chat.say("我想理个发")
    assert "什么时候" in text_of(out)


async def test_village_requiring_phone(chat: ChatDriver, bot_ctx: AppContext) -> None:
    out = await chat.say("后天上午石门村要调解邻居吵架,2个人")
    assert "手机号" in text_of(out)
    out = await chat.say("电话 138 0000 1234")
    assert "13800001234" in text_of(out)
    await chat.say("对的")
    (order,) = orders(bot_ctx)
    assert order.contact_phone == "13800001234" and order.village_id == "shimen"


async def test_nlu_down_says_so_and_offers_buttons(
    chat: ChatDriver, keyword_nlu: KeywordNlu, bot_ctx: AppContext
) -> None:
    keyword_nlu.down = True
    out = await chat.say("嗯嗯啊啊")
    assert "按下面的按钮" in text_of(out) and out.replies[-1].buttons
    await chat.press("我要点服务")
    await chat.press("医疗健康")
    await chat.press("义诊")
    await chat.press("桥头村")
    out = await chat.say("后天上午")  # still understood by the deterministic rules
    assert "几个人" in text_of(out)
    await chat.press("5人")
    await chat.press("对,就这样")
    assert [o.service_id for o in orders(bot_ctx)] == ["free_clinic"]


async def test_conversation_survives_restart(bot_ctx: AppContext, keyword_nlu: KeywordNlu) -> None:
    first = ChatDriver(DialogueEngine(bot_ctx, keyword_nlu), "tg:555002")
    await first.say("我想理个发")
    await first.press("东山村")
    # A new engine (new process) over the same database: the draft and its buttons live on.
    second = ChatDriver(DialogueEngine(bot_ctx, keyword_nlu), "tg:555002", outcomes=first.outcomes)
    second.counter = 100
    out = await second.press("后天下午")
    assert "几个人" in text_of(out)
    await second.press("1人")
    await second.press("对,就这样")
    assert len(orders(bot_ctx)) == 1


async def test_stale_and_forged_buttons_change_nothing(chat: ChatDriver, engine: DialogueEngine) -> None:
    await chat.say("我想理个发")
    village_question = chat.last_with_buttons()
    await chat.press("东山村", village_question)
    out = await chat.press("西河村", village_question)  # an older question's button
    assert "过期" in text_of(out)
    assert engine.store.load("tg:555001").draft.village == "dongshan"
    out = await chat.press_data("v:xihe:99.AAAAAAAAAA")
    assert "过期" in text_of(out)
    # A button signed for somebody else does not verify for this user.
    foreign = engine.signer.sign("tg:999999", "a", 1)
    out = await chat.press_data(foreign)
    assert "过期" in text_of(out) and not out.notices


async def test_check_and_cancel_own_orders_only(chat: ChatDriver, engine: DialogueEngine, bot_ctx: AppContext) -> None:
    await chat.say("后天上午来东山村理发,1个人")
    await chat.say("对的")
    (order,) = orders(bot_ctx)
    stranger = ChatDriver(engine, "tg:555009")
    out = await stranger.say(f"我的单子 {order.number} 怎么样了")
    assert "没有找到" in text_of(out) and "东山" not in text_of(out)
    out = await stranger.say(f"{order.number} 不要了")
    assert "没有找到" in text_of(out)
    out = await chat.say("我点的单有人接没")
    assert order.number[:3] in text_of(out) and "已派单" in text_of(out)
    out = await chat.say("理发那个单子不要了")
    assert "确定要撤销" in text_of(out)
    out = await chat.press("确定撤销")
    assert "已经撤销" in text_of(out) and out.replies[0].edit
    assert orders(bot_ctx)[0].status == OrderStatus.cancelled


async def test_bad_input_gets_a_polite_reply(chat: ChatDriver, engine: DialogueEngine, bot_ctx: AppContext) -> None:
    out = await chat.say("理发" * 3000)
    assert "太多" in text_of(out)
    assert engine.nlu.calls == 0  # type: ignore[attr-defined]
    out = await chat.say("")
    assert text_of(out)
    assert not orders(bot_ctx)


async def test_signup_and_handoff_are_stored(chat: ChatDriver, bot_ctx: AppContext) -> None:
    out = await chat.say("我会理发,想报名当志愿者")
    assert "报上名" in text_of(out)
    out = await chat.say("我还想当志愿者")
    assert "已经报过名" in text_of(out)
    out = await chat.say("我要找村里工作人员")
    assert "哪个村" in text_of(out)
    out = await chat.press("东山村")
    assert "已经告诉" in text_of(out)
    notified = {n.to for n in out.notices}
    assert notified == {"tg:800001", "tg:800002", "tg:800003"}  # everybody covering 东山村
    assert all("tg://user?id=555001" in n.reply.text for n in out.notices)
    with bot_ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(VolunteerSignup)) == 1
        handoff = s.scalars(select(StaffHandoff)).one()
        assert handoff.village_id == "dongshan" and handoff.status == "open"


async def test_staff_commands_refuse_residents(chat: ChatDriver, engine: DialogueEngine) -> None:
    for command in ("/orders", "/stats", "/announce 明天停水"):
        out = await chat.say(command)
        assert "只有工作人员" in text_of(out)
    admin = ChatDriver(engine, "tg:800003")  # 东山村专干
    await chat.say("后天上午来东山村理发,1个人")
    await chat.say("对的")
    out = await admin.say("/orders")
    assert "义务理发" in text_of(out)
    out = await admin.say("/stats")
    assert "今天:点单 1 个" in text_of(out)
