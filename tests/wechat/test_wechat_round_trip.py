"""End to end through WeChat: the fake WeChat servers, the fake ASR server, the real Rasa
sidecar, the real database.  A resident orders by voice; two volunteers on WeChat get the
offer through the customer-service API, one takes it, finishes it, and is rated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.wechat.frontend import WeChatFrontend
from core.app import AppContext
from nlu.client import NluClient
from orders.models import Order, OrderEvent, OrderStatus
from tests.peers.asr import FakeAsr, amr_of, speech_pcm
from tests.peers.wechat import FakeWeChat, Sent
from tests.wechat.conftest import LI, RESIDENT, RESIDENT_B, ZHANG, start_wechat

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.rasa]

ORDER_BY_VOICE = "后天上午能不能派人来东山村给俺娘理个发"


@pytest_asyncio.fixture(loop_scope="session")
async def real_nlu(wx_ctx: AppContext, rasa_url: str) -> AsyncIterator[NluClient]:
    client = NluClient(rasa_url, wx_ctx.config, timeout=5.0, threshold=wx_ctx.config.nlu.confidence_threshold)
    yield client
    await client.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def wechat_rasa(
    wx_ctx: AppContext, fake_wechat: FakeWeChat, real_nlu: NluClient
) -> AsyncIterator[WeChatFrontend]:
    frontend = await start_wechat(wx_ctx, fake_wechat, real_nlu)
    yield frontend
    await frontend.stop()


async def tapped(fake: FakeWeChat, openid: str, sent: Sent, label: str, expect: str, *, to: str | None = None) -> Sent:
    mark = len(fake.log)
    await fake.tap(openid, sent, label)
    return await fake.wait_text(to or openid, expect, after=mark)


async def said(fake: FakeWeChat, openid: str, text: str, expect: str) -> Sent:
    mark = len(fake.log)
    await fake.send_text(openid, text)
    return await fake.wait_text(openid, expect, after=mark)


def db_orders(ctx: AppContext) -> list[Order]:
    with ctx.db.session() as s:
        return list(s.scalars(select(Order).order_by(Order.id)))


async def test_full_round_trip_by_voice(
    wechat_rasa: WeChatFrontend, fake_wechat: FakeWeChat, fake_asr: FakeAsr, wx_ctx: AppContext
) -> None:
    fake = fake_wechat
    for person in (RESIDENT, RESIDENT_B, ZHANG, LI):
        await fake.subscribe(person)  # following the account: the welcome is a passive reply
    assert all("乡音小助手" in fake.to(p)[0].text for p in (RESIDENT, ZHANG))

    # 点单 by voice (no WeChat recognition: the account's ASR server hears it), while B types.
    pcm = speech_pcm(ORDER_BY_VOICE)
    fake_asr.learn(ORDER_BY_VOICE, pcm)
    mark = len(fake.log)
    await asyncio.gather(fake.send_voice(RESIDENT, amr_of(pcm)), said(fake, RESIDENT_B, "你好", "乡音"))
    question = await fake.wait_text(RESIDENT, "几个人", after=mark)
    assert f"我听到您说:“{ORDER_BY_VOICE}”" in question.text
    summary = await tapped(fake, RESIDENT, question, "2人", "请您核对")
    assert "义务理发" in summary.text and "东山村" in summary.text and "后天上午" in summary.text
    done = await tapped(fake, RESIDENT, summary, "对,就这样", "单子下好了")
    (order,) = db_orders(wx_ctx)
    number = f"{order.number[:3]}-{order.number[3:]}"
    assert number in done.text and order.status == OrderStatus.dispatched and order.team_id == "jinjianzi"
    assert order.resident_key == f"wx:{RESIDENT}"

    # 配单 → both volunteers get the offer through the customer-service API, with a 接单 choice.
    offer_zhang = await fake.wait_text(ZHANG, "有新单子")
    offer_li = await fake.wait_text(LI, "有新单子")
    assert offer_zhang.via == "custom" and number in offer_zhang.text
    assert offer_zhang.labels == ["接单"] and offer_li.labels == ["接单"]

    # 接单 by 张师傅 (typed "接单": a label can be typed as well as tapped).
    job = await said(fake, ZHANG, "接单", "归您了")
    assert "完成了" in job.labels
    assert "张师傅" in (await fake.wait_text(LI, "已经被张师傅接了")).text
    assert "后天上午" in (await fake.wait_text(RESIDENT, "好消息")).text

    # 完成: people served, typed as a number under numbered choices ("2人"…): two people.
    await tapped(fake, ZHANG, job, "完成了", "几个人")
    await said(fake, ZHANG, "2", "登记完成")

    # 评单: the stars arrive by themselves, then a comment.
    stars = await fake.wait_text(RESIDENT, "请点星星")
    assert stars.labels == ["5颗星", "4颗星", "3颗星", "2颗星", "1颗星"]
    ask_comment = await tapped(fake, RESIDENT, stars, "5颗星", "还想说两句")
    assert ask_comment.labels == ["不写了"]
    await said(fake, RESIDENT, "师傅手艺很好,俺娘很满意", "打了 5 颗星")
    await fake.wait_text(ZHANG, "打了 5 颗星")

    (order,) = db_orders(wx_ctx)
    assert order.status == OrderStatus.rated and order.rating == 5 and order.people_served == 2
    assert order.volunteer_id == "jjz_zhang" and order.rating_comment == "师傅手艺很好,俺娘很满意"
    with wx_ctx.db.session() as s:
        path = [e.to_status for e in s.scalars(select(OrderEvent).order_by(OrderEvent.id))]
    assert path == ["submitted", "dispatched", "accepted", "done", "rated"]
    (heard,) = fake_asr.served
    assert heard.text == ORDER_BY_VOICE
    # Nobody else heard about the order; B got only the chat.
    assert not [s for s in fake.to(RESIDENT_B) if number in s.text]
