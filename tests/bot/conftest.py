"""Bot test fixtures: the engine with a deterministic NLU (tests.peers.keyword_nlu), the fake
Bot API server (tests.peers.telegram_api), the real Rasa sidecar for end-to-end tests, and a
running TelegramFrontend."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.engine import DialogueEngine
from bot.messages import Inbound, InboundKind, Outcome
from bot.telegram import TelegramFrontend
from core.app import AppContext
from core.clock import LOCAL_TZ
from core.config import AppConfig
from core.db import Database
from orders.sweeper import DeadlineSweeper
from tests.peers.keyword_nlu import KeywordNlu
from tests.peers.telegram_api import TOKEN, FakeBotApi


class ShiftClock:
    """The bot tests' clock: it runs like the real one, but from a fixed evening in Shanghai,
    so 今天/明天/后天 and the half-days offered as buttons are the same whenever the suite
    runs; a test can move it on (deadlines, reminders)."""

    START = datetime(2026, 6, 1, 19, 0, tzinfo=LOCAL_TZ)

    def __init__(self, start: datetime = START) -> None:
        self.start = start.astimezone(UTC)
        self.offset = timedelta()
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._origin) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def shift_clock() -> ShiftClock:
    return ShiftClock()


@pytest.fixture
def bot_ctx(config: AppConfig, tmp_path: Path, shift_clock: ShiftClock) -> Iterator[AppContext]:
    db = Database(f"sqlite:///{tmp_path / 'bot.db'}")
    db.migrate()
    # Recordings go to the test's own folder, voiced offline (edge-tts is unreachable here).
    broadcasts = config.broadcasts.model_copy(update={"audio_dir": str(tmp_path / "audio_out"), "edge_enabled": False})
    yield AppContext(config=config.model_copy(update={"broadcasts": broadcasts}), db=db, clock=shift_clock)
    db.dispose()


@pytest.fixture
def keyword_nlu(config: AppConfig) -> KeywordNlu:
    return KeywordNlu(config)


@pytest.fixture
def engine(bot_ctx: AppContext, keyword_nlu: KeywordNlu) -> DialogueEngine:
    return DialogueEngine(bot_ctx, keyword_nlu)


@dataclass
class ChatDriver:
    """Talks to the engine directly as one user (no Telegram in between)."""

    engine: DialogueEngine
    user_key: str
    outcomes: list[Outcome] = field(default_factory=list)
    counter: int = 0

    def _key(self) -> str:
        self.counter += 1
        return f"test:{self.user_key}:{self.counter}"

    async def say(self, text: str) -> Outcome:
        inbound = Inbound(self.user_key, self._key(), InboundKind.text, self.engine.ctx.clock(), text=text)
        return await self._run(inbound)

    async def press(self, label: str, outcome: Outcome | None = None) -> Outcome:
        outcome = outcome or self.last_with_buttons()
        for reply in reversed(outcome.replies):
            for row in reply.buttons:
                for button in row:
                    if label in button.label:
                        return await self.press_data(button.data)
        raise LookupError(f"no button {label!r} in {[r.text[:30] for r in outcome.replies]}")

    async def press_data(self, data: str) -> Outcome:
        inbound = Inbound(self.user_key, self._key(), InboundKind.button, self.engine.ctx.clock(), data=data)
        return await self._run(inbound)

    async def _run(self, inbound: Inbound) -> Outcome:
        outcome = await self.engine.handle(inbound)
        self.outcomes.append(outcome)
        return outcome

    def last_with_buttons(self) -> Outcome:
        return next(o for o in reversed(self.outcomes) if any(r.buttons for r in o.replies))


def text_of(outcome: Outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


@pytest.fixture
def chat(engine: DialogueEngine) -> ChatDriver:
    return ChatDriver(engine, "tg:555001")


# ---------------------------------------------------------------- end to end
# `rasa_url` (a live, trained Rasa server) comes from the shared tests/rasa_fixture.py plugin.


@pytest_asyncio.fixture(loop_scope="session")
async def fake_api() -> AsyncIterator[FakeBotApi]:
    api = FakeBotApi()
    await api.start()
    yield api
    await api.stop()


def telegram_config(config: AppConfig, api: FakeBotApi) -> AppConfig:
    telegram = config.telegram.model_copy(
        update={"token": TOKEN, "base_url": api.base_url, "max_messages_per_second": 0}
    )
    return config.model_copy(update={"telegram": telegram})


@pytest_asyncio.fixture(loop_scope="session")
async def real_nlu(bot_ctx: AppContext, rasa_url: str) -> AsyncIterator[object]:
    from nlu.client import NluClient

    client = NluClient(rasa_url, bot_ctx.config, timeout=5.0, threshold=bot_ctx.config.nlu.confidence_threshold)
    yield client
    await client.aclose()


async def start_frontend(ctx: AppContext, api: FakeBotApi, nlu: object) -> TelegramFrontend:
    tg_ctx = AppContext(config=telegram_config(ctx.config, api), db=ctx.db, clock=ctx.clock)
    api.clock = ctx.clock  # users' messages are dated by the clock the bot runs on
    frontend = TelegramFrontend(tg_ctx, nlu, outbox_interval=0.2, reminder_interval=0.5, poll_timeout=1)  # type: ignore[arg-type]
    await frontend.start()
    return frontend


@pytest_asyncio.fixture(loop_scope="session")
async def frontend(bot_ctx: AppContext, fake_api: FakeBotApi, real_nlu: object) -> AsyncIterator[TelegramFrontend]:
    running = await start_frontend(bot_ctx, fake_api, real_nlu)
    yield running
    await running.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def deadline_sweeper(bot_ctx: AppContext) -> AsyncIterator[DeadlineSweeper]:
    """The deadline sweep as `xiangyin run` starts it, beside the bot (twice a second here)."""
    sweeper = DeadlineSweeper(bot_ctx, interval=0.5)
    await sweeper.start()
    yield sweeper
    await sweeper.stop()
