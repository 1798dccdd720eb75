"""Reports in the bot through the local Bot API server and the real PTB Application: a volunteer
earns points for a rated order and sees them with “我的积分” and /me; the 1st-of-month job,
with the clock moved to the 1st, archives the bulletin and the bot sends the PDF to the
township's admin as a document."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.actors import Actor
from core.app import AppContext
from core.clock import local_date
from orders.service import OrderRequest, OrderService
from reports.points import Holder, PointsLedger
from reports.runtime import ReportsRuntime
from tests.bot.conftest import ShiftClock, start_frontend
from tests.peers.keyword_nlu import KeywordNlu
from tests.peers.telegram_api import FakeBotApi

pytestmark = pytest.mark.asyncio(loop_scope="session")

ZHANG, RESIDENT, QINGSHI_HEAD, COUNTY_ADMIN = 900001, 700009, 800002, 800001


async def test_points_in_the_bot_and_the_monthly_bulletin_as_a_document(
    bot_ctx: AppContext, fake_api: FakeBotApi, keyword_nlu: KeywordNlu, shift_clock: ShiftClock, tmp_path: Path
) -> None:
    reports = bot_ctx.config.reports.model_copy(
        update={"archive_dir": str(tmp_path / "bulletins"), "monthly_areas": ["qingshi"]}
    )
    bot_ctx.config = bot_ctx.config.model_copy(update={"reports": reports})
    orders = OrderService(bot_ctx.db, bot_ctx.config, bot_ctx.clock)
    start = bot_ctx.clock() + timedelta(hours=1)
    order = orders.create(
        OrderRequest("tg:700009", "haircut", "dongshan", start, start + timedelta(hours=3)), Actor.resident("tg:700009")
    )
    orders.accept(order.id, Actor.volunteer("jjz_zhang"))
    shift_clock.advance(hours=1, minutes=30)
    orders.complete(order.id, Actor.volunteer("jjz_zhang"), 4)
    orders.rate(order.id, Actor.resident("tg:700009"), 5, "剪得好")

    frontend = await start_frontend(bot_ctx, fake_api, keyword_nlu)
    try:
        mark = len(fake_api.log)
        fake_api.send_text(ZHANG, "我的积分")
        reply = await fake_api.wait_text(ZHANG, "您的积分", after=mark)
        # 10 for the order, 1.5 h × 5 = 7.5 → 8, 5 for five stars.
        assert "张师傅,您的积分:23 分" in reply.text
        assert "本月完成 1 次服务,1.5 小时,得了 23 分" in reply.text
        assert PointsLedger(bot_ctx.db, bot_ctx.config).balance(Holder.volunteer("jjz_zhang")) == 23
        mark = len(fake_api.log)
        fake_api.send_text(ZHANG, "/me")
        assert "23 分" in (await fake_api.wait_text(ZHANG, "您的积分", after=mark)).text
        mark = len(fake_api.log)
        fake_api.send_text(RESIDENT, "我的积分")
        assert "积分是给志愿者记的" in (await fake_api.wait_text(RESIDENT, "志愿者", after=mark)).text

        # The 1st of next month, 00:05 local: the reports job archives last month's bulletin.
        today = local_date(bot_ctx.clock())
        first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        while local_date(bot_ctx.clock()) < first:
            shift_clock.advance(hours=6)
        await ReportsRuntime(bot_ctx).run_once()
        assert await frontend.send_bulletins() == 1
        sent = await fake_api.wait_for(lambda: [s for s in fake_api.to(QINGSHI_HEAD) if s.document])
        name, data = sent[0].document
        assert name == f"qingshi-{today:%Y-%m}.pdf" and data[:5] == b"%PDF-"
        assert "青石镇新时代文明实践所" in sent[0].text and "完成 1 个" in sent[0].text
        assert not [s for s in fake_api.to(COUNTY_ADMIN) if s.document]  # the county gets its own
        await ReportsRuntime(bot_ctx).run_once()  # again: nothing new
        assert await frontend.send_bulletins() == 0
    finally:
        await frontend.stop()
