"""An emoji-only message is not taken as 谢谢 (issue 14): the real NLU client keeps it from a
model that would call anything thanks, and the bot answers that it did not understand."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from bot import texts
from bot.engine import DialogueEngine
from core.app import AppContext
from nlu.client import NluClient
from tests.bot.conftest import ChatDriver, text_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


class ThanksForEverything:
    """A Rasa stand-in whose model reads every text as `thanks`; it counts what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def parse(self, request: web.Request) -> web.Response:
        text = (await request.json())["text"]
        self.asked.append(text)
        thanks = {"name": "thanks", "confidence": 0.99}
        return web.json_response({"text": text, "intent": thanks, "intent_ranking": [thanks], "entities": []})


Thankful = tuple[NluClient, ThanksForEverything]


@pytest_asyncio.fixture(loop_scope="session")
async def thankful_nlu(bot_ctx: AppContext) -> AsyncIterator[Thankful]:
    model = ThanksForEverything()
    app = web.Application()
    app.router.add_post("/model/parse", model.parse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    client = NluClient(f"http://127.0.0.1:{port}", bot_ctx.config, timeout=5.0, threshold=0.3)
    try:
        yield client, model
    finally:
        await client.aclose()
        await runner.cleanup()


async def test_emoji_only_is_not_thanks(bot_ctx: AppContext, thankful_nlu: Thankful) -> None:
    client, model = thankful_nlu
    chat = ChatDriver(DialogueEngine(bot_ctx, client), "tg:555002")
    for emoji in ("🙏", "😀😀", "👍", "❤️"):
        out = await chat.say(emoji)
        assert texts.THANKS not in text_of(out) and texts.NOT_UNDERSTOOD in text_of(out), emoji
        assert out.replies[-1].buttons, emoji  # the menu, to go on from
    assert model.asked == []  # never reached the model
    # The same model's answer to words is used: the stand-in does say thanks.
    assert texts.THANKS in text_of(await chat.say("谢谢你们"))
    assert model.asked == ["谢谢你们"]
