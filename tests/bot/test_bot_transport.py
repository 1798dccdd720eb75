"""The aiohttp transport under python-telegram-bot, against real local HTTP servers: the fake
Bot API (form parameters, buttons, a multipart upload) and servers that stall or are gone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut

from bot.transport import AiohttpRequest
from nlu.sidecar import free_port
from tests.peers.telegram_api import TOKEN, FakeBotApi

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the fake Bot API runs on the session loop


async def test_requests_and_uploads_reach_the_bot_api(fake_api: FakeBotApi) -> None:
    bot = Bot(TOKEN, base_url=fake_api.base_url, request=AiohttpRequest(4), get_updates_request=AiohttpRequest(1))
    async with bot:
        assert bot.username == "xiangyin_bot"  # getMe on initialize
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("接单", callback_data="a:1")]])
        message = await bot.send_message(700001, "有新单子:理发", reply_markup=keyboard)
        sent = fake_api.last_to(700001)
        assert (sent.text, sent.labels, sent.button("接单")) == ("有新单子:理发", ["接单"], "a:1")
        assert message.message_id == sent.message_id
        mp3 = b"ID3" + bytes(range(256)) * 40  # binary content survives the multipart upload
        await bot.send_audio(700001, audio=mp3, filename="dongshan.mp3", caption="今天的大喇叭")
        upload = fake_api.last_to(700001)
        assert upload.text == "今天的大喇叭" and upload.audio == ("dongshan.mp3", mp3)
        assert await bot.get_updates(timeout=0) == ()


@pytest_asyncio.fixture(loop_scope="session")
async def stalling_server() -> AsyncIterator[str]:
    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(2)  # well past the 0.3 s read timeout below
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{path:.*}", stall)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


async def test_a_stalled_server_times_out(stalling_server: str) -> None:
    request = AiohttpRequest(2, read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{stalling_server}{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_an_unreachable_server_is_a_network_error() -> None:
    request = AiohttpRequest(2, connect_timeout=2.0)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_used_before_initialize_or_after_shutdown_is_refused() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/", "POST")
