"""The WeChat adapter against the fake WeChat servers: callback verification in both modes,
refusals that change nothing, passive replies vs. the customer-service API, duplicates,
numbered choices, the custom menu, voice, 语音回复, the shared access token."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.models import ChatState, ProcessedUpdate
from bot.state import ConversationStore
from bot.wechat.api import WeChatApi
from bot.wechat.frontend import WeChatFrontend
from core.app import AppContext
from orders.models import Order
from tests.peers.asr import FakeAsr, amr_of, speech_pcm
from tests.peers.keyword_nlu import KeywordNlu
from tests.peers.wechat import FakeWeChat, Sent
from tests.wechat.conftest import RESIDENT, RESIDENT_B, ZHANG, SlowNlu, start_wechat

pytestmark = pytest.mark.asyncio(loop_scope="session")


def counts(ctx: AppContext) -> tuple[int, int, int]:
    with ctx.db.session() as s:
        return (
            s.scalar(select(func.count()).select_from(ProcessedUpdate)) or 0,
            s.scalar(select(func.count()).select_from(ChatState)) or 0,
            s.scalar(select(func.count()).select_from(Order)) or 0,
        )


async def said(fake: FakeWeChat, openid: str, text: str, expect: str, **kw: object) -> Sent:
    mark = len(fake.log)
    await fake.send_text(openid, text, **kw)  # type: ignore[arg-type]
    return await fake.wait_text(openid, expect, after=mark)


async def tapped(fake: FakeWeChat, openid: str, sent: Sent, label: str, expect: str) -> Sent:
    mark = len(fake.log)
    await fake.tap(openid, sent, label)
    return await fake.wait_text(openid, expect, after=mark)


async def test_url_verification(wechat: WeChatFrontend, fake_wechat: FakeWeChat) -> None:
    assert await fake_wechat.verify_url() == (200, True)
    status, echoed = await fake_wechat.verify_url(token="somebody-elses-token")
    assert status == 403 and not echoed


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_text_gets_a_passive_reply(
    wechat: WeChatFrontend, fake_wechat: FakeWeChat, wx_ctx: AppContext, mode: str
) -> None:
    delivery = await fake_wechat.send_text(RESIDENT, "你好", mode=mode)
    assert delivery.attempts == 1 and delivery.statuses == [200]
    assert delivery.reply is not None and "乡音小助手" in delivery.reply["Content"]
    # Dated by the app's clock (the tests' fixed evening), not the wall clock.
    assert abs(int(delivery.reply["CreateTime"]) - wx_ctx.clock().timestamp()) < 60
    (reply,) = fake_wechat.to(RESIDENT)
    assert reply.via == "passive" and reply.labels == ["我要点服务", "我的单子", "找工作人员", "我想当志愿者"]
    assert "1. <a href=" in reply.text


async def test_bad_signature_is_refused_and_changes_nothing(
    wechat: WeChatFrontend, fake_wechat: FakeWeChat, wx_ctx: AppContext
) -> None:
    import aiohttp

    message = {"ToUserName": "gh_x", "FromUserName": RESIDENT, "CreateTime": 1780000000, "MsgType": "text",
               "Content": "明天上午来东山村理发", "MsgId": 77001}  # fmt: skip
    before = counts(wx_ctx)
    async with aiohttp.ClientSession() as http:
        query, body = fake_wechat.envelope(message, "plain")
        forged = {**query, "signature": "0" * 40}
        async with http.post(wechat.url, params=forged, data=body.encode()) as r:
            assert r.status == 403
        # Encrypted: a body tampered with after signing, and a valid body under a forged msg_signature.
        query, body = fake_wechat.envelope(message, "safe")
        async with http.post(
            wechat.url, params=query, data=body.replace("<Encrypt><![CDATA[", "<Encrypt><![CDATA[AAAA").encode()
        ) as r:
            assert r.status == 403
        async with http.post(wechat.url, params={**query, "msg_signature": "f" * 40}, data=body.encode()) as r:
            assert r.status == 403
        async with http.post(wechat.url, params=query, data=b"<xml><nonsense") as r:
            assert r.status == 403
    await asyncio.sleep(0.3)
    assert counts(wx_ctx) == before and fake_wechat.to(RESIDENT) == []


async def test_safe_mode_refuses_plain_messages(
    wx_ctx: AppContext, fake_wechat: FakeWeChat, keyword_nlu: KeywordNlu
) -> None:
    safe = fake_wechat.configure(wx_ctx.config, port=wx_ctx.config.wechat.port, message_mode="safe")
    frontend = await start_wechat(AppContext(safe, wx_ctx.db, wx_ctx.clock), fake_wechat, keyword_nlu)
    try:
        plain = await fake_wechat.send_text(RESIDENT, "你好", mode="plain")
        assert plain.statuses == [403, 403, 403] and plain.reply is None  # WeChat tried three times
        encrypted = await fake_wechat.send_text(RESIDENT, "你好", mode="safe")
        assert encrypted.reply is not None and "乡音小助手" in encrypted.reply["Content"]
    finally:
        await frontend.stop()


async def test_menu_created_and_clicks_open_the_button_ordering(
    wechat: WeChatFrontend, fake_wechat: FakeWeChat
) -> None:
    assert fake_wechat.menu is not None
    names = [b["name"] for b in fake_wechat.menu["button"]]
    assert names == ["我要点服务", "我的单子", "更多"]
    await fake_wechat.click(RESIDENT, "XY_ORDER")
    (themes,) = fake_wechat.to(RESIDENT)
    assert "哪一类服务" in themes.text and "生活服务" in themes.labels
    # The whole order by taps: theme → service → village → time → count → confirm.
    services = await tapped(fake_wechat, RESIDENT, themes, "生活服务", "请选一个服务")
    villages = await tapped(fake_wechat, RESIDENT, services, "义务理发", "哪个村")
    times = await tapped(fake_wechat, RESIDENT, villages, "东山村", "什么时候")
    label = next(x for x in times.labels if x.startswith("明天"))
    count = await tapped(fake_wechat, RESIDENT, times, label, "几个人")
    # Counts are labelled with numbers, so a typed 2 means two people, not choice #2.
    summary = await said(fake_wechat, RESIDENT, "2", "请您核对")
    assert "人数:2人" in summary.text and "义务理发" in summary.text and count.labels[0] == "1人"
    # Choices without numbers in them can be typed by position: 1 = 对,就这样.
    assert summary.labels[0] == "对,就这样"
    done = await said(fake_wechat, RESIDENT, "1", "单子下好了")
    assert done.via == "passive"


async def test_duplicate_deliveries_create_one_order(
    wechat: WeChatFrontend, fake_wechat: FakeWeChat, wx_ctx: AppContext
) -> None:
    question = await said(fake_wechat, RESIDENT_B, "后天下午来东山村理发", "几个人")
    summary = await tapped(fake_wechat, RESIDENT_B, question, "1人", "请您核对")
    number, label = summary.choice("对,就这样")
    message = {"ToUserName": "gh_f4ke0ff1c1a1", "FromUserName": RESIDENT_B, "CreateTime": 1780000001,
               "MsgType": "text", "Content": label, "MsgId": 99000123, "bizmsgmenuid": number}  # fmt: skip
    mark = len(fake_wechat.log)
    # WeChat's three attempts of one message arriving together, then once more later.
    await fake_wechat.post(message, duplicates=3)
    await fake_wechat.post(message)
    await fake_wechat.settle()
    with wx_ctx.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1
    placed = [s for s in fake_wechat.log[mark:] if "单子下好了" in s.text]
    assert len({s.text for s in placed}) == 1 and len(placed) >= 1  # the same reply, one order
    assert all(s.via == "passive" for s in placed)


async def test_a_reply_that_would_miss_5_seconds_goes_through_customer_service(
    wx_ctx: AppContext, fake_wechat: FakeWeChat, keyword_nlu: KeywordNlu
) -> None:
    # Rasa answering after the reply budget (shortened from 4 s to 1 s to keep the test quick):
    # waiting for it, WeChat would drop the connection at 5 s and retry.
    settings = wx_ctx.config.wechat.model_copy(update={"reply_budget_seconds": 1.0})
    ctx = AppContext(wx_ctx.config.model_copy(update={"wechat": settings}), wx_ctx.db, wx_ctx.clock)
    frontend = await start_wechat(ctx, fake_wechat, SlowNlu(keyword_nlu, 1.5))
    try:
        delivery = await fake_wechat.send_text(RESIDENT, "你好")
        # Answered "success" within the budget: one attempt, no passive reply, no retry.
        assert delivery.attempts == 1 and delivery.statuses == [200] and delivery.reply is None
        late = await fake_wechat.wait_text(RESIDENT, "乡音小助手", timeout=15)
        assert late.via == "custom" and late.labels[0] == "我要点服务"
        assert frontend.late_answers == 1
        await fake_wechat.settle()
        assert len(fake_wechat.to(RESIDENT)) == 1
    finally:
        await frontend.stop()


async def test_voice_without_recognition_or_asr_gets_a_plain_reply_and_the_menu(
    wx_ctx: AppContext, fake_wechat: FakeWeChat, keyword_nlu: KeywordNlu
) -> None:
    no_asr = wx_ctx.config.model_copy(update={"voice": wx_ctx.config.voice.model_copy(update={"asr_url": None})})
    frontend = await start_wechat(AppContext(no_asr, wx_ctx.db, wx_ctx.clock), fake_wechat, keyword_nlu)
    try:
        delivery = await fake_wechat.send_voice(RESIDENT, amr_of(speech_pcm("我想理个发")))
        assert delivery.reply is not None
        assert "没听清" in delivery.reply["Content"] and "我要点服务" in delivery.reply["Content"]
    finally:
        await frontend.stop()


async def test_wechat_recognition_is_used_and_shown(wechat: WeChatFrontend, fake_wechat: FakeWeChat) -> None:
    delivery = await fake_wechat.send_voice(RESIDENT, b"#!AMR\n", recognition="后天上午来东山村理发")
    assert delivery.reply is not None
    content = delivery.reply["Content"]
    assert "我听到您说:“后天上午来东山村理发”" in content and "几个人" in content


async def test_voice_through_the_asr_server(wechat: WeChatFrontend, fake_wechat: FakeWeChat, fake_asr: FakeAsr) -> None:
    pcm = speech_pcm("后天上午来东山村理发")
    fake_asr.learn("后天上午来东山村理发", pcm)
    mark = len(fake_wechat.log)
    await fake_wechat.send_voice(RESIDENT, amr_of(pcm))
    reply = await fake_wechat.wait_text(RESIDENT, "我听到您说", after=mark)
    assert "后天上午来东山村理发" in reply.text and "几个人" in reply.text
    (served,) = fake_asr.served
    assert 1.5 < served.seconds < 6 and served.text == "后天上午来东山村理发"
    assert any(path == "media/get" for path, _ in fake_wechat.calls)


async def test_voice_replies_on_request(wechat: WeChatFrontend, fake_wechat: FakeWeChat, wx_ctx: AppContext) -> None:
    await fake_wechat.click(RESIDENT, "XY_VOICE")
    on = await fake_wechat.wait_text(RESIDENT, "也会发一段语音")
    await fake_wechat.wait_voice(RESIDENT)  # the confirmation itself comes as voice too
    assert on.via == "passive"
    assert ConversationStore(wx_ctx.db).load(f"wx:{RESIDENT}").profile["voice_reply"] is True
    mark = len(fake_wechat.log)
    await fake_wechat.send_text(RESIDENT, "谢谢你们")
    voice = await fake_wechat.wait_voice(RESIDENT, after=mark)
    assert voice.via == "custom" and voice.audio is not None and voice.audio[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    # The same sentence again is voiced from the cache.
    made = wechat.voice_replies.made
    mark = len(fake_wechat.log)
    await fake_wechat.send_text(RESIDENT, "谢谢你们")
    again = await fake_wechat.wait_voice(RESIDENT, after=mark)
    assert again.audio == voice.audio and wechat.voice_replies.made == made and wechat.voice_replies.reused >= 1


async def test_access_token_is_shared_and_refreshed(
    wechat: WeChatFrontend, fake_wechat: FakeWeChat, wx_ctx: AppContext
) -> None:
    await said(fake_wechat, RESIDENT, "你好", "乡音")
    fetched = fake_wechat.token_fetches
    assert fetched == 1  # the menu at start-up fetched it
    # A second instance on the same database uses the stored token.
    other = WeChatApi(wx_ctx.config.wechat, wx_ctx.db, wx_ctx.clock)
    await other.send_text(RESIDENT, "测试一下")
    assert fake_wechat.token_fetches == 1
    # WeChat revokes it: the next call gets 40001, fetches one new token, and succeeds.
    fake_wechat.expire_tokens()
    await other.send_text(RESIDENT, "再测试一下")
    assert fake_wechat.token_fetches == 2
    await wechat.api.send_text(RESIDENT, "第三次")
    assert fake_wechat.token_fetches == 2
    assert [s.text for s in fake_wechat.to(RESIDENT)[-3:]] == ["测试一下", "再测试一下", "第三次"]


async def test_notice_to_a_silent_user_is_dropped_not_retried(wechat: WeChatFrontend, fake_wechat: FakeWeChat) -> None:
    from bot.messages import Notice, Reply

    # ZHANG never wrote to the account: the 48-hour rule refuses (45015); retrying cannot help.
    assert await wechat.send_notice(Notice(f"wx:{ZHANG}", Reply("有新单子"))) is True
    await fake_wechat.subscribe(ZHANG)
    fake_wechat.fail_sends = 1  # "system busy": worth a retry
    assert await wechat.send_notice(Notice(f"wx:{ZHANG}", Reply("有新单子"))) is False
    assert await wechat.send_notice(Notice(f"wx:{ZHANG}", Reply("有新单子"))) is True
    assert [s.text for s in fake_wechat.to(ZHANG)][-1] == "有新单子"


async def test_id_tells_a_person_their_key(wechat: WeChatFrontend, fake_wechat: FakeWeChat) -> None:
    reply = await said(fake_wechat, ZHANG, "/id", "用户编号")
    assert f"wx:{ZHANG}" in reply.text
