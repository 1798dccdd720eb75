"""WeChat channel fixtures: the fake WeChat servers, the fake ASR server, and a running
`WeChatFrontend` on a real database (with the deterministic keyword NLU, or real Rasa)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.nlu import NluResult
from bot.wechat.frontend import WeChatFrontend
from core.app import AppContext
from core.config import AppConfig
from core.db import Database
from tests.bot.conftest import ShiftClock
from tests.peers.asr import FakeAsr
from tests.peers.keyword_nlu import KeywordNlu
from tests.peers.wechat import FakeWeChat

RESIDENT = "oRes1dentWangDaNiang0000001"  # openids look like this: 28 characters
RESIDENT_B = "oRes1dentLiuDaYe00000000002"
ZHANG = "oVo1unteerZhangShiFu0000001"  # 金剪子理发队, dongshan haircuts
LI = "oVo1unteerLiDaJie000000000002"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_wechat_volunteers(config: AppConfig) -> AppConfig:
    """The demo config with 张师傅 and 李大姐 on WeChat instead of Telegram."""
    teams = []
    for team in config.teams:
        if team.id == "jinjianzi":
            ids = {"jjz_zhang": ZHANG, "jjz_li": LI}
            members = [m.model_copy(update={"telegram_id": None, "wechat_openid": ids[m.id]}) for m in team.members]
            team = team.model_copy(update={"members": members})
        teams.append(team)
    # Validated afresh, not model_copy: a copy would keep cached lookups (teams_by_id) of the original.
    return AppConfig.model_validate({**config.model_dump(), "teams": [t.model_dump() for t in teams]})


class SlowNlu:
    """The keyword NLU, answering after `delay` seconds (a busy Rasa)."""

    def __init__(self, inner: KeywordNlu, delay: float) -> None:
        self.inner, self.delay = inner, delay

    async def parse(self, text: str, received_at: datetime | None = None) -> NluResult:
        await asyncio.sleep(self.delay)
        return await self.inner.parse(text, received_at)


@pytest.fixture(scope="session")
def keyword_nlu(config: AppConfig) -> KeywordNlu:
    """Warmed up: jieba's dictionary loads on first use and would block the event loop for seconds."""
    nlu = KeywordNlu(config)
    for text in ("你好", "明天上午来东山村理发", "谢谢你们"):
        asyncio.run(nlu.parse(text))
    return nlu


@pytest.fixture
def shift_clock() -> ShiftClock:
    return ShiftClock()


@pytest_asyncio.fixture(loop_scope="session")
async def fake_wechat() -> AsyncIterator[FakeWeChat]:
    fake = FakeWeChat()
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def fake_asr() -> AsyncIterator[FakeAsr]:
    asr = FakeAsr()
    await asr.start()
    yield asr
    await asr.stop()


@pytest.fixture
def wx_ctx(
    config: AppConfig, tmp_path: Path, shift_clock: ShiftClock, fake_wechat: FakeWeChat, fake_asr: FakeAsr
) -> Iterator[AppContext]:
    db = Database(f"sqlite:///{tmp_path / 'wechat.db'}")
    db.migrate()
    # Voice replies are voiced offline (edge-tts is unreachable here) into the test's folder.
    broadcasts = config.broadcasts.model_copy(update={"audio_dir": str(tmp_path / "audio_out"), "edge_enabled": False})
    voice = config.voice.model_copy(update={"asr_url": fake_asr.url})
    base = with_wechat_volunteers(config).model_copy(update={"broadcasts": broadcasts, "voice": voice})
    yield AppContext(config=fake_wechat.configure(base, port=free_port()), db=db, clock=shift_clock)
    db.dispose()


async def start_wechat(ctx: AppContext, fake: FakeWeChat, nlu: Any, **kw: Any) -> WeChatFrontend:
    frontend = WeChatFrontend(ctx, nlu, outbox_interval=0.2, reminder_interval=0.5, **kw)
    await frontend.start()
    fake.callback_url = frontend.url
    return frontend


@pytest_asyncio.fixture(loop_scope="session")
async def wechat(wx_ctx: AppContext, fake_wechat: FakeWeChat, keyword_nlu: KeywordNlu) -> AsyncIterator[WeChatFrontend]:
    """The front end with the keyword NLU (no Rasa)."""
    frontend = await start_wechat(wx_ctx, fake_wechat, keyword_nlu)
    yield frontend
    await frontend.stop()
