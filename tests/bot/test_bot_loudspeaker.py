"""“今天大喇叭播了啥”: a resident hears today's programme of their village in Telegram, with
the mastered recording itself (sendAudio), through the real Rasa sidecar and PTB Application."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.state import ConversationStore
from bot.telegram import TelegramFrontend
from broadcasts.announcements import AnnouncementDraft, AnnouncementService
from broadcasts.generate import Generator
from broadcasts.models import ItemState, PlanKind
from broadcasts.output import audio_dir
from core.actors import Actor
from core.app import AppContext
from core.clock import LOCAL_TZ
from tests.bot.conftest import ShiftClock
from tests.bot.test_bot_telegram import pressed, said
from tests.peers.telegram_api import FakeBotApi

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.rasa]
RESIDENT = 700031
TEXT = "各位村民:明天上午九点在村委会开展义诊,量血压、测血糖,请有需要的老人按时参加。"


def morning_tomorrow(clock: ShiftClock) -> None:
    """Move the clock to 08:00 tomorrow, Beijing time, so the day's slots lie ahead whenever this runs."""
    tomorrow = clock().astimezone(LOCAL_TZ).date() + timedelta(days=1)
    target = datetime.combine(tomorrow, time(8, 0), LOCAL_TZ).astimezone(UTC)
    clock.advance(seconds=(target - clock()).total_seconds())


async def test_resident_hears_todays_broadcast(
    frontend: TelegramFrontend, fake_api: FakeBotApi, bot_ctx: AppContext, shift_clock: ShiftClock
) -> None:
    api = fake_api
    morning_tomorrow(shift_clock)
    nothing = await said(api, RESIDENT, "今天大喇叭播了啥", "哪个村")
    reply = await pressed(api, RESIDENT, nothing, "东山村", "大喇叭")
    assert "今天没有安排" in reply.text

    # The station approves a notice for the next two slots; the first one is voiced.
    service = AnnouncementService(bot_ctx)
    draft = AnnouncementDraft(TEXT, ["dongshan"], title="义诊通知", plan=PlanKind.next_slots, count=2)
    notice = service.draft(draft, Actor.staff("dongshan_staffer"))
    service.approve(notice.id, Actor.staff("qingshi_head"))
    items = sorted(service.get(notice.id, Actor.staff("dongshan_staffer")).items, key=lambda i: i.air_at)
    assert await Generator(bot_ctx).generate(items[0].id) is ItemState.ready

    mark = len(api.log)
    listing = await said(api, RESIDENT, "今天村里大喇叭都播了些啥", "东山村今天的大喇叭")
    today = [i for i in items if i.local_air_at.date() == items[0].local_air_at.date()]
    assert listing.text.count("义诊通知") == len(today) and f"{today[0].hhmm} 义诊通知" in listing.text
    assert "待播" in listing.text and "点下面的声音" in listing.text
    recording = await api.wait_for(lambda: next((s for s in api.log[mark:] if s.audio), None))
    assert recording.chat_id == RESIDENT and "义诊通知" in recording.text
    ready = service.get(notice.id, Actor.staff("dongshan_staffer")).items
    path = audio_dir(bot_ctx.config) / next(i.audio_path for i in ready if i.audio_path)
    assert recording.audio == (path.name, path.read_bytes())
    # Only the voiced item is sent; the village is remembered for next time.
    await api.settle()
    assert sum(1 for s in api.log[mark:] if s.audio) == 1
    assert ConversationStore(bot_ctx.db).load(f"tg:{RESIDENT}").profile["village"] == "dongshan"
